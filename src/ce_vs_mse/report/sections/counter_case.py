"""The counter-case (Hui & Belkin 2021): without a saturating output, a linear head trained with
squared error (plain, and rescaled) against softmax + cross-entropy, at a shared η and each at
its own η chosen on the validation split."""

from __future__ import annotations

import numpy as np

from .. import compare, tuning
from ..document import Document
from ..experiment import Experiment
from ..headline import Answer
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    compare.own_table(doc, exp, "counter_case_own_eta")
    shared = tuning.shared_lr(exp.table)
    versus = compare.versus(exp.table, exp.target, shared)
    if not versus:
        return Answer("No pairs to compare.")
    rows = compare.chosen(versus)
    own = [v for v in versus if v["own"] is not None and np.isfinite(v["own"][1])]
    lead = ""
    if own:
        best = min(own, key=lambda v: v["own"][1])
        lead = ("Without a saturating output squared error is "
                + ("no slower" if best["own"][1] <= 1 or "no difference" in best["own"][0]
                   else "still slower")
                + f" than {versus[0]['reference']} here at its own η: ")
    ref = versus[0]["reference"]
    parts = [(f"{v['pair']} needed {v['own'][0]} {ref}'s updates at its own η"
              if v["own"] is not None else f"{v['pair']} had no own η "
              f"({compare.unreached(v, exp.target)})")
             + f" and, at the shared η = {shared:g}, {v['shared'][0]}" for v in versus]
    return Answer(lead + "; ".join(parts) + f" (own η: {compare.own_etas(rows)})."
                  + compare.unbracketed(rows))
