"""Where a report is built, and its numbers against the published report's.

The published report, ``results/report``, is committed: only ``--publish`` writes it. Any
other build goes to ``results/latest`` (git-ignored) or ``--out``, and ends by comparing each
table CSV it wrote with the published one of the same name, value by value. A value is one
cell, or one estimate with its 95 % interval (the columns ``mean``, ``ci_low``, ``ci_high``;
``<x>_mean`` with ``<x>_ci_low``, ``<x>_ci_high`` or ``<x>_low``, ``<x>_high``), judged as
one; the columns of text (a pair, a setting) name the rows and are not values. Each value is
identical (the same text in the CSV), within the published interval (the new mean lies in
it; last-digit changes from another machine's arithmetic land here), or outside it (or
different where the published value has no interval). Rows are compared in order; a table
whose rows are not the same (other columns, rows or labels) has every value outside.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

PUBLISHED = Path("results/report")  # the committed report
LATEST = Path("results/latest")  # where a build goes by default (in .gitignore)
TABLE_LINK = re.compile(r"\(tables/([^()\s]+\.csv)\)")  # how REPORT.md links a table


def destination(out: Path | None, publish: bool) -> Path:
    """Where a build goes: the published report with ``publish``, else ``out`` (default
    :data:`LATEST`). ValueError when the two contradict each other."""
    if publish:
        if out is not None and out.resolve() != PUBLISHED.resolve():
            raise ValueError(f"--publish writes the published report, {PUBLISHED}; "
                             f"leave out --out {out}")
        return PUBLISHED
    out = LATEST if out is None else out
    if out.resolve() == PUBLISHED.resolve():
        raise ValueError(f"--out {out} is the published report; add --publish to rewrite it")
    return out


def estimates(columns: list[str]) -> dict[str, tuple[str, str]]:
    """Each estimate column of a table with its interval's columns: ``{mean: (low, high)}``."""
    out = {}
    for column in columns:
        if column == "mean" or column.endswith("_mean"):
            stem = column.removesuffix("mean")
            for low, high in ((f"{stem}ci_low", f"{stem}ci_high"), (f"{stem}low", f"{stem}high")):
                if low in columns and high in columns:
                    out[column] = (low, high)
                    break
    return out


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def labels(table: pd.DataFrame) -> list[str]:
    """The columns that name a row (a pair, a setting, True/False): those with text that is
    not a number."""
    return [c for c in table.columns
            if any(cell and math.isnan(_number(cell)) for cell in table[c])]


def compare_table(new: pd.DataFrame, old: pd.DataFrame) -> tuple[int, int, int, bool]:
    """(identical, within, outside, same rows) of the values of ``new`` against ``old``, both
    read as text. When the columns, the number of rows or the rows' labels differ, the rows
    are not the same and every value counts as outside."""
    groups = estimates(list(new.columns))
    bounds = {c for pair in groups.values() for c in pair}
    named = labels(old)
    values = [[c, *groups.get(c, ())] for c in new.columns if c not in bounds | set(named)]
    if (list(new.columns) != list(old.columns) or len(new) != len(old)
            or not new[named].equals(old[named])):
        return 0, 0, len(values) * len(new), False
    identical = within = outside = 0
    for (_, a), (_, b) in zip(new.iterrows(), old.iterrows(), strict=True):
        for cells in values:
            if all(a[c] == b[c] for c in cells):
                identical += 1
            elif len(cells) == 3 and (_number(b[cells[1]]) <= _number(a[cells[0]])
                                      <= _number(b[cells[2]])):
                within += 1  # NaN anywhere compares False: outside
            else:
                outside += 1
    return identical, within, outside, True


@dataclass
class Comparison:
    """A build's tables against the published report's (:func:`compare`)."""

    published: Path
    identical: int = 0
    within: int = 0
    outside: Counter = field(default_factory=Counter)  # table -> its values outside
    other_rows: list[str] = field(default_factory=list)  # tables whose rows are not the same
    unpublished: list[str] = field(default_factory=list)  # tables it does not have

    def line(self) -> str:
        """e.g. ``Compared with the published report (results/report): 212 of 214 table
        values identical, 2 within the published 95 % interval, 0 outside it.``"""
        total = self.identical + self.within + sum(self.outside.values())
        text = (f"Compared with the published report ({self.published}): {self.identical} of "
                f"{total} table values identical, {self.within} within the published 95 % "
                f"interval, {sum(self.outside.values())} outside it (or without one).")
        if self.outside:
            text += " Outside: " + ", ".join(
                f"{name} ({n}{', other rows' if name in self.other_rows else ''})"
                for name, n in sorted(self.outside.items())) + "."
        if self.unpublished:
            text += f" Not in the published report: {', '.join(self.unpublished)}."
        return text


def compare(built: Path, published: Path = PUBLISHED) -> Comparison | None:
    """The tables ``built``'s REPORT.md shows, each against ``published``'s table of the same
    name; None when there is no published report to compare with, or ``built`` is it."""
    report = built / "REPORT.md"
    if not (published / "REPORT.md").is_file() or built.resolve() == published.resolve():
        return None
    result = Comparison(published)
    for name in dict.fromkeys(TABLE_LINK.findall(report.read_text())):
        if not (published / "tables" / name).is_file():
            result.unpublished.append(Path(name).stem)
            continue
        read = [pd.read_csv(folder / "tables" / name, dtype=str, keep_default_na=False)
                for folder in (built, published)]
        identical, within, outside, same_rows = compare_table(*read)
        result.identical += identical
        result.within += within
        if outside:
            result.outside[Path(name).stem] = outside
        if not same_rows:
            result.other_rows.append(Path(name).stem)
    return result
