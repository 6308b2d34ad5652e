"""The published report: where a build goes, its answer, and a build's numbers against it.

The published report, ``results/report``, is committed: only ``--publish`` (of
``ce-vs-mse-report`` and reproduce) writes it. Any other build goes to ``results/latest``
(git-ignored) or ``--out``, and ends by comparing each table CSV it wrote with the published
one of the same name, value by value. A value is one cell, or one estimate with its 95 %
interval (the columns ``mean``, ``ci_low``, ``ci_high``; ``<x>_mean`` with ``<x>_ci_low``,
``<x>_ci_high`` or ``<x>_low``, ``<x>_high``), judged as one; the columns of text (a pair, a
setting) name the rows and are not values. Each value is identical (the same text in the
CSV), within the published interval (the new mean lies in it; last-digit changes from
another machine's arithmetic land here), or outside it (or different where the published
value has no interval). Rows are compared in order; a table whose rows are not the same
(other columns, rows or labels) has every value outside.

Here, below both the report and reproduce, and with the standard library only: a rerun of
reproduce with nothing to do prints the answer and the comparison without importing the
report's drawing code.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PUBLISHED = Path("results/report")  # the committed report
LATEST = Path("results/latest")  # where a build goes by default (in .gitignore)
ANSWER = ("<!-- answer -->", "<!-- /answer -->")  # the lines around REPORT.md's answer
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


def answer(report: Path) -> list[str]:
    """The lines of ``report`` (a REPORT.md) between the :data:`ANSWER` markers, without
    blank lines at either end; none without the markers."""
    lines = report.read_text().splitlines()
    if ANSWER[0] not in lines or ANSWER[1] not in lines:
        return []
    inside = lines[lines.index(ANSWER[0]) + 1:lines.index(ANSWER[1])]
    return "\n".join(inside).strip("\n").splitlines()


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


def labels(rows: list[dict[str, str]]) -> list[str]:
    """The columns that name a row (a pair, a setting, True/False): those with text that is
    not a number."""
    columns = list(rows[0]) if rows else []
    return [c for c in columns if any(r[c] and math.isnan(_number(r[c])) for r in rows)]


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """A table CSV's columns and rows, every cell as its text."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def compare_table(new: Path, old: Path) -> tuple[int, int, int, bool]:
    """(identical, within, outside, same rows) of the values of table ``new`` against
    ``old``. When the columns, the number of rows or the rows' labels differ, the rows are
    not the same and every value counts as outside."""
    (columns, a), (old_columns, b) = read(new), read(old)
    groups = estimates(columns)
    named = labels(b)
    skip = {c for pair in groups.values() for c in pair} | set(named)
    values = [[c, *groups.get(c, ())] for c in columns if c not in skip]
    if (columns != old_columns or len(a) != len(b)
            or any(x[c] != y[c] for x, y in zip(a, b, strict=True) for c in named)):
        return 0, 0, len(values) * len(a), False
    identical = within = outside = 0
    for x, y in zip(a, b, strict=True):
        for cells in values:
            if all(x[c] == y[c] for c in cells):
                identical += 1
            elif len(cells) == 3 and (_number(y[cells[1]]) <= _number(x[cells[0]])
                                      <= _number(y[cells[2]])):
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
    unpublished: list[str] = field(default_factory=list)  # tables the published one lacks

    def line(self) -> str:
        """e.g. ``Compared with the published report (results/report): 212 of 214 table
        values identical, 2 within the published 95 % interval, 0 outside it (or without
        one).``, then the tables with values outside."""
        outside = sum(self.outside.values())
        if not self.identical + self.within + outside:  # e.g. your own data's report alone
            return (f"Compared with the published report ({self.published}): no table of this "
                    "report is in it, so there is nothing to compare.")
        text = (f"Compared with the published report ({self.published}): {self.identical} of "
                f"{self.identical + self.within + outside} table values identical, "
                f"{self.within} within the published 95 % interval, {outside} outside it "
                "(or without one).")
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
        table = Path(name).stem
        if not (published / "tables" / name).is_file():
            result.unpublished.append(table)
            continue
        identical, within, outside, same_rows = compare_table(built / "tables" / name,
                                                              published / "tables" / name)
        result.identical += identical
        result.within += within
        if outside:
            result.outside[table] = outside
        if not same_rows:
            result.other_rows.append(table)
    return result


def ending(report: Path) -> list[str]:
    """What a build ends with: the report's answer (:func:`answer`), how its tables compare
    with the published report's (:func:`compare`; not when it is that report), and where
    it is."""
    said = answer(report)
    comparison = compare(report.parent)
    return [*(["", *said, ""] if said else []), *([comparison.line()] if comparison else []),
            f"Report: {report}"]
