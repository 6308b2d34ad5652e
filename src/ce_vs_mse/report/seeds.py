"""Which seeds and runs a section's numbers stand on, and how two runs compare seed by seed.

A seed counts in a mean when it finished without diverging (status ``done``); a run is clean
when none of its seeds diverged or failed. Every section picks its seeds and runs through
these, so that they all leave out the same ones (as :func:`.aggregate.by_run` does).
"""

from __future__ import annotations

import pandas as pd

from . import aggregate


def done(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows (of a table, or of curves) of the seeds that finished without diverging."""
    return frame[frame["status"] == "done"]


def clean(rows: pd.DataFrame) -> pd.DataFrame:
    """The runs (rows of :func:`.aggregate.by_run`) none of whose seeds diverged or failed."""
    return rows[(rows["diverged"] == 0) & (rows["failed"] == 0)]


def best(rows: pd.DataFrame, largest: bool = True):
    """The index of the run (among rows of :func:`.aggregate.by_run`) with the largest, or the
    smallest, mean: of the clean runs when there are any, else of all with a mean; the first of
    equals. None when no run has a mean."""
    ranked = rows.dropna(subset=["mean"])
    if len(clean(ranked)):
        ranked = clean(ranked)
    if ranked.empty:
        return None
    return ranked["mean"].idxmax() if largest else ranked["mean"].idxmin()


def _paired(table: pd.DataFrame, a_run: str, b_run: str, column: str) -> pd.DataFrame:
    """``column`` of runs ``a_run`` (column a) and ``b_run`` (b), one row per seed where both
    are done and have a value."""
    a, b = (done(table[table["run"] == r]).set_index("seed")[column] for r in (a_run, b_run))
    return pd.concat({"a": a, "b": b}, axis=1, join="inner").dropna()


def ratio(table: pd.DataFrame, slow_run: str, fast_run: str,
          column: str = "steps_to_target") -> dict:
    """Per seed, ``column`` of run ``slow_run`` over that of ``fast_run`` (the same seeds,
    both done with a value); geometric mean and interval of the ratio (on the log ratio),
    ``n`` the seeds it stands on."""
    both = _paired(table, slow_run, fast_run, column)
    return aggregate.mean_ci(both["a"] / both["b"], log=True)


def difference(table: pd.DataFrame, a_run: str, b_run: str,
               column: str = "final test/accuracy") -> dict:
    """Per seed, ``column`` of run ``a_run`` minus that of ``b_run`` (the same seeds, both
    done): mean and t-interval of the paired difference, ``n`` the seeds it stands on."""
    both = _paired(table, a_run, b_run, column)
    stats = aggregate.mean_ci(both["a"] - both["b"])
    # equal accuracies, logged in float32, differ by ~1e-8, which three significant digits show
    return {**stats, "mean": round(stats["mean"], 6)}
