"""Read finished runs back from ``results/runs`` and summarise them over seeds.

Reads only the files that training wrote (``summary.json``, ``metrics.csv``); it never
trains. A folder that is not a finished run by :func:`ce_vs_mse.runstore.verify` (interrupted,
still running, failed, damaged) is listed in ``Runs.skipped`` with the reason, and left out;
so is a second folder holding the same run (a copy).

Intervals are two-sided 95 % Student-t intervals over seeds: mean ± t(0.975, n-1)·s/√n.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import runstore
from .schema import PARAMS

# Losses that are a cross-entropy of their head; each is paired with squared error on that head.
ENTROPY_LOSSES = ("ce", "bce")


@dataclass
class Runs:
    """``table``: one row per (run, seed) with its params and final metrics; ``curves``: every
    metrics.csv row with its run's identifying columns; ``skipped``: (folder, reason)."""

    table: pd.DataFrame
    curves: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)


def t_interval(values, level: float = 0.95) -> tuple[float, float]:
    """The mean's two-sided Student-t confidence interval; (nan, nan) for a single value,
    which has none."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (np.nan, np.nan)
    if x.size < 2:
        return (np.nan, np.nan)
    mean, half = float(x.mean()), _half_width(x.std(ddof=1), x.size, level)
    return (mean - half, mean + half)


def _half_width(sd, n, level: float = 0.95):
    """t(½ + level/2, n-1) · sd / √n: half the t-interval of a mean (scalars or arrays)."""
    return stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)


def mean_ci(values) -> dict[str, float]:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    lo, hi = t_interval(x)
    return {"n": int(x.size), "mean": float(x.mean()) if x.size else np.nan,
            "ci_low": lo, "ci_high": hi}


def bands(df: pd.DataFrame, keys: list[str], value: str, log: bool = False) -> pd.DataFrame:
    """Mean and 95 % t-interval of ``value`` for every combination of ``keys`` (e.g. pair and
    step, over seeds), vectorised; with ``log``, the geometric mean and the interval of the
    log values mapped back (a band that stays positive on a log axis)."""
    v = df[value]
    if log:
        df = df[v > 0]
        v = np.log(df[value])
    g = v.groupby([df[k] for k in keys], sort=True)
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count()})
    half = _half_width(out["sd"], out["n"].clip(lower=2)).where(out["n"] > 1, np.nan)
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    if log:
        out[["mean", "ci_low", "ci_high"]] = np.exp(out[["mean", "ci_low", "ci_high"]])
    return out.reset_index()


def _pair(params: dict) -> str:
    """The head+loss label, with the rescaled square loss's own parameters, which belong to
    the loss (not to the comparison's other axes)."""
    pair = f"{params['head']}+{params['loss']}"
    if params["loss"] == "sq_rescaled":
        pair += f"(k={params['k']:g},M={params['M']:g})"
    return pair


def _read_run(run_dir: Path, root: Path) -> tuple[dict, pd.DataFrame]:
    summary = runstore.verify(run_dir)
    metrics = pd.read_csv(run_dir / runstore.METRICS)
    if metrics.empty or "step" not in metrics:
        raise runstore.Unfinished("metrics.csv has no rows")
    params = summary["params"]
    row = {"experiment": summary["experiment"], "run": summary["run"], "seed": summary["seed"],
           "status": summary["status"], "pair": _pair(params),
           "config_hash": summary["config_hash"],
           "steps_to_target": summary["steps_to_target"],
           "epochs_to_target": summary["epochs_to_target"],
           "target_accuracy": summary["target_accuracy"],
           **{k: v for k, v in params.items() if k != "seed"},
           **{f"final {k}": v for k, v in summary["final"].items()},
           "path": str(run_dir.relative_to(root))}
    for key in ("experiment", "run", "seed", "pair"):
        metrics.insert(0, key, row[key])
    return row, metrics


def _canonical(run_dir: Path, row: dict) -> bool:
    """Whether the folder is where its summary says the run belongs (not a copy)."""
    return run_dir.as_posix().endswith(f"{row['experiment']}/{row['run']}/seed={row['seed']}")


def load_runs(root: Path) -> Runs:
    """Every finished run under ``root`` (e.g. ``results/runs``), in a stable order. Of two
    folders with the same run (experiment, configuration and seed), the one at the run's own
    path is used and the other listed as skipped."""
    root = Path(root)
    found: dict[tuple, tuple[Path, dict, pd.DataFrame]] = {}
    skipped = []
    for run_dir in runstore.run_folders(root):
        try:
            row, metrics = _read_run(run_dir, root)
        except (runstore.Unfinished, ValueError, KeyError, TypeError,
                pd.errors.ParserError) as err:
            skipped.append((str(run_dir), str(err) or type(err).__name__))
            continue
        key = (row["experiment"], row["config_hash"], row["seed"])
        if key in found:
            other = found[key][0]
            keep, drop = ((run_dir, other) if _canonical(run_dir, row) else (other, run_dir))
            skipped.append((str(drop), f"the same run as {keep}; that one is used"))
            if keep is other:
                continue
        found[key] = (run_dir, row, metrics)
    ordered = [found[k] for k in sorted(found, key=lambda k: str(found[k][0]))]
    table = pd.DataFrame([row for _, row, _ in ordered])
    curves = [m for _, _, m in ordered]
    return Runs(table, pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
                skipped)


def varying(table: pd.DataFrame, exclude=("seed", "head", "loss", "pair", "k", "M")) -> list[str]:
    """Parameter columns whose value differs between the runs of ``table``."""
    return [c for c in PARAMS if c in table and c not in exclude and table[c].nunique() > 1]


def by_run(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean and CI of ``column`` over the seeds of each run, with the run's varying params."""
    keys = ["experiment", "pair", *varying(table), "run"]
    out = []
    for key, group in table.groupby(keys, sort=True, dropna=False):
        out.append({**dict(zip(keys, key, strict=True)), **mean_ci(group[column]),
                    "of_seeds": len(group)})
    return pd.DataFrame(out)


def paired_ratio(table: pd.DataFrame, column: str = "steps_to_target") -> pd.DataFrame:
    """Per seed, ``column`` of squared error over that of the cross-entropy loss on the same
    head with every other parameter equal; mean and CI of the ratio over seeds."""
    keys = ["experiment", "head", *varying(table), "seed"]
    mse = table[table["loss"] == "mse"].set_index(keys)[column]
    out = []
    for loss in ENTROPY_LOSSES:
        ent = table[table["loss"] == loss].set_index(keys)[column]
        both = pd.concat({"mse": mse, "ent": ent}, axis=1, join="inner").dropna()
        if both.empty:
            continue
        both = both.assign(ratio=both["mse"] / both["ent"]).reset_index()
        for key, group in both.groupby(keys[:-1], sort=True, dropna=False):
            out.append({**dict(zip(keys[:-1], key, strict=True)),
                        "pair": f"{key[1]}+mse / {key[1]}+{loss}", **mean_ci(group["ratio"])})
    return pd.DataFrame(out)
