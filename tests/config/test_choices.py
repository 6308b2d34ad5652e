"""The choices a user sees agree with the registries: each registered dataset, loss and optimizer
has its ``configs/<group>/<name>.yaml`` and each such file names a registered one (so
``ce-vs-mse --help``, which lists the files, lists the registries), and the table of keys in
docs/usage.md lists exactly the registered datasets, losses, optimizers and init schemes."""

import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from ce_vs_mse.config.tree import config_dir
from ce_vs_mse.core import data, losses, models, optim

GROUPS = {"dataset": data.DATASETS, "loss": losses.LOSSES, "optimizer": optim.OPTIMIZERS}
USAGE = Path(__file__).resolve().parents[2] / "docs" / "usage.md"


def _files(group: str) -> dict[str, str]:
    """configs/<group>/*.yaml: file name -> the ``name`` it sets."""
    return {p.stem: OmegaConf.load(p).name for p in (config_dir() / group).glob("*.yaml")}


@pytest.mark.parametrize("group", GROUPS)
def test_every_entry_has_its_yaml_and_every_yaml_names_an_entry(group):
    files, registry = _files(group), GROUPS[group]
    assert {name: files.get(name) for name in registry} == {name: name for name in registry}
    # the others are presets of an entry (optimizer=momentum: sgd with momentum 0.9)
    assert set(files.values()) <= set(registry), files


def _row(key: str) -> set[str]:
    """The plain names (`digits`, not `dataset.data_dir=`) in docs/usage.md's table row of
    ``key``, e.g. `dataset=`."""
    rows = [line for line in USAGE.read_text().splitlines()
            if line.startswith("|") and f"`{key}`" in line.split("|")[1]]
    assert len(rows) == 1, (key, rows)
    values = rows[0].split("|")[2]
    return {name for name in re.findall(r"`([^`]+)`", values) if re.fullmatch(r"\w+", name)}


@pytest.mark.parametrize("key,names", [
    ("dataset=", lambda: _files("dataset")), ("loss=", lambda: _files("loss")),
    ("optimizer=", lambda: _files("optimizer")), ("model.init=", lambda: models.INITS)])
def test_the_usage_table_lists_every_choice_and_no_other(key, names):
    assert _row(key) == set(names())
