"""Why the trainer writes TensorBoard events itself (ce_vs_mse.train.events).

    python benchmarks/bench_events.py [--runs 8] [--points 400]

Writes the same scalar events, one summary of every tag a digits MLP logs per logging point,
for ``--runs`` runs (one per replica, as the Recorder does), once with torch's
``SummaryWriter`` (a writer thread per run that checksums in Python) and once with
``EventFile`` (written in the calling thread, checksummed by google-crc32c's C code), and
prints the time per logging point of each and their ratio, measured in one run on this
machine, as the CPU time of this process (the writer threads' included).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tensorboard.compat.proto.summary_pb2 import Summary
from torch.utils.tensorboard import SummaryWriter

from ce_vs_mse.core.models import ReplicaMLP
from ce_vs_mse.train import trainer
from ce_vs_mse.train.events import EventFile

TAGS = trainer.metric_names(ReplicaMLP([64, 32, 10], "sigmoid", [0]))


def _summary(step: int) -> Summary:
    return Summary(value=[Summary.Value(tag=t, simple_value=step * 1e-3 + i)
                          for i, t in enumerate(TAGS)])


def torch_writers(folder: Path, runs: int, points: int) -> float:
    writers = [SummaryWriter(str(folder / f"t{r}")) for r in range(runs)]
    start = time.process_time()
    for step in range(points):
        for w in writers:
            w.file_writer.add_summary(_summary(step), step)
    for w in writers:
        w.close()  # waits for each writer thread to write what it was handed
    return time.process_time() - start


def event_files(folder: Path, runs: int, points: int) -> float:
    files = []
    for r in range(runs):
        (folder / f"e{r}").mkdir()
        files.append(EventFile(folder / f"e{r}"))
    start = time.process_time()
    for step in range(points):
        for f in files:
            f.add_summary(_summary(step), step)
    for f in files:
        f.close()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--points", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        theirs = torch_writers(Path(tmp), args.runs, args.points)
        ours = event_files(Path(tmp), args.runs, args.points)
    per = 1e3 / args.points
    print(f"{len(TAGS)} tags, {args.runs} runs, {args.points} logging points")
    print(f"SummaryWriter: {theirs * per:.3f} CPU-ms per logging point")
    print(f"EventFile:     {ours * per:.3f} CPU-ms per logging point")
    print(f"ratio:         {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
