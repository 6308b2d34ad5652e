"""One result counted once: which of a section's comparisons repeat runs an earlier section
trained.

Two runs are the same result when every parameter that changes what they compute is equal:
their params, the resolved head among them (``loss=ce`` with ``model.head=auto`` and
``pair=softmax_ce`` train the same network, though their config hashes differ), apart from
how long they ran and how often they logged (:data:`MEASURED`). Runs that differ only in
those are the same training, run longer or logged at other steps: their steps to a target
are the same wherever the shorter run reached it. A *comparison* is a squared-error run and a
log-loss run on the same head with every other parameter equal, as
:func:`.aggregate.paired_ratio` pairs them; a section's comparison repeats an earlier
section's when both of its runs do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..config.schema import PARAMS
from ..core import losses
from . import aggregate, tables

MEASURED = ("epochs", "per_decade", "log_every", "eval_every", "eval_train_max")


@dataclass
class Repeats:
    """A section's comparisons (``total``), and those an earlier section's runs already make:
    (how, e.g. ``the same runs as quickstart``) -> their labels."""

    total: int = 0
    of: dict[str, list[str]] = field(default_factory=dict)
    earlier: dict[str, str] = field(default_factory=dict)  # how -> the earlier section

    def _all(self) -> str:
        """``all 9 of its comparisons use the same runs as label_noise`` when one earlier
        section has every one of several (e.g. a section drawing another's runs), else ""."""
        if len(self.of) != 1 or self.total < 2:
            return ""
        how, labels = next(iter(self.of.items()))
        return f"all {self.total} of its comparisons use {how}" if len(labels) == self.total else ""

    def note(self) -> str:
        """``Not new evidence: softmax+mse / softmax+ce (model=mlp) uses the same runs as
        quickstart.``, or ""."""
        if self._all():
            return f"Not new evidence: {self._all()}."
        return " ".join(f"Not new evidence: {'; '.join(labels)} "
                        f"{'uses' if len(labels) == 1 else 'use'} {how}."
                        for how, labels in self.of.items())

    def short(self) -> str:
        """``Not new evidence: 2 of its 4 comparisons repeat runs of quickstart.``, or ""
        (:meth:`note`, in its section's appendix, says which and how)."""
        if not self.of:
            return ""
        by: dict[str, int] = {}
        for how, labels in self.of.items():
            by[self.earlier[how]] = by.get(self.earlier[how], 0) + len(labels)
        count = sum(by.values())
        share = ("its one comparison" if self.total == 1 else
                 f"all {self.total} of its comparisons" if count == self.total else
                 f"{count} of its {self.total} comparisons")
        return (f"Not new evidence: {share} repeat{'s' if count == 1 else ''} runs of "
                f"{' and '.join(by)}.")


def comparisons(table: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison in ``table``: the squared-error run's row (``experiment``,
    params), ``pair`` (``softmax+mse / softmax+ce``) and ``result``: what identifies the two
    runs as a result, :data:`MEASURED` aside."""
    runs = table.drop_duplicates(["experiment", "run"])
    params = [c for c in PARAMS if c in runs]
    loss_free = [c for c in params if c not in ("loss", *aggregate.LOSS_PARAMS)]
    runs = runs.assign(setting=_key(runs, ["head", *loss_free]),
                       result=_key(runs, ["head", *(c for c in params if c not in MEASURED)]))
    log_loss = runs["loss"].map(lambda name: getattr(losses.LOSSES.get(name), "log_loss", False))
    ent = runs.loc[log_loss, ["experiment", "setting", "pair", "result"]]
    both = runs[runs["loss"] == aggregate.SQUARED].merge(
        ent, on=["experiment", "setting"], suffixes=("", "_ent"))
    return both.assign(pair=both["pair"] + " / " + both["pair_ent"],
                       result=both["result"] + " / " + both["result_ent"])


def _key(runs: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The values of ``columns`` as one string per run (lists and missing values compare as
    their text)."""
    return runs[columns].map(repr).agg("|".join, axis=1)


def repeats(table: pd.DataFrame, sections: list[tuple[str, str]]) -> dict[str, Repeats]:
    """For each section, named with the experiment whose runs it draws and in the report's
    order, its :class:`Repeats`: each comparison whose result an earlier section has too, as
    ``the same runs as quickstart`` when they ran as long and logged alike, else e.g. ``the
    same configuration as quickstart, trained 30 vs 20 epochs``."""
    found = comparisons(table) if len(table) else pd.DataFrame()
    seen: dict[str, list[tuple[str, pd.Series]]] = {}  # result -> (section, row), in order
    out = {}
    for name, experiment in sections:
        out[name] = Repeats()
        if found.empty or experiment not in set(found["experiment"]):
            continue
        labels = aggregate.distinguishing(table[table["experiment"] == experiment])
        mine = found[found["experiment"] == experiment].sort_values(["pair", *labels])
        out[name].total = len(mine)
        for _, row in mine.iterrows():
            earlier = seen.get(row["result"], [])
            if earlier:
                where = tables.label(row, labels)
                section, how = _how(row, earlier)
                out[name].earlier[how] = section
                out[name].of.setdefault(how, []).append(
                    row["pair"] + (f" ({where})" if where else ""))
        for _, row in mine.iterrows():
            seen.setdefault(row["result"], []).append((name, row))
    return out


def _how(row: pd.Series, earlier: list[tuple[str, pd.Series]]) -> tuple[str, str]:
    """Which section of ``earlier`` ``row`` repeats (the earliest that ran as long and logged
    alike, or else the earliest), and how: ``the same runs as quickstart``, ``the same
    configuration as quickstart, trained 30 vs 20 epochs``."""
    def differs(other: pd.Series) -> list[str]:
        return [c for c in MEASURED if c in row and repr(row[c]) != repr(other[c])]

    name, other = next(((n, o) for n, o in earlier if not differs(o)), earlier[0])
    diffs = differs(other)
    if not diffs:
        return name, f"the same runs as {name}"
    what = ", ".join(f"trained {row['epochs']} vs {other['epochs']} epochs" if c == "epochs"
                     else f"{c} {tables.value(row[c])} vs {tables.value(other[c])}"
                     for c in diffs)
    why = (f"steps to target are the same wherever the {min(row['epochs'], other['epochs'])}"
           "-epoch runs reached it" if diffs == ["epochs"] else
           "the same training, evaluated at other steps")
    return name, f"the same configuration as {name}, {what} ({why})"
