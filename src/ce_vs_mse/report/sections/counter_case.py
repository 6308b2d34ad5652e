"""The counter-case (Hui & Belkin 2021): without a saturating output, a linear head trained with
squared error (plain, and rescaled) against softmax + cross-entropy, at a shared η and each at
its own η chosen on the validation split."""

from __future__ import annotations

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
    ref = versus[0]["reference"]
    linear = [v for v in versus if v["pair"].startswith("linear") and v["own"] is not None]
    slower = [v for v in linear if v["own"][1] > 1 and "no difference" not in v["own"][0]]
    lead = ("" if not linear else
            f"Squared error on a linear output is still slower than {ref} here, even at its "
            "own η: " if len(slower) == len(linear) else
            f"Squared error on a linear output is not slower than {ref} at its own η in "
            f"{len(linear) - len(slower)} of {len(linear)} comparisons: ")
    own = [f"{v['pair']} needed {v['own'][0]}" if v["own"] is not None else
           f"{v['pair']} had no own η ({compare.unreached(v, exp.target)})" for v in versus]
    at_shared = [f"{v['pair']}: {v['shared'][0]}" for v in versus]
    return Answer(f"{lead}at {compare.own_etas(rows)}, " + "; ".join(own)
                  + f" {ref}'s updates to {exp.target}. At the shared η = {shared:g}, "
                  + "; ".join(at_shared) + "." + compare.unbracketed(rows))
