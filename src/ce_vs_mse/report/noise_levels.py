"""Label noise as the label_noise and calibration sections show it: a column of panels per
noise level, and a table row per noise level and pair."""

from __future__ import annotations

import pandas as pd

from . import aggregate, plots, style, tables
from .document import percent
from .experiment import Experiment
from .plots import Metric, Panel
from .seeds import done


def panels(exp: Experiment, metrics: list[Metric]):
    """A figure of ``metrics`` (one row each) per epoch, one column per noise level."""
    curves = done(exp.curves).merge(exp.table[["run", "label_noise"]].drop_duplicates(),
                                    on="run")
    levels = sorted(curves["label_noise"].unique())
    grid = [[Panel(f"{percent(n)} of training labels wrong" if i == 0 else "",
                   curves[curves["label_noise"] == n], metric) for n in levels]
            for i, metric in enumerate(metrics)]
    return plots.panels_figure(grid, "epoch", "epoch", None)


def per_noise(seeds: pd.DataFrame, stats: dict[str, str]) -> pd.DataFrame:
    """Mean and interval (:func:`.aggregate.mean_ci`) over seeds of each column
    ``stats[name]``, per noise level and pair, in that order (pairs in the report's order)."""
    rows = [{"noise": noise, "pair": pair, **{k: aggregate.mean_ci(g[c])
                                              for k, c in stats.items()}}
            for (noise, pair), g in seeds.groupby(["label_noise", "pair"])]
    df = pd.DataFrame(rows)
    pairs = style.order(df["pair"])
    return df.iloc[sorted(range(len(df)), key=lambda i: (df["noise"].iloc[i],
                                                         pairs.index(df["pair"].iloc[i])))]


def numbers(df: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """The CSV of a :func:`per_noise` table: mean, ci_low and ci_high of each name."""
    return tables.rounded_numbers(pd.DataFrame({
        "label_noise": df["noise"], "pair": df["pair"],
        **{f"{k}_{s}": [v[s] for v in df[k]] for k in names for s in ("mean", "ci_low",
                                                                      "ci_high")},
        "n": [v["n"] for v in df[names[0]]]}))


def by_loss(df: pd.DataFrame, noise: float) -> pd.DataFrame:
    """The rows of one noise level of a :func:`per_noise` table, indexed by loss (ce, mse)."""
    at = df[df["noise"] == noise]
    return at.set_index(at["pair"].map(style.loss))
