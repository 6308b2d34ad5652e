"""The counter-case (Hui & Belkin 2021): without a saturating output, a linear head trained with
squared error (plain, and rescaled) against softmax + cross-entropy, at a shared η and each at
its own η chosen on the validation split."""

from __future__ import annotations

from .. import compare, tuning
from ..document import Document
from ..experiment import Experiment
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    compare.own_table(doc, exp, "counter_case_own_eta")
    shared = tuning.shared_lr(exp.table)
    versus = compare.versus(exp.table, exp.target, shared)
    if not versus:
        return "no pairs to compare."
    rows = compare.chosen(versus)
    parts = [f"{v['pair']}: {v['shared'][0]}, and {compare.own_words(v, exp.target)}"
             for v in versus]
    return (f"Steps to {exp.target} test accuracy over {versus[0]['reference']}'s, per seed, at "
            f"the shared η = {shared:g} and at {compare.own_etas(rows)}: " + "; ".join(parts)
            + "." + compare.unbracketed(rows))
