"""Adding a loss, a dataset or an optimizer is one registry entry and one YAML, an init scheme
one entry (docs/extending.md), each registered here as that page says, with its YAML in a
folder on Hydra's search path. The absolute error of Ghosh, Kumar & Sastry (2017) goes through
the schema, ``model.head=auto``, training, aggregation and the report, and its closed-form
gradient is autograd's; scikit-learn's two circles are split, checked and trained; Adagrad
and PyTorch's default uniform init are what the runner trains with."""

import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch
from conftest import read_metrics
from sklearn import datasets as skds

from ce_vs_mse import report
from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.config.schema import ConfigError
from ce_vs_mse.core import data, heads, losses, models, optim, seeding
from ce_vs_mse.report import aggregate, style
from ce_vs_mse.train import board, runner


def _error(z, y, head):
    return heads.output(z, head) - losses.targets(y, z)


# docs/extending.md's example of a loss, as it is written there.
MAE = losses.Loss(
    "mae", heads=("softmax", "sigmoid"), auto="softmax", auto_binary="sigmoid",
    family="absolute error",  # a family report/style.py has no colour for yet: drawn grey
    per_example=lambda z, y, head, k, M: _error(z, y, head).abs().sum(-1),  # Σ_k |a_k - y_k|
    grad_z=lambda z, y, head, k, M: heads.backward(z, head, _error(z, y, head).sign()))
# docs/extending.md's examples of a dataset, an optimizer and an init scheme, as written there.
CIRCLES = data.Dataset(
    "circles", generated=True,
    examples=lambda cfg: skds.make_circles(n_samples=cfg.n_samples, noise=cfg.noise,
                                           factor=0.5, random_state=cfg.seed))
ADAGRAD = optim.Optimizer("adagrad", reads=("weight_decay",), make=lambda cfg, params:
                          torch.optim.Adagrad(params, lr=cfg.lr, weight_decay=cfg.weight_decay))
UNIFORM = models.Init("uniform", weight=lambda fan_in, fan_out, gen, value:
                      (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) / math.sqrt(fan_in))
SMALL = ("model=logreg", "seeds=[0,1]", "trainer.epochs=2", "optimizer.lr=0.5")
YAML = {  # configs/<group>/<name>.yaml of each added entry
    "loss/mae.yaml": "# Absolute error Σ_k |a_k - y_k| per example, mean over the batch.\n"
                     "name: mae\n",
    "dataset/circles.yaml": "# Two concentric circles (sklearn.datasets.make_circles): binary.\n"
                            "name: circles\nn_samples: 1000\nnoise: 0.1\n",
    "optimizer/adagrad.yaml": "# Adagrad (Duchi et al. 2011): per-parameter steps.\n"
                              "name: adagrad\nlr: 0.5\n",
}


@pytest.fixture
def searchpath(tmp_path) -> str:
    """A config folder on Hydra's search path holding only the added entries' YAML files."""
    for path, text in YAML.items():
        (tmp_path / "configs" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "configs" / path).write_text(text)
    return f"hydra.searchpath=[file://{tmp_path / 'configs'}]"


@pytest.fixture
def mae():
    losses.register(MAE)
    yield MAE
    del losses.LOSSES["mae"]


@pytest.fixture
def circles():
    data.register(CIRCLES)
    yield CIRCLES
    del data.DATASETS["circles"]


@pytest.fixture
def adagrad():
    """ADAGRAD registered; the optimizers it makes, in the order made."""
    made = []

    def make(cfg, params):
        made.append(ADAGRAD.make(cfg, params))
        return made[-1]

    optim.register(dataclasses.replace(ADAGRAD, make=make))
    yield made
    del optim.OPTIMIZERS["adagrad"]


@pytest.fixture
def uniform():
    models.register(UNIFORM)
    yield UNIFORM
    del models.INITS["uniform"]


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


def test_a_dataset_added_by_one_entry_and_one_yaml_is_checked_split_and_trained(
        circles, searchpath, tmp_path):
    runs = tmp_path / "runs"
    # the schema takes it, with a generated dataset's rules on its options
    with pytest.raises(ConfigError, match="dataset.n_samples=2 must be at least 4 for "
                       "dataset=circles"):
        runner.run(config_tree.compose(searchpath, f"results_dir={runs}", "dataset=circles",
                                       "dataset.n_samples=2"))
    assert "circles" in board.choices()["dataset"]
    job = _train(runs, searchpath, "dataset=circles", "model=mlp", "model.hidden=[16]",
                 "model.activation=relu", "loss=ce", "seeds=[0,1]", "trainer.epochs=10",
                 "optimizer.lr=0.5")
    assert job.name.startswith("added/softmax_ce/circles-mlp_16")
    for run_dir in job.run_dirs:
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["params"]["dataset"] == "circles"
        assert summary["steps"] == 10 * 800 // 32  # 800 of the 1000 points train (batches of 32)
        m = read_metrics(run_dir)
        loss, accuracy = m["train/loss"].dropna(), m["test/accuracy"].dropna()
        assert len(loss) > 20 and loss.map(math.isfinite).all()
        # no line separates the circles; the hidden layer does, on the 200 held-out points
        assert accuracy.iloc[0] < 0.7 and accuracy.iloc[-1] > 0.95


def test_an_optimizer_added_by_one_entry_and_one_yaml_is_the_one_that_trains(
        adagrad, searchpath, tmp_path):
    runs = tmp_path / "runs"
    # the options it does not read are refused, naming the optimizers that read them
    with pytest.raises(ConfigError, match="optimizer.momentum=0.9 is not used by "
                       "optimizer=adagrad; leave it at 0 or choose optimizer=sgd"):
        runner.run(config_tree.compose(searchpath, f"results_dir={runs}", "optimizer=adagrad",
                                       "optimizer.momentum=0.9"))
    assert "adagrad" in board.choices()["optimizer"]
    job = _train(runs, searchpath, "optimizer=adagrad", *SMALL)
    assert job.name.startswith("added/softmax_ce/digits-logreg/adagrad-")
    [made] = adagrad  # both seeds in lockstep: one optimizer over both replicas' weights
    steps = json.loads((job.run_dirs[0] / "summary.json").read_text())["steps"]
    assert [int(state["step"]) for state in made.state.values()] == [steps, steps]
    assert read_metrics(job.run_dirs[0])["lr"].dropna().eq(0.5).all()


def test_an_init_scheme_added_by_one_entry_is_what_the_model_starts_from(
        uniform, make_cfg, results_dir):
    cfg = make_cfg("model.init=uniform", "model.hidden=[8]", "seeds=[3,4]")
    model, _ = models.build(cfg, n_features=64, n_classes=10, seeds=[3, 4])
    first = model.layers["layer1"].weight.detach()
    # replica r: the first draw from its seed's own init stream
    expected = UNIFORM.weight(64, 8, seeding.generator(4, "init"), 0.0)
    torch.testing.assert_close(first[1], expected, rtol=0, atol=0)
    assert first.abs().max() <= 1 / math.sqrt(64) and not first[0].equal(first[1])
    assert model.layers["output"].bias.detach().eq(0).all()
    assert "uniform" in board.choices()["init"]
    job = runner.run(cfg)
    assert job.error is None and [s.status for s in job.seeds] == ["done", "done"]
