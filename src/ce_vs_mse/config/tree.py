"""Where the configuration tree is, and composing it as the ``ce-vs-mse`` command does.

Both wings import this: the training CLI (Hydra's ``config_path``) and the report (which
composes ``experiments/*.yaml`` and lists the named experiments), so the report never imports
the CLI.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path


def config_dir() -> Path:
    """The config tree: inside the installed package (wheel), else the repository's."""
    package = Path(__file__).resolve().parents[1]  # src/ce_vs_mse
    packaged = package / "configs"
    return packaged if packaged.is_dir() else package.parents[1] / "configs"


def named_experiments() -> list[str]:
    """The experiments that ship (``experiments/<name>.yaml``), sorted by name."""
    return sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


@contextlib.contextmanager
def _hydra() -> Iterator[Callable]:
    """Hydra initialised on the config tree, as the CLI sees it; yields Hydra's ``compose``."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from . import schema

    schema.register()  # configs/config.yaml starts from the registered schema
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        yield hydra_compose


def compose(*overrides: str):
    """The resolved configuration of ``overrides`` (e.g. ``experiment=landscape``), as the CLI
    would compose it, schema checks included."""
    with _hydra() as hydra_compose:
        return hydra_compose("config", overrides=list(overrides))


def experiment_jobs(experiment: str, overrides: list[str]) -> list:
    """The configuration of every job of ``experiments/<experiment>.yaml`` with the command
    line's ``overrides``, its sweep expanded as the sweeper expands it (the command line's
    overrides after the experiment's sweep)."""
    base = [f"experiment={experiment}"]
    with _hydra() as hydra_compose:
        top = hydra_compose("config", overrides=[*base, *overrides], return_hydra_config=True)
        params = [f"{k}={v}" for k, v in (top.hydra.sweeper.get("params") or {}).items()]
        return [hydra_compose("config", overrides=[*base, *job])
                for job in expand([*params, *overrides])]


def assignments(overrides) -> dict[str, str]:
    """The ``key=value`` pairs of Hydra overrides, each key without a leading ``+`` or ``~``."""
    pairs = (o.lstrip("+~").partition("=") for o in overrides if "=" in o)
    return {key: value for key, _, value in pairs}


@functools.cache
def sweep_grid(name: str) -> tuple[dict[str, list[str]], list[int]]:
    """The sweep of ``experiments/<name>.yaml`` (``hydra.sweeper.params``: key -> its values,
    as the command line spells them; empty for a single run) and its seeds."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(config_dir() / "experiment" / f"{name}.yaml")
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    grid = {str(key): [job[0].partition("=")[2] for job in expand([f"{key}={values}"])]
            for key, values in params.items()}  # as the sweeper parses: [32],[32,32] is 2 values
    return grid, list(OmegaConf.select(cfg, "seeds") or [])


def expand(overrides: list[str]) -> list[list[str]]:
    """The jobs a sweep of ``overrides`` (``key=a,b`` and the like) runs, each a list of
    plain overrides, expanded by Hydra's own parser as its basic sweeper expands them; one
    job without overrides for none."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return batches(parsed, None)[0] if parsed else [[]]


def batches(parsed: list, max_batch_size: int | None) -> list[list[list[str]]]:
    """Hydra's basic sweeper's expansion of parsed overrides into batches of jobs (its
    private ``split_arguments``, used here only)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return BasicSweeper.split_arguments(parsed, max_batch_size)


def in_experiment(name: str, overrides, seed: int) -> bool:
    """Whether a run of ``name`` trained with ``overrides`` (as its summary records them) is
    one of the runs ``ce-vs-mse experiment=<name>`` makes: one value of each swept key and
    nothing else that changes results (``device=``, ``threads=`` and the like may differ)."""
    from .schema import NOT_IN_HASH

    grid, seeds = sweep_grid(name)
    if seeds and seed not in seeds:
        return False
    given = {key: value for key, value in assignments(overrides).items()
             if key != "experiment" and not key.startswith("hydra") and key not in NOT_IN_HASH}
    return set(given) == set(grid) and all(given[k] in grid[k] for k in grid)
