"""What each experiment of the report cost to train, from its runs' own records.

    python benchmarks/experiment_costs.py [results/runs]

Every finished seed's summary.json records the wall time of its job (all the seeds trained in
lockstep with it); summed over an experiment's jobs, that is the time one core spent training
it (the process start-up and Hydra's composing are not in it). Prints a Markdown table, with
the cost hint of each experiment file (``# reproduce: cost=...``, the order reproduce starts
them in) beside what was measured, to update the hints from.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ce_vs_mse import reproduce
from ce_vs_mse.store import layout
from ce_vs_mse.store import summary as summaries


def main(root: Path) -> None:
    rows, total = [], 0.0
    for hint in reproduce.hints():
        name = hint.name
        jobs: dict[str, tuple[float, int]] = {}
        seeds = steps = 0
        for folder in layout.run_folders(root / name):
            try:
                s = summaries.verify(folder)
            except summaries.Unfinished:
                continue
            jobs[s.run] = (s.wall_time_s, s.replicas_in_lockstep)
            seeds += 1
            steps += s.steps
        if not jobs:
            continue
        wall = sum(w for w, _ in jobs.values())
        total += wall
        rows.append(f"| {name} | {len(jobs)} | {seeds} | {steps:,} | {wall:.1f} | {hint.cost:g} |")
    print("| experiment | jobs | seeds | steps (all seeds) | training, core-seconds | hint |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"| all | | | | {total:.1f} | |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/runs"))
