"""``ce-vs-mse-reproduce``: train every experiment the report needs, then build the report.

The report goes to ``results/latest`` (git-ignored), and ends by comparing its tables with
the published report's (``results/report``, committed), which only ``--publish`` rewrites.

One process checks every job of every experiment against its run folders first (by the
configuration's hash, with :func:`ce_vs_mse.store.summary.verify`), without importing torch; only
experiments with unfinished jobs are handed to ``ce-vs-mse`` to train, and the report is
rebuilt only when the runs it reads have changed. A rerun with nothing left to do takes
seconds, and still notices a damaged or unfinished run. An experiment with no runs at all
is trained without that check, and the jobs its sweep composed become its list.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import forks
from .config.tree import assignments, config_dir, experiment_jobs
from .store import files, layout, manifest, provenance, published
from .store import summary as summaries

STAMP = ".built-from"  # in the report folder: the digest of the runs it was built from
HINT = "# reproduce:"  # an experiment file's line that says how reproduce treats it


@dataclass(frozen=True)
class Hint:
    """What an experiment file's ``# reproduce:`` line says: ``cost=<training core-seconds,
    as benchmarks/experiment_costs.py last measured them>`` (the costliest are started
    first, so that experiments trained side by side end at about the same time),
    ``needs=<folder>`` (trained only when its data is there), or ``no`` (the report computes
    it without runs)."""

    name: str
    cost: float = 0.0
    needs: Path | None = None
    trained: bool = True


def hints() -> list[Hint]:
    """Every experiment of ``experiments/``, the costliest first."""
    out = []
    for path in sorted((config_dir() / "experiment").glob("*.yaml")):
        words = next((line.removeprefix(HINT).split() for line in path.read_text().splitlines()
                      if line.startswith(HINT)), [])
        given = dict(w.partition("=")[::2] for w in words)
        out.append(Hint(path.stem, float(given.get("cost") or 0),
                        Path(given["needs"]) if given.get("needs") else None, "no" not in given))
    return sorted(out, key=lambda h: -h.cost)


def _inputs_digest(overrides: list[str]) -> str:
    """Everything the jobs' configurations are composed from: the config files, the schema
    and naming code, and the overrides. Unchanged: the jobs are the ones last composed."""
    h = hashlib.sha256("\0".join(overrides).encode())
    here = Path(__file__).parent
    files = sorted(p for p in config_dir().rglob("*.yaml") if p.is_file())
    for path in [*files, here / "config" / "schema.py", here / "store" / "layout.py"]:
        h.update(str(path).encode() + path.read_bytes())
    return h.hexdigest()


def jobs(experiment: str, overrides: list[str], results_dir: Path, key: str) -> list[dict]:
    """Every job of ``experiment`` as ``{"hash": ..., "seeds": [...]}``. Composing them takes
    Hydra a fraction of a CPU-second a job, so the list is kept beside the runs
    (:mod:`ce_vs_mse.store.manifest`) and reused while its inputs (their digest ``key``,
    :func:`_inputs_digest`) are unchanged."""
    kept = manifest.read(results_dir, experiment, key)
    if kept is not None:
        return kept
    listed = [{"hash": layout.config_hash(cfg), "seeds": list(cfg.seeds)}
              for cfg in experiment_jobs(experiment, overrides)]
    manifest.write(results_dir, experiment, key, listed)
    return listed


def every_job(experiments: list[str], overrides: list[str], results_dir: Path, key: str,
              workers: int) -> dict[str, list[dict]]:
    """:func:`jobs` of every experiment; those not kept from an earlier run are composed
    ``workers`` experiments at a time, each in a fork (a first run composes ~110 jobs)."""
    listing = functools.partial(jobs, overrides=overrides, results_dir=results_dir, key=key)
    stale = [e for e in experiments if manifest.read(results_dir, e, key) is None]
    if len(stale) > 2 and workers > 1:  # the first here: Hydra's caches are then warm
        listing(stale[0])  # in every fork (cold, a job costs twice)
        forks.map_in_forks(listing, stale[1:], workers)
    return {e: listing(e) for e in experiments}


def status(experiment: str, job: dict, seed: int, results_dir: Path) -> str:
    """``done`` or ``diverged`` for a finished run of the job's seed, else ``unfinished``."""
    for folder in layout.find(results_dir, experiment, job["hash"], seed):
        try:
            return summaries.verify(folder).status
        except summaries.Unfinished:
            continue
    return "unfinished"


