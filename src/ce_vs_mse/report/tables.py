"""The report's tables, from :mod:`ce_vs_mse.aggregate`: what each row is, its mean and
interval at the precision the interval supports, and how many seeds it stands on.

Every row says how many of its seeds were averaged and how many diverged or failed (those
are never averaged in): ``reached 4/5, diverged 1/5``. A run is named by its pair and the
parameters that tell it apart from the other runs of its experiment (no hashes, no column
that is the same on every row).
"""

from __future__ import annotations

import pandas as pd

from . import aggregate, style
from .document import interval, rounded


def value(v) -> str:
    """A parameter value as a label: ``0.05``, ``10``, ``[32]``."""
    return f"{v:g}" if isinstance(v, float) else str(v)


def label(row, columns: list[str]) -> str:
    """``lr=0.05, model=mlp``: the parameters in ``columns`` of one run."""
    return ", ".join(f"{c}={value(row[c])}" for c in columns)


def seeds(row, averaged: str = "") -> str:
    """How many seeds a row stands on: ``reached 4/5, diverged 1/5`` (``averaged`` names
    what the averaged seeds did, e.g. ``reached``; plain ``4/5`` without it)."""
    total = int(row["seeds"])
    parts = [f"{averaged} {int(row['n'])}/{total}".strip()]
    for status in ("diverged", "failed"):
        if row.get(status, 0):
            parts.append(f"{status} {int(row[status])}/{total}")
    return ", ".join(parts)


def cell(stats, steps: bool = False) -> str:
    """``mean [low, high]`` of a mean and its interval (a dict of :func:`.aggregate.mean_ci`,
    a row of :func:`.aggregate.by_run`); "—" when there is no mean."""
    return interval(stats["mean"], stats["ci_low"], stats["ci_high"], steps) or "—"


def rounded_numbers(numbers: pd.DataFrame) -> pd.DataFrame:
    """A table's numbers as every CSV holds them: the float columns named ``steps…`` in whole
    steps, the others to three significant digits (:func:`~.document.rounded`)."""
    out = numbers.copy()
    for column in out.select_dtypes("float").columns:
        whole = column.startswith("steps")
        out[column] = out[column].map(lambda x, whole=whole: rounded(x, whole))
    return out


def left_out(table: pd.DataFrame, columns: list[str]) -> str:
    """One sentence naming every run with diverged or failed seeds, or ""."""
    notes = []
    for _, row in aggregate.by_run(table, "seed").iterrows():
        parts = [f"{status} {int(row[status])}/{int(row['seeds'])}"
                 for status in ("diverged", "failed") if row[status]]
        if parts:
            where = label(row, columns)
            notes.append(f"{row['pair']}{f' ({where})' if where else ''}: {', '.join(parts)}")
    return ("Left out of every mean, band and axis limit: " + "; ".join(notes) + "."
            if notes else "")


def _frames(rows: pd.DataFrame, first: str, columns: list[str], head: str, steps: bool,
            averaged: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(shown, numbers) of aggregated ``rows``: ``first`` (the pair), the label columns, the
    mean [interval] and the seeds."""
    rows = rows.iloc[style.ranks(rows["pair"])].reset_index(drop=True)
    labels = {c: rows[c].map(value) for c in columns}
    cells = [cell(r, steps) for _, r in rows.iterrows()]
    shown = pd.DataFrame({first: rows["pair"], **labels, head: cells,
                          "seeds": [seeds(r, averaged) for _, r in rows.iterrows()]})
    means = {k: rows[k].map(lambda x: rounded(x, steps)) for k in ("mean", "ci_low", "ci_high")}
    counts = {k: rows[k] for k in ("n", "seeds", "diverged", "failed") if k in rows}
    numbers = pd.DataFrame({first: rows["pair"], **labels, **means, **counts})
    return shown, numbers


def steps_to_target(table: pd.DataFrame, columns: list[str], target: str):
    """Mean steps to the target accuracy over the seeds that reached it."""
    rows = aggregate.by_run(table, "steps_to_target")
    return _frames(rows, "pair", columns, f"steps to {target}", True, "reached")


def final_accuracy(table: pd.DataFrame, columns: list[str]):
    rows = aggregate.by_run(table, "final test/accuracy")
    return _frames(rows, "pair", columns, "final test accuracy", False, "")


def paired_ratio(table: pd.DataFrame, columns: list[str]):
    """Squared error's steps over cross-entropy's, per seed (both must reach the target)."""
    rows = aggregate.paired_ratio(table)
    if rows.empty:
        return None
    shown, numbers = _frames(rows, "pair", [c for c in columns if c in rows], "ratio of steps",
                             False, "both reached in")
    return shown, numbers
