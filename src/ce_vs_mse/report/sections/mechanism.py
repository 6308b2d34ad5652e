"""The mechanism in one figure, drawn without runs: (a) the sigmoid and its slope σ'(z), flat
in the tails; (b) what each loss passes back at z for a wrong label, |∂ℓ/∂z| = error × slope
for squared error through a squashing output; (c) Nielsen's bad-start neuron, trained here by
full-batch gradient descent on those same closed forms, stalling with squared error.

Every curve comes from :func:`ce_vs_mse.core.losses.grad_wrt_z` (tests/report/test_mechanism.py
holds them to autograd, and the neuron to the neuron experiment's own runs)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from ...core import heads, losses
from .. import plots, style
from ..document import Document
from ..experiment import Experiment

SATURATED = 0.01  # σ'(z) below this: a saturated unit (heads.slope)
CLASSES = 10  # the softmax's K, as in the digits and MNIST experiments
WRONG = -8.0  # the confidently wrong z the caption and the answer read off
# Nielsen's neuron (experiments/neuron.yaml): input x = 1, target 0, bad start w = b = 2
# (output σ(4) ≈ 0.98), η = 0.15 for both costs, 300 epochs of full-batch gradient descent
NEURON = {"x": 1.0, "target": 0, "w": 2.0, "b": 2.0, "lr": 0.15, "epochs": 300}
# the curves of panel (b): (head, loss) -> words
CURVES = {("sigmoid", "bce"): "cross-entropy, sigmoid or softmax: the error |a − y|",
          ("softmax", "ce"): f"cross-entropy, softmax K = {CLASSES}: |p − y|",
          ("sigmoid", "mse"): "squared error, sigmoid: error × slope",
          ("softmax", "mse"): f"squared error, softmax K = {CLASSES}: error × slope",
          ("linear", "mse"): "squared error, linear output: |z − y|"}


def true_class_logits(z: torch.Tensor, head: str, classes: int = CLASSES
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs (N, K) whose true-class logit is z, and their labels (N,): one sigmoid or
    linear unit with label 1; or a K-way softmax whose true class is the last, every other
    logit 0 (so z = 0 is the uniform output p = 1/K)."""
    z = torch.as_tensor(z, dtype=torch.float64).reshape(-1, 1)
    if head != "softmax":
        return z, torch.ones(len(z), dtype=torch.long)
    others = torch.zeros(len(z), classes - 1, dtype=z.dtype)
    return torch.cat([others, z], dim=1), torch.full((len(z),), classes - 1, dtype=torch.long)


def wrong_label_gradient(z, head: str, loss: str, classes: int = CLASSES) -> np.ndarray:
    """|∂ℓ/∂z| at the true class's logit z (closed form, losses.grad_wrt_z), label 1: for
    z < 0 (below ½ on a sigmoid, below 1/K on the softmax) the output is wrong."""
    logits, y = true_class_logits(z, head, classes)
    return losses.grad_wrt_z(loss, head, logits, y)[:, -1].abs().numpy()


