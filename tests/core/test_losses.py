"""Losses and their gradients at z against autograd and their closed forms."""

import pytest
import torch
import torch.nn.functional as F

from ce_vs_mse.core import losses

# Every registered loss with every head it may train.
PAIRS = [(head, name) for name, loss in losses.LOSSES.items() for head in loss.heads]


def _batch(units: int, scale: float = 4.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    z = (torch.randn(3, 7, units, generator=g, dtype=torch.float64) * scale)
    y = torch.randint(0, max(units, 2), (3, 7), generator=g)
    return z, y


# Every pair with several units, and with the single sigmoid unit of a binary problem.
CASES = [(h, loss, 4) for h, loss in PAIRS] + [(h, loss, 1) for h, loss in PAIRS if h == "sigmoid"]


def test_the_cases_cover_every_pair_the_suite_trains():
    assert {("sigmoid", "mse"), ("sigmoid", "bce"), ("softmax", "ce"), ("softmax", "mse"),
            ("linear", "mse"), ("linear", "sq_rescaled")} <= set(PAIRS)
    assert ("sigmoid", "bce", 1) in CASES and ("sigmoid", "mse", 1) in CASES


@pytest.mark.parametrize("head,loss,units", CASES)
def test_autograd_gradient_at_z_matches_closed_form(head, loss, units):
    z, y = _batch(units)
    z.requires_grad_(True)
    losses.per_example(loss, z, y, head, k=2.0, M=3.0).sum().backward()  # k, M: sq_rescaled's
    expected = losses.grad_wrt_z(loss, head, z.detach(), y, k=2.0, M=3.0)
    torch.testing.assert_close(z.grad, expected, atol=1e-10, rtol=1e-8)


def test_a_head_a_loss_cannot_train_has_no_closed_form():
    z, y = _batch(4)
    with pytest.raises(ValueError, match="no closed form for head='sigmoid' with loss='ce'"):
        losses.grad_wrt_z("ce", "sigmoid", z, y)


@pytest.mark.parametrize("loss,binary,multiclass", [
    ("ce", "softmax", "softmax"), ("bce", "sigmoid", "sigmoid"), ("mse", "sigmoid", "softmax"),
    ("sq_rescaled", "linear", "linear")])
def test_auto_picks_the_documented_head(loss, binary, multiclass):
    # configs/model/mlp.yaml: softmax for ce, sigmoid for bce, and for mse sigmoid on a binary
    # dataset, softmax otherwise; the rescaled square loss is defined on linear outputs
    assert losses.resolve_head("auto", loss, 2) == binary
    assert losses.resolve_head("auto", loss, 10) == multiclass
    assert losses.resolve_head("linear", loss, 10) == "linear"  # an explicit head stays


def test_registering_a_loss_whose_auto_head_it_cannot_train_is_refused():
    bad = losses.Loss("bad", per_example=losses.LOSSES["ce"].per_example,
                      grad_z=losses.LOSSES["ce"].grad_z, heads=("softmax",), auto="sigmoid")
    with pytest.raises(ValueError, match="auto='sigmoid'.*must be among its heads"):
        losses.register(bad)
    with pytest.raises(ValueError, match="head='tanh' is not a head; choose from: sigmoid"):
        losses.register(losses.Loss("bad", bad.per_example, bad.grad_z, heads=("tanh",),
                                    auto="tanh"))
    assert "bad" not in losses.LOSSES


def test_squared_error_gradient_vanishes_when_sigmoid_saturates_and_bce_does_not():
    # Confidently wrong: target 0, z = 8 (a ≈ 0.9997).
    z, y = torch.tensor([[8.0]]), torch.tensor([0])
    mse = losses.grad_wrt_z("mse", "sigmoid", z, y).item()
    bce = losses.grad_wrt_z("bce", "sigmoid", z, y).item()
    a = torch.sigmoid(torch.tensor(8.0)).item()
    assert mse == pytest.approx(a * a * (1 - a))
    assert bce == pytest.approx(a)
    assert mse < 1e-3 * bce


def test_squared_error_sums_over_units_not_means():
    # The suite's convention: ½ Σ_k (a_k - y_k)², whereas torch's mse_loss also divides by K.
    z, y = _batch(10)
    a = torch.softmax(z, -1)
    t = F.one_hot(y, 10).double()
    expected = 0.5 * 10 * F.mse_loss(a, t, reduction="none").mean(-1)
    torch.testing.assert_close(losses.squared_error(z, y, "softmax"), expected)


def test_logit_losses_stay_finite_when_saturated():
    z = torch.tensor([[[1000.0, -1000.0]], [[-1000.0, 1000.0]]], requires_grad=True)
    y = torch.tensor([[1], [0]])
    ce = losses.cross_entropy(z, y)
    bce = losses.binary_cross_entropy(z[..., :1], y)
    (ce.sum() + bce.sum()).backward()
    assert torch.isfinite(ce).all() and torch.isfinite(bce).all()
    assert ce[0, 0].item() == pytest.approx(2000.0)
    assert torch.isfinite(z.grad).all()


def test_two_way_softmax_ce_equals_sigmoid_bce_of_the_difference():
    z, y = _batch(2)
    ce = losses.cross_entropy(z, y)
    bce = losses.binary_cross_entropy((z[..., 1] - z[..., 0]).unsqueeze(-1), y)
    torch.testing.assert_close(ce, bce)


def test_evaluation_losses_match_training_losses_of_the_same_head():
    z, y = _batch(5)
    ev = losses.evaluation_losses(z, y, "softmax")
    torch.testing.assert_close(ev["ce"], losses.per_example("ce", z, y, "softmax"))
    torch.testing.assert_close(ev["mse"], losses.per_example("mse", z, y, "softmax"))
    ev = losses.evaluation_losses(z, y, "sigmoid")
    torch.testing.assert_close(ev["ce"], losses.per_example("bce", z, y, "sigmoid"))


@pytest.mark.parametrize("head,loss", PAIRS)
def test_objective_is_the_sum_of_the_replicas_mean_losses(head, loss):
    z, y = _batch(4)
    z1 = z.clone().requires_grad_(True)
    z2 = z.clone().requires_grad_(True)
    value = losses.objective(loss, z1, y, head, k=2.0, M=3.0)
    reference = losses.per_example(loss, z2, y, head, k=2.0, M=3.0).mean(-1).sum()
    value.backward()
    reference.backward()
    torch.testing.assert_close(value, reference)
    torch.testing.assert_close(z1.grad, z2.grad)
