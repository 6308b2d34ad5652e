"""The lecture's information-theory numbers, drawn without runs: binary cross-entropy in bits
(and nats) against the prediction, and the lecture's worked cases as one gradient step: for
label 1 predicted ŷ, the entropies, the cross-entropy, KL = CE − H, and what cross-entropy
and squared error pass back at z."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...core import information
from .. import style
from ..document import Document, number, significant
from ..experiment import Experiment
from .mechanism import lecture_step

WORKED = (0.6, 0.9, 0.3)  # the lecture's predictions ŷ for a true label (y = 1)
LABEL = (0.0, 1.0)  # the label True as a distribution (P(False), P(True))


def worked_values(y_hats=WORKED) -> pd.DataFrame:
    """One row per prediction ŷ of a true label: H(Ŷ) of the prediction (ŷ, 1 − ŷ) and H(Y)
    of the one-hot label in bits; H(Y, Ŷ) in bits and in nats; KL(Y‖Ŷ) = H(Y, Ŷ) − H(Y) in
    bits; and at z (ŷ = σ(z)) the gradient of cross-entropy, ŷ − y, the slope σ'(z) and
    squared error's gradient, (ŷ − y)·σ'(z), per example."""
    rows = []
    for q in y_hats:
        p_hat = (1 - q, q)
        step = lecture_step(q)
        rows.append({"ŷ": q,
                     "H(Ŷ) (bits)": float(information.entropy(p_hat)),
                     "H(Y) (bits)": float(information.entropy(LABEL)) + 0.0,  # not -0
                     "cross-entropy H(Y, Ŷ) (bits)": float(information.cross_entropy(LABEL, p_hat)),
                     "cross-entropy H(Y, Ŷ) (nats)": float(information.cross_entropy(
                         LABEL, p_hat, "nats")),
                     "KL(Y‖Ŷ) (bits)": float(information.kl_divergence(LABEL, p_hat)),
                     "cross-entropy's ∂ℓ/∂z = ŷ − y": step["ce"],
                     "slope σ′(z) = ŷ(1 − ŷ)": step["slope"],
                     "squared error's ∂ℓ/∂z = (ŷ − y)·σ′(z)": step["mse"]})
    return pd.DataFrame(rows)


def draw(doc: Document, exp: Experiment | None) -> str:
    y_hat = np.linspace(0.001, 0.999, 500)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for y, colour in zip((1, 0), style.NEUTRAL, strict=True):
        ax.plot(y_hat, information.binary_cross_entropy(y, y_hat).numpy(), color=colour,
                label=f"y = {y}")
    table = worked_values()
    bits = table["cross-entropy H(Y, Ŷ) (bits)"]
    for q, v in zip(table["ŷ"], bits, strict=True):
        ax.plot(q, v, "ko", ms=4)
        ax.annotate(f"{v:.3f}", (q, 0.1 + v), fontsize=8)
    ax.set_xlabel("prediction ŷ = σ(z)")
    ax.set_ylabel("binary cross-entropy (bits)")
    nats = ax.secondary_yaxis("right", functions=(lambda b: b * math.log(2),
                                                  lambda n: n / math.log(2)))
    nats.set_ylabel("the same in nats (× ln 2)")
    ax.legend(title="label")
    fig.tight_layout()
    h = float(table["H(Ŷ) (bits)"].iloc[0])
    costs = ", ".join(f"{v:.3f}" for v in bits)
    doc.text(f"H(0.6, 0.4) = {h:.3f} bits; cross-entropy of a true label with ŷ = "
             + ", ".join(f"{q:g}" for q in WORKED) + f" is {costs} bits (× ln 2 for nats).")
    doc.figure(fig, "bce", "Binary cross-entropy in bits (left) and nats (right) against the "
               "prediction ŷ, for a true (y = 1) and a false (y = 0) label; dots: the lecture's "
               "worked values.")
    entropies, steps = table.columns[1:6], table.columns[6:]  # in bits or nats; at z
    shown = table.assign(**{c: table[c].map(lambda v: f"{v:.3f}") for c in entropies},
                         **{c: table[c].map(number) for c in steps})
    numbers = table.assign(**{c: table[c].round(3) for c in entropies},
                           **{c: table[c].map(significant) for c in steps})
    doc.table(shown, numbers, "information", "The lecture's worked values, label True (y = 1), "
              "as one gradient step: the label's entropy H(Y) is 0 (0·log 0 := 0), so "
              "KL(Y‖Ŷ) = H(Y, Ŷ) − H(Y) is the cross-entropy itself; at z, cross-entropy "
              "passes back the error ŷ − y and squared error the error × slope")
    ce, sq = table[steps[0]], table[steps[-1]]
    return (f"H(0.6, 0.4) = {h:.3f} bits; a true label predicted "
            + ", ".join(f"{q:g}" for q in WORKED) + f" costs {costs} bits (= KL, as H(Y) = 0; "
            f"× ln 2 for nats) and passes back {', '.join(f'{v:.3g}' for v in ce)} at z with "
            f"cross-entropy, {', '.join(f'{v:.3g}' for v in sq)} with squared error.")
