"""The gradient each loss passes back at the output pre-activation z, drawn without runs: the
closed form against autograd, and what each passes back at a confidently wrong output."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.lines import Line2D

from ...core import losses
from .. import plots, style
from ..document import Document
from ..experiment import Experiment


def _true_class_logits(z: torch.Tensor, head: str) -> torch.Tensor:
    """Outputs whose true-class (last) logit is z: one sigmoid unit, or two classes whose
    other logit stays at 0."""
    z = z.reshape(-1, 1)
    return z if head == "sigmoid" else torch.cat([torch.zeros_like(z), z], dim=1)


def draw(doc: Document, exp: Experiment | None) -> str:
    """∂ℓ/∂z against z for one output unit whose target is 1: closed form and autograd."""
    z = torch.linspace(-8, 8, 401, dtype=torch.float64)
    pts = torch.linspace(-7, 7, 15, dtype=torch.float64)
    cases = [("softmax", "ce"), ("softmax", "mse"), ("sigmoid", "bce"), ("sigmoid", "mse"),
             ("linear", "mse")]
    fig, ax = plt.subplots(figsize=(7, 4 + plots.LEGEND_INCHES))
    worst, at_wrong = 0.0, {}
    for head, loss in cases:
        y = torch.ones(len(z), dtype=torch.long)
        curve = losses.grad_wrt_z(loss, head, _true_class_logits(z, head), y)[:, -1]
        zp = _true_class_logits(pts, head).requires_grad_(True)
        losses.per_example(loss, zp, torch.ones(len(pts), dtype=torch.long), head).sum().backward()
        closed = losses.grad_wrt_z(loss, head, _true_class_logits(pts, head).detach(),
                                   torch.ones(len(pts), dtype=torch.long))[:, -1]
        worst = max(worst, float((closed - zp.grad[:, -1]).abs().max()))
        pair = f"{head}+{loss}"
        at_wrong[pair] = abs(float(curve[0]))  # z = -8
        ax.plot(z, curve, lw=1.6, **style.line(pair))
        ax.plot(pts, zp.grad[:, -1].detach(), "o", ms=3, color=style.colour(pair),
                label=style.TAG + pair)
    ax.set_ylim(-1.6, 0.3)
    ax.set_xlabel("output pre-activation z of the true class")
    ax.set_ylabel("∂ℓ/∂z (per example)")
    plots.finish(fig, [f"{h}+{ls}" for h, ls in cases],
                 [Line2D([], [], color="0.3", marker="o", ls="", ms=3, label="autograd")])
    doc.text("Lines: closed form (losses.grad_wrt_z); dots: autograd.")
    doc.figure(fig, "gradients", "∂ℓ/∂z for a target of 1. At z = -8 (a confident mistake) "
               + ", ".join(f"{p} passes back {v:.2g}" for p, v in at_wrong.items())
               + " (sigmoid + BCE lies under softmax + CE: a 2-way softmax is a sigmoid). "
               f"Closed form and autograd differ by at most {worst:.1g}.")
    sq = [v for p, v in at_wrong.items() if p in ("softmax+mse", "sigmoid+mse")]
    return (f"At z = -8, a confident mistake, |∂ℓ/∂z| is {min(sq):.1g}-{max(sq):.1g} for "
            f"squared error through a sigmoid or softmax, {at_wrong['softmax+ce']:.2g} for "
            f"cross-entropy (the whole error a - y) and {at_wrong['linear+mse']:.2g} for squared "
            f"error on a linear output (z - y); closed forms equal autograd to {worst:.0g}.")
