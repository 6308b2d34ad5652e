"""Every loss, and its gradient at the output pre-activation z, defined once.

Reduction convention, the same for every loss: per example, *sum* over
output units; then *mean* over the mini-batch. So squared error is ½ Σ_k (a_k - y_k)², not
torch's ``mse_loss`` (which also averages over units and divides the gradient by K).

All functions take z of shape (..., B, K) and integer labels y of shape (..., B) and work
from z, never from a = head(z): cross-entropy and BCE use log-sum-exp / log-sigmoid forms,
so a saturated output gives a large finite loss, never inf or NaN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

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


def per_example(loss: str, z: torch.Tensor, y: torch.Tensor, head: str,
                k: float = 1.0, M: float = 1.0) -> torch.Tensor:
    """The training loss ``loss`` (mse | bce | ce | sq_rescaled) of each example. Shape (..., B).
    ``k`` and ``M`` are used by ``sq_rescaled`` only."""
    if loss == "sq_rescaled":
        return rescaled_square(z, y, k, M)
    if loss == "mse":
        return squared_error(z, y, head)
    if loss == "bce":
        return binary_cross_entropy(z, y)
    if loss == "ce":
        return cross_entropy(z, y)
    raise ValueError(f"unknown loss {loss!r}")


def objective(loss: str, z: torch.Tensor, y: torch.Tensor, head: str,
              k: float = 1.0, M: float = 1.0) -> torch.Tensor:
    """What the trainer differentiates: Σ_r mean_b ℓ_rb over R replicas of B examples each.
    Its gradient with respect to replica r's weights is that of r's own mean loss, so one
    backward pass trains every replica as if alone.

    Cross-entropy uses torch's fused kernel: its mean over all R·B examples, times R (a sum
    divided by B would be one more autograd op, ~20 µs of a ~300 µs step on digits)."""
    if loss == "ce":
        mean = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))
        return mean * z.shape[0] if z.dim() == 3 and z.shape[0] > 1 else mean
    return per_example(loss, z, y, head, k, M).mean(-1).sum()


def evaluation_losses(z: torch.Tensor, y: torch.Tensor, head: str) -> dict[str, torch.Tensor]:
    """Cross-entropy and squared error of the model's outputs, whatever loss trained it.

    ``ce`` is the log-loss of the head's probabilities: softmax cross-entropy for a softmax
    (or linear, read as logits) head, BCE summed over units for a sigmoid head. ``mse`` is
    ½ Σ_k (a_k - y_k)² of the head's output. Both per example, shape (..., B).
    """
    if head == "sigmoid":
        return {"ce": binary_cross_entropy(z, y), "mse": squared_error(z, y, head)}
    # Both from one log-softmax, written out: on thousands of rows of 10 classes, torch's
    # CPU softmax and log_softmax kernels are 5-6x slower (torch 2.14). The row maximum is
    # taken out first, so large logits lose no precision.
    shifted = z - z.amax(-1, keepdim=True)
    log_p = shifted - shifted.exp().sum(-1, keepdim=True).log()
    a = log_p.exp() if head == "softmax" else heads.output(z, head)
    return {"ce": -log_p.gather(-1, y.unsqueeze(-1)).squeeze(-1),
            "mse": _half_squared_distance(a, y)}


def grad_wrt_z(loss: str, head: str, z: torch.Tensor, y: torch.Tensor,
               k: float = 1.0, M: float = 1.0) -> torch.Tensor:
    """∂ℓ/∂z per example, in closed form. Shape of z.

    sigmoid + bce:  a - y
    softmax + ce:   p - y
    mse: a - y through the head (heads.backward):
      sigmoid (a - y) σ'(z), σ'(z) = a(1 - a)      <- vanishes when σ saturates
      softmax p_k [(p_k - y_k) - Σ_j (p_j - y_j) p_j]
      linear  a - y
    linear  + sq_rescaled: w_k (z_k - M y_k), w_k = k for the true class, 1 otherwise
    """
    a = heads.output(z, head)
    t = targets(y, z)
    if loss == "mse" and head in heads.HEADS:
        return heads.backward(z, head, a - t)
    if (head, loss) in {("sigmoid", "bce"), ("softmax", "ce")}:
        return a - t
    if (head, loss) == ("linear", "sq_rescaled"):
        return (1 + (k - 1) * t) * (z - M * t)
    raise ValueError(f"no closed form for head={head!r} with loss={loss!r}")
