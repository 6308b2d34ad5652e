"""The sweeper composes each job's configuration once (sweeps.ComposedOnce): its check and
the launcher share it, and a pickled loader (what a submitit job receives) carries none."""

import pickle

from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

from ce_vs_mse.config import schema
from ce_vs_mse.config.tree import config_dir
from ce_vs_mse.train.sweeps import ComposedOnce


class Counting:
    """Hydra's own config loader, counting the jobs it composes."""

    def __init__(self, loader):
        self.loader, self.composed = loader, []

    def load_sweep_config(self, master, overrides):
        self.composed.append(tuple(overrides))
        return self.loader.load_sweep_config(master, overrides)


def test_a_job_is_composed_once_for_the_check_and_the_launch():
    schema.register()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        real = GlobalHydra.instance().config_loader()
        master = real.load_configuration("config", ["experiment=quickstart"], RunMode.MULTIRUN)
        counting = Counting(real)
        loader = ComposedOnce(counting)
        jobs = [["pair=softmax_ce", "model=logreg"], ["pair=softmax_mse", "model=logreg"]]
        checked = [loader.load_sweep_config(master, job) for job in jobs]  # the check
        launched = [loader.load_sweep_config(master, job) for job in jobs]  # the launcher
        assert counting.composed == [tuple(job) for job in jobs]
        assert all(a is b for a, b in zip(checked, launched, strict=True))
        fresh = real.load_sweep_config(master, jobs[1])
        assert OmegaConf.to_yaml(launched[1]) == OmegaConf.to_yaml(fresh)
        assert launched[1].loss.name == "mse" and launched[0].loss.name == "ce"

        again = loader.load_sweep_config(master, jobs[0])  # given out twice: composed anew
        assert again is not checked[0] and len(counting.composed) == 3
        copy = pickle.loads(pickle.dumps(ComposedOnce(real)))
        loader.load_sweep_config(master, jobs[1])
        assert pickle.loads(pickle.dumps(loader)).kept == {} and loader.kept
        assert copy.load_sweep_config(master, jobs[1]).loss.name == "mse"
