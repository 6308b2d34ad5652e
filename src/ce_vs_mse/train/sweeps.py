"""Sweeps (Hydra multirun) that lose one job, never all of them.

- :class:`CheckedSweeper` composes and checks every job before the first starts, so one bad
  value trains nothing and is named; it runs every job even when some fail, and ends with one
  summary (exit status 1 when a job failed).
- :class:`ForkLauncher` (``hydra/launcher=parallel``) runs each job in a fresh fork of the
  sweep's process, ``n_jobs`` at a time: a job whose process is killed (the OOM killer,
  ``kill -9``) is recorded as failed and the others go on; every worker dies with the sweep.
- ``hydra/launcher=submitit_local`` and ``slurm`` are submitit's launchers, run inside
  :func:`tolerant_submitit`: a job that fails or is cancelled (``scancel``) does not stop the
  collection of the others.

Hydra only loads plugins from the ``hydra_plugins`` package: ``hydra_plugins/ce_vs_mse_plugins``
names these classes there.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from unittest import mock

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf, open_dict

from .. import forks
from ..config import schema, tree
from ..store import layout
from ..store import summary as summaries
from ..store.lock import try_lock
from . import console
from .runner import one_line

SWEEP_PID = "CE_VS_MSE_SWEEP_PID"  # set for the jobs: the process whose death ends them
CLAIMED = "claimed_runs.json"  # in a job's Hydra output folder: the runs it trains
# Every job of the last sweep this process checked and found valid, as {"hash", "seeds"}:
# ce_vs_mse.reproduce keeps an experiment's list of jobs from it instead of composing them again.
checked: list[dict] = []


def claimed_note(output_dir: str):
    """For runner.run: note the runs a job is about to train in its output folder, each with
    the summary that identifies it, so that the sweep can mark them failed if the job's
    process is killed."""
    def note(claims: dict[Path, summaries.RunSummary]) -> None:
        summaries.write_claims(Path(output_dir) / CLAIMED, claims)
    return note


def _mark_failed(job_dir: Path, reason: str) -> None:
    """Record ``reason`` in the summary of every run a killed job had claimed and left
    unfinished (the lock is free again once its process is gone), with what identifies the
    run, so that the report counts it as failed."""
    for folder, claim in summaries.read_claims(job_dir / CLAIMED).items():
        lock = try_lock(folder) if folder.is_dir() else None
        if lock is None:
            continue
        try:
            if not summaries.is_done(folder):
                claim.failed(reason).write(folder)
        except OSError:
            pass
        finally:
            lock.release()


def _failed(overrides: Sequence[str], reason: str) -> JobReturn:
    ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
    ret._return_value = RuntimeError(reason)
    return ret


class ComposedOnce:
    """Hydra's config loader, except that a job's configuration, composed once for the
    sweeper's check, is handed to the launcher instead of being composed again (composing
    one takes Hydra a fraction of a CPU-second; benchmarks/BENCHMARKS.md). The check only reads
    it; the next request for the same job gets the same object, which is then forgotten. A
    pickled copy (a submitit job) carries none of them."""

    def __init__(self, loader) -> None:
        self.loader, self.kept = loader, {}

    def load_sweep_config(self, master_config, sweep_overrides: list[str]):
        key = tuple(sweep_overrides)
        if key in self.kept:
            return self.kept.pop(key)
        self.kept[key] = self.loader.load_sweep_config(master_config, list(sweep_overrides))
        return self.kept[key]

    def __getattr__(self, name: str):
        if name in ("loader", "kept"):  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __getstate__(self) -> dict:
        return {"loader": self.loader, "kept": {}}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class CheckedSweeper(Sweeper):
    """Hydra's basic sweeper (the same ``params`` and batches), checked first, reported last."""

    def __init__(self, max_batch_size: int | None = None, params: dict | None = None) -> None:
        self.max_batch_size, self.params = max_batch_size, dict(params or {})

    def setup(self, *, hydra_context, task_function, config) -> None:
        from hydra.core.plugins import Plugins
        from hydra.types import HydraContext

        hydra_context = HydraContext(ComposedOnce(hydra_context.config_loader),
                                     hydra_context.callbacks)
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> list:
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        params = [f"{k}={v}" for k, v in self.params.items()]
        overrides = parser.parse_overrides([*params, *arguments])
        batches = tree.batches(overrides, self.max_batch_size)
        self._check([job for batch in batches for job in batch])
        os.environ[SWEEP_PID] = str(os.getpid())
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns, index = [], 0
        for batch in batches:
            returns.append(self.launcher.launch(batch, initial_job_idx=index))
            index += len(batch)
        self._summarise([r for batch in returns for r in batch])
        return returns

    def _job_dir(self, index: int) -> Path:
        subdir = OmegaConf.to_container(self.config.hydra.sweep, resolve=False)["subdir"]
        subdir = str(subdir).replace("${hydra.job.num}", str(index))
        return Path(self.config.hydra.sweep.dir) / subdir

    def _check(self, jobs: list[list[str]]) -> None:
        """Compose and validate every job; name every bad one and exit before any trains."""
        launcher = self.config.hydra.launcher
        n_jobs = launcher.get("n_jobs") if "n_jobs" in launcher else None
        errors = []
        if n_jobs is not None and not (n_jobs >= 1 or n_jobs == -1):
            errors.append(f"hydra.launcher.n_jobs={n_jobs} must be >= 1 (or -1: one per core)")
        listed, failing = [], {}  # reason -> [(job index, its overrides)]
        for i, job in enumerate(jobs):
            try:
                cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(job))
                schema.check(cfg, list(job))
                listed.append({"hash": layout.config_hash(cfg), "seeds": list(cfg.seeds)})
            except Exception as err:  # noqa: BLE001 (Hydra's composition errors and ours)
                why = str(err) if isinstance(err, schema.ConfigError) else one_line(err)
                failing.setdefault(why, []).append((i, " ".join(filter_overrides(job))))
        for why, which in failing.items():  # a reason every job shares is said once
            if len(which) == 1:
                errors.append(f"job #{which[0][0]} ({which[0][1]}): {why}")
            else:
                every = (f"all {len(jobs)} jobs" if len(which) == len(jobs) else
                         f"{len(which)} jobs (#{', #'.join(str(i) for i, _ in which)})")
                errors.append(f"{every}: {why}")
        if errors:
            sys.exit("ce-vs-mse: error: nothing was trained; fix these jobs of the sweep:\n"
                     + "\n".join(f"  {e}" for e in errors))
        checked[:] = listed

    def _summarise(self, returns: list[JobReturn]) -> None:
        jobs, failures = [], []
        for index, r in enumerate(returns):
            value = r._return_value
            if r.status == JobStatus.COMPLETED and hasattr(value, "seeds"):
                jobs.append(value)
                if value.error:
                    failures.append(f"{value.name}: {value.error}")
            else:
                where = " ".join(filter_overrides(r.overrides or []))
                reason = str(value) if value else "no result"
                _mark_failed(self._job_dir(index), reason)
                failures.append(f"job ({where}): {reason}")
        experiment = self.config.hydra.runtime.choices.get("experiment") or "default"
        console.say(f"\nSweep of {len(returns)} job(s), {console.counts(jobs)}.")
        console.say(console.answer(jobs))
        console.say(console.where(self.config.results_dir, experiment))
        if failures:
            sys.exit("ce-vs-mse: error: these jobs failed (the next run of the same command "
                     "trains them again):\n" + "\n".join(f"  {f}" for f in failures))


