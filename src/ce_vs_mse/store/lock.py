"""Exclusive ownership of a folder: an ``flock`` on ``<folder>/.lock``.

A run folder is trained by one process at a time, the one holding the lock; the report takes
the report folder's. The kernel releases an ``flock`` when its process ends, however it ends,
so a killed process never leaves a folder locked.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

LOCK = ".lock"


@dataclass
class Lock:
    """An exclusive ``flock`` on ``<folder>/.lock``; the kernel drops it when the process ends."""

    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops the flock
            self.fd = -1


def try_lock(folder: Path) -> Lock | None:
    """Take the folder's lock, or return None when another process holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return Lock(path, fd)


def holder(folder: Path) -> str:
    """Who holds the folder's lock, as far as its file says (e.g. ``pid 1234``)."""
    with contextlib.suppress(OSError, ValueError):
        return f"pid {int((Path(folder) / LOCK).read_text().strip())}"
    return "another process"


@contextlib.contextmanager
def locked(folder: Path, waiting: Callable[[str], object] = print) -> Iterator[None]:
    """Hold the folder's lock for the ``with`` block, waiting for it (and saying so once)
    while another process has it."""
    folder = Path(folder)
    lock = try_lock(folder)
    if lock is None:
        waiting(f"waiting for {holder(folder)}, which is writing {folder}")
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        lock = Lock(folder / LOCK, fd)
    try:
        yield
    finally:
        lock.release()