def unfinished(experiment: str, job: dict, results_dir: Path) -> list[str]:
    """The seeds of one job that are not finished runs (none when all are)."""
    return [f"{experiment} {job['hash']} seed={seed}" for seed in job["seeds"]
            if status(experiment, job, seed, results_dir) == "unfinished"]


def digest(runs: Path, experiments: list[str]) -> str:
    """What the report reads: every summary of the named experiments, and this code."""
    h = hashlib.sha256(provenance.code_state().encode())
    for name in experiments:
        for path in layout.summaries(runs / name):
            h.update(str(path.relative_to(runs)).encode() + path.read_bytes())
    return h.hexdigest()


def report_files(out: Path) -> dict[str, str]:
    """The SHA-256 of every file of the report in ``out`` (REPORT.md, figures, tables, ...),
    by path: a deleted figure or a garbled table is a report to build again."""
    return {str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(out.rglob("*"))
            if path.is_file() and path.name not in (STAMP, ".lock")
            and not path.name.endswith(".tmp")}


def _up_to_date(stamp: Path, runs: str) -> bool:
    """Whether the report beside ``stamp`` was built from these runs and is as it was written."""
    try:
        record = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(record, dict) and record.get("runs") == runs
            and "REPORT.md" in record.get("files", {})
            and record["files"] == report_files(stamp.parent))


def _experiment(overrides: list[str], results_dir: Path, key: str, name: str,
                log: IO[bytes] | None) -> int:
    """In a fresh fork of this process: ``ce-vs-mse experiment=<name> <overrides>``; its
    output goes to ``log`` when given. Returns the command's exit status. The jobs its sweep
    composed and checked are kept as the experiment's list of jobs (:func:`jobs`)."""
    if log is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    sys.argv = ["ce-vs-mse", f"experiment={name}", *overrides]
    os.environ["CE_VS_MSE_HINTS"] = "0"  # the hint is said once, at the end
    try:
        from .train import cli

        cli.main()
    except SystemExit as end:
        code = end.code
        if isinstance(code, str):  # sys.exit("ce-vs-mse: error: ...")
            print(code, file=sys.stderr)
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        from .train import sweeps

        if sweeps.checked:
            manifest.write(results_dir, name, key, sweeps.checked)
    return 0


def train(names: list[str], overrides: list[str], workers: int, results_dir: Path,
          key: str) -> list[str]:
    """Run ``ce-vs-mse experiment=<name>`` for each name, ``workers`` at a time, each in a
    fresh fork of this process, which has imported torch and Hydra once for all of them (a
    process of its own would pay that start-up before its first step); return
    the names that failed. One at a time, its output streams; side by side, each
    experiment's output is printed whole when it ends, so that lines of two never
    interleave."""
    if not names:
        return []
    import torch._dynamo  # noqa: F401 (what torch.optim imports at its first step)

    from .train import cli  # noqa: F401 (imported here once, for every fork)

    together = workers > 1 and len(names) > 1
    with contextlib.ExitStack() as stack:
        # each side-by-side experiment's output, in a file with no name (unlinked as it is
        # made), so that nothing is left on disk however this process ends, SIGKILL too
        logs = {name: stack.enter_context(tempfile.TemporaryFile())
                for name in (names if together else ())}

        def run(name: str) -> int:
            return _experiment(overrides, results_dir, key, name, logs.get(name))

        def ended(name: str, result: tuple) -> None:
            if together:
                print(f"== {name}: finished", file=sys.stderr)
                logs[name].seek(0)
                sys.stderr.write(logs[name].read().decode(errors="replace"))
                sys.stderr.flush()
            ok, code = result
            if not ok:  # the fork itself failed or was killed
                print(f"== {name}: {code.strip().splitlines()[-1]}", file=sys.stderr)

        results = forks.map_in_forks(run, names, workers if together else 1, tolerant=True,
                                     ended=ended)
    return [n for n, (ok, code) in zip(names, results, strict=True) if not ok or code != 0]


