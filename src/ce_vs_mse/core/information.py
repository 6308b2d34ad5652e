"""Entropy, cross-entropy, binary cross-entropy and KL divergence, in bits or nats.

For distributions p and q over the *last* dimension (the lecture, "Entropy Loss"):

    H(p)      = -Σ_x p(x) log p(x)                       entropy
    H(p, q)   = -Σ_x p(x) log q(x)                       cross-entropy
    KL(p‖q)   =  Σ_x p(x) log(p(x)/q(x)) = H(p, q) - H(p)  KL divergence
    BCE(y, ŷ) = -[y log ŷ + (1-y) log(1-ŷ)]             = H((1-y, y), (1-ŷ, ŷ))

with the convention 0·log 0 := 0 (``torch.xlogy``), so a one-hot p has H(p) = 0, and a
q(x) = 0 where p(x) > 0 gives H(p, q) = KL(p‖q) = +inf (never NaN).

Units: ``base=2`` (or ``"bits"``, the default, as in the lecture) gives bits; ``base=math.e``
(or ``"nats"``) gives nats, the unit of torch's losses. 1 bit = ln 2 nats, so a value in
nats is the value in bits times ln 2.

Inputs may be tensors or array-likes (Python lists included); they are converted to float64
and broadcast against each other. Every function returns a float64 torch tensor.
"""

from __future__ import annotations

import math

import torch

_UNITS = {"bits": 2.0, "nats": math.e}


def _log_base(base: float | str) -> float:
    """ln(base): what a natural log is divided by to give a log in ``base``."""
    b = _UNITS.get(base) if isinstance(base, str) else float(base)
    if b is None or not b > 0 or b == 1:
        raise ValueError(f"base must be > 0 and != 1, 'bits' or 'nats'; got {base!r}")
    return math.log(b)


def _as_tensor(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64)


def entropy(p, base: float | str = 2) -> torch.Tensor:
    """H(p) = -Σ p log p over the last dimension. Shape p.shape[:-1]; bits for base 2."""
    p = _as_tensor(p)
    return -torch.xlogy(p, p).sum(-1) / _log_base(base)


def cross_entropy(p, q, base: float | str = 2) -> torch.Tensor:
    """H(p, q) = -Σ p log q over the last dimension (p the target, q the prediction).

    Shape: the broadcast shape of p and q without its last dimension. +inf where q(x) = 0
    for some p(x) > 0."""
    p, q = _as_tensor(p), _as_tensor(q)
    return -torch.xlogy(p, q).sum(-1) / _log_base(base)


def kl_divergence(p, q, base: float | str = 2) -> torch.Tensor:
    """KL(p‖q) = H(p, q) - H(p) over the last dimension; ≥ 0, and 0 when q = p.

    Shape as :func:`cross_entropy`; +inf where q(x) = 0 for some p(x) > 0."""
    return cross_entropy(p, q, base) - entropy(p, base)


def binary_cross_entropy(y, y_hat, base: float | str = 2) -> torch.Tensor:
    """Per-example BCE -[y log ŷ + (1-y) log(1-ŷ)], element by element (NOT averaged).

    y is the label (0/1, or a soft target in [0, 1]) and ŷ = P(True) predicted; each element
    is one example, i.e. the cross-entropy of the two-point distributions (1-y, y) and
    (1-ŷ, ŷ). Shape: the broadcast shape of y and ŷ. Values lie in [0, ∞]; +inf when ŷ = 0
    for y = 1 (or ŷ = 1 for y = 0). The lecture's mini-batch loss
    BCE = -(1/n) Σ_i [y_i log ŷ_i + (1-y_i) log(1-ŷ_i)] is ``binary_cross_entropy(y, ŷ).mean()``.
    """
    y, y_hat = _as_tensor(y), _as_tensor(y_hat)
    return -(torch.xlogy(y, y_hat) + torch.xlogy(1 - y, 1 - y_hat)) / _log_base(base)
