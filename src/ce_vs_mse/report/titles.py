"""A run's parameters in words, for panel titles and bar labels: ``logistic regression``,
``MLP, 1 hidden layer of 32``, ``initial weights ×10``, ``η = 0.5`` (not ``model=logreg``).

A parameter without words here is written ``name = value``.
"""

from __future__ import annotations

import ast

import pandas as pd

from .tables import value


def _hidden(widths) -> str:
    """``1 hidden layer of 32``, ``3 hidden layers of 32``, ``hidden layers 64, 32``."""
    if isinstance(widths, str):
        widths = ast.literal_eval(widths) if widths.strip().startswith("[") else [widths]
    widths = list(widths)
    if not widths:
        return "no hidden layer"
    n = len(widths)
    if len(set(widths)) == 1:
        return f"{n} hidden layer{'s' if n > 1 else ''} of {widths[0]}"
    return "hidden layers " + ", ".join(map(str, widths))


def _model(row) -> str:
    name = row.get("model")
    if name == "logreg":
        return "logistic regression"
    if name == "mlp" and "hidden" in row and pd.notna(row["hidden"]):
        return f"MLP, {_hidden(row['hidden'])}"
    return str(name).upper() if name == "mlp" else str(name)


OPTIMIZER = {"sgd": "SGD", "adam": "Adam"}

WORDS = {
    "model": _model,
    "hidden": lambda r: _hidden(r["hidden"]),
    "init_scale": lambda r: f"initial weights ×{value(r['init_scale'])}",
    "lr": lambda r: f"η = {value(r['lr'])}",
    "optimizer": lambda r: OPTIMIZER.get(r["optimizer"], str(r["optimizer"])),
    "momentum": lambda r: f"momentum {value(r['momentum'])}",
    "n_classes": lambda r: f"{value(r['n_classes'])} classes",
    "label_noise": lambda r: f"{100 * r['label_noise']:.0f} % of training labels wrong",
    "batch_size": lambda r: f"batches of {value(r['batch_size'])}",
}


def words(row, columns: list[str]) -> str:
    """The parameters ``columns`` of one run (a table row) in words, joined by ", "."""
    return ", ".join(WORDS[c](row) if c in WORDS else f"{c} = {value(row[c])}"
                     for c in columns)


def of_facets(table: pd.DataFrame, facets: pd.Series, columns: list[str]) -> dict[str, str]:
    """Each facet label (``init_scale=10``) of ``table``'s rows, in words."""
    rows = table.assign(_facet=list(facets)).drop_duplicates("_facet")
    return {r["_facet"]: words(r, columns) for _, r in rows.iterrows()}
