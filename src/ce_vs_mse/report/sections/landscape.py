"""The loss landscape (Glorot & Bengio 2010 §4.1), drawn without runs: the training loss of
``experiments/landscape.yaml``'s initial network over one first-layer and one output weight,
and how much of that slice is flat, for squared error and for cross-entropy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...config.tree import compose
from ..document import Document, number, percent
from ..experiment import Experiment
from . import standard


def draw(doc: Document, exp: Experiment | None) -> str:
    # here, not above: it imports the datasets and with them scikit-learn and scipy.stats,
    # 2.5 CPU-s that only this section needs
    from ...core import landscape

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
        standard.draw(doc, exp)
    flatter = share["softmax+mse"] > share["softmax+ce"]
    verdict = f"Squared error's surface is {'' if flatter else 'not '}the flatter"
    return (f"{verdict}: the gradient norm is below 1e-3 on {percent(share['softmax+mse'])} of the "
            f"slice for squared error, {percent(share['softmax+ce'])} for cross-entropy.")
