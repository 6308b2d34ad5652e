"""Sections drawn without runs: the loss landscape (Glorot & Bengio 2010), the gradient each
loss passes back at z, and the lecture's information-theory numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.lines import Line2D

from ..config.tree import compose
from ..core import information, losses
from . import plots, style
from .document import Document, number, percent
from .experiment import Experiment, standard


def landscape_section(doc: Document, exp: Experiment | None) -> str:
    # here, not above: it imports the datasets and with them scikit-learn and scipy.stats,
    # 2.5 CPU-s that only this section needs
    from ..core import landscape

    cfg = compose("experiment=landscape")
    grid = np.linspace(-8, 8, 41)
    surf = landscape.loss_slice(cfg, grid)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    rows = []
    for ax, (loss, label) in zip(axes, (("mse", "squared error ½Σ(p-y)²"),
                                        ("ce", "cross-entropy (nats)")), strict=True):
        c = ax.contourf(grid, grid, surf[loss], levels=30, cmap="viridis")
        fig.colorbar(c, ax=ax, label=label)
        ax.set_xlabel("output weight (hidden unit 0 → class 0)")
        ax.set_ylabel("first-layer weight (pixel 28 → hidden unit 0)")
        ax.set_title(f"softmax+{loss}")
        rows.append({"pair": f"softmax+{loss}", **landscape.flatness(surf[loss], grid)})
    fig.tight_layout()
    df = pd.DataFrame(rows)
    flat = df.columns[-1]
    share = dict(zip(df["pair"], df[flat], strict=True))
    sizes = "-".join(str(h) for h in cfg.model.hidden)
    doc.text(f"Glorot & Bengio (2010) §4.1: the training loss of the {cfg.dataset.name} "
             f"{cfg.model.name} (hidden {sizes}, {cfg.model.activation}; seed-{cfg.seeds[0]} "
             "initial weights) over one first-layer and one output weight, all other weights "
             "fixed; computed from `experiments/landscape.yaml`, no training.")
    doc.figure(fig, "landscape", "Training loss over a 2-D slice of weight space. The "
               f"gradient norm is below 1e-3 on {percent(share['softmax+mse'])} of the slice for "
               f"squared error and {percent(share['softmax+ce'])} for cross-entropy.")
    doc.table(df.assign(**{c: df[c].map(number) for c in df.columns[1:]}),
              df.assign(**{c: df[c].map(lambda x: float(number(x))) for c in df.columns[1:]}),
              "landscape", "Flatness of the two slices (gradient of the mean loss with "
              "respect to the two weights)")
    if exp is not None:  # `ce-vs-mse experiment=landscape` trained it too
        standard(doc, exp)
    verdict = "Yes" if share["softmax+mse"] > share["softmax+ce"] else "No"
    return (f"{verdict}: the gradient norm is below 1e-3 on {percent(share['softmax+mse'])} of the "
            f"slice for squared error, {percent(share['softmax+ce'])} for cross-entropy.")


def _true_class_logits(z: torch.Tensor, head: str) -> torch.Tensor:
    """Outputs whose true-class (last) logit is z: one sigmoid unit, or two classes whose
    other logit stays at 0."""
    z = z.reshape(-1, 1)
    return z if head == "sigmoid" else torch.cat([torch.zeros_like(z), z], dim=1)


def gradients(doc: Document, exp: Experiment | None) -> str:
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


def information_section(doc: Document, exp: Experiment | None) -> str:
    y_hat = np.linspace(0.001, 0.999, 500)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for y, colour in zip((1, 0), style.NEUTRAL, strict=True):
        ax.plot(y_hat, information.binary_cross_entropy(y, y_hat).numpy(), color=colour,
                label=f"y = {y}")
    worked = {q: float(information.binary_cross_entropy(1, q)) for q in (0.6, 0.9, 0.3)}
    for q, v in worked.items():
        ax.plot(q, v, "ko", ms=4)
        ax.annotate(f"{v:.3f}", (q, 0.1 + v), fontsize=8)
    ax.set_xlabel("prediction ŷ = σ(z)")
    ax.set_ylabel("binary cross-entropy (bits)")
    ax.legend()
    fig.tight_layout()
    h = float(information.entropy([0.6, 0.4]))
    numbers = ", ".join(f"{v:.3f}" for v in worked.values())
    doc.text(f"H(0.6, 0.4) = {h:.3f} "
             "bits; cross-entropy of a true label with ŷ = 0.6, 0.9, 0.3 is "
             f"{numbers} bits (× ln 2 for nats).")
    doc.figure(fig, "bce", "Binary cross-entropy in bits against the prediction ŷ, for a true "
               "(y = 1) and a false (y = 0) label; dots: the lecture's worked values.")
    return f"H(0.6, 0.4) = {h:.3f} bits; a true label predicted 0.6, 0.9, 0.3 costs {numbers} bits."
