"""Squared error against cross-entropy, seed by seed, at a shared η and at each loss's own η
(chosen on the validation split, :mod:`.tuning`), in words a reviewer accepts.

A ratio (one run's steps to the target over another's, per seed, on the test split) is a
geometric mean with its interval; an interval that holds 1 (a difference's, 0) reads "no
difference detected at n = 5", never "as fast" or "caught up". A comparison at an η chosen at
its grid's edge gives its number, and says the optimum was not bracketed instead of naming a
winner from it. The fair_lr, counter_case and depth sections word their answers from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import losses
from . import aggregate, headline, seeds, style, tables, tuning
from .tables import cell

NO_WINNER = "so no winner is named at each loss's own η"


def interval_note(stats: dict, null: float = 1.0, seeds: int | None = None) -> str:
    """``, no difference detected at n = 5`` when the interval holds ``null`` (1 for a
    ratio, 0 for a difference), `` (n = 2: too few for an interval)``, or ""; with
    ``seeds``, the run's seeds, how many of them the numbers stand on where fewer."""
    n = int(stats["n"])
    of = f" of {int(seeds)} seeds" if seeds and n < seeds else ""
    if n and not np.isfinite(stats["ci_low"]):
        return f" (n = {n}{of}: too few for an interval)"
    if n and stats["ci_low"] <= null <= stats["ci_high"]:
        return f", no difference detected at n = {n}{of}"
    return f" (n = {n}{of})" if of else ""


def ratio_words(stats: dict, seeds: int | None = None) -> str:
    """``×1.9 [1.7, 2.1]``, with :func:`interval_note`."""
    return f"×{cell(stats)}{interval_note(stats, 1.0, seeds)}"


def plain(stats: dict) -> str:
    """A ratio in prose, its interval left to the tables: ``1.6×``, ``1.0× (no difference
    detected)``, ``2.1× (too few seeds for an interval)``."""
    if not stats["n"] or not np.isfinite(stats["mean"]):
        return "no ratio (no seed where both reached it)"
    text = f"{headline.rough(stats['mean'])}×"
    if not np.isfinite(stats["ci_low"]):
        return text + " (too few seeds for an interval)"
    return text + (" (no difference detected)" if stats["ci_low"] <= 1 <= stats["ci_high"]
                   else "")


def shared_condition(table: pd.DataFrame) -> str:
    """``At a shared η = 0.5`` (or, over several, that each comparison shares one): the
    condition of a section that trains both losses at the same η, named in its answer."""
    lrs = sorted(table["lr"].unique())
    return (f"At a shared η = {lrs[0]:g}" if len(lrs) == 1 else
            "Each comparison at one η that both losses share")


def steps_ratio(table: pd.DataFrame, slow: pd.Series, fast: pd.Series,
                target: str) -> tuple[str, float]:
    """Run ``slow``'s steps to the target over run ``fast``'s, per seed on the test split (rows
    with ``run`` and ``pair``): the words (:func:`plain`) and the gap, the geometric mean
    ratio (inf where only ``fast``'s seeds reached the target, 0 where only ``slow``'s did,
    NaN where neither did)."""
    r = seeds.ratio(table, slow["run"], fast["run"])
    if r["n"]:
        return plain(r), r["mean"]
    (n_slow, slow_fate), (n_fast, fast_fate) = (_fate(table[table["run"] == side["run"]])
                                                  for side in (slow, fast))
    if n_fast and not n_slow:
        return f"only {fast['pair']} reached {target} ({slow['pair']} {slow_fate})", np.inf
    if n_slow and not n_fast:
        return f"only {slow['pair']} reached {target} ({fast['pair']} {fast_fate})", 0.0
    return f"neither reached {target}", np.nan


def _fate(seeds_of_run: pd.DataFrame) -> tuple[int, str]:
    """How many seeds of one run reached the target, and ``diverged 5/5`` or ``reached 0/5``."""
    total, diverged = len(seeds_of_run), int((seeds_of_run["status"] == "diverged").sum())
    reached = int(seeds.done(seeds_of_run)["steps_to_target"].notna().sum())
    return reached, (f"diverged {diverged}/{total}" if diverged == total
                     else f"reached {reached}/{total}")


def reference(pairs) -> str | None:
    """The pair the others are compared with: the first log-loss pair (softmax+ce before
    sigmoid+bce) in the report's order."""
    return next((p for p in style.order(pairs) if losses.LOSSES[style.loss(p)].log_loss), None)


