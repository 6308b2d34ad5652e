"""The ``ce-vs-mse`` command: Hydra composes the configuration, runner.run trains it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode

from . import runner, schema

log = logging.getLogger("ce_vs_mse")


def config_dir() -> Path:
    """The config tree: inside the installed package (wheel), else the repository's."""
    packaged = Path(__file__).parent / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "configs"


def _experiment_name(choice: str | None) -> str:
    return choice or "default"


class WhereResults(Callback):
    """After a run or a sweep, say where the results are and how to look at them."""

    def _tell(self, config) -> None:
        experiment = _experiment_name(config.hydra.runtime.choices.get("experiment"))
        where = Path(config.results_dir)
        print(f"\nResults: {where / experiment}\n"
              f"  pandas:      pandas.read_csv('<run>/seed=<s>/metrics.csv')\n"
              f"  TensorBoard: tensorboard --logdir {where}", file=sys.stderr)

    def on_job_end(self, config, job_return, **kwargs) -> None:
        if config.hydra.mode == RunMode.RUN and job_return.status == JobStatus.COMPLETED:
            self._tell(config)

    def on_multirun_end(self, config, **kwargs) -> None:
        self._tell(config)
        # Each failed job of *this* sweep left a FAILED file in its own Hydra output folder
        # (written by the job's process, so this works with every launcher).
        failed = [p.read_text() for p in sorted(Path(config.hydra.sweep.dir).glob("*/FAILED"))]
        if failed:
            sys.exit("ce-vs-mse: error: these runs failed (see 'error' in their summary.json):\n"
                     + "\n".join(f"  {f}" for f in failed))


schema.register()


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def _main(cfg) -> None:
    hc = HydraConfig.get()
    experiment = _experiment_name(hc.runtime.choices.get("experiment"))
    try:
        runner.run(cfg, experiment, list(hc.overrides.task))
    except schema.ConfigError as err:  # a bad value: one line, no traceback, nothing trained
        sys.exit(f"ce-vs-mse: error: {err}")
    except runner.RunFailed as err:
        if hc.mode == RunMode.RUN:
            sys.exit(f"ce-vs-mse: error: run failed: {err}")
        # In a sweep the other jobs go on; WhereResults lists the failures at the end.
        (Path(hc.runtime.output_dir) / "FAILED").write_text(str(err))


def main() -> None:
    _main()


if __name__ == "__main__":
    main()
