"""The mechanism factor r = ‖∂ℓ_sq/∂z‖ / ‖∂ℓ_ce/∂z‖ (losses.gradient_ratio): its uniform-output
value against the closed form, autograd's gradients on random outputs, saturation on
confidently wrong outputs, and the columns a real run logs."""

import math

import pytest
import torch
from conftest import read_metrics

from ce_vs_mse.core import calibration, losses
from ce_vs_mse.train import runner


def _autograd_ratio(z: torch.Tensor, y: torch.Tensor, head: str) -> torch.Tensor:
    """The same ratio from autograd's per-example gradients of the two losses (each example's
    loss depends on its own row of z only, so the gradient of their sum is per example)."""
    norms = []
    for loss in ("mse", losses.LOG_LOSS[head]):
        zz = z.detach().clone().requires_grad_(True)
        losses.per_example(loss, zz, y, head).sum().backward()
        norms.append(zz.grad.norm(dim=-1))
    return norms[0] / norms[1]


@pytest.mark.parametrize("k", [2, 3, 7, 10, 100])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_uniform_softmax_output_gives_one_over_k_whatever_the_label(k, dtype):
    z = torch.zeros(2, k, k, dtype=dtype)  # z = 0: p = 1/K; every label once, in 2 replicas
    y = torch.arange(k).expand(2, -1)
    assert losses.uniform_gradient_ratio("softmax", k) == 1 / k
    tol = 1e-6 if dtype == torch.float32 else 1e-14
    torch.testing.assert_close(losses.gradient_ratio(z, y, "softmax"),
                               torch.full((2, k), 1 / k, dtype=dtype), rtol=tol, atol=0)


@pytest.mark.parametrize("units", [1, 4])
def test_uniform_sigmoid_output_gives_a_quarter_whatever_the_label(units):
    classes = max(units, 2)  # one unit: a binary problem, labels 0 and 1
    z = torch.zeros(classes, units, dtype=torch.float64)
    y = torch.arange(classes)
    assert losses.uniform_gradient_ratio("sigmoid", units) == 0.25
    assert torch.equal(losses.gradient_ratio(z, y, "sigmoid"),
                       torch.full((classes,), 0.25, dtype=torch.float64))


@pytest.mark.parametrize("head,units", [("softmax", 2), ("softmax", 4), ("softmax", 10),
                                        ("sigmoid", 1), ("sigmoid", 4)])
@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_matches_autograd_and_the_registrys_closed_forms_on_random_outputs(head, units, scale):
    g = torch.Generator().manual_seed(units)
    z = torch.randn(3, 50, units, generator=g, dtype=torch.float64) * scale
    y = torch.randint(0, max(units, 2), (3, 50), generator=g)
    ratio = losses.gradient_ratio(z, y, head)
    torch.testing.assert_close(ratio, _autograd_ratio(z, y, head), rtol=1e-6, atol=0)
    registry = (losses.grad_wrt_z("mse", head, z, y).norm(dim=-1)
                / losses.grad_wrt_z(losses.LOG_LOSS[head], head, z, y).norm(dim=-1))
    torch.testing.assert_close(ratio, registry, rtol=1e-12, atol=0)
    # the evaluation hands in the probabilities it has: the same values
    p = calibration.probabilities(z, head)
    a = p[..., 1:] if head == "sigmoid" and units == 1 else p
    torch.testing.assert_close(losses.gradient_ratio(z, y, head, a), ratio, rtol=1e-12, atol=0)
    assert ratio.shape == (3, 50) and (ratio > 0).all()


def test_the_log_losses_are_registered_log_losses_of_their_heads():
    for head, name in losses.LOG_LOSS.items():
        assert losses.LOSSES[name].log_loss and head in losses.LOSSES[name].heads
        assert head in losses.LOSSES["mse"].heads


def test_confidently_wrong_outputs_fall_far_below_the_uniform_value():
    # softmax, 10 classes: all confidence on class 3, the label is 0
    z = torch.zeros(1, 10, dtype=torch.float64)
    z[0, 3] = 10.0
    ratio = losses.gradient_ratio(z, torch.tensor([0]), "softmax").item()
    assert ratio < 0.01 * losses.uniform_gradient_ratio("softmax", 10)  # here about 3e-4
    # not every departure from uniform lowers it: a softmax torn between the label and one
    # other class takes a larger share of cross-entropy's step than 1/K (here about ½)
    torn = torch.zeros(1, 10, dtype=torch.float64)
    torn[0, :2] = 10.0
    assert losses.gradient_ratio(torn, torch.tensor([0]), "softmax").item() > 0.4
    # one sigmoid unit: r = σ'(z), exactly squared error's factor; σ(8) with label 0
    z = torch.tensor([[8.0]], dtype=torch.float64)
    a = torch.sigmoid(z).item()
    r = losses.gradient_ratio(z, torch.tensor([0]), "sigmoid").item()
    assert r == pytest.approx(a * (1 - a), rel=1e-12) and r < 0.01 * 0.25


def test_undefined_on_a_linear_head_and_for_an_exact_fit():
    z = torch.randn(2, 5, 3)
    y = torch.randint(0, 3, (2, 5))
    assert torch.isnan(losses.gradient_ratio(z, y, "linear")).all()
    assert math.isnan(losses.uniform_gradient_ratio("linear", 3))
    # p exactly one-hot on the label (float32: e^-200 underflows): no gradient, no ratio
    fit = torch.tensor([[200.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    ratio = losses.gradient_ratio(fit, torch.tensor([0, 0]), "softmax")
    assert math.isnan(ratio[0].item()) and ratio[1].item() == pytest.approx(1 / 3)


@pytest.mark.parametrize("overrides,reference", [
    (["dataset=digits", "loss=ce"], 0.1),  # softmax, 10 classes
    (["dataset=breast_cancer", "loss=bce"], 0.25),  # one sigmoid unit
    (["dataset=digits", "loss=mse", "model.head=linear", "optimizer.lr=0.05"], math.nan)])
def test_a_real_run_logs_the_ratio_and_its_reference_at_every_evaluation(make_cfg, overrides,
                                                                          reference):
    run_dir = runner.run(make_cfg(*overrides, "model=logreg", "trainer.epochs=1")).run_dirs[0]
    m = read_metrics(run_dir)
    evaluated = m.dropna(subset=["test/accuracy"])
    columns = [f"{s}/grad_ratio{q}" for s in ("train", "test") for q in ("", "_q10")]
    assert set(columns) <= set(m.columns) and len(evaluated) > 5
    assert not any(c.startswith("val/") for c in m.columns)  # no validation split asked for
    if math.isnan(reference):  # the same columns, NaN in them
        assert evaluated[[*columns, "grad_ratio_uniform"]].isna().all().all()
        return
    assert (evaluated["grad_ratio_uniform"] == reference).all()
    ratios = evaluated[columns]
    assert ratios.notna().all().all() and (ratios > 0).all().all()
    assert (evaluated["test/grad_ratio_q10"] <= evaluated["test/grad_ratio"]).all()
    # a fresh logistic regression's outputs are near uniform: near the reference at step 0
    assert evaluated["test/grad_ratio"].iloc[0] == pytest.approx(reference, rel=0.5)
