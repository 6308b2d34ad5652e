"""The ``ce-vs-mse`` command: Hydra composes the configuration, runner.run trains it.

A single run prints a table of its seeds and where the results are; a sweep's jobs return
their results to the sweeper (:mod:`ce_vs_mse.sweeps`), which prints one summary at the end.
"""

from __future__ import annotations

import os
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from .. import forks
from ..config import schema
from ..config.tree import config_dir
from . import console, runner, sweeps

schema.register()


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def _main(cfg) -> runner.Job | None:
    hc = HydraConfig.get()
    experiment = hc.runtime.choices.get("experiment") or "default"
    overrides = list(hc.overrides.task)
    sweeping = hc.mode == RunMode.MULTIRUN
    if sweeping and sweeps.SWEEP_PID in os.environ and "Local" in hc.launcher.get("_target_", ""):
        forks.watch(int(os.environ[sweeps.SWEEP_PID]))  # submitit_local's jobs die with the sweep
    try:
        schema.check_pair(overrides)
        claimed = sweeps.claimed_note(hc.runtime.output_dir) if sweeping else None
        job = runner.run(cfg, experiment, overrides, claimed)
    except schema.ConfigError as err:  # a bad value: one line, no traceback, nothing trained
        if sweeping:  # (the sweeper checked every job; only data-dependent checks get here)
            return runner.Job(f"{experiment} ({' '.join(overrides)})", "", error=str(err))
        sys.exit(f"ce-vs-mse: error: {err}")
    if sweeping:
        return job
    console.say("\n" + console.job_table(job))
    console.say(f"{console.counts([job])}, {job.wall_s:.1f} s.")
    console.say(console.answer([job]))
    console.say(console.where(cfg.results_dir, experiment))
    if job.error:
        sys.exit(f"ce-vs-mse: error: {job.name} failed: {job.error} (the same command tries "
                 "it again)")
    return None


def main() -> None:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    # Hydra prints a composition error over several lines unless asked to raise it; raise it
    # here and print one line, unless the user asked for Hydra's full traceback.
    own = "HYDRA_FULL_ERROR" not in os.environ
    forks.sigterm_as_interrupt()
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    try:
        _main()
    except (HydraException, OmegaConfBaseException) as err:
        if not own:
            raise
        sys.exit(f"ce-vs-mse: error: {schema.advice(runner.one_line(err))}")
    except KeyboardInterrupt as stop:
        how = "terminated (SIGTERM)" if isinstance(stop, forks.Terminated) else "interrupted"
        print(f"\nce-vs-mse: {how}. Finished runs are kept; run the same command again "
              "to train the rest.", file=sys.stderr)
        sys.exit(forks.Terminated.EXIT if isinstance(stop, forks.Terminated) else 130)


if __name__ == "__main__":
    main()
