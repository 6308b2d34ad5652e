"""How long does ``ce-vs-mse-report`` take on the committed runs?

Run from the repository root (with the project's virtualenv):

    python benchmarks/bench_report.py                      # 5 runs, the default command
    python benchmarks/bench_report.py --repeats 3 -- --workers 1 --svg

Runs the command as a user does, a fresh process each time (imports, reading the runs, every
section and figure), into a temporary ``--out``, and prints each run's wall time and CPU time
(user + system, its worker processes included), their medians, and the load average before
and after: on a shared machine the wall time depends on who else is running, the CPU time
much less. Arguments after ``--`` go to ``ce-vs-mse-report``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(runs: Path, extra: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, figures written) of one report."""
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ce_vs_mse.report", "--runs", str(runs),
                        "--out", out, *extra], check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, len(list(Path(out, "figures").iterdir()))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--runs", type=Path, default=Path("results/runs"),
                    help="the runs to report (default: results/runs)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if not args.runs.is_dir():
        sys.exit(f"--runs {args.runs} is not a folder: train first (scripts/reproduce.sh)")
    print(f"ce-vs-mse-report --runs {args.runs} {' '.join(extra)}; {os.cpu_count()} cores; "
          f"load average before: {load()}")
    walls, cpus = [], []
    for i in range(args.repeats):
        wall, cpu, figures = run_once(args.runs, extra)
        walls.append(wall)
        cpus.append(cpu)
        print(f"  run {i + 1}: {wall:5.1f} s wall, {cpu:5.1f} CPU-s, {figures} figure files")
    print(f"median: {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} CPU-s; "
          f"load average after: {load()}")


if __name__ == "__main__":
    main()