class ForkLauncher(Launcher):
    """Each job in its own fork of the sweep's process, ``n_jobs`` at once (-1: one per core)."""

    def __init__(self, n_jobs: int = 2) -> None:
        self.n_jobs = n_jobs

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.hydra_context, self.task_function, self.config = hydra_context, task_function, config

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> list[JobReturn]:
        setup_globals()
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        items = [(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
        workers = (os.cpu_count() or 1) if self.n_jobs == -1 else self.n_jobs
        results = forks.map_in_forks(self._job, items, workers, tolerant=True)
        return [value if ok else _failed(overrides, value.strip().splitlines()[-1])
                for (_, overrides), (ok, value) in zip(items, results, strict=True)]

    def _job(self, item: tuple[int, list[str]]) -> JobReturn:
        """In the child: compose the job's configuration and run it as Hydra would."""
        index, overrides = item
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        with open_dict(cfg):
            cfg.hydra.job.id = f"job_id_for_{index}"
            cfg.hydra.job.num = index
        ret = run_job(hydra_context=self.hydra_context, task_function=self.task_function,
                      config=cfg, job_dir_key="hydra.sweep.dir",
                      job_subdir_key="hydra.sweep.subdir")
        ret.hydra_cfg = None  # not needed by the sweeper, and large to send back
        return ret


class _TolerantJob:
    """A submitit job whose ``results()`` gives a failed JobReturn where submitit raises
    (the job failed, was cancelled, killed or timed out)."""

    def __init__(self, job, overrides: Sequence[str]) -> None:
        self.job, self.overrides = job, overrides

    def results(self) -> list[JobReturn]:
        try:
            return self.job.results()
        except Exception as err:  # noqa: BLE001 (cancelled, killed, timed out, raised)
            lines = str(err).strip().splitlines() or [type(err).__name__]
            reason = next((line.strip() for line in lines if "state:" in line), lines[-1])
            return [_failed(self.overrides, f"submitit job {self.job.job_id}: {reason}")]


@contextlib.contextmanager
def tolerant_submitit() -> Iterator[None]:
    """While it lasts, the jobs submitit's executors submit are collected one by one: the
    submitit launcher's own ``launch`` (which ends the sweep at the first job that fails)
    then returns a failed JobReturn for that job and the others' results."""
    import submitit

    submit = submitit.AutoExecutor.map_array

    def map_array(executor, fn, *iterables):
        jobs = submit(executor, fn, *iterables)
        return [_TolerantJob(job, overrides) for job, overrides in zip(jobs, iterables[0],
                                                                       strict=True)]

    with mock.patch.object(submitit.AutoExecutor, "map_array", map_array):
        yield
