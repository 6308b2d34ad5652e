"""The suite's Hydra plugins. Hydra instantiates plugins only from the ``hydra_plugins``
package, so the classes are named here; their code is in :mod:`ce_vs_mse.train.sweeps`."""

from hydra.core.config_store import ConfigStore
from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import LocalLauncher, SlurmLauncher

from ce_vs_mse.train import sweeps


class CheckedSweeper(sweeps.CheckedSweeper):
    """``hydra/sweeper=checked`` (the default): :class:`ce_vs_mse.train.sweeps.CheckedSweeper`."""


class ForkLauncher(sweeps.ForkLauncher):
    """``hydra/launcher=parallel``: see :class:`ce_vs_mse.train.sweeps.ForkLauncher`."""


class SubmititLocalLauncher(LocalLauncher):
    """``hydra/launcher=submitit_local``: one failed or killed job does not end the sweep."""

    def launch(self, job_overrides, initial_job_idx):
        with sweeps.tolerant_submitit():
            return super().launch(job_overrides, initial_job_idx)


class SubmititSlurmLauncher(SlurmLauncher):
    """``hydra/launcher=slurm``: a cancelled (``scancel``) job does not end the sweep."""

    def launch(self, job_overrides, initial_job_idx):
        with sweeps.tolerant_submitit():
            return super().launch(job_overrides, initial_job_idx)


# hydra/launcher=submitit_local: the plugin's options, this module's launcher.
ConfigStore.instance().store(
    group="hydra/launcher", name="submitit_local", provider="ce_vs_mse",
    node=LocalQueueConf(_target_=f"{__name__}.{SubmititLocalLauncher.__name__}"))
