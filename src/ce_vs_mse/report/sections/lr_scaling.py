"""Is squared error's slowdown a smaller step size? Per head and initial weight scale (the
digits MLP): steps to target against η and against the effective η (u·η for squared error, u
= 1/K softmax, ¼ sigmoid: :mod:`..scaling`), the factor measured over training, and squared
error against the log-loss at a shared η and with its η scaled by 1/u."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, LogLocator, NullFormatter

from .. import account, aggregate, plots, scaling, style, tables
from ..document import Document, number
from ..experiment import Experiment
from ..headline import Answer
from ..tables import value

COLUMNS = ["setting", "pair", "lr", "effective_lr", "steps_mean", "steps_low", "steps_high",
           "reached", "seeds"]


def setting(head: str, scale: float) -> str:
    return f"{head} head, initial weights ×{scale:g}"


def _with_settings(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table with a ``setting`` column (head and initial weight scale), and the settings
    in order: softmax before sigmoid, smaller scales first."""
    table = table.assign(setting=[setting(h, s) for h, s in
                                  zip(table["head"], table["init_scale"], strict=True)])
    heads = list(style.HEAD_LINE)
    keys = table[["head", "init_scale", "setting"]].drop_duplicates()
    keys = keys.assign(rank=keys["head"].map(lambda h: heads.index(h) if h in heads else 9))
    return table, keys.sort_values(["rank", "init_scale"])["setting"].tolist()


