"""The gradient each loss passes back at the output pre-activation z, drawn without runs: the
closed form against autograd, and what each passes back at a confidently wrong output, for a
sigmoid unit and a K = 10 softmax (the class count of the digits and MNIST experiments)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.lines import Line2D

from ...core import heads, losses
from .. import plots, style
from ..document import Document
from ..experiment import Experiment
from .mechanism import CLASSES, true_class_logits, wrong_label_gradient

CASES = [("softmax", "ce"), ("softmax", "mse"), ("sigmoid", "bce"), ("sigmoid", "mse"),
         ("linear", "mse")]
WRONG = -8.0  # the confident mistake the caption reads off


def autograd(z: torch.Tensor, head: str, loss: str) -> torch.Tensor:
    """∂ℓ/∂z of the true class's logit by autograd, signed, for the outputs
    :func:`.mechanism.true_class_logits` makes of z."""
    logits, y = true_class_logits(z, head)
    logits.requires_grad_(True)
    losses.per_example(loss, logits, y, head).sum().backward()
    return logits.grad[:, -1]


def draw(doc: Document, exp: Experiment | None) -> str:
    """|∂ℓ/∂z| against z for one output unit whose target is 1: closed form and autograd."""
    z = torch.linspace(WRONG, -WRONG, 401, dtype=torch.float64)
    pts = torch.linspace(-7, 7, 15, dtype=torch.float64)
    fig, ax = plt.subplots(figsize=(8, 4.6 + plots.LEGEND_INCHES))
    worst, at_wrong = 0.0, {}
    for head, loss in CASES:
        pair = f"{head}+{loss}"
        curve = wrong_label_gradient(z, head, loss)
        logits, y = true_class_logits(pts, head)
        closed = losses.grad_wrt_z(loss, head, logits, y)[:, -1]
        auto = autograd(pts, head, loss)
        worst = max(worst, float((closed - auto).abs().max()))
        at_wrong[pair] = float(curve[0])  # z = WRONG
        ax.plot(z, np.where(curve > 0, curve, np.nan), lw=1.6, **style.line(pair))
        ax.plot(pts, auto.abs(), "o", ms=3, color=style.colour(pair), label=style.TAG + pair)
    slope = heads.slope(z, "sigmoid")
    ax.plot(z, slope, color=style.NEUTRAL[1], lw=1.2, ls=":")
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 30)
    ax.set_xlabel("output pre-activation z of the true class (label 1; the output is wrong "
                  "for z < 0)")
    ax.set_ylabel("|∂ℓ/∂z| per example (log scale)")
    ax.set_title(f"What each loss passes back; the softmax has K = {CLASSES} classes, its "
                 "other logits at 0", fontsize=10)
    plots.finish(fig, [f"{h}+{ls}" for h, ls in CASES],
                 [Line2D([], [], color="0.3", marker="o", ls="", ms=3, label="autograd"),
                  Line2D([], [], color=style.NEUTRAL[1], lw=1.2, ls=":",
                         label="sigmoid slope σ′(z)")])
    doc.text("Lines: closed form (losses.grad_wrt_z); dots: autograd. Squared error through a "
             "sigmoid is the error times the slope σ′(z) (dotted), so it follows σ′ down where "
             "the unit is confidently wrong.")
    doc.figure(fig, "gradients", f"|∂ℓ/∂z| for a target of 1, log scale. At z = {WRONG:g} (a "
               "confident mistake) "
               + ", ".join(f"{p} passes back {v:.2g}" for p, v in at_wrong.items())
               + f". Closed form and autograd differ by at most {worst:.1g}.")
    sq = [v for p, v in at_wrong.items() if p in ("softmax+mse", "sigmoid+mse")]
    return (f"At z = {WRONG:g}, a confident mistake, |∂ℓ/∂z| is {min(sq):.1g} to {max(sq):.1g} for "
            f"squared error through a sigmoid or a {CLASSES}-way softmax, "
            f"{at_wrong['softmax+ce']:.2g} for cross-entropy (the whole error a - y) and "
            f"{at_wrong['linear+mse']:.2g} for squared error on a linear output (z - y); closed "
            f"forms equal autograd to {worst:.0g}.")
