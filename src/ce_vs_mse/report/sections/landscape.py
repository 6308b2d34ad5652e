"""The loss landscape (Glorot & Bengio 2010 §4.1), drawn without runs: the training loss of
``experiments/landscape.yaml``'s initial network over one first-layer and one output weight,
and how much of that slice is flat, for squared error and for cross-entropy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ...config.tree import compose
from ..document import Document, number, percent
from ..experiment import Experiment
from . import standard

RELATIVE = 1e-3  # flat: a gradient norm below this share of the surface's range, per unit weight
SHARE = f"{RELATIVE * 100:g} %"  # as the text writes it
PANELS = {"mse": "Squared error ½Σ(p − y)², softmax output",
          "ce": "Cross-entropy (nats), softmax output"}


def draw(doc: Document, exp: Experiment | None) -> str:
    # here, not above: it imports the datasets and with them scikit-learn and scipy.stats,
    # 2.5 CPU-s that only this section needs
    from ...core import landscape

    cfg = compose("experiment=landscape")
    grid = np.linspace(-8, 8, 41)
    surf = landscape.loss_slice(cfg, grid)
    # one colour scale for both: the loss above its minimum on the slice, so that a flat
    # surface looks flat beside a steep one
    top = max(float(s.max() - s.min()) for s in surf.values())
    levels = MaxNLocator(30).tick_values(0, top)
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.6), width_ratios=(1, 1, 0.05))
    rows = []
    for ax, (loss, title) in zip(axes[:2], PANELS.items(), strict=True):
        s = surf[loss]
        c = ax.contourf(grid, grid, s - s.min(), levels=levels, cmap="viridis")
        ax.set_xlabel("output weight (hidden unit 0 → class 0)")
        ax.set_title(f"{title}\n(its range on the slice: {number(float(s.max() - s.min()))})",
                     fontsize=10)
        flat = landscape.flatness(s, grid, RELATIVE * float(s.max() - s.min()))
        share = flat.pop(next(k for k in flat if k.startswith("share")))
        rows.append({"pair": f"softmax+{loss}", **flat, "range": float(s.max() - s.min()),
                     FLAT: share})
    axes[0].set_ylabel("first-layer weight (pixel 28 → hidden unit 0)")
    axes[1].tick_params(labelleft=False)
    fig.colorbar(c, cax=axes[2], label="loss above its minimum on the slice\n(one scale for both)")
    fig.tight_layout()
    df = pd.DataFrame(rows)
    share = dict(zip(df["pair"], df[FLAT], strict=True))
    median = dict(zip(df["pair"], df["median gradient norm"], strict=True))
    sizes = "-".join(str(h) for h in cfg.model.hidden)
    doc.text(f"Glorot & Bengio (2010) §4.1: the training loss of the {cfg.dataset.name} "
             f"{cfg.model.name} (hidden {sizes}, {cfg.model.activation}; seed-{cfg.seeds[0]} "
             "initial weights) over one first-layer and one output weight, all other weights "
             "fixed; computed from `experiments/landscape.yaml`, no training. A point is flat "
             f"where the gradient norm is below {SHARE} of that surface's own range per unit "
             "weight, so that the two losses' different scales do not decide it.")
    doc.figure(fig, "landscape", "Training loss over a 2-D slice of weight space, as the loss "
               "above its minimum on the slice, on one colour scale for both losses. The "
               f"gradient norm is below {SHARE} of the surface's range on "
               f"{percent(share['softmax+mse'])} of the slice for squared error and "
               f"{percent(share['softmax+ce'])} for cross-entropy.")
    doc.table(df.assign(**{c: df[c].map(number) for c in df.columns[1:]}),
              df.assign(**{c: df[c].map(lambda x: float(number(x))) for c in df.columns[1:]}),
              "landscape", "Flatness of the two slices (gradient of the mean loss with "
              "respect to the two weights)")
    if exp is not None:  # `ce-vs-mse experiment=landscape` trained it too
        standard.draw(doc, exp)
    flatter = share["softmax+mse"] > share["softmax+ce"]
    verdict = f"Squared error's surface is {'' if flatter else 'not '}the flatter"
    return (f"{verdict}: relative to each surface's own range, the gradient norm is below "
            f"{SHARE} of it on {percent(share['softmax+mse'])} of the slice for squared error, "
            f"{percent(share['softmax+ce'])} for cross-entropy; in absolute terms the median "
            f"gradient norm is {number(median['softmax+mse'])} against "
            f"{number(median['softmax+ce'])}.")


FLAT = f"share with gradient norm < {SHARE} of its range"