def versus(table: pd.DataFrame, target: str, shared: float) -> list[dict]:
    """Each pair of ``table`` (one setting, every η) against :func:`reference`: steps to the
    target per seed at the ``shared`` η and at each one's own η, chosen on validation for speed
    (:data:`.tuning.SPEED`). One dict per other pair: ``pair``, ``reference``, ``shared`` and
    ``own`` (words, gap), ``chosen`` (the two rows of :func:`.tuning.choose`, each saying
    whether its η is bracketed); ``own`` and ``chosen`` are None when one of them reached the
    target on validation at no η, and ``unreached`` names which."""
    ref = reference(table["pair"])
    runs = table.drop_duplicates("run")
    at = {r["pair"]: r for _, r in runs[np.isclose(runs["lr"], shared)].iterrows()}
    own = {r["pair"]: r for _, r in tuning.choose(table, tuning.SPEED).iterrows()}
    out = []
    for pair in style.order(table["pair"]):
        if pair == ref:
            continue
        row = {"pair": pair, "reference": ref, "own": None, "chosen": None,
               "unreached": [p for p in (ref, pair) if p not in own],
               "shared": (steps_ratio(table, at[pair], at[ref], target)
                          if {pair, ref} <= set(at) else ("not trained at it", np.nan))}
        if {pair, ref} <= set(own):
            row.update(own=steps_ratio(table, own[pair], own[ref], target),
                       chosen=(own[ref], own[pair]))
        out.append(row)
    return out


def own_words(v: dict, target: str, etas: bool = False) -> str:
    """A :func:`versus` comparison's ratio at each one's own η: ``×1.9 [1.7, 2.1]`` (with
    ``etas``, followed by `` at`` :func:`own_etas`), or why there is none."""
    if v["chosen"] is None:
        return f"no own η: {unreached(v, target)}"
    return v["own"][0] + (f" at {own_etas(v['chosen'])}" if etas else "")


def unreached(v: dict, target: str) -> str:
    """``softmax+mse reached 90 % on validation at no η of the grid`` for a :func:`versus`
    comparison without an own η."""
    return f"{' and '.join(v['unreached'])} reached {target} on validation at no η of the grid"


def chosen(comparisons: list[dict]) -> list[pd.Series]:
    """The runs chosen on validation in :func:`versus` comparisons, one per pair."""
    rows = {r["pair"]: r for v in comparisons for r in v["chosen"] or ()}
    return [rows[p] for p in style.order(rows)]


def own_etas(rows, criterion: str = "") -> str:
    """``each loss's own η, chosen on validation (softmax+ce 5, softmax+mse 10)`` of the runs
    :func:`.tuning.choose` chose (for ``criterion``, e.g. "accuracy", when named)."""
    return ("each loss's own η, chosen on validation" + (f" for {criterion}" if criterion else "")
            + " (" + ", ".join(f"{r['pair']} {r['lr']:g}" for r in rows) + ")")


def unbracketed(rows) -> str:
    """`` Not bracketed: softmax+mse's η = 10 is the grid's largest, so no winner is named at
    each loss's own η.`` for chosen runs at their grid's edge, or ""."""
    edges = [f"{r['pair']}'s η = {r['lr']:g} is the grid's {tuning.edge(r)}"
             for r in rows if tuning.edge(r)]
    return f" Not bracketed: {' and '.join(edges)}, {NO_WINNER}." if edges else ""


def own_table(doc, exp, name: str) -> None:
    """Each pair at its own η, chosen on validation for speed (fewest updates to the target
    on the validation split) and for accuracy (highest final validation accuracy), with the
    chosen runs' numbers on the test split."""
    steps = aggregate.by_run(exp.table, "steps_to_target").set_index("run")
    final = aggregate.by_run(exp.table, "final test/accuracy").set_index("run")
    rows = []
    for criterion, what in ((tuning.SPEED, f"fewest updates to {exp.target}"),
                            (tuning.ACCURACY, "highest final accuracy")):
        chosen = tuning.choose(exp.table, criterion)
        for i in style.ranks(chosen["pair"]):
            r = chosen.iloc[i]
            rows.append({"pair": r["pair"], "chosen for": what, "criterion": criterion,
                         "lr": r["lr"], "bracketed": r["bracketed"], "val": r,
                         "steps": steps.loc[r["run"]], "final": final.loc[r["run"]]})
    df = pd.DataFrame(rows)
    shown = pd.DataFrame({
        "pair": df["pair"], "chosen on validation for": df["chosen for"],
        "own η": [tuning.describe(r["val"]) for r in rows],
        "on validation": [cell(r["val"], steps=r["criterion"] == tuning.SPEED) for r in rows],
        f"test: steps to {exp.target}": [cell(s, steps=True) for s in df["steps"]],
        "test: final accuracy": [cell(f) for f in df["final"]],
        "seeds": [tables.seeds(s, "reached") for s in df["steps"]]})
    numbers = pd.DataFrame({
        "pair": df["pair"], "criterion": df["chosen for"], "lr": df["lr"],
        "bracketed": df["bracketed"],
        **{f"{key}_{stat}": [s[stat] for s in df[key]] for key in ("val", "steps", "final")
           for stat in ("mean", "ci_low", "ci_high")}})
    doc.table(shown, tables.rounded_numbers(numbers), name,
              "Each loss at its own η, chosen on the validation split (never the test split), "
              "for speed and for accuracy, and the chosen runs on the test split: steps as "
              "geometric mean [95 % interval] over the seeds that reached the target, accuracy "
              "as mean [95 % interval]; an η at the grid's edge was not bracketed")
