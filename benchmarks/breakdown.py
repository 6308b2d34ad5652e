"""Where the trainer's time goes on digits, one seed: each variant adds one part to the last.

Run from the repository root (with the project's virtualenv):

    python benchmarks/breakdown.py          # about 30 s on 2 cores

  bare       bench_trainer.py's bare loop (nn.Sequential, F.cross_entropy, SGD)
  replicas   the same loop over the suite's ReplicaMLP (R = 1) and ``losses.objective``
  + loop     ``trainer.train`` logging at epoch ends only (trainer.per_decade=0) and the
             evaluation replaced by a stub: the loop, the progress bar, the epoch-end scalars
  + eval     ... with the real evaluation (accuracy, CE, MSE on both splits) at epoch ends
  per-epoch  ... with training scalars every 10 steps too: the default before per_decade
  trainer    the default: scalars and evaluation on the log-spaced schedule (per_decade=10)

The fastest of 7 interleaved repeats after a warm-up (bench_trainer.py's clock), in µs per
step.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import bench_trainer as bench  # benchmarks/ is on sys.path when this script is run
import torch

from ce_vs_mse.core import losses, models, optim
from ce_vs_mse.train import trainer


def replica_loop(wl: bench.Workload):
    """bench.run_bare's loop, over the suite's model and objective."""
    model, head = models.build(wl.cfg, wl.data.n_features, wl.data.n_classes, [0])
    optimizer = optim.build(wl.cfg.optimizer, model.parameters())
    x, y, batch = wl.data.x_train, wl.data.y_train, wl.batch
    order = torch.stack([torch.randperm(x.shape[0]) for _ in range(wl.epochs)])

    def go() -> tuple[float, int]:
        start, steps = time.perf_counter(), 0
        for epoch in range(wl.epochs):
            for i in range(wl.steps_per_epoch):
                idx = order[epoch:epoch + 1, i * batch:(i + 1) * batch]  # (1, B)
                loss = losses.objective("ce", model(x[idx]), y[idx], head)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                steps += 1
        return time.perf_counter() - start, steps

    return go


def without_evaluation(wl: bench.Workload, tmp: Path):
    """The trainer with its evaluation replaced by a stub that computes nothing."""
    real = trainer.evaluate

    def stub(model, head, x, y, splits):
        return {"test/accuracy": torch.zeros(1)}

    def go() -> tuple[float, int]:
        trainer.evaluate = stub
        try:
            return bench.run_trainer(wl, [0], tmp)
        finally:
            trainer.evaluate = real

    return go


def main() -> None:
    torch.set_num_threads(1)
    wl = bench.digits_workload(20, torch.device("cpu"))
    quiet = bench.with_trainer(wl, per_decade=0)
    per_epoch = bench.with_trainer(wl, per_decade=0, log_every=10)
    print(bench.machine_line(torch.device("cpu")))
    with tempfile.TemporaryDirectory(prefix="breakdown-") as tmp:
        timings = bench.measure({
            "bare": lambda: bench.run_bare(wl),
            "replicas": replica_loop(wl),
            "+ loop": without_evaluation(quiet, Path(tmp)),
            "+ eval": lambda: bench.run_trainer(quiet, [0], Path(tmp)),
            "per-epoch": lambda: bench.run_trainer(per_epoch, [0], Path(tmp)),
            "trainer": lambda: bench.run_trainer(wl, [0], Path(tmp)),
        }, repeats=7)
    bare = timings["bare"].best_s
    previous = None
    for name, t in timings.items():
        step = t.best_s / t.steps * 1e6
        added = "" if previous is None else f"  (+{step - previous:5.1f})"
        print(f"{name:<9} {step:6.1f} µs/step{added}  {bare / t.best_s:.2f}x bare")
        previous = step


if __name__ == "__main__":
    main()
