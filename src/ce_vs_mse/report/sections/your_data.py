"""Your own data (experiments/your_data.yaml, docs/your-data.md): cross-entropy against squared
error on a file of yours, each at its own η chosen on the validation split (the fair_lr
comparison, from :mod:`..compare` and :mod:`..tuning`) and at a shared η. One page per file:
its heading is the verdict on speed (updates to the target on the test split, per seed, at
each loss's own η), then final test accuracy and calibration (ECE) of each loss at its own η
chosen for accuracy, and the mechanism factor squared error trained with
(:func:`..scaling.factor`: a smaller step, or saturation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import aggregate, compare, plots, scaling, seeds, style, sweep, tables, tuning
from ..document import Document, number
from ..experiment import Experiment
from ..tables import cell, value

HOW = ("`ce-vs-mse -m experiment=your_data dataset.path=<your .csv, .parquet or .npz file> "
       "dataset.label=<its label column>`, then `ce-vs-mse-report --experiments your_data` "
       "(docs/your-data.md)")
ECE = "final test/ece"


def draw(doc: Document, exp: Experiment | None) -> str:
    if exp is None:
        doc.text(f"No runs of your own data here. To answer the question on a file of yours: "
                 f"{HOW}.")
        return f"not run on a file of yours yet: {HOW}."
    table = exp.table
    # one page per file (and per any other setting besides η), never two files mixed
    others = [c for c in aggregate.varying(table) if c != "lr"]
    groups = table.groupby(others, sort=True, dropna=False) if others else [((), table)]
    answers = []
    for key, at in groups:
        where = tables.label(dict(zip(others, np.atleast_1d(key), strict=True)),
                             [c for c in others if c != "data_sha256"])
        runs = set(at["run"])
        part = Experiment(exp.name, at, exp.curves[exp.curves["run"].isin(runs)])
        answers.append(_page(doc, part, where, len(answers)))
    return " ".join(answers)


def data_name(table: pd.DataFrame) -> str:
    """The file the runs read, as their folders name it (its stem, store/layout.py), and the
    start of its SHA-256: ``wine (sha256 4379f85d77…)``."""
    run = table["run"].iloc[0]
    stem = run.split("/")[1].rsplit("-", 1)[0]
    sha = table["data_sha256"].iloc[0] if "data_sha256" in table else None
    return f"{stem} (sha256 {sha[:10]}…)" if isinstance(sha, str) else stem


def verdict(table: pd.DataFrame, target: str, shared: float) -> dict:
    """The speed verdict of squared error against cross-entropy (:func:`.compare.versus`), each
    at its own η chosen on validation: ``kind`` (``ce faster``, ``squared faster``, ``no
    difference``, ``too few``, ``unbracketed``, ``unreached``, ``neither``), ``ratio`` (the
    per-seed ratio of squared error's steps over cross-entropy's, :func:`.seeds.ratio`) and
    the comparison ``v`` itself; None without both losses."""
    v = next((c for c in compare.versus(table, target, shared)
              if style.loss(c["pair"]) == aggregate.SQUARED), None)
    if v is None:
        return None
    if v["chosen"] is None:
        return {"kind": "unreached", "v": v, "ratio": None}
    ce, sq = v["chosen"]
    r = seeds.ratio(table, sq["run"], ce["run"])
    if tuning.edge(ce) or tuning.edge(sq):
        kind = "unbracketed"
    elif not r["n"]:
        gap = v["own"][1]
        kind = ("ce faster" if gap == np.inf else "squared faster" if gap == 0 else "neither")
    elif r["n"] < aggregate.MIN_SEEDS or not np.isfinite(r["ci_low"]):
        kind = "too few"
    else:
        kind = ("ce faster" if r["ci_low"] > 1 else "squared faster" if r["ci_high"] < 1
                else "no difference")
    return {"kind": kind, "v": v, "ratio": r}


def title(found: dict, name: str, target: str) -> str:
    """The page's heading: its verdict on speed, in words that say no more than it does."""
    kind, v = found["kind"], found["v"]
    own = "each at its own η chosen on validation"
    if kind in ("ce faster", "squared faster"):
        fast, slow = ("cross-entropy", "squared error")[:: 1 if kind == "ce faster" else -1]
        return (f"On {name}, {fast} reaches {target} test accuracy in fewer updates than "
                f"{slow}, {own}")
    if kind == "no difference":
        return (f"On {name}, no difference was detected in the updates cross-entropy and "
                f"squared error need to reach {target} test accuracy, {own} "
                f"(n = {found['ratio']['n']})")
    if kind == "unbracketed":
        return (f"On {name}, the η grid did not bracket each loss's best η: no winner on "
                f"speed is named")
    if kind == "unreached":
        return (f"On {name}, no verdict on speed: {compare.unreached(v, target)} (a lower "
                f"trainer.target_accuracy asks what both reach)")
    if kind == "neither":
        return f"On {name}, neither loss reached {target} test accuracy at its own η"
    return (f"On {name}, too few seeds reached {target} test accuracy under both losses for "
            f"a verdict on speed")


