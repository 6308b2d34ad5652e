"""TensorBoard event files, written in the calling thread.

torch's ``SummaryWriter`` hands every event to a writer thread of its own, which computes the
record checksums in pure Python. With one writer per replica, those threads take the GIL from
the training loop at every logging point, many times what writing the same events here costs
(benchmarks/BENCHMARKS.md, "Event writing"). This module writes the
same file: TFRecord records of ``Event`` protos (length, masked CRC32C of the length, data,
masked CRC32C of the data), checksummed by google-crc32c's C implementation. The protos
themselves come from TensorBoard (scalars) and torch's summary helpers (histograms, HParams).
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
import warnings
from pathlib import Path

import google_crc32c
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary

_file_ids = itertools.count()  # two files opened in the same second never share a name
if google_crc32c.implementation != "c":
    warnings.warn("google-crc32c runs without its C extension: writing TensorBoard events "
                  "will be slow (reinstall google-crc32c for this platform)", stacklevel=1)


def masked_crc32c(data: bytes) -> int:
    """The checksum a TFRecord stores: CRC32C (Castagnoli), rotated and offset ("masked")."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """``data`` framed as one TFRecord."""
    header = struct.pack("<Q", len(data))
    return b"".join((header, struct.pack("<I", masked_crc32c(header)),
                     data, struct.pack("<I", masked_crc32c(data))))


class EventFile:
    """One ``events.out.tfevents.*`` file in ``log_dir``, named as TensorBoard names them."""

    def __init__(self, log_dir: Path):
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_ids)}")
        self._file = open(Path(log_dir) / name, "wb")  # noqa: SIM115 (closed by close())
        self.add(Event(wall_time=time.time(), file_version="brain.Event:2"))

    def add(self, event: Event) -> None:
        self._file.write(record(event.SerializeToString()))

    def add_summary(self, summary: Summary, step: int = 0) -> None:
        self.add(Event(wall_time=time.time(), step=step, summary=summary))

    def flush(self) -> None:
        """Hand what is buffered to the operating system, so TensorBoard sees it."""
        self._file.flush()

    def close(self) -> None:
        self._file.close()
