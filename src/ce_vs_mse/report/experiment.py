"""An experiment's seeds as a section draws them (:class:`Experiment`): its table and curves,
the parameters that tell its runs apart, and which of its seeds diverged or failed."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from . import aggregate, tables
from .seeds import done


@dataclass
class Experiment:
    """One experiment's seeds: ``table`` has every seed (done, diverged, failed), ``curves``
    the metrics of the finished ones (with their ``status``)."""

    name: str
    table: pd.DataFrame
    curves: pd.DataFrame

    @functools.cached_property
    def labels(self) -> list[str]:
        """The parameters that tell its runs apart (besides the pair)."""
        return aggregate.distinguishing(self.table)

    @property
    def target(self) -> str:
        targets = sorted(self.table["target_accuracy"].dropna().unique())
        return " or ".join(f"{t:.0%}" for t in targets).replace("%", " %")

    def facet(self, rows: pd.DataFrame) -> pd.Series:
        cols = self.labels
        return rows.apply(lambda r: tables.label(r, cols), axis=1) if cols else "all runs"

    def done_curves(self) -> pd.DataFrame:
        """Curves of the seeds that did not diverge, each with its run's facet."""
        facets = self.table.assign(facet=self.facet(self.table))[["run", "facet"]]
        return done(self.curves).merge(facets.drop_duplicates(), on="run")

    @functools.cached_property
    def _by_run(self) -> pd.DataFrame:  # every figure's panels ask for it, once per facet
        return aggregate.by_run(self.table, "seed")

    @functools.cached_property
    def _facets(self) -> pd.Series:
        return self.facet(self._by_run)

    def lost(self) -> str:
        """``8 of 16 seeds diverged``: the seeds no mean stands on, or ""."""
        status = self.table["status"]
        return ", ".join(f"{int((status == s).sum())} of {len(status)} seeds {s}"
                         for s in ("diverged", "failed") if (status == s).any())

    def diverged_in(self, facet: str) -> str:
        """Which pairs of a facet have diverged or failed seeds: ``diverged: linear+mse 5/5``."""
        rows = self._by_run
        rows = rows[self._facets == facet] if self.labels else rows
        notes = [f"{status} {r['pair']} {int(r[status])}/{int(r['seeds'])}"
                 for _, r in rows.iterrows() for status in ("diverged", "failed") if r[status]]
        return "; ".join(notes)