def main(argv: list[str] | None = None) -> int:
    forks.sigterm_as_interrupt()
    try:
        return _main(argv)
    except KeyboardInterrupt as stop:  # the experiments' forks are stopped by now
        term = isinstance(stop, forks.Terminated)
        print(f"\nce-vs-mse-reproduce: {'terminated (SIGTERM)' if term else 'interrupted'}. "
              "Finished runs are kept; run the same command again to train the rest.",
              file=sys.stderr)
        return forks.Terminated.EXIT if term else 130


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*",
                        help="passed to every `ce-vs-mse experiment=...` (e.g. threads=2)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"where the report goes (default: {published.LATEST}, which git "
                             "ignores)")
    parser.add_argument("--publish", action="store_true",
                        help=f"write the published report, {published.PUBLISHED} (committed), "
                             "instead of comparing with it")
    parser.add_argument("--experiments", default=",".join(h.name for h in hints() if h.trained),
                        help="comma-separated names from experiments/ (default: all the "
                             "report needs)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="experiments trained side by side, each one process with one "
                             "torch thread (default: one per usable core)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers {args.workers}: give a number of processes >= 1")
    try:
        args.out = published.destination(args.out, args.publish)
    except ValueError as err:
        parser.error(str(err))
    start = time.perf_counter()
    chosen = [e for e in args.experiments.split(",") if e]
    bad = [e for e in chosen if not (config_dir() / "experiment" / f"{e}.yaml").is_file()]
    if bad:
        parser.error(f"--experiments: no experiments/{bad[0]}.yaml")
    needs = {h.name: h.needs for h in hints() if h.needs}  # trained only when their data is there
    experiments = [e for e in chosen if e not in needs or needs[e].is_dir()]
    skipped = [e for e in chosen if e not in experiments]
    results_dir = Path(assignments(args.overrides).get("results_dir", "results/runs"))
    trained, seeds = [], []  # seeds: (experiment, job, seed, trained now?)
    # an experiment with no folder yet has every job to train: its sweep lists them (below)
    new = [e for e in experiments if not (results_dir / e).exists()]
    key = _inputs_digest(args.overrides)
    listings = every_job([e for e in experiments if e not in new], args.overrides,
                         results_dir, key, args.workers)
    for name in experiments:
        if name in new:
            print(f"== {name}: nothing trained yet", file=sys.stderr, flush=True)
            trained.append(name)
            continue
        listed = listings[name]
        todo = [m for job in listed for m in unfinished(name, job, results_dir)]
        seeds += [(name, job, s, f"{name} {job['hash']} seed={s}" in todo)
                  for job in listed for s in job["seeds"]]
        if not todo:
            print(f"== {name}: all {len(listed)} job(s) finished", file=sys.stderr)
            continue
        print(f"== {name}: {len(todo)} seed(s) to train", file=sys.stderr, flush=True)
        trained.append(name)
    failed = train(trained, args.overrides, args.workers, results_dir, key)
    listings = every_job(new, args.overrides, results_dir, key, args.workers)  # kept by sweeps
    seeds += [(name, job, s, True) for name in new for job in listings[name]
              for s in job["seeds"]]
    for name in skipped:
        print(f"== {name}: skipped, its data is not in {needs[name]} (README, Data)",
              file=sys.stderr)
    stamp = args.out / STAMP
    now = digest(results_dir, experiments)
    if _up_to_date(stamp, now):
        print(f"Report: {args.out / 'REPORT.md'} is up to date", file=sys.stderr)
    else:
        from .report.build import main as report

        built = report(["--runs", str(results_dir), "--out", str(args.out),
                        *(["--publish"] if args.publish else [])], closing=False)
        if built != 0:
            return built
        record = {"runs": now, "files": report_files(args.out)}
        files.write_json_atomic(stamp, record)
    ends = Counter(("now " if new else "before ") + status(e, job, s, results_dir)
                   for e, job, s, new in seeds)
    print(f"\nReproduced {len(experiments)} experiment(s) in {time.perf_counter() - start:.0f} s:"
          f" {len(trained)} trained, {len(experiments) - len(trained)} already finished"
          + (f", failed: {', '.join(failed)}" if failed else "") + ".\n"
          f"Seeds: {ends['now done']} trained, {ends['now diverged']} diverged, "
          f"{ends['before done'] + ends['before diverged']} skipped (done before), "
          f"{ends['now unfinished'] + ends['before unfinished']} failed or unfinished.\n"
          f"Runs: {results_dir}   TensorBoard: tensorboard --logdir {results_dir}",
          *published.ending(args.out / "REPORT.md"), sep="\n", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
