"""Where does the shared trainer's time go, compared with a bare PyTorch loop?

Run from the repository root (with the project's virtualenv):

    python benchmarks/profile_trainer.py               # ~200 steps, CPU, ~30 s
    python benchmarks/profile_trainer.py --steps 400 --device cuda

Workload (2) of bench_trainer.py: the 784-100-10 sigmoid MLP, batch 64, softmax cross-entropy,
SGD, default logging (training scalars and evaluation on the log-spaced schedule of
trainer.per_decade, evaluation at step 0), on synthetic MNIST-shaped data with ``steps x 64``
training examples (2000 test), so that one epoch is ``--steps`` steps. After an untimed warm-up it
prints

1. torch.profiler (CPU activities) over one trainer run: the top 20 ops by self CPU time,
   then the top 12 (op, input shapes) pairs: shapes with 2500 rows (trainer.eval_train_max=500
   training examples and 2000 test examples) instead of a 64-row batch are the evaluations
   at step 0 and at the logging points;
2. the same top 20 for the bare loop of bench_trainer.py (forward, loss, backward, step);
3. trainer minus bare, per step, for the ops that differ most;
4. cProfile of one trainer run (pure Python view, profiler hooks off): the top 25 functions
   by cumulative time, then the top 15 by own time.

The profilers' own overhead inflates small ops and Python calls, so read the numbers as a
breakdown, not as speeds; bench_trainer.py measures speeds. On a machine with few cores,
time that other threads take from torch's OpenMP threads (numpy's OpenBLAS pool, which
TensorBoard's histogram code wakes; TensorBoard's writer thread) shows up here as longer
matmul ops, not as a line of its own.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
from pathlib import Path

import bench_trainer as bench  # benchmarks/ is on sys.path when this script is run
import torch
from torch.profiler import ProfilerActivity, profile


def op_table(prof, title: str, steps: int, limit: int = 20,
             shapes: int = 0) -> dict[str, tuple[float, int]]:
    """Print the top ``limit`` ops by self CPU time (and the top ``shapes`` op-and-input-shape
    pairs, when the profile recorded shapes); return {op: (self CPU µs, calls)}."""
    averages = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in averages)
    print(f"\n=== {title}: {steps} steps, self CPU {total / 1e3:.1f} ms in all, "
          f"{total / steps:.0f} µs per step ===")
    print(averages.table(sort_by="self_cpu_time_total", row_limit=limit))
    if shapes:
        print(f"--- {title}: top {shapes} by self CPU time, split by input shapes ---")
        print(prof.key_averages(group_by_input_shape=True).table(
            sort_by="self_cpu_time_total", row_limit=shapes, max_name_column_width=24,
            max_shapes_column_width=56))
    return {e.key: (e.self_cpu_time_total, e.count) for e in averages}


def op_difference(trainer_ops: dict, trainer_steps: int, bare_ops: dict, bare_steps: int,
                  limit: int = 15) -> None:
    """Ops by (trainer - bare) self CPU µs per step, largest first."""
    rows = []
    for op in trainer_ops.keys() | bare_ops.keys():
        t_us, t_n = trainer_ops.get(op, (0.0, 0))
        b_us, b_n = bare_ops.get(op, (0.0, 0))
        rows.append((t_us / trainer_steps - b_us / bare_steps, op, t_us / trainer_steps,
                     b_us / bare_steps, t_n / trainer_steps, b_n / bare_steps))
    rows.sort(reverse=True)
    t_total = sum(us for us, _ in trainer_ops.values()) / trainer_steps
    b_total = sum(us for us, _ in bare_ops.values()) / bare_steps
    print(f"\n=== trainer minus bare, self CPU µs per step (totals: trainer {t_total:.0f}, "
          f"bare {b_total:.0f}, extra {t_total - b_total:.0f}) ===")
    print(f"{'op':<44} {'extra':>8} {'trainer':>8} {'bare':>8} {'calls/step t|b':>16}")
    for diff, op, t, b, tn, bn in rows[:limit]:
        print(f"{op[:44]:<44} {diff:8.1f} {t:8.1f} {b:8.1f} {tn:8.2f}|{bn:<7.2f}")


def python_profile(go, steps: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    go()
    profiler.disable()
    for key, limit in (("cumulative", 25), ("tottime", 15)):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key)
        stats.print_stats(limit)
        text = out.getvalue()
        print(f"\n=== cProfile of the trainer ({steps} steps), top {limit} by {key} ===")
        print(text[text.index("   ncalls"):].rstrip() if "   ncalls" in text else text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--steps", type=int, default=200, help="steps in the profiled epoch")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("profile_trainer: --device cuda but no CUDA GPU is visible")
    device = torch.device(args.device)
    print(bench.machine_line(device))

    wl = bench.synth_workload(epochs=1, device=device, n_train=args.steps * 64)
    with tempfile.TemporaryDirectory(prefix="profile_trainer-") as tmp_name:
        tmp = Path(tmp_name)
        bench.run_trainer(wl, [0], tmp)  # warm-up
        bench.run_bare(wl)

        go, close = bench.make_trainer_run(wl, [0], tmp)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            _, trainer_steps = go()
        close()
        trainer_ops = op_table(prof, "torch.profiler, trainer", trainer_steps, shapes=12)

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            _, bare_steps = bench.run_bare(wl)
        bare_ops = op_table(prof, "torch.profiler, bare loop", bare_steps)
        op_difference(trainer_ops, trainer_steps, bare_ops, bare_steps)

        go, close = bench.make_trainer_run(wl, [0], tmp)
        python_profile(go, trainer_steps)
        close()


if __name__ == "__main__":
    main()
