"""How the trainer's cost grows: with replicas in lockstep, and with the training-set size.

Run from the repository root (with the project's virtualenv):

    python benchmarks/scaling.py            # ~2 min on an idle 2-core machine
    python benchmarks/scaling.py --quick    # smoke test: R up to 4, N up to 2000, 1 repeat

Both tables use bench_trainer.py's workloads, loops and clock (this process's CPU time on
CPU), default logging (``trainer.per_decade``), the fastest of ``--repeats`` interleaved rounds
after one warm-up round.

1. Replicas: ``train`` with seeds 0..R-1 for R = 1, 2, 4, …, 64, on digits (5 epochs,
   225 steps) and on the 784-100-10 workload (1 epoch, 157 steps). ``replica-steps/s`` is
   R × steps/s; ``/ bare`` divides it by the bare loop's steps/s (one seed): how many bare
   loops' worth of seeds a lockstep group trains in the same time.
2. Training-set size: one epoch of the 784-100-10 workload (batch 64) on N synthetic 784-d
   examples (2000 test), trainer (one seed) against the bare loop, in seconds per epoch.
"""

from __future__ import annotations

import argparse
import tempfile
from functools import partial
from pathlib import Path

import bench_trainer as bench  # benchmarks/ is on sys.path when this script is run
import torch

REPLICAS = (1, 2, 4, 8, 16, 32, 64)
SIZES = (1000, 2000, 5000, 10000, 20000, 60000)


def replicas_table(wl: bench.Workload, counts, repeats: int, tmp: Path) -> None:
    variants = {"bare": lambda: bench.run_bare(wl)}
    for r in counts:
        variants[r] = partial(bench.run_trainer, wl, list(range(r)), tmp)
    t = bench.measure(variants, repeats)
    bare = t["bare"].steps_per_s
    print(f"\n[{wl.name}] {wl.epochs} epochs x {wl.steps_per_epoch} steps; "
          f"bare loop {bare:.0f} steps/s")
    print("| R | steps/s | replica-steps/s | / bare |")
    print("| --- | --- | --- | --- |")
    for r in counts:
        sps = t[r].steps_per_s
        print(f"| {r} | {sps:.0f} | {r * sps:.0f} | {r * sps / bare:.2f}x |", flush=True)


def sizes_table(sizes, repeats: int, device: torch.device, tmp: Path) -> None:
    workloads = {n: bench.synth_workload(1, device, n_train=n) for n in sizes}
    variants = {}
    for n, wl in workloads.items():
        variants[("bare", n)] = partial(bench.run_bare, wl)
        variants[("trainer", n)] = partial(bench.run_trainer, wl, [0], tmp)
    t = bench.measure(variants, repeats)
    print("\n[synth] one epoch, 784-100-10, batch 64, 2000 test examples")
    print("| N | steps | bare s/epoch | trainer s/epoch | trainer / bare (speed) |")
    print("| --- | --- | --- | --- | --- |")
    for n, wl in workloads.items():
        b, tr = t[("bare", n)].best_s, t[("trainer", n)].best_s
        print(f"| {n} | {wl.steps_per_epoch} | {b:.3f} | {tr:.3f} | {b / tr:.2f}x |", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="smoke test")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 3)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    device = torch.device(args.device)
    if device.type == "cuda":
        bench.clock = bench.time.perf_counter
    repeats = args.repeats or (1 if args.quick else 3)
    counts = REPLICAS[:3] if args.quick else REPLICAS
    sizes = SIZES[:2] if args.quick else SIZES
    print(bench.machine_line(device))
    before, start = bench.cpu_snapshot(), bench.time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scaling-") as tmp:
        replicas_table(bench.digits_workload(1 if args.quick else 5, device), counts, repeats,
                       Path(tmp))
        replicas_table(bench.synth_workload(1, device), counts, repeats, Path(tmp))
        sizes_table(sizes, repeats, device, Path(tmp))
    wall = bench.time.perf_counter() - start
    print(f"\ntotal wall time {wall:.0f} s")
    bench.report_other_load(before, wall)


if __name__ == "__main__":
    main()
