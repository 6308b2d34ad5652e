"""The mechanism section: every curve of its gradient panel against autograd, the lecture's
step (label 1, ŷ = 0.6) as numbers, and its few lines of gradient descent on Nielsen's neuron
against the neuron experiment's own training runs."""

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir

from ce_vs_mse.core import losses
from ce_vs_mse.report.document import Document
from ce_vs_mse.report.sections import SECTIONS, mechanism
from ce_vs_mse.train import runner
from ce_vs_mse.train.cli import config_dir


@pytest.mark.parametrize(("head", "loss"), list(mechanism.CURVES))
def test_every_gradient_curve_is_autograd_of_its_loss(head, loss):
    z = torch.linspace(-10, 10, 81, dtype=torch.float64)
    logits, y = mechanism.true_class_logits(z, head)
    logits.requires_grad_(True)
    losses.per_example(loss, logits, y, head).sum().backward()
    auto = logits.grad[:, -1].abs().numpy()
    assert mechanism.wrong_label_gradient(z, head, loss) == pytest.approx(auto, abs=1e-12)


def test_the_curves_show_error_times_slope_and_the_uniform_point():
    z = np.array([-8.0, -2.0, 0.0])
    a = 1 / (1 + np.exp(-z))
    error = mechanism.wrong_label_gradient(z, "sigmoid", "bce")
    assert error == pytest.approx(1 - a)  # |a - y| for y = 1
    assert mechanism.wrong_label_gradient(z, "sigmoid", "mse") == pytest.approx(
        (1 - a) * a * (1 - a))  # error × slope
    assert mechanism.wrong_label_gradient(z, "linear", "mse") == pytest.approx(np.abs(z - 1))
    # at z = 0 the K-way softmax is uniform: squared error passes back 1/K of cross-entropy's
    ce, sq = (mechanism.wrong_label_gradient([0.0], "softmax", loss)[0] for loss in ("ce", "mse"))
    assert sq / ce == pytest.approx(losses.uniform_gradient_ratio("softmax", mechanism.CLASSES))
    assert ce == pytest.approx(1 - 1 / mechanism.CLASSES)


def test_the_lectures_step_label_1_predicted_0_6():
    step = mechanism.lecture_step(0.6)
    assert step["ce"] == pytest.approx(-0.4)  # wrong by 1 - 0.6 (the lecture)
    assert step["slope"] == pytest.approx(0.24)  # 0.6 × 0.4
    assert step["mse"] == pytest.approx(-0.096)


def _train_neuron(results: Path, loss: str, epochs: int) -> pd.DataFrame:
    """One run of experiments/neuron.yaml from the bad start at η = 0.15, as the CLI trains it."""
    s = mechanism.NEURON
    overrides = ["experiment=neuron", f"loss={loss}", f"trainer.epochs={epochs}",
                 f"model.init_weight={s['w']}", f"model.init_bias={s['b']}",
                 f"optimizer.lr={s['lr']}"]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"results_dir={results}", *overrides])
    (run_dir,) = runner.run(cfg, "neuron", overrides).run_dirs
    return pd.read_csv(run_dir / "metrics.csv").dropna(subset=["test/mse"])


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_the_neuron_panel_is_what_the_neuron_experiment_trains(tmp_path, loss):
    epochs = 30
    metrics = _train_neuron(tmp_path / "runs", loss, epochs)
    trained = np.sqrt(2 * metrics["test/mse"].to_numpy())  # target 0: ½a² is the squared error
    ours = mechanism.neuron_descent(loss, epochs=epochs)
    assert ours[metrics["epoch"].to_numpy()] == pytest.approx(trained, abs=2e-6)
    assert ours[0] == pytest.approx(1 / (1 + np.exp(-4)))  # Nielsen's bad start, σ(4) ≈ 0.98


def test_the_neuron_stalls_with_squared_error_only():
    mse, bce = (mechanism.below_half(mechanism.neuron_descent(loss)) for loss in ("mse", "bce"))
    assert bce is not None and mse is not None
    assert mse > 5 * bce  # Nielsen: the quadratic cost barely moves for its first ~150 epochs
    assert np.all(np.diff(mechanism.neuron_descent("mse")) < 0)


def test_the_section_is_first_without_runs_and_writes_its_figure(tmp_path):
    first = next(iter(SECTIONS.values()))
    assert (first.name, first.needs_runs) == ("mechanism", False)
    doc = Document(tmp_path)
    answer = first.draw(doc, None)
    png = mpimg.imread(tmp_path / "figures/mechanism.png")
    assert png.shape[1] <= 1800 and png.shape[1] > 2 * png.shape[0]  # three panels in a row
    step = mechanism.lecture_step(0.6)
    assert f"{step['ce']:.3g} × {step['slope']:.3g} = {step['mse']:.3g}" in answer
    mse, bce = (mechanism.below_half(mechanism.neuron_descent(loss)) for loss in ("mse", "bce"))
    assert f"after {bce} epochs with cross-entropy and {mse} epochs with squared error" in answer
    assert "figures/mechanism.png" in "\n".join(doc.lines)
