"""Every experiment file composes: each ``experiments/*.yaml`` (found by a glob, so a new file
is tested too) with each job of its sweep (``hydra.sweeper.params``, expanded by Hydra's own
parser as the sweeper expands it) passes the checks the CLI makes before training. Nothing
is trained."""

import pytest
from conftest import wine_frame
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from ce_vs_mse.config import schema
from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.config.tree import config_dir

FILES = sorted((config_dir() / "experiment").glob("*.yaml"))


def jobs(path) -> list[list[str]]:
    """The overrides of each job ``ce-vs-mse experiment=<name>`` runs: one job per combination
    of the sweep's values, or one job without overrides when it sweeps nothing."""
    params = OmegaConf.select(OmegaConf.load(path), "hydra.sweeper.params") or {}
    return config_tree.expand([f"{k}={v}" for k, v in params.items()])


def test_every_experiment_file_is_found_and_sweeps_expand_to_every_combination():
    names = [p.stem for p in FILES]
    assert {"quickstart", "neuron", "landscape"} <= set(names)
    neuron = jobs(config_dir() / "experiment" / "neuron.yaml")  # a 2 x 2 x 2 x 2 grid
    assert len(neuron) == 16 and len({tuple(sorted(j)) for j in neuron}) == 16
    assert ["loss=mse", "optimizer.lr=0.15", "model.init_weight=2.0",
            "model.init_bias=0.9"] in neuron
    assert jobs(config_dir() / "experiment" / "landscape.yaml") == [[]]  # no sweep: one job


def covering(jobs: list[list[str]]) -> list[list[str]]:
    """A few of ``jobs`` that between them set every value of every swept key (as many as
    the key with the most values has, for a full grid)."""
    left = {o for job in jobs for o in job}
    chosen = []
    while left:
        best = max(jobs, key=lambda job: len(left & set(job)))
        chosen.append(best)
        left -= set(best)
    return chosen or jobs[:1]


def test_covering_jobs_set_every_value_in_fewer_jobs():
    grid = jobs(config_dir() / "experiment" / "depth.yaml")  # 2 pairs x 4 depths x 5 etas
    few = covering(grid)
    assert len(grid) == 40 and len(few) == 5 and all(job in grid for job in few)
    assert {o for job in few for o in job} == {o for job in grid for o in job}
    assert covering([[]]) == [[]]


# Composing a job takes Hydra ~0.2 s: the default run composes a covering set of each sweep's
# jobs (every value of every key, a fraction of them); every job, with the values' combinations,
# is left to the slow run.
@pytest.mark.parametrize("path,which", [
    *[pytest.param(p, "covering", id=p.stem) for p in FILES],
    *[pytest.param(p, "every", id=f"{p.stem}-every-job", marks=pytest.mark.slow)
      for p in FILES]])
def test_every_job_of_the_experiment_composes_and_passes_the_clis_checks(path, which, tmp_path):
    schema.register()  # configs/config.yaml starts from the registered schema
    given = []  # experiments/your_data.yaml reads the user's file: a wine CSV here
    if path.stem == "your_data":
        wine_frame().to_csv(tmp_path / "wine.csv", index=False)
        given = [f"dataset.path={tmp_path / 'wine.csv'}", "dataset.label=target"]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        for job in covering(jobs(path)) if which == "covering" else jobs(path):
            try:
                cfg = compose("config", overrides=[f"experiment={path.stem}", *job, *given])
                schema.check(cfg, [*job, *given])
            except Exception as err:  # noqa: BLE001 (Hydra's composition errors and ours)
                pytest.fail(f"experiment={path.stem} {' '.join(job)}: {err}")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_report_counts_every_job_of_the_experiment_as_its_own(path):
    """The report's default (``--experiments named``) keeps a run only when its overrides are
    one job of its experiment's sweep: list values such as ``model.hidden=[32],[32,32]``
    are two values, not three pieces."""
    seeds = OmegaConf.select(OmegaConf.load(path), "seeds") or [0]
    for job in jobs(path):
        recorded = [*job, f"experiment={path.stem}", "results_dir=elsewhere"]
        assert config_tree.in_experiment(path.stem, recorded, seeds[0]), job
        if job:  # a value the sweep does not have is not one of its runs
            other = [f"{job[0].partition('=')[0]}=0.123", *recorded[1:]]
            assert not config_tree.in_experiment(path.stem, other, seeds[0]), other
