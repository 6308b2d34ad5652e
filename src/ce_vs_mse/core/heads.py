"""The output heads: how the network's output a comes from its pre-activation z.

Every function takes z with the output units last, (..., K). A head is ``sigmoid`` (one
σ(z_k) per unit; one unit for a binary problem), ``softmax`` (a_k = exp z_k / Σ_j exp z_j)
or ``linear`` (a = z). The losses (:mod:`ce_vs_mse.losses`) work from z and use these.
"""

from __future__ import annotations

import torch

HEADS = ("sigmoid", "softmax", "linear")


def shifted_exp(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """z minus its row maximum, and the exp of that: a softmax written out starts here
    (p = e / Σe, log p = shifted - log Σe). The evaluation computes softmaxes this way because
    torch's CPU softmax and log_softmax kernels are several times slower on thousands of rows
    of 10 classes (benchmarks/bench_trainer.py); taking the maximum out first loses no
    precision on large logits."""
    shifted = z - z.amax(-1, keepdim=True)
    return shifted, shifted.exp()


def output(z: torch.Tensor, head: str) -> torch.Tensor:
    """The network's output a from its pre-activation z."""
    if head == "sigmoid":
        return torch.sigmoid(z)
    if head == "softmax":
        return torch.softmax(z, dim=-1)
    if head == "linear":
        return z
    raise ValueError(f"head={head!r}; choose one of: {', '.join(HEADS)}")


def backward(z: torch.Tensor, head: str, upstream: torch.Tensor,
             a: torch.Tensor | None = None) -> torch.Tensor:
    """The chain rule through the head, in closed form: ∂ℓ/∂z from ∂ℓ/∂a (``upstream``, g).

    sigmoid: g_k σ'(z_k) = g_k a_k (1 - a_k)
    softmax: Σ_j g_j ∂p_j/∂z_k = p_k (g_k - Σ_j g_j p_j)
    linear:  g

    ``a``: the output :func:`output` gives for z, when the caller already has it (the
    evaluation's written-out softmax), so that it is not computed again.
    """
    a = output(z, head) if a is None else a
    if head == "sigmoid":
        return upstream * a * (1 - a)
    if head == "softmax":
        return a * (upstream - (upstream * a).sum(-1, keepdim=True))
    return upstream


def n_outputs(head: str, n_classes: int) -> int:
    """One sigmoid unit for a binary problem; one unit per class otherwise."""
    return 1 if head == "sigmoid" and n_classes == 2 else n_classes


def slope(z: torch.Tensor, head: str) -> torch.Tensor:
    """∂a_k/∂z_k for each unit: σ'(z) = a(1-a) for sigmoid, p_k(1-p_k) for softmax, 1 for linear.

    A unit is *saturated* when this is below 0.01: whatever the error, squared error then
    passes back less than 1 % of it.
    """
    if head == "linear":
        return torch.ones_like(z)
    a = output(z, head)
    return a * (1 - a)


def wrong_side(z: torch.Tensor, t: torch.Tensor, head: str) -> torch.Tensor:
    """Whether each output unit is on the wrong side of ½ from its target: a_k < ½ where the
    target t_k is 1, or a_k > ½ where it is 0 (a = head(z); for a linear head a = z, read by
    the same rule). Boolean, the shape of z; t as :func:`ce_vs_mse.losses.targets` gives it.

    A unit that is saturated (:func:`slope` < 0.01) *and* on the wrong side is the σ' trap:
    squared error passes back almost none of its large error. A saturated unit on the right
    side is merely confident, which cross-entropy makes most of its units.
    """
    return (output(z, head) - 0.5) * (t - 0.5) < 0
