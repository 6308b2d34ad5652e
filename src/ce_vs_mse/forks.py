"""Run calls side by side, each in a fresh fork of this process (Linux).

Every call gets its own child, forked from the main thread, so what it computes never
depends on which calls ran before it or where: the same inputs give the same bytes. The
children inherit the caller's memory, so nothing is pickled on the way in; only the results
come back through a pipe.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait


class WorkerFailed(RuntimeError):
    """A call failed in its child; the message holds the child's traceback."""


def map_in_forks(fn: Callable, items: Sequence, workers: int) -> list:
    """``[fn(item) for item in items]``, each call in its own child, at most ``workers`` at
    once. Results keep the order of ``items``. The first failure raises
    :class:`WorkerFailed`; on it, or on Ctrl-C, the children still running are killed
    (SIGTERM) before this returns, so the caller may then clean up after them."""
    context = multiprocessing.get_context("fork")
    results: list = [None] * len(items)
    todo = list(enumerate(items))
    running: dict = {}  # the pipe a child answers on -> (index, process)
    try:
        while todo or running:
            while todo and len(running) < workers:
                index, item = todo.pop(0)
                reader, writer = context.Pipe(duplex=False)
                child = context.Process(target=_call, args=(fn, item, writer), daemon=True)
                _fork(child)
                writer.close()
                running[reader] = (index, child)
            for reader in wait(list(running)):
                index, child = running.pop(reader)
                try:
                    ok, value = reader.recv()
                except EOFError:  # it died without answering (killed, out of memory)
                    ok, value = False, None
                child.join()
                if not ok:
                    value = value or f"the worker process died (exit code {child.exitcode})"
                    raise WorkerFailed(f"{getattr(fn, '__name__', fn)}({items[index]!r}) "
                                       f"failed in a worker process:\n{value}")
                results[index] = value
    finally:
        for _, child in running.values():
            child.terminate()
            child.join()
    return results


def _fork(child) -> None:
    """Start ``child``; a Ctrl-C that comes meanwhile is raised here afterwards, and never
    in the child (which inherits whatever signal handling is in force as it forks)."""
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    try:
        child.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


def _call(fn: Callable, item, answer) -> None:
    """In the child. Ctrl-C is the parent's to handle: it stops the children (SIGTERM)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        answer.send((True, fn(item)))
    except BaseException:  # noqa: BLE001 (everything goes back to the parent)
        with contextlib.suppress(OSError):  # unless the parent is gone
            answer.send((False, traceback.format_exc()))
    finally:
        answer.close()
