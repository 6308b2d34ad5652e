"""Each loss at its own learning rate: the standard section, the sweep over η, each pair's own
η chosen on the validation split (for speed and for accuracy) with the chosen runs' numbers on
the test split, and squared error against cross-entropy at a shared η and at each one's own."""

from __future__ import annotations

from .. import aggregate, compare, seeds, sweep, tuning
from ..document import Document
from ..experiment import Experiment
from ..tables import cell
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    sweep.figure(doc, exp, "lr", "learning rate η")
    compare.own_table(doc, exp, "fair_lr_own_eta")
    shared = tuning.shared_lr(exp.table)
    speed = [f"Steps to {exp.target} test accuracy, {v['pair']} over {v['reference']} per "
             f"seed: {v['shared'][0]} at the shared η = {shared:g}; "
             f"{compare.own_words(v, exp.target, etas=True)}."
             + compare.unbracketed(v["chosen"] or ())
             for v in compare.versus(exp.table, exp.target, shared)]
    return " ".join([*speed, _accuracy(exp)]).strip()


def _accuracy(exp: Experiment) -> str:
    """Final test accuracy of each pair at its own η chosen for accuracy on validation, and
    its per-seed difference from the reference pair's."""
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
        rows = (chosen[ref], r)
        parts.append(f"Final test accuracy at {compare.own_etas(rows, 'accuracy')}: {pair} "
                     f"{cell(final.loc[r['run']])} against {ref} "
                     f"{cell(final.loc[chosen[ref]['run']])}, a difference per seed of "
                     f"{cell(d)}{compare.interval_note(d, 0.0)}." + compare.unbracketed(rows))
    return " ".join(parts)
