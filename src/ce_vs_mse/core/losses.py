"""Every loss, and its gradient at the output pre-activation z, defined once: the registry
:data:`LOSSES`, from which the schema (valid losses and heads), head resolution
(``model.head=auto``), aggregation and the report read what they need of a loss.

Reduction convention, the same for every loss: per example, *sum* over
output units; then *mean* over the mini-batch. So squared error is ½ Σ_k (a_k - y_k)², not
torch's ``mse_loss`` (which also averages over units and divides the gradient by K).

All functions take z of shape (..., B, K) and integer labels y of shape (..., B) and work
from z, never from a = head(z): cross-entropy and BCE use log-sum-exp / log-sigmoid forms,
so a saturated output gives a large finite loss, never inf or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.linalg import vector_norm

from . import heads


def targets(y: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Targets shaped and typed like the outputs ``like`` (..., B, K): one-hot rows, or the
    0/1 label (..., B, 1) for a single sigmoid unit."""
    if like.shape[-1] == 1:
        return y.unsqueeze(-1).to(like.dtype)
    return F.one_hot(y, like.shape[-1]).to(like.dtype)


def squared_error(z: torch.Tensor, y: torch.Tensor, head: str) -> torch.Tensor:
    """½ Σ_k (a_k - y_k)² per example, a = head(z). Shape (..., B)."""
    return _half_squared_distance(heads.output(z, head), y)


def _half_squared_distance(a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * (a - targets(y, a)).pow(2).sum(-1)


def binary_cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-Σ_k [y_k log σ(z_k) + (1-y_k) log(1-σ(z_k))] per example, from logits. Shape (..., B)."""
    t = targets(y, z)
    return F.binary_cross_entropy_with_logits(z, t, reduction="none").sum(-1)


def cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-log softmax(z)_y = log Σ_k exp(z_k) - z_y per example, from logits. Shape (..., B)."""
    flat = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1), reduction="none")
    return flat.view(y.shape)


def rescaled_square(z: torch.Tensor, y: torch.Tensor, k: float, M: float) -> torch.Tensor:
    """Hui & Belkin's (2021) square loss on linear outputs, ½[k (z_c - M)² + Σ_{i≠c} z_i²] per
    example (c the true class). Their 1/C factor is replaced by the suite's ½, which only
    rescales η. k = M = 1 is plain squared error on a linear head. Shape (..., B)."""
    t = targets(y, z)
    weight = 1 + (k - 1) * t
    return 0.5 * (weight * (z - M * t).pow(2)).sum(-1)


@dataclass(frozen=True)
class Loss:
    """One training loss. ``per_example`` and ``grad_z`` take ``(z, y, head, k, M)`` (k and M:
    the ``loss.k`` and ``loss.M`` options, for the losses that read them) and return ℓ per
    example, shape (..., B), and its closed-form ∂ℓ/∂z, the shape of z (a test holds it against
    autograd for every head in ``heads``)."""

    name: str
    per_example: Callable[..., torch.Tensor]
    grad_z: Callable[..., torch.Tensor]
    heads: tuple[str, ...]  # the heads it can train (others are refused before training)
    auto: str  # the head that model.head=auto picks
    auto_binary: str | None = None  # ... on a binary dataset, where that differs
    # a cross-entropy of its head's probabilities: its cost is what ``test/ce`` logs, and the
    # report compares squared error on the same head against it (aggregate.paired_ratio)
    log_loss: bool = False
    # the report's colour (report/style.py): "cross-entropy", "squared error", "rescaled square"
    family: str = ""
    params: tuple[str, ...] = ()  # the loss.<key> options it reads; its pair label names them
    # speed only: the mean of per_example over every example, from one fused kernel
    fused_mean: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def auto_head(self, n_classes: int) -> str:
        return self.auto_binary if self.auto_binary and n_classes == 2 else self.auto


LOSSES: dict[str, Loss] = {}  # name -> Loss, in the order messages and tables list them


def register(loss: Loss) -> Loss:
    """Add ``loss`` to :data:`LOSSES`; with ``configs/loss/<name>.yaml`` it can be trained."""
    unknown = [h for h in loss.heads if h not in heads.HEADS]
    if unknown:
        raise ValueError(f"loss {loss.name!r}: head={unknown[0]!r} is not a head; choose from: "
                         f"{', '.join(heads.HEADS)}")
    if {loss.auto_head(2), loss.auto_head(3)} - set(loss.heads):
        raise ValueError(f"loss {loss.name!r}: auto={loss.auto!r}, auto_binary="
                         f"{loss.auto_binary!r} must be among its heads {loss.heads}")
    LOSSES[loss.name] = loss
    return loss


