"""Information measures against the lecture's worked numbers (log base 2),
torch's own BCE (nats), and the identities that tie them together."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ce_vs_mse.core.information import binary_cross_entropy, cross_entropy, entropy, kl_divergence

TOL = 5e-4  # the lecture rounds to 3 decimals


def _distributions(n: int, k: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(n, k, generator=g, dtype=torch.float64) * 2, dim=-1)


# ----- the lecture's numbers, in bits -------------------------------------------------------

def test_entropy_of_one_hot_label_is_zero():
    h = entropy([0.0, 1.0])
    assert not torch.isnan(h)
    assert h.item() == 0.0


def test_entropy_of_prediction_0_6_0_4_is_0_971_bits():
    assert entropy([0.6, 0.4]).item() == pytest.approx(0.971, abs=TOL)


@pytest.mark.parametrize("y_hat,expected", [(0.6, 0.737), (0.9, 0.152), (0.3, 1.737)])
def test_cross_entropy_label_true(y_hat, expected):
    # Label True: Y = (False, True) = (0, 1); prediction Ŷ = (1 - ŷ, ŷ).
    assert cross_entropy([0.0, 1.0], [1 - y_hat, y_hat]).item() == pytest.approx(expected, abs=TOL)
    assert binary_cross_entropy(1.0, y_hat).item() == pytest.approx(expected, abs=TOL)


def test_cross_entropy_falls_towards_the_answer_and_rises_away():
    ce = binary_cross_entropy([1.0, 1.0, 1.0], [0.3, 0.6, 0.9])
    assert ce[0] > ce[1] > ce[2] > 0


# ----- units --------------------------------------------------------------------------------

@pytest.mark.parametrize("fn,args", [
    (entropy, ([0.6, 0.4],)),
    (cross_entropy, ([0.2, 0.5, 0.3], [0.1, 0.6, 0.3])),
    (kl_divergence, ([0.2, 0.5, 0.3], [0.1, 0.6, 0.3])),
    (binary_cross_entropy, (1.0, 0.6)),
])
def test_bits_and_nats_differ_by_ln_2(fn, args):
    bits, nats = fn(*args, base=2), fn(*args, base=math.e)
    assert nats.item() == pytest.approx(bits.item() * math.log(2), rel=1e-12)
    assert fn(*args, base="bits").item() == pytest.approx(bits.item(), rel=1e-12)
    assert fn(*args, base="nats").item() == pytest.approx(nats.item(), rel=1e-12)
    assert bits.item() != pytest.approx(nats.item(), rel=1e-3)


def test_nats_match_natural_log_by_hand():
    assert entropy([0.6, 0.4], base="nats").item() == pytest.approx(
        -(0.6 * math.log(0.6) + 0.4 * math.log(0.4)), rel=1e-12)


@pytest.mark.parametrize("base", [1, 0, -2, "decibans"])
def test_bad_base_is_rejected(base):
    with pytest.raises(ValueError):
        entropy([0.5, 0.5], base=base)


# ----- types and shapes ---------------------------------------------------------------------

def test_lists_and_tensors_give_float64_tensors_reduced_over_last_dim():
    p = _distributions(5, 4, seed=0)
    q = _distributions(5, 4, seed=1)
    for out in (entropy(p), cross_entropy(p, q), kl_divergence(p, q)):
        assert isinstance(out, torch.Tensor)
        assert out.dtype == torch.float64
        assert out.shape == (5,)
    from_list = cross_entropy(p.tolist(), q.float().tolist())
    torch.testing.assert_close(from_list, cross_entropy(p, q), rtol=1e-6, atol=0)
    assert binary_cross_entropy([0.0, 1.0, 1.0], [0.2, 0.7, 0.9]).shape == (3,)


# ----- KL divergence ------------------------------------------------------------------------

def test_kl_is_cross_entropy_minus_entropy_and_nonnegative():
    p = _distributions(200, 6, seed=2)
    q = _distributions(200, 6, seed=3)
    kl = kl_divergence(p, q)
    by_hand = (p * (p / q).log()).sum(-1) / math.log(2)
    torch.testing.assert_close(kl, by_hand, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(kl, cross_entropy(p, q) - entropy(p), rtol=1e-12, atol=1e-12)
    assert (kl > 0).all()
    torch.testing.assert_close(kl_divergence(p, p), torch.zeros(200, dtype=torch.float64))


def test_kl_is_not_symmetric():
    p, q = [0.9, 0.1], [0.5, 0.5]
    assert kl_divergence(p, q).item() != pytest.approx(kl_divergence(q, p).item(), rel=1e-3)


# ----- zeros: 0·log 0 := 0, and q = 0 under p > 0 is +inf -----------------------------------

def test_zero_probability_under_the_target_is_infinite_not_nan():
    ce = cross_entropy([0.0, 1.0], [1.0, 0.0])
    assert torch.isposinf(ce)
    assert torch.isposinf(kl_divergence([0.0, 1.0], [1.0, 0.0]))
    # A zero in q where p is also zero costs nothing.
    assert cross_entropy([0.0, 1.0], [0.0, 1.0]).item() == 0.0


def test_bce_range_and_infinity_at_wrong_certainty():
    g = torch.Generator().manual_seed(4)
    y = torch.randint(0, 2, (1000,), generator=g).double()
    y_hat = torch.rand(1000, generator=g, dtype=torch.float64)
    bce = binary_cross_entropy(y, y_hat)
    assert torch.isfinite(bce).all() and (bce >= 0).all()
    assert torch.isposinf(binary_cross_entropy(1.0, 0.0))
    assert torch.isposinf(binary_cross_entropy(0.0, 1.0))
    exact = binary_cross_entropy([1.0, 0.0], [1.0, 0.0])
    assert not torch.isnan(exact).any()
    assert (exact == 0).all()


# ----- BCE is two-point cross-entropy, and matches torch ------------------------------------

def test_bce_equals_cross_entropy_of_two_point_distributions():
    g = torch.Generator().manual_seed(5)
    y = torch.rand(50, generator=g, dtype=torch.float64)  # soft targets too
    y_hat = torch.rand(50, generator=g, dtype=torch.float64)
    two_point = cross_entropy(torch.stack([1 - y, y], -1), torch.stack([1 - y_hat, y_hat], -1))
    torch.testing.assert_close(binary_cross_entropy(y, y_hat), two_point, rtol=1e-12, atol=0)


def test_bce_matches_torch_in_nats():
    g = torch.Generator().manual_seed(6)
    y = torch.randint(0, 2, (8, 16), generator=g).double()
    y_hat = torch.rand(8, 16, generator=g, dtype=torch.float64).clamp(1e-6, 1 - 1e-6)
    ours = binary_cross_entropy(y, y_hat, base="nats")
    theirs = F.binary_cross_entropy(y_hat, y, reduction="none")
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
    # In bits it is torch's value divided by ln 2.
    torch.testing.assert_close(binary_cross_entropy(y, y_hat), theirs / math.log(2),
                               rtol=1e-10, atol=1e-12)


def test_bce_is_per_example_and_its_mean_is_the_lectures_mini_batch_loss():
    # binary_cross_entropy returns one value per example; the mini-batch loss is its mean:
    # BCE = -(1/n) Σ [y log ŷ + (1-y) log(1-ŷ)].
    y = [1.0, 0.0, 1.0, 0.0, 1.0]
    y_hat = [0.6, 0.2, 0.9, 0.7, 0.3]
    n = len(y)
    terms = [t * math.log2(p) + (1 - t) * math.log2(1 - p) for t, p in zip(y, y_hat, strict=True)]
    lecture = -sum(terms) / n
    per_example = binary_cross_entropy(y, y_hat)
    assert per_example.shape == (n,)
    assert per_example.mean().item() == pytest.approx(lecture, rel=1e-12)
    assert F.binary_cross_entropy(torch.tensor(y_hat, dtype=torch.float64),
                                  torch.tensor(y, dtype=torch.float64)).item() == pytest.approx(
        per_example.mean().item() * math.log(2), rel=1e-12)
