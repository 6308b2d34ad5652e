"""Read finished runs back from ``results/runs`` and summarise them over seeds.

Reads only the files that training wrote (``summary.json``, ``metrics.csv``); it never
trains. A folder that is not a finished run by :func:`ce_vs_mse.store.summary.verify` (interrupted,
still running, failed, damaged) is listed in ``Runs.skipped`` with the reason, and left out;
so is a second folder holding the same run (a copy). A seed whose summary says ``failed`` is
also kept in ``Runs.table`` (``status`` failed, no metrics), so that it is counted.

Means and intervals are over the seeds with status ``done``: a ``diverged`` or ``failed``
seed is counted (columns ``diverged``, ``failed`` of :func:`by_run`), never averaged in.
Intervals are two-sided 95 % Student-t intervals over seeds: mean ± t(0.975, n-1)·s/√n, and
none from fewer than :data:`MIN_SEEDS` seeds (the count is still given). Step counts and
ratios of them are positive and multiplicative: they are summarised on the log scale, as a
geometric mean with the t-interval of the log values mapped back (:data:`LOG_COLUMNS`), so
such an interval never goes below 0.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from ..config.schema import PARAMS
from ..core import losses
from ..store import files, layout
from ..store import summary as summaries
from ..store.summary import RunSummary

SQUARED = "mse"  # the loss every paired ratio compares: squared error over a log-loss
MIN_SEEDS = 3  # an interval from fewer seeds says almost nothing (t(0.975, 1) = 12.7)
LOG_COLUMNS = ("steps_to_target", "epochs_to_target", "val_steps_to_target")
# The loss's options (loss, k, M): the pair label says them; they are not a comparison's axes.
LOSS_PARAMS = tuple(name for name, key in PARAMS.items() if key.startswith("loss."))


@dataclass
class Runs:
    """``table``: one row per (run, seed) with its status (done, diverged, or failed), params
    and final metrics; ``curves``: every metrics.csv row with its run's identifying columns
    and status; ``skipped``: (folder, reason) of every folder that is not a finished run."""

    table: pd.DataFrame
    curves: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)


def t_interval(values, level: float = 0.95) -> tuple[float, float]:
    """The mean's two-sided Student-t confidence interval; (nan, nan) from fewer than
    :data:`MIN_SEEDS` values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < MIN_SEEDS:
        return (np.nan, np.nan)
    mean, half = float(x.mean()), _half_width(x.std(ddof=1), x.size, level)
    return (mean - half, mean + half)


def _half_width(sd, n, level: float = 0.95):
    """t(½ + level/2, n-1) · sd / √n: half the t-interval of a mean (scalars or arrays). The
    t quantile is scipy.stats.t.ppf's own function, without importing scipy.stats (1 CPU-s)."""
    return stdtrit(n - 1, 0.5 + level / 2) * sd / np.sqrt(n)


