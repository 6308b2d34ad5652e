"""How well the model's probabilities match its accuracy: ECE and the Brier score, defined once.

Every head is read as one probability per class, the probabilities its evaluation
cross-entropy scores (:func:`ce_vs_mse.losses.evaluation_losses`):

    softmax           p = softmax(z)                                        (K classes)
    linear            p = softmax(z): the outputs read as logits, as the evaluation CE does
    sigmoid, 1 unit   p = (1 - σ(z), σ(z)): the two classes of the binary problem
    sigmoid, K units  p_k = σ(z_k): each unit's own probability of its class (one-vs-rest;
                      the K values need not sum to 1)

The predicted class is :func:`ce_vs_mse.models.predict`'s (the largest z_k, or z > 0 for one
sigmoid unit), whose probability is the largest p_k: its *confidence* is max_k p_k.

Expected calibration error (Guo et al., ICML 2017), M = 15 equal-width confidence bins,
bin m = ((m-1)/M, m/M] (a confidence of exactly 0 goes into the first):

    ECE = Σ_m (|B_m| / n) · |acc(B_m) - conf(B_m)| = (1/n) Σ_m |Σ_{i ∈ B_m} (correct_i - conf_i)|

in [0, 1]. Brier score (Brier 1950) per example, y one-hot: Σ_k (p_k - y_k)², in [0, 2],
without the ½ of the suite's squared error, as it is usually quoted. So for a softmax head it
is exactly 2 × the evaluation ``mse`` (½ Σ_k (a_k - y_k)²), for K sigmoid units 2 × and for one
sigmoid unit 4 × (both classes count). A linear head's ``mse`` is of z itself, its Brier score
of softmax(z): squared error pulls z, not softmax(z), towards the one-hot targets, so a linear
head's ECE and Brier score describe a reading of z that its loss does not train.
"""

from __future__ import annotations

import torch

from . import heads

BINS = 15  # Guo et al.'s M


def probabilities(z: torch.Tensor, head: str) -> torch.Tensor:
    """Per-class probabilities p of the output pre-activation z (..., N, K): (..., N, K), or
    (..., N, 2) for a single sigmoid unit. Softmax written out (:func:`heads.shifted_exp`)."""
    if head == "sigmoid":
        a = torch.sigmoid(z)
        return torch.cat([1 - a, a], dim=-1) if z.shape[-1] == 1 else a
    if head in ("softmax", "linear"):
        _, e = heads.shifted_exp(z)
        return e / e.sum(-1, keepdim=True)
    raise ValueError(f"head={head!r}; choose one of: sigmoid, softmax, linear")


def brier(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Σ_k (p_k - y_k)² per example, p (..., N, C) probabilities, y (..., N) integer labels.
    Shape (..., N); the Brier score is its mean over examples."""
    # p - one_hot(y), exactly, without building the one-hot tensor (about twice as fast)
    label = y.unsqueeze(-1)
    error = p.scatter_add(-1, label, p.new_full(label.shape, -1.0))
    return error.pow(2).sum(-1)


def expected_calibration_error(confidence: torch.Tensor, correct: torch.Tensor,
                               bins: int = BINS) -> torch.Tensor:
    """ECE of each row: confidence (..., N) in [0, 1], the top probability max_k p_k; correct
    (..., N), 1.0 where the predicted class is the label, else 0.0. Shape (...,)."""
    gap = correct.to(confidence.dtype) - confidence
    return per_bin(confidence, gap, bins).abs().sum(-1) / gap.shape[-1]


def per_bin(confidence: torch.Tensor, values: torch.Tensor, bins: int = BINS) -> torch.Tensor:
    """The sum of ``values`` (..., N) over the examples in each confidence bin m,
    ((m-1)/M, m/M] (a confidence of exactly 0 goes into the first): shape (..., bins)."""
    index = (confidence * bins).ceil().long().clamp_(1, bins) - 1
    return values.new_zeros(*values.shape[:-1], bins).scatter_add_(-1, index, values)


def reliability(z: torch.Tensor, y: torch.Tensor, head: str, bins: int = BINS) -> list[dict]:
    """Each replica's reliability diagram of output pre-activations z (R, N, K) against labels
    y (N,): per confidence bin (as :func:`expected_calibration_error` bins them) the number of
    examples, the sum of their confidences and how many are correct, as lists of ``bins``
    numbers. Sums, not means, so that seeds pool by adding (an empty bin is 0, 0, 0). A
    replica whose outputs are not finite (it diverged) gets None."""
    p = probabilities(z, head)
    confidence, predicted = p.max(-1)  # (R, N): max_k p_k and its class, predict(z)'s class
    correct = (predicted == y).to(p.dtype)
    sums = [per_bin(confidence, v, bins) for v in (torch.ones_like(confidence), confidence,
                                                    correct)]
    finite = z.isfinite().flatten(1).all(-1)
    return [{"count": [int(c) for c in sums[0][r].tolist()],
             "confidence_sum": sums[1][r].tolist(), "correct": [int(c) for c in
                                                                 sums[2][r].tolist()]}
            if finite[r] else None for r in range(z.shape[0])]
