"""Where the configuration tree is, and composing it as the ``ce-vs-mse`` command does.

Both wings import this: the training CLI (Hydra's ``config_path``) and the report (which
composes ``experiments/*.yaml`` and lists the named experiments), so the report never imports
the CLI.
"""

from __future__ import annotations

import functools
from pathlib import Path


def config_dir() -> Path:
    """The config tree: inside the installed package (wheel), else the repository's."""
    package = Path(__file__).resolve().parents[1]  # src/ce_vs_mse
    packaged = package / "configs"
    return packaged if packaged.is_dir() else package.parents[1] / "configs"


def named_experiments() -> list[str]:
    """The experiments that ship (``experiments/<name>.yaml``), sorted by name."""
    return sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


def compose(*overrides: str):
    """The resolved configuration of ``overrides`` (e.g. ``experiment=landscape``), as the CLI
    would compose it, schema checks included."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from . import schema

    schema.register()  # configs/config.yaml starts from the registered schema
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose("config", overrides=list(overrides))


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
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return BasicSweeper.split_arguments(parsed, None)[0] if parsed else [[]]


def in_experiment(name: str, overrides, seed: int) -> bool:
    """Whether a run of ``name`` trained with ``overrides`` (as its summary records them) is
    one of the runs ``ce-vs-mse experiment=<name>`` makes: one value of each swept key and
    nothing else that changes results (``device=``, ``threads=`` and the like may differ)."""
    from .schema import NOT_IN_HASH

    grid, seeds = sweep_grid(name)
    if seeds and seed not in seeds:
        return False
    given = {}
    for override in overrides:
        key, _, value = override.lstrip("+").partition("=")
        if key == "experiment" or key.startswith("hydra") or key in NOT_IN_HASH:
            continue
        given[key] = value
    return set(given) == set(grid) and all(given[k] in grid[k] for k in grid)