def mean_ci(values, log: bool = False) -> dict[str, float]:
    """``n`` (the values that are not NaN), their mean and its t-interval; with ``log``, the
    geometric mean and the interval of the log values mapped back (positive values only)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if log:
        x = np.log(x[x > 0])
    lo, hi = t_interval(x)
    mean = float(x.mean()) if x.size else np.nan
    if log:
        mean, lo, hi = np.exp([mean, lo, hi]).tolist()
    return {"n": int(x.size), "mean": mean, "ci_low": lo, "ci_high": hi}


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
    half = _half_width(out["sd"], out["n"].clip(lower=2)).where(out["n"] >= MIN_SEEDS, np.nan)
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    if log:
        out[["mean", "ci_low", "ci_high"]] = np.exp(out[["mean", "ci_low", "ci_high"]])
    return out.reset_index()


def _pair(params: dict) -> str:
    """The head+loss label, with the loss's own parameters (the rescaled square loss's k and
    M), which belong to the loss (not to the comparison's other axes)."""
    loss = losses.LOSSES.get(params["loss"])
    own = ",".join(f"{key}={params[key]:g}" for key in (loss.params if loss else ()))
    return f"{params['head']}+{params['loss']}" + (f"({own})" if own else "")


def _identity(s: RunSummary, run_dir: Path, root: Path) -> dict:
    """The columns every row has, a failed seed's too: which run, its params."""
    return {"experiment": s.experiment, "run": s.run, "seed": s.seed, "status": s.status,
            "pair": _pair(s.params), "config_hash": s.config_hash,
            **{k: v for k, v in s.params.items() if k != "seed"},
            "path": str(run_dir.relative_to(root))}


def _read_run(run_dir: Path, root: Path) -> tuple[dict, pd.DataFrame]:
    s = summaries.verify(run_dir)
    try:  # read once, and only the bytes the summary vouches for
        data = (run_dir / layout.METRICS).read_bytes()
    except OSError as err:
        raise summaries.Unfinished(f"being written: metrics.csv went away while it was read "
                                   f"({err.strerror})") from None
    if files.fingerprint_of(data) != s.files[layout.METRICS]:
        raise summaries.Unfinished("being written: metrics.csv changed while it was read")
    metrics = pd.read_csv(io.BytesIO(data))
    if metrics.empty or "step" not in metrics:
        raise summaries.Unfinished("metrics.csv has no rows")
    text = [c for c in metrics if not pd.api.types.is_numeric_dtype(metrics[c])]
    if text:
        raise summaries.Unfinished(f"metrics.csv has values that are not numbers in column "
                                   f"{text[0]!r}")
    row = {**_identity(s, run_dir, root),
           "steps_to_target": s.steps_to_target, "epochs_to_target": s.epochs_to_target,
           "diverged_at_step": s.diverged_at_step, "target_accuracy": s.target_accuracy,
           "val_steps_to_target": s.val_steps_to_target,
           **{f"final {k}": v for k, v in s.final.items()},
           "overrides": tuple(s.overrides), "reliability": _diagram(s.reliability),
           **_trained_with(s.provenance)}
    return row, metrics


def _diagram(value: dict | None) -> tuple | None:
    """The test split's reliability diagram, hashable: (count, confidence_sum, correct),
    each a tuple over confidence bins (:func:`ce_vs_mse.calibration.reliability`)."""
    if value is None:
        return None
    return tuple(tuple(value[k]) for k in ("count", "confidence_sum", "correct"))


def _trained_with(provenance) -> dict:
    """The code and machine a run was trained with: git commit (marked ``+changes`` when the
    tree had uncommitted changes), torch version, platform."""
    p = provenance if isinstance(provenance, dict) else {}
    commit = p.get("git_commit")
    if commit and p.get("git_dirty"):
        commit += "+changes"
    return {"git_commit": commit, "platform": p.get("platform"),
            "torch": (p.get("packages") or {}).get("torch")}


def _failed_row(run_dir: Path, root: Path) -> dict | None:
    """The table row of a seed whose summary records that it failed (it has no metrics), or
    None when the folder holds no readable failed summary."""
    try:
        s = summaries.read(run_dir)
        row = {**_identity(s, run_dir, root), "error": s.error, "overrides": None}
    except (summaries.Unfinished, KeyError, TypeError, ValueError):
        return None
    return row if s.status == "failed" else None


def _canonical(run_dir: Path, row: dict) -> bool:
    """Whether the folder is where its summary says the run belongs (not a copy)."""
    return layout.is_canonical(run_dir, row["experiment"], row["run"], row["seed"])


def load_runs(root: Path) -> Runs:
    """Every finished run under ``root`` (e.g. ``results/runs``), in a stable order. Of two
    folders with the same run (experiment, configuration and seed), the one at the run's own
    path is used and the other listed as skipped."""
    root = Path(root)
    found: dict[tuple, tuple[Path, dict, pd.DataFrame]] = {}
    skipped, failed = [], {}
    for run_dir in layout.run_folders(root):
        try:
            row, metrics = _read_run(run_dir, root)
        except (summaries.Unfinished, ValueError, KeyError, TypeError, OSError,
                pd.errors.ParserError) as err:
            skipped.append((str(run_dir), str(err) or type(err).__name__))
            row = _failed_row(run_dir, root)
            if row is not None:
                failed[(row["experiment"], row["config_hash"], row["seed"])] = (run_dir, row)
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
    # a failed seed counts, unless the same run finished in another folder
    failures = sorted((v for k, v in failed.items() if k not in found), key=lambda v: str(v[0]))
    table = pd.DataFrame([row for _, row, _ in ordered] + [row for _, row in failures])
    if not ordered:
        return Runs(table, pd.DataFrame(), skipped)
    curves = pd.concat([m for _, _, m in ordered], ignore_index=True)
    lengths = [len(m) for _, _, m in ordered]
    # each run's identifying columns, added once to all rows (not to each run's frame)
    for key in ("experiment", "run", "seed", "status", "pair"):
        curves.insert(0, key, np.repeat([row[key] for _, row, _ in ordered], lengths))
    return Runs(table, curves, skipped)


def varying(table: pd.DataFrame, exclude=("seed", "head", "pair", *LOSS_PARAMS)) -> list[str]:
    """Parameter columns whose value differs between the runs of ``table``."""
    return [c for c in PARAMS if c in table and c not in exclude and table[c].nunique() > 1]


def distinguishing(table: pd.DataFrame) -> list[str]:
    """The :func:`varying` columns that tell runs apart, each kept only when it splits the
    runs further than the ones before it (in :data:`~ce_vs_mse.schema.PARAMS` order): with
    ``model`` logreg or mlp, ``hidden`` ([] or [32]) says nothing more and is left out."""
    keep: list[str] = []
    for column in varying(table):
        before = table.groupby(keep, dropna=False).ngroups if keep else 1
        if table.groupby([*keep, column], dropna=False).ngroups > before:
            keep.append(column)
    return keep


def by_run(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean and CI of ``column`` over the ``done`` seeds of each run (geometric for the step
    counts of :data:`LOG_COLUMNS`), with the run's varying params; ``n``: the seeds averaged
    (those where ``column`` is not NaN), ``seeds``: every seed of the run, ``diverged`` and
    ``failed``: how many of them, left out of the mean."""
    keys = ["experiment", "pair", *varying(table), "run"]
    out = []
    for key, group in table.groupby(keys, sort=True, dropna=False):
        status = group["status"]
        out.append({**dict(zip(keys, key, strict=True)),
                    **mean_ci(group.loc[status == "done", column], log=column in LOG_COLUMNS),
                    "seeds": len(group),
                    "diverged": int((status == "diverged").sum()),
                    "failed": int((status == "failed").sum())})
    return pd.DataFrame(out)


def paired_ratio(table: pd.DataFrame, column: str = "steps_to_target") -> pd.DataFrame:
    """Per seed, ``column`` of squared error over that of each log-loss (cross-entropy, BCE:
    ``log_loss`` in losses.LOSSES) on the same head with every other parameter equal; the
    geometric mean of the ratio and its interval (on the log ratio) over the seeds where both
    are ``done`` and have a value (``n``), of
    ``seeds`` seeds of both; ``diverged`` and ``failed``: the seeds where either did."""
    keys = ["experiment", "head", *varying(table), "seed"]
    mse = table[table["loss"] == SQUARED].set_index(keys)
    out = []
    for loss in (name for name, entry in losses.LOSSES.items() if entry.log_loss):
        ent = table[table["loss"] == loss].set_index(keys)
        seeds = pd.concat({"mse": mse["status"], "ent": ent["status"]}, axis=1, join="inner")
        if seeds.empty:
            continue
        done = (seeds == "done").all(axis=1)
        both = pd.concat({"mse": mse[column], "ent": ent[column]}, axis=1, join="inner")
        both = both[done].dropna()
        both = both.assign(ratio=both["mse"] / both["ent"])
        for key, group in seeds.reset_index().groupby(keys[:-1], sort=True, dropna=False):
            ratios = both["ratio"].reset_index().merge(group[keys], on=keys)["ratio"]
            either = {status: int(((group["mse"] == status) | (group["ent"] == status)).sum())
                      for status in ("diverged", "failed")}
            out.append({**dict(zip(keys[:-1], key, strict=True)),
                        "pair": f"{key[1]}+mse / {key[1]}+{loss}", **mean_ci(ratios, log=True),
                        "seeds": len(group), **either})
    return pd.DataFrame(out)
