"""Adding a loss is one registry entry and one YAML (README, Extending): the absolute error of
Ghosh, Kumar & Sastry (2017), registered here with its ``configs/loss/mae.yaml`` in a folder on
Hydra's search path, goes through the schema, ``model.head=auto``, training, aggregation and
the report, and its closed-form gradient is autograd's."""

from pathlib import Path

import pytest
import torch
from conftest import read_metrics

from ce_vs_mse import report
from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.config.schema import ConfigError
from ce_vs_mse.core import heads, losses
from ce_vs_mse.report import aggregate, style
from ce_vs_mse.train import board, runner


def _error(z, y, head):
    return heads.output(z, head) - losses.targets(y, z)


# The README's example, as it is written there.
MAE = losses.Loss(
    "mae", heads=("softmax", "sigmoid"), auto="softmax", auto_binary="sigmoid",
    family="absolute error",  # a family report/style.py has no colour for yet: drawn grey
    per_example=lambda z, y, head, k, M: _error(z, y, head).abs().sum(-1),  # Σ_k |a_k - y_k|
    grad_z=lambda z, y, head, k, M: heads.backward(z, head, _error(z, y, head).sign()))
SMALL = ("model=logreg", "seeds=[0,1]", "trainer.epochs=2", "optimizer.lr=0.5")


@pytest.fixture
def searchpath(tmp_path) -> str:
    """A config folder on Hydra's search path holding only ``loss/mae.yaml``."""
    (tmp_path / "configs" / "loss").mkdir(parents=True)
    (tmp_path / "configs" / "loss" / "mae.yaml").write_text(
        "# Absolute error Σ_k |a_k - y_k| per example, mean over the batch.\nname: mae\n")
    return f"hydra.searchpath=[file://{tmp_path / 'configs'}]"


@pytest.fixture
def mae():
    losses.register(MAE)
    yield MAE
    del losses.LOSSES["mae"]


def _train(results: Path, searchpath: str, *overrides: str) -> runner.Job:
    cfg = config_tree.compose(searchpath, f"results_dir={results}", *overrides)
    job = runner.run(cfg, "added", list(overrides))
    assert job.error is None and [s.status for s in job.seeds] == ["done", "done"]
    return job


@pytest.mark.parametrize("head,units", [("softmax", 4), ("sigmoid", 4), ("sigmoid", 1)])
def test_the_added_losss_closed_form_gradient_is_autograds(mae, head, units):
    g = torch.Generator().manual_seed(0)
    z = (torch.randn(3, 7, units, generator=g, dtype=torch.float64) * 4).requires_grad_(True)
    y = torch.randint(0, max(units, 2), (3, 7), generator=g)
    losses.per_example("mae", z, y, head).sum().backward()
    torch.testing.assert_close(z.grad, losses.grad_wrt_z("mae", head, z.detach(), y))


def test_a_loss_added_by_one_entry_and_one_yaml_trains_and_is_reported(
        mae, searchpath, tmp_path):
    runs = tmp_path / "runs"
    # the schema takes it, with its heads in the message of a pair it cannot train
    with pytest.raises(ConfigError, match=r"loss=mae cannot train model.head=linear\. Valid "
                       r"pairs: .*loss=mae: model.head=softmax\|sigmoid"):
        runner.run(config_tree.compose(searchpath, f"results_dir={runs}", "loss=mae",
                                       "model.head=linear"))
    assert "mae" in board.choices()["loss"]
    # model.head=auto: softmax on digits (10 classes), one sigmoid unit on breast cancer
    digits = _train(runs, searchpath, "loss=mae", *SMALL)
    binary = _train(runs, searchpath, "loss=mae", "dataset=breast_cancer", *SMALL)
    assert digits.name.startswith("added/softmax_mae/digits-logreg/")
    assert binary.name.startswith("added/sigmoid_mae/breast_cancer-logreg/")
    for job in (digits, binary):
        for run_dir in job.run_dirs:
            m = read_metrics(run_dir)["train/loss"].dropna()
            # Σ_k |p_k - y_k| = 2 (1 - p_y) on a softmax, |σ(z) - y| on one unit: at most 2
            assert m.between(0, 2).all() and m.iloc[-1] < m.iloc[0]
    # aggregation and the report name its pairs; its new family is drawn grey, listed last
    table = aggregate.load_runs(runs).table
    assert sorted(table["pair"].unique()) == ["sigmoid+mae", "softmax+mae"]
    assert set(aggregate.by_run(table, "final test/accuracy")["pair"]) == {"sigmoid+mae",
                                                                         "softmax+mae"}
    assert style.colour("softmax+mae") == style.UNKNOWN
    assert style.order(["softmax+mae", "softmax+mse", "softmax+ce"]) == [
        "softmax+ce", "softmax+mse", "softmax+mae"]
    text = report.build(runs, tmp_path / "report", workers=1, experiments="added").read_text()
    assert "softmax+mae" in text and "sigmoid+mae" in text
    steps = (tmp_path / "report" / "tables" / "added_final_accuracy.csv").read_text()
    assert "softmax+mae" in steps and "sigmoid+mae" in steps


def test_an_unregistered_loss_is_one_clear_error_naming_the_registered_ones(
        searchpath, results_dir):
    cfg = config_tree.compose(searchpath, f"results_dir={results_dir}", "loss=mae")
    with pytest.raises(ConfigError, match="loss='mae' is not valid; choose one of: "
                       + ", ".join(losses.LOSSES)):
        runner.run(cfg)
    assert not results_dir.exists()
