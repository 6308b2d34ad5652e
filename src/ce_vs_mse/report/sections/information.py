"""The lecture's information-theory numbers, drawn without runs: entropy, and binary
cross-entropy in bits against the prediction."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ...core import information
from .. import style
from ..document import Document
from ..experiment import Experiment


def draw(doc: Document, exp: Experiment | None) -> str:
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
