"""Each loss at its own learning rate: the standard section, the sweep over η, each pair's own
η chosen on the validation split (for speed and for accuracy) with the chosen runs' numbers on
the test split, and squared error against cross-entropy at a shared η and at each one's own."""

from __future__ import annotations

import numpy as np

from .. import aggregate, compare, seeds, sweep, tuning
from ..document import Document
from ..experiment import Experiment
from ..headline import Answer
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    sweep.figure(doc, exp, "lr", "learning rate η")
    compare.own_table(doc, exp, "fair_lr_own_eta")
    shared = tuning.shared_lr(exp.table)
    speed, own = [], []
    for v in compare.versus(exp.table, exp.target, shared):
        if v["own"] is None:
            speed.append(f"{v['pair']} has no own η to compare: "
                         f"{compare.unreached(v, exp.target)}.")
            continue
        gap, held = v["own"][1], "no difference" in v["own"][0]
        lead = ("Not detectably more" if held else "Fewer" if gap < 1 else
                "Still more, but fewer than at the shared η" if gap < v["shared"][1] else
                "Still more")
        speed.append(f"{lead}: at {compare.own_etas(v['chosen'])}, {v['pair']} needed "
                     f"{v['own'][0]} {v['reference']}'s updates to {exp.target}, against "
                     f"{v['shared'][0]} at the shared η = {shared:g}."
                     + compare.unbracketed(v["chosen"] or ()))
        own.append(float(gap))
    return Answer(" ".join([*speed, _accuracy(exp)]).strip(), own=own)


def _accuracy(exp: Experiment) -> str:
    """Whether each pair, at its own η chosen for accuracy on validation, ends less accurate
    than the reference pair: the per-seed difference of final test accuracy, in words."""
    chosen = {r["pair"]: r for _, r in tuning.choose(exp.table, tuning.ACCURACY).iterrows()}
    ref = compare.reference(chosen)
    if ref is None:
        return ""
    final = aggregate.by_run(exp.table, "final test/accuracy").set_index("run")
    parts = []
    for pair, r in chosen.items():
        if pair == ref:
            continue
        d = seeds.difference(exp.table, r["run"], chosen[ref]["run"])
        held = np.isfinite(d["ci_low"]) and d["ci_low"] <= 0 <= d["ci_high"]
        ends = ("no less accurate: no difference in final test accuracy was detected" if held
                else "less accurate" if d["ci_high"] < 0 else "more accurate"
                if d["ci_low"] > 0 else "with too few seeds to tell")
        parts.append(f"At {compare.own_etas((chosen[ref], r), 'accuracy')} {pair} ends {ends} "
                     f"({100 * final.loc[r['run'], 'mean']:.1f} % against "
                     f"{100 * final.loc[chosen[ref]['run'], 'mean']:.1f} %)."
                     + compare.unbracketed((chosen[ref], r)))
    return " ".join(parts)
