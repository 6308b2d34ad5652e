"""Run calls side by side, each in a fresh fork of this process (Linux).

Every call gets its own child, forked from the main thread, so what it computes never
depends on which calls ran before it or where: the same inputs give the same bytes. The
children inherit the caller's memory, so nothing is pickled on the way in; only the results
come back through a pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait


class WorkerFailed(RuntimeError):
    """A call failed in its child; the message holds the child's traceback."""


class Terminated(KeyboardInterrupt):
    """SIGTERM: what SLURM sends at a time limit or on preemption, and ``kill`` by default.
    A Ctrl-C by another name, so that every path that cleans up after Ctrl-C (the runs in
    progress recorded as failed, the workers stopped) does so after it too."""

    EXIT = 128 + signal.SIGTERM  # 143, as a process killed by SIGTERM reports


_owner: int | None = None  # the process that asked for SIGTERM as Ctrl-C


def _terminate(signum, frame):
    if os.getpid() != _owner:  # a fork that has not taken it on (e.g. stopped as it starts):
        os._exit(Terminated.EXIT)  # die as SIGTERM kills, never run its parent's code on
    # once: a second SIGTERM (kill -TERM to the process group reaches a worker, and then its
    # parent stops it with another) must not cut short the cleanup the first one started
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


def sigterm_as_interrupt() -> None:
    """Raise :class:`Terminated` in this process's main thread on SIGTERM. A fork inherits
    the handler but not the request: until it asks too (a worker of :func:`map_in_forks`
    does, as its call starts, so that it records its runs), SIGTERM ends it at once."""
    global _owner
    _owner = os.getpid()
    signal.signal(signal.SIGTERM, _terminate)


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux's
    ``PR_SET_PDEATHSIG``), so that no worker outlives a killed sweep; exit at once if
    ``parent`` is already gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]  # noqa: SIM115
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie is dead, only not yet reaped


def watch(pid: int, every: float = 0.5) -> None:
    """Kill this process (SIGKILL) as soon as process ``pid`` is gone: for a job that is not
    ``pid``'s own child, e.g. one started by submitit's local controller."""
    def loop() -> None:
        while _alive(pid):
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=loop, name=f"watch-{pid}", daemon=True).start()


def map_in_forks(fn: Callable, items: Sequence, workers: int, tolerant: bool = False,
                 ended: Callable | None = None) -> list:
    """``[fn(item) for item in items]``, each call in its own child, at most ``workers`` at
    once. Results keep the order of ``items``. The first failure raises
    :class:`WorkerFailed`; on it, or on Ctrl-C, the children still running are killed
    (SIGTERM) before this returns, so the caller may then clean up after them.

    With ``tolerant``, a failure (an exception, or a child killed) ends that call only: the
    result is ``(True, value)`` or ``(False, reason)`` for every item, and ``ended(item,
    result)``, if given, is called with it as each call ends."""
    context = multiprocessing.get_context("fork")
    results: list = [None] * len(items)
    todo = list(enumerate(items))
    running: dict = {}  # the pipe a child answers on -> (index, process)
    try:
        while todo or running:
            while todo and len(running) < workers:
                index, item = todo.pop(0)
                reader, writer = context.Pipe(duplex=False)
                child = context.Process(target=_call, args=(fn, item, writer, os.getpid()),
                                        daemon=True)
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
                    value = value or _death(child.exitcode)
                    if not tolerant:
                        raise WorkerFailed(f"{_name(fn)}({items[index]!r}) "
                                           f"failed in a worker process:\n{value}")
                results[index] = (ok, value) if tolerant else value
                if tolerant and ended is not None:
                    ended(items[index], results[index])
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


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        return f"the worker process was killed by {signal.Signals(-code).name}"
    return f"the worker process died (exit code {code})"


def _call(fn: Callable, item, answer, parent: int) -> None:
    """In the child. Ctrl-C is the parent's to handle: it stops the children (SIGTERM)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if signal.getsignal(signal.SIGTERM) is _terminate:  # the parent's SIGTERM handling, its own
        sigterm_as_interrupt()
    die_with_parent(parent)
    try:
        answer.send((True, fn(item)))
    except BaseException:  # noqa: BLE001 (everything goes back to the parent)
        with contextlib.suppress(OSError):  # unless the parent is gone
            answer.send((False, traceback.format_exc()))
    finally:
        answer.close()


def _name(fn) -> str:
    """A function's name, also through functools.partial (whose repr would print every bound
    argument: for the report, all its runs)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__qualname__", type(fn).__name__)