def _error(z: torch.Tensor, y: torch.Tensor, head: str,
           a: torch.Tensor | None = None) -> torch.Tensor:
    """a - y: the head's output minus the target (``a``: the head's output, if already known)."""
    return (heads.output(z, head) if a is None else a) - targets(y, z)


def _fused_cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))


# The losses. ∂ℓ/∂z of a loss of the head's output a goes through the head (heads.backward).
register(Loss(
    "ce", heads=("softmax",), auto="softmax", log_loss=True, family="cross-entropy",
    per_example=lambda z, y, head, k, M: cross_entropy(z, y),
    grad_z=lambda z, y, head, k, M: _error(z, y, head),  # p - y
    fused_mean=_fused_cross_entropy))
register(Loss(
    "bce", heads=("sigmoid",), auto="sigmoid", log_loss=True, family="cross-entropy",
    per_example=lambda z, y, head, k, M: binary_cross_entropy(z, y),
    grad_z=lambda z, y, head, k, M: _error(z, y, head)))  # a - y
register(Loss(
    "mse", heads=("sigmoid", "softmax", "linear"), auto="softmax", auto_binary="sigmoid",
    family="squared error",
    per_example=lambda z, y, head, k, M: squared_error(z, y, head),
    # sigmoid: (a - y) σ'(z), σ'(z) = a(1 - a)  <- vanishes when σ saturates
    # softmax: p_k [(p_k - y_k) - Σ_j (p_j - y_j) p_j];  linear: a - y
    grad_z=lambda z, y, head, k, M: heads.backward(z, head, _error(z, y, head))))
register(Loss(
    "sq_rescaled", heads=("linear",), auto="linear", family="rescaled square", params=("k", "M"),
    per_example=lambda z, y, head, k, M: rescaled_square(z, y, k, M),
    # w_k (z_k - M y_k), w_k = k for the true class, 1 otherwise
    grad_z=lambda z, y, head, k, M: (1 + (k - 1) * targets(y, z)) * (z - M * targets(y, z))))


def get(loss: str) -> Loss:
    """The registered loss ``loss``; a ValueError naming the registered ones otherwise."""
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not registered; choose one of: {', '.join(LOSSES)}")
    return LOSSES[loss]


def resolve_head(head: str, loss: str, n_classes: int) -> str:
    """The head that ``model.head=auto`` means for this loss and dataset (else ``head``)."""
    return get(loss).auto_head(n_classes) if head == "auto" else head


def per_example(loss: str, z: torch.Tensor, y: torch.Tensor, head: str,
                k: float = 1.0, M: float = 1.0) -> torch.Tensor:
    """The training loss ``loss`` of each example. Shape (..., B). ``k`` and ``M`` are used by
    the losses that read them (``sq_rescaled``)."""
    return get(loss).per_example(z, y, head, k, M)


def objective(loss: str, z: torch.Tensor, y: torch.Tensor, head: str,
              k: float = 1.0, M: float = 1.0) -> torch.Tensor:
    """What the trainer differentiates: Σ_r mean_b ℓ_rb over R replicas of B examples each.
    Its gradient with respect to replica r's weights is that of r's own mean loss, so one
    backward pass trains every replica as if alone.

    A loss with a fused kernel (cross-entropy) uses it: its mean over all R·B examples, times R
    (a sum divided by B would be one more autograd op in every step)."""
    fused = get(loss).fused_mean
    if fused is not None:
        mean = fused(z, y)
        return mean * z.shape[0] if z.dim() == 3 and z.shape[0] > 1 else mean
    return per_example(loss, z, y, head, k, M).mean(-1).sum()