def runs(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its setting, pair, η and effective η, and steps to target (geometric
    mean and log interval over the seeds that reached it, :func:`.aggregate.by_run`)."""
    steps = aggregate.by_run(table, "steps_to_target")
    steps = steps.drop(columns=[c for c in ("lr", "pair") if c in steps])
    if f"final {scaling.UNIFORM}" not in table:  # runs trained before it was logged
        table = table.assign(**{f"final {scaling.UNIFORM}": np.nan})
    info = table.groupby("run", sort=False).agg(
        setting=("setting", "first"), pair=("pair", "first"), lr=("lr", "first"),
        u=(f"final {scaling.UNIFORM}", "median")).reset_index()
    rows = info.merge(steps, on="run")
    rows["effective_lr"] = [scaling.effective_lr(p, lr, u) for p, lr, u in
                            zip(rows["pair"], rows["lr"], rows["u"], strict=True)]
    return rows


def _ordered(rows: pd.DataFrame, settings: list[str]) -> pd.DataFrame:
    rank = {p: i for i, p in enumerate(style.order(rows["pair"]))}
    return rows.assign(_s=rows["setting"].map(settings.index), _p=rows["pair"].map(rank)) \
        .sort_values(["_s", "_p", "lr"]).drop(columns=["_s", "_p"]).reset_index(drop=True)


def table_numbers(rows: pd.DataFrame) -> pd.DataFrame:
    """tables/lr_scaling.csv: one row per run, exactly :data:`COLUMNS`."""
    numbers = pd.DataFrame({
        "setting": rows["setting"], "pair": rows["pair"], "lr": rows["lr"],
        "effective_lr": rows["effective_lr"], "steps_mean": rows["mean"],
        "steps_low": rows["ci_low"], "steps_high": rows["ci_high"], "reached": rows["n"],
        "seeds": rows["seeds"]})
    return tables.rounded_numbers(numbers)[COLUMNS]


def _shown(rows: pd.DataFrame) -> pd.DataFrame:
    """The table as REPORT.md shows it: one row per setting and pair, a column per η."""
    def steps(r) -> str:
        if not r["n"]:
            return f"— (0/{int(r['seeds'])})"
        reach = f" ({int(r['n'])}/{int(r['seeds'])})" if r["n"] < r["seeds"] else ""
        return number(r["mean"], steps=True) + reach

    shown = rows.assign(cell=rows.apply(steps, axis=1))
    wide = shown.pivot_table(index=["setting", "pair"], columns="lr", values="cell",
                             aggfunc="first", sort=False)
    wide.columns = [f"η = {value(lr)}" for lr in wide.columns]
    return wide.reset_index()


def draw(doc: Document, exp: Experiment) -> str:
    table, settings = _with_settings(exp.table)
    rows = _ordered(runs(table), settings)
    target = exp.target
    doc.text(f"{table['run'].nunique()} configurations, {len(table)} seeds"
             + (f" ({exp.lost()})" if exp.lost() else "") + f". Steps: mini-batch updates "
             f"until test accuracy first reaches {target}, geometric mean and 95 % interval "
             "over the seeds that reached it.")
    doc.figure(_steps_figure(rows, settings, target), "lr_scaling",
               f"lr_scaling: updates to {target} against η. Cross-entropy and BCE at their η; "
               "squared error at its own η (thin, hollow) and at its effective η, η/K "
               "softmax (K classes) or η/4 sigmoid (thick, filled), where the step-size account "
               "puts it on the log-loss's curve. × at the top: a run none of whose seeds "
               "reached the target (squared error's at its effective η); 2/5: the seeds a "
               "point stands on, when not all.")
    doc.table(_shown(rows), table_numbers(rows), "lr_scaling",
              f"Updates to {target} per setting, pair and η: geometric mean over the seeds that "
              "reached it (how many, when not all; — none did); the CSV has the interval and "
              "each run's effective η")
    found = [scaling.setting(table[table["setting"] == s], exp.curves, s) for s in settings]
    found = [f for f in found if f is not None]
    if found:
        doc.figure(scaling.mechanism_figure(scaling.factor_panels(found, exp.curves), 3),
                   "lr_scaling_factor", "lr_scaling: " + scaling.FACTOR_CAPTION
                   + " From large initial weights a tenth of the examples pass back almost "
                   "nothing: saturation.")
    return _answer(found, target)


def _answer(found: list[dict], target: str) -> Answer:
    """Which settings a smaller step explains and which saturation (:mod:`..account`), and
    the facts the report's opening answer uses: squared error at η/u from a clean start
    (initial weights ×1), and where it stalled."""
    if not found:
        return Answer("No setting has both losses at an η and at η / u: nothing to compare.")
    clean = [f for f in found if not account.saturated(f) and f["scaled"]["n"]
             and float(f["table"]["init_scale"].max()) == 1]
    return Answer(account.words(found, target),
                  scaled=[float(f["scaled"]["mean"]) for f in clean],
                  stall=account.stall([f for f in found if account.saturated(f)]))


def _steps_figure(rows: pd.DataFrame, settings: list[str], target: str):
    """One panel per setting: steps to target against η (log-losses; squared error thin) and
    against the effective η (squared error thick)."""
    ncols = min(3, len(settings))
    nrows = -(-len(settings) // ncols)
    reached = rows[rows["mean"].notna()]
    high = reached["ci_high"].fillna(reached["mean"]).max() if len(reached) else 1000
    low = reached["mean"].min() if len(reached) else 1
    # a grey strip above the data holds the × of the runs that did not reach the target
    rows = rows.copy()
    rows.attrs.update(low=low / 1.5, strip=high * 1.6, top=high * 4)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True,
                             figsize=(3.8 * ncols + 0.8, 2.9 * nrows + 1.0))
    for ax, name in zip(axes.flat, settings, strict=False):
        ax.axhspan(rows.attrs["strip"], rows.attrs["top"], color="0.93", lw=0, zorder=0)
        _steps_panel(ax, rows[rows["setting"] == name], np.sqrt(rows.attrs["strip"]
                                                               * rows.attrs["top"]))
        ax.set_title(name, fontsize=8.5)
    for ax in axes.flat[len(settings):]:
        ax.remove()
    for ax in axes[:, 0]:
        ax.set_ylabel(f"updates to {target}")
    for ax in axes.flat[max(len(settings) - ncols, 0):len(settings)]:
        ax.set_xlabel("η (effective η for squared error, thick)")
        ax.xaxis.set_tick_params(labelbottom=True)
    ax0 = axes[0, 0]
    ax0.set_xscale("log")
    ax0.set_yscale("log")
    ax0.set_ylim(rows.attrs["low"], rows.attrs["top"])
    ax0.xaxis.set_major_formatter(plots.PLAIN)
    ax0.xaxis.set_minor_formatter(NullFormatter())
    ax0.xaxis.set_major_locator(LogLocator())
    ax0.yaxis.set_major_locator(FixedLocator(_ticks(rows.attrs["low"], rows.attrs["strip"])))
    ax0.yaxis.set_major_formatter(plots.PLAIN)
    ax0.yaxis.set_minor_formatter(NullFormatter())
    extra = [Line2D([], [], color="0.3", lw=1, marker="o", mfc="white", ms=4,
                    label="squared error at its own η"),
             Line2D([], [], color="0.3", lw=2.2, marker="o", ms=4,
                    label="squared error at its effective η"),
             Line2D([], [], color="0.3", lw=0, marker="x", ms=6,
                    label="no seed reached the target (grey strip)")]
    plots.finish(fig, rows["pair"], extra)
    return fig


def _ticks(low: float, high: float) -> list[float]:
    """1, 2, 5 × 10^k from ``low`` to ``high``."""
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    return [m * 10.0 ** k for k in decades for m in (1, 2, 5) if low <= m * 10.0 ** k <= high]


def _steps_panel(ax, rows: pd.DataFrame, missed_at: float) -> None:
    """A setting's runs: each pair's steps against η, squared error's also against its
    effective η; runs that no seed reached the target in as × at ``missed_at`` (the strip)."""
    for pair in style.order(rows["pair"]):
        s = rows[rows["pair"] == pair].sort_values("lr")
        look, mark = style.line(pair), style.marker(pair)
        squared = style.loss(pair) == aggregate.SQUARED
        if squared:  # at its own η: thin and hollow, no interval (the same runs as thick)
            ax.plot(s["lr"], s["mean"], lw=1, marker=mark, ms=4, mfc="white",
                    **{**look, "label": None})
        x = s["effective_lr"]
        ax.errorbar(x, s["mean"], yerr=plots.errors(s), marker=mark, ms=4, capsize=2,
                    lw=2.2 if squared else 1.5, **look)
        missed = s[s["n"] == 0]
        if len(missed):  # (an empty line's markers would sit at the figure's corner)
            ax.plot(missed["effective_lr"], np.full(len(missed), missed_at), lw=0, marker="x",
                    ms=6, color=look["color"])
        for _, r in s[(s["n"] > 0) & (s["n"] < s["seeds"])].iterrows():
            ax.annotate(f"{int(r['n'])}/{int(r['seeds'])}", (r["effective_lr"], r["mean"]),
                        xytext=(3, 3), textcoords="offset points", fontsize=6.5,
                        color=look["color"])