def _page(doc: Document, exp: Experiment, where: str, index: int) -> str:
    table, target = exp.table, exp.target
    name = data_name(table) + (f", {where}" if where else "")
    if not tuning.has_validation(table):
        doc.text(f"The runs of {name} have no validation split to choose each loss's η on; "
                 f"run them as {HOW} (dataset.val_fraction=0.2).")
        return f"{name}: no validation split to choose η on."
    shared = tuning.shared_lr(table)
    found = verdict(table, target, shared)
    if found is None:
        doc.text(f"The runs of {name} do not train both cross-entropy and squared error.")
        return f"{name}: not both losses."
    heading = title(found, name, target)
    v = found["v"]
    speed = (f"Steps to {target} test accuracy, {v['pair']} over {v['reference']} per seed: "
             f"{compare.own_words(v, target, etas=True)}; at the shared η = {shared:g}, "
             f"{v['shared'][0]}." + compare.unbracketed(v["chosen"] or ()))
    accuracy, ece = _accuracy_and_ece(table, v["pair"], v["reference"])
    factor = _factor(exp, v, shared)
    doc.text(f"### {heading}", "",
             f"{table['run'].nunique()} configurations, {len(table)} seeds"
             + (f" ({exp.lost()})" if exp.lost() else "") + f" on {name}: {n_classes(table)}. "
             "Each loss's η is chosen on the validation split (never the test split); the "
             "numbers are on the test split, with 95 % intervals over seeds.", "",
             " ".join(t for t in (speed, accuracy, ece, factor) if t))
    suffix = f"_{index + 1}" if index else ""
    compare.own_table(doc, exp, f"{exp.name}{suffix}_own_eta")
    sweep.figure(doc, Experiment(f"{exp.name}{suffix}", table, exp.curves), "lr",
                 "learning rate η")
    return f"{heading}. " + " ".join(t for t in (speed, accuracy, ece, factor) if t)


def n_classes(table: pd.DataFrame) -> str:
    """``3 classes``, read from a softmax run's uniform-output ratio u = 1/K."""
    u = scaling.uniform(table[table["head"] == "softmax"])
    return f"{round(1 / u)} classes" if np.isfinite(u) and u > 0 else "its classes"


def _chosen_for_accuracy(table: pd.DataFrame, pair: str, reference: str):
    chosen = {r["pair"]: r for _, r in tuning.choose(table, tuning.ACCURACY).iterrows()}
    return (chosen.get(pair), chosen.get(reference))


def _accuracy_and_ece(table: pd.DataFrame, pair: str, reference: str) -> tuple[str, str]:
    """Final test accuracy and test ECE of each loss at its own η chosen for accuracy on
    validation, and the per-seed difference, squared error minus cross-entropy."""
    sq, ce = _chosen_for_accuracy(table, pair, reference)
    if sq is None or ce is None:
        return "", ""
    rows = (ce, sq)
    at = compare.own_etas(rows, "accuracy")
    d = seeds.difference(table, sq["run"], ce["run"])
    final = aggregate.by_run(table, "final test/accuracy").set_index("run")
    accuracy = (f"Final test accuracy at {at}: {pair} {cell(final.loc[sq['run']])} against "
                f"{reference} {cell(final.loc[ce['run']])}, "
                f"{_difference(d, 'accuracy', 'more accurate', 'less accurate')}."
                + compare.unbracketed(rows))
    if ECE not in table or table[ECE].isna().all():
        return accuracy, "These runs logged no calibration (trained before ECE was logged)."
    e = aggregate.by_run(table, ECE).set_index("run")
    de = seeds.difference(table, sq["run"], ce["run"], ECE)
    ece = (f"Test ECE (15 bins; lower is better calibrated) of the same runs: {pair} "
           f"{cell(e.loc[sq['run']])} against {reference} {cell(e.loc[ce['run']])}, "
           f"{_difference(de, 'ECE', 'worse calibrated', 'better calibrated')}.")
    return accuracy, ece


def _difference(d: dict, what: str, above: str, below: str) -> str:
    """A per-seed difference (squared error minus cross-entropy) in words: ``squared error
    ends more accurate by 0.012 [0.004, 0.020] per seed`` only where its interval excludes 0."""
    stats = f"{cell(d)} per seed"
    if not d["n"]:
        return f"no seed where both finished to compare {what} on"
    if d["n"] < aggregate.MIN_SEEDS or not np.isfinite(d["ci_low"]):
        return f"a difference of {stats} (n = {int(d['n'])}: too few for an interval)"
    if d["ci_low"] > 0:
        return f"squared error {above}: a difference of {stats}"
    if d["ci_high"] < 0:
        return f"squared error {below}: a difference of {stats}"
    return f"a difference of {stats}{compare.interval_note(d, 0.0)}"


def _factor(exp: Experiment, v: dict, shared: float) -> str:
    """What squared error's gradient at z, over cross-entropy's, shows about why it is slower
    or not (SCIENCE.md, "Two effects, not one"): at its own η chosen for speed (else the
    shared η), the factor over its uniform value u, and its η times u (its effective η)
    against cross-entropy's own."""
    table = exp.table
    sq_rows = table[table["pair"] == v["pair"]]
    u = scaling.uniform(sq_rows)
    if not np.isfinite(u):
        return ""
    if v["chosen"] is not None:
        ce, sq = v["chosen"]
        run, lr, how = sq["run"], sq["lr"], "its own η"
    else:
        ce = None
        run = scaling.run_at(table, v["pair"], shared)
        lr, how = shared, "the shared η"
    mean, q10 = scaling.factor(table, exp.curves, run)
    text = (f"Why: at {how} = {value(lr)}, {scaling.factor_text(mean, q10, plots.fraction(u))}"
            if run is not None else "")
    if ce is not None and text and np.isfinite(mean) and not scaling.saturated(q10):
        text += (f"; near u, squared error at η trains like cross-entropy at u·η, so its own η "
                 f"= {value(lr)} is an effective η of {number(lr * u)} against cross-entropy's "
                 f"{value(ce['lr'])}")
    return f"{text}." if text else ""
