"""The step-size account on deeper sigmoid networks, from the depth experiment's runs (cited,
not retrained): per depth, squared error at the shared η and at η·K against cross-entropy at
η, and the factor squared error trained with (:mod:`..scaling`)."""

from __future__ import annotations

import ast

import pandas as pd

from .. import account, scaling, tables
from ..document import Document
from ..experiment import Experiment

COLUMNS = ["hidden_layers", "comparison", "ratio_mean", "ratio_low", "ratio_high", "seeds"]


def _layers(depth: int) -> str:
    return f"{depth} hidden layer{'s' if depth > 1 else ''}"


def draw(doc: Document, exp: Experiment) -> str:
    table = exp.table.assign(depth=exp.table["hidden"].map(lambda h: len(ast.literal_eval(h))))
    found = []
    for depth, at in table.groupby("depth", sort=True):
        f = scaling.setting(at, exp.curves, _layers(depth))
        if f is not None:
            found.append({**f, "depth": depth})
    grid = ", ".join(tables.value(lr) for lr in sorted(table["lr"].unique()))
    doc.text(f"Cited from the `depth` experiment's runs ({len(table)} seeds; η = {grid}), "
             "not retrained: squared error at the shared η and at η·K against cross-entropy "
             "at η, where its grid has both.")
    if not found:
        return (f"Cited from the depth experiment's runs, not retrained: its grid (η = {grid}) "
                "has no η with η·K beside it, so the step-size account is not tested there.")
    doc.figure(scaling.mechanism_figure(scaling.factor_panels(found, exp.curves), 4),
               "lr_scaling_depth_factor", "lr_scaling_depth (the depth runs): "
               + scaling.FACTOR_CAPTION)
    doc.table(_shown(found), _numbers(found), "lr_scaling_depth",
              f"Steps to {exp.target}, squared error over cross-entropy at the shared η, per "
              "seed: geometric mean [95 % interval] over the seeds where both reached it")
    return (account.words(found, exp.target)
            + " Cited from the depth experiment's runs, not retrained.")


def _rows(found: list[dict]) -> list[tuple[int, str, dict]]:
    return [(f["depth"], f"squared error at η = {tables.value(lr)}", f[key])
            for f in found for key, lr in (("shared", f["lr"]),
                                           ("scaled", f["lr"] / f["u"]))]


def _numbers(found: list[dict]) -> pd.DataFrame:
    """tables/lr_scaling_depth.csv: one row per depth and comparison, exactly
    :data:`COLUMNS`."""
    rows = _rows(found)
    return tables.rounded_numbers(pd.DataFrame({
        "hidden_layers": [d for d, _, _ in rows], "comparison": [c for _, c, _ in rows],
        "ratio_mean": [r["mean"] for _, _, r in rows],
        "ratio_low": [r["ci_low"] for _, _, r in rows],
        "ratio_high": [r["ci_high"] for _, _, r in rows],
        "seeds": [r["n"] for _, _, r in rows]}))[COLUMNS]


def _shown(found: list[dict]) -> pd.DataFrame:
    rows = _rows(found)
    return pd.DataFrame({
        "hidden layers": [d for d, _, _ in rows],
        "comparison (over cross-entropy at η = "
        f"{tables.value(found[0]['lr'])})": [c for _, c, _ in rows],
        "steps ratio": [scaling.short(r)
                        for _, _, r in rows],
        "seeds": [f"both reached {r['n']}/{r['seeds']}" for _, _, r in rows]})