@dataclass(frozen=True)
class Bound:
    """A loss bound to the head it trains and its options: what one job trains with."""

    name: str
    head: str
    k: float = 1.0
    M: float = 1.0

    def per_example(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return per_example(self.name, z, y, self.head, self.k, self.M)

    def objective(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return objective(self.name, z, y, self.head, self.k, self.M)


def evaluation_losses(z: torch.Tensor, y: torch.Tensor, head: str) -> dict[str, torch.Tensor]:
    """Cross-entropy and squared error of the model's outputs, whatever loss trained it.

    ``ce`` is the log-loss of the head's probabilities: softmax cross-entropy for a softmax
    (or linear, read as logits) head, BCE summed over units for a sigmoid head. ``mse`` is
    ½ Σ_k (a_k - y_k)² of the head's output. Both per example, shape (..., B).
    """
    if head == "sigmoid":
        return {"ce": binary_cross_entropy(z, y), "mse": squared_error(z, y, head)}
    # Both from one log-softmax, written out (heads.shifted_exp)
    shifted, e = heads.shifted_exp(z)
    log_p = shifted - e.sum(-1, keepdim=True).log()
    a = log_p.exp() if head == "softmax" else heads.output(z, head)
    return {"ce": -log_p.gather(-1, y.unsqueeze(-1)).squeeze(-1),
            "mse": _half_squared_distance(a, y)}


def grad_wrt_z(loss: str, head: str, z: torch.Tensor, y: torch.Tensor,
               k: float = 1.0, M: float = 1.0) -> torch.Tensor:
    """∂ℓ/∂z per example, in closed form (each loss's in :data:`LOSSES`). Shape of z."""
    entry = get(loss)
    if head not in entry.heads:
        raise ValueError(f"no closed form for head={head!r} with loss={loss!r}")
    return entry.grad_z(z, y, head, k, M)


# The log-loss of each head that has one, whose gradient squared error's is measured against.
LOG_LOSS = {"softmax": "ce", "sigmoid": "bce"}


def gradient_ratio(z: torch.Tensor, y: torch.Tensor, head: str,
                   a: torch.Tensor | None = None) -> torch.Tensor:
    """The mechanism factor of each example, r = ‖∂ℓ_sq/∂z‖₂ / ‖∂ℓ_ce/∂z‖₂ at outputs z
    (..., B, K) with labels y (..., B): shape (..., B), dimensionless.

    ℓ_sq is squared error through the head (``mse``) and ℓ_ce the head's log-loss
    (:data:`LOG_LOSS`), with their closed forms in :data:`LOSSES`: ∂ℓ_ce/∂z = e = a - y and
    ∂ℓ_sq/∂z = heads.backward(e), i.e. J(p) e for softmax and e σ'(z) for sigmoid units. So r
    is the share of cross-entropy's step that squared error takes at these outputs: at a
    uniform output :func:`uniform_gradient_ratio` (1/K, ¼) whatever the label, a step-size
    effect; far below it the head saturates (confidently wrong outputs). (It can exceed it
    too: a softmax split between the true class and one other.)

    NaN where it is not defined: on a linear head (no log-loss), and for an example fit
    exactly (‖e‖ = 0: both gradients are 0). ``a``: head(z), when the caller has it.

    Built from the pieces those entries' ``grad_z`` are made of (``_error``,
    ``heads.backward``; tests/core/test_gradient_ratio.py holds it to :func:`grad_wrt_z` and
    to autograd), not by calling :func:`grad_wrt_z` twice: that computes the softmax three
    times with torch's slow CPU kernel (heads.shifted_exp), 1.5× a whole evaluation on digits,
    where handing in the evaluation's own probabilities costs a tenth of that."""
    if head not in LOG_LOSS:
        return z.new_full(z.shape[:-1], math.nan)
    a = heads.output(z, head) if a is None else a
    error = _error(z, y, head, a)  # ∂ℓ_ce/∂z: the grad_z of LOSSES["ce"] and LOSSES["bce"]
    ce = vector_norm(error, dim=-1)
    sq = vector_norm(heads.backward(z, head, error, a), dim=-1)  # LOSSES["mse"]'s grad_z
    return torch.where(ce > 0, sq / ce, math.nan)


def uniform_gradient_ratio(head: str, units: int) -> float:
    """:func:`gradient_ratio` at a uniform output (z = 0, about a fresh network's), whatever
    the label: 1/K for a softmax of K = ``units`` classes (J(p) = (I - 11ᵀ/K)/K at p = 1/K, and
    p - y sums to 0), ¼ for sigmoid units (σ'(0) = ¼), NaN for a linear head."""
    if head == "softmax":
        return 1 / units
    return 0.25 if head == "sigmoid" else math.nan