def neuron_descent(loss: str, w: float = NEURON["w"], b: float = NEURON["b"],
                   lr: float = NEURON["lr"], epochs: int = NEURON["epochs"]) -> np.ndarray:
    """Nielsen's neuron a = σ(wx + b) (x = 1, target 0) trained by full-batch gradient
    descent with ``loss`` (``mse``: the quadratic cost ½(a − y)², ``bce``: cross-entropy):
    ∂C/∂w = (∂ℓ/∂z)·x, ∂C/∂b = ∂ℓ/∂z, from losses.grad_wrt_z. Returns its output a before
    each of ``epochs`` steps and after the last, shape (epochs + 1,)."""
    x, y = NEURON["x"], torch.tensor([NEURON["target"]])
    w_, b_ = torch.tensor(w, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    out = []
    for _ in range(epochs + 1):
        z = (w_ * x + b_).reshape(1, 1)
        out.append(float(torch.sigmoid(z)))
        g = losses.grad_wrt_z(loss, "sigmoid", z, y).squeeze()
        w_, b_ = w_ - lr * g * x, b_ - lr * g
    return np.array(out[:epochs + 1])


def below_half(a: np.ndarray) -> int | None:
    """The first epoch whose output is below ½ (a correct prediction for target 0)."""
    hit = np.nonzero(a < 0.5)[0]
    return int(hit[0]) if hit.size else None


def lecture_step(y_hat: float) -> dict[str, float]:
    """The lecture's case, label 1 predicted ŷ: the error ŷ − y that cross-entropy passes back
    at z, the slope σ'(z) = ŷ(1 − ŷ), and squared error's error × slope (closed forms)."""
    z = torch.logit(torch.tensor([[y_hat]], dtype=torch.float64))
    y = torch.ones(1, dtype=torch.long)
    return {"ŷ": y_hat, "ce": float(losses.grad_wrt_z("bce", "sigmoid", z, y)),
            "slope": float(heads.slope(z, "sigmoid")),
            "mse": float(losses.grad_wrt_z("mse", "sigmoid", z, y))}


def _saturated_spans(ax, z: np.ndarray, slope: np.ndarray) -> None:
    """Grey bands where σ'(z) < SATURATED (on the z of ``z`` given)."""
    flat = slope < SATURATED
    edges = np.flatnonzero(np.diff(np.r_[0, flat.astype(int), 0]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        ax.axvspan(z[start], z[stop - 1], color=style.NEUTRAL[1], alpha=0.15, lw=0)


def _sigmoid_panel(ax, z: np.ndarray, slope: np.ndarray) -> None:
    ax.plot(z, torch.sigmoid(torch.as_tensor(z)).numpy(), color=style.NEUTRAL[0], lw=2)
    ax.plot(z, slope, color=style.NEUTRAL[1], lw=2, ls=":")
    _saturated_spans(ax, z, slope)
    ax.annotate("σ(z)", (0.6, 0.85), fontsize=11, ha="right", color=style.NEUTRAL[0])
    ax.annotate("slope σ′(z) = σ(1 − σ)\n(at most ¼, at z = 0)", (1.6, 0.3), fontsize=11,
                color=style.NEUTRAL[1])
    edge = float(z[np.argmax(slope >= SATURATED)])
    for side, ha in ((edge, "right"), (-edge, "left")):
        ax.text(side, 0.55, f"saturated:\nσ′ < {SATURATED:g}", ha=ha, fontsize=10,
                color="0.3")
    ax.set_xlabel("pre-activation z")
    ax.set_ylabel("σ(z) and its slope σ′(z)")
    ax.set_title("(a) The sigmoid is flat in its tails", fontsize=12)


def _gradient_panel(ax, z: np.ndarray, slope: np.ndarray) -> dict[str, np.ndarray]:
    drawn = {}
    wrong = z < 0
    _saturated_spans(ax, z[wrong], slope[wrong])  # confidently wrong: the trap
    ax.text(-9.7, 3e-2, f"confidently wrong,\nsaturated: σ′ < {SATURATED:g}", fontsize=9.5,
            color="0.3")
    for head, loss in CURVES:
        pair = f"{head}+{loss}"
        g = wrong_label_gradient(z, head, loss)
        g = np.where(g > 0, g, np.nan)  # |z − y| is 0 at z = 1: no point on a log axis
        ax.plot(z, g, lw=2, **style.line(pair))
        drawn[pair] = g
    place = {"sigmoid+bce": (-9.7, 1.5), "sigmoid+mse": (-9.7, 2.5e-4),
             "softmax+mse": (-9.7, 1.3e-6), "linear+mse": (-9.7, 16)}
    for pair, at in place.items():
        ax.annotate(CURVES[style.split(pair)], at, fontsize=9.5, color=style.colour(pair))
    # the uniform point of the K-way softmax: squared error passes back 1/K of cross-entropy's
    ce, sq = (float(wrong_label_gradient([0.0], "softmax", loss)[0]) for loss in ("ce", "mse"))
    ax.plot([0, 0], [sq, ce], "k.", ms=7)
    ax.annotate(f"uniform output p = 1/{CLASSES} (z = 0): squared\nerror passes back "
                f"{sq / ce:.3g} × cross-entropy's", (0, sq), xytext=(1.2, 14), fontsize=9,
                arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 0.8})
    ax.set_yscale("log")
    ax.set_ylim(5e-7, 100)
    ax.set_xlabel("the true class's pre-activation z (label y = 1; wrong for z < 0)")
    ax.set_ylabel("|∂ℓ/∂z|, what the loss passes back")
    ax.set_title("(b) What each loss passes back (log scale)", fontsize=12)
    return drawn


def _neuron_panel(ax) -> dict[str, np.ndarray]:
    outputs = {}
    for loss, words in (("bce", "cross-entropy"), ("mse", "squared error")):
        a = neuron_descent(loss)
        pair = f"sigmoid+{loss}"
        ax.plot(np.arange(len(a)), a, lw=2.2, **style.line(pair))
        outputs[loss] = a
        at = below_half(a)
        if at is not None:
            ax.plot(at, a[at], "o", color=style.colour(pair), ms=6)
        label_at = at if at is not None else len(a) - 1
        right = label_at < len(a) / 2  # the label beside its curve, inside the panel
        ax.annotate(f"{words}\n(below ½ after {_epochs(at)})" if at is not None else words,
                    (label_at + (8 if right else -8), a[label_at] + (0.12 if right else 0.25)),
                    fontsize=10, color=style.colour(pair), ha="left" if right else "right")
    ax.axhline(0.5, **plots.REFERENCE)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("epoch (one full-batch gradient step)")
    ax.set_ylabel("output a = σ(wx + b), target 0")
    ax.set_title(f"(c) Nielsen's neuron, bad start a = {outputs['mse'][0]:.2f}, η = "
                 f"{NEURON['lr']:g}", fontsize=12)
    return outputs


def draw(doc: Document, exp: Experiment | None) -> str:
    z = np.linspace(-10, 10, 801)
    slope = heads.slope(torch.as_tensor(z), "sigmoid").numpy()
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.6))
    _sigmoid_panel(axes[0], z, slope)
    drawn = _gradient_panel(axes[1], z, slope)
    outputs = _neuron_panel(axes[2])
    plots.finish(fig, [*drawn, "sigmoid+bce", "sigmoid+mse"])
    step = lecture_step(0.6)
    at = {loss: below_half(a) for loss, a in outputs.items()}
    i8 = int(np.argmin(np.abs(z - WRONG)))
    sq8, ce8 = drawn["sigmoid+mse"][i8], drawn["sigmoid+bce"][i8]
    doc.text(
        "Squared error through a sigmoid passes back the error times the sigmoid's slope, "
        "(a − y)·σ′(z); cross-entropy passes back the error alone, a − y. Where the unit is "
        "confidently wrong the slope is nearly 0, so squared error hardly moves it; at a "
        f"uniform softmax output its slope costs a factor 1/{CLASSES} (a smaller step). "
        "Every curve is computed from the closed forms in `core/losses.py`; panel (c) trains "
        f"the neuron of `experiments/neuron.yaml` with them ({NEURON['epochs']} full-batch "
        "gradient steps), no runs needed.")
    doc.figure(fig, "mechanism",
               f"(a) σ(z) and its slope σ′(z); grey: σ′ < {SATURATED:g}, saturated. (b) |∂ℓ/∂z| "
               "for a wrong label (y = 1) against the true class's pre-activation z, log "
               f"scale; the softmax has K = {CLASSES} classes, its other logits at 0. At "
               f"z = {WRONG:g} squared error through a sigmoid passes back {sq8:.2g}, BCE "
               f"{ce8:.2g}. (c) Nielsen's neuron (x = 1, target 0, w = b = 2): its output per "
               f"epoch with each cost at η = {NEURON['lr']:g}; dot: the epoch it falls below ½ "
               "(dotted).")
    return (f"Error × slope: for label 1 at ŷ = {step['ŷ']:g}, cross-entropy passes back "
            f"{step['ce']:.3g} at z and squared error {step['ce']:.3g} × {step['slope']:.3g} = "
            f"{step['mse']:.3g}; at z = {WRONG:g} it is {sq8:.2g} against {ce8:.2g}, so Nielsen's "
            f"bad-start neuron at η = {NEURON['lr']:g} falls below ½ after {_epochs(at['bce'])} "
            f"with cross-entropy and {_epochs(at['mse'])} with squared error.")


def _epochs(at: int | None) -> str:
    return f"{at} epochs" if at is not None else f"more than {NEURON['epochs']} epochs"
