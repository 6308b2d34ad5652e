"""The number of classes (Demirkaya, Chen & Oymak 2020; Hui & Belkin 2021): per K, squared
error's steps to target over cross-entropy's at the shared η, with squared error's η scaled
by K (the step-size prediction, :mod:`..scaling`), and Hui & Belkin's rescaled square loss
at its own η, chosen on the validation split; and the factor squared error trained with."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, NullFormatter

from .. import aggregate, gap, plots, scaling, style, tables, tuning
from ..document import Document, number
from ..experiment import Experiment
from ..headline import Answer, rough
from ..tables import value

COLUMNS = ["K", "comparison", "ratio_mean", "ratio_low", "ratio_high", "seeds"]
SHARED, SCALED, RESCALED = ("squared error at the shared η", "squared error at K·η",
                            "rescaled square loss at its validation η")


def comparisons(table: pd.DataFrame, curves: pd.DataFrame) -> list[dict]:
    """Per K (``n_classes``), each comparison against cross-entropy at the shared η: the
    ratio (:func:`.scaling.compare`), the η of the slower run, and for squared error at K·η
    the factor it trained with (:func:`.scaling.factor`)."""
    out = []
    for k, at in table.groupby("n_classes", sort=True):
        pairs = style.order(at["pair"])
        ce = next((p for p in pairs if style.family(p) == "cross-entropy"), None)
        sq = next((p for p in pairs if style.loss(p) == aggregate.SQUARED), None)
        if ce is None or sq is None:
            continue
        u = scaling.uniform(at[at["pair"] == sq])
        lr0 = scaling.matched(at["lr"].unique(), u)
        if lr0 is None:
            continue
        base = scaling.run_at(at, ce, lr0)
        scaled = scaling.run_at(at, sq, lr0 / u)
        rows = [{"comparison": SHARED, "pair": sq, "lr": lr0,
                 **scaling.compare(at, scaling.run_at(at, sq, lr0), base)},
                {"comparison": SCALED, "pair": sq, "lr": lr0 / u,
                 **scaling.compare(at, scaled, base),
                 "factor": scaling.factor(at, curves, scaled)}]
        rows += _rescaled(at, base)
        out += [{"K": int(k), "shared_lr": lr0, **r} for r in rows]
    return out


def _rescaled(at: pd.DataFrame, base: str) -> list[dict]:
    """The rescaled square loss at the η the validation split chose (:func:`.tuning.choose`),
    against cross-entropy's run ``base``; none without such runs or a validation split."""
    own = at[at["pair"].map(style.family) == "rescaled square"]
    if own.empty or not tuning.has_validation(own):
        return []
    choice, pair = tuning.choose(own), style.order(own["pair"])[0]
    if choice.empty:
        return [{"comparison": RESCALED, "pair": pair, "lr": np.nan, "bracketed": False,
                 **scaling.compare(at, None, base), "unchosen": True}]
    pick = choice.iloc[0]
    return [{"comparison": RESCALED, "pair": pick["pair"], "lr": pick["lr"],
             "bracketed": bool(pick["bracketed"]), **scaling.compare(at, pick["run"], base)}]


def table_numbers(found: list[dict]) -> pd.DataFrame:
    """tables/classes.csv: one row per K and comparison, exactly :data:`COLUMNS`; ``seeds``:
    the seeds where both runs reached the target (the ratio stands on them)."""
    numbers = pd.DataFrame({
        "K": [f["K"] for f in found], "comparison": [f["comparison"] for f in found],
        "ratio_mean": [f["mean"] for f in found], "ratio_low": [f["ci_low"] for f in found],
        "ratio_high": [f["ci_high"] for f in found], "seeds": [f["n"] for f in found]})
    return tables.rounded_numbers(numbers)[COLUMNS]


def _eta(f: dict) -> str:
    if f.get("unchosen"):
        return "none reached it on validation"
    edge = "" if f.get("bracketed", True) else " (grid edge: not bracketed)"
    return f"{value(f['lr'])}{edge}"


def _shown(found: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "K": [f["K"] for f in found], "comparison": [f["comparison"] for f in found],
        "its η": [_eta(f) for f in found],
        "steps ratio": [scaling.short(f)
                        for f in found],
        "seeds": [f"both reached {f['n']}/{f['seeds']}" for f in found]})


def draw(doc: Document, exp: Experiment) -> str:
    found = comparisons(exp.table, exp.curves)
    target = exp.target
    doc.text(f"{exp.table['run'].nunique()} configurations, {len(exp.table)} seeds"
             + (f" ({exp.lost()})" if exp.lost() else "") + f". Each ratio: steps to "
             f"{target} test accuracy of the run named over those of cross-entropy at the "
             "shared η, per seed, geometric mean and 95 % interval over the seeds where both "
             "reached it (no interval from fewer than 3).")
    if not found:
        doc.text("No K has cross-entropy and squared error at an η and at K·η.")
        return Answer("No K has both losses at an η and at K·η: nothing to compare.")
    doc.figure(_figure(found, target), "classes",
               f"classes: left, steps to {target} over cross-entropy's at the shared η "
               f"(η = {value(found[0]['shared_lr'])}), per seed, against the number of "
               "classes K; dashed: ratio = K, what the 1/K factor predicts at a shared η; "
               "dotted: ratio = 1. × in the grey strip: no seed where both reached the "
               "target. Right: the factor squared error trained with at K·η, its gradient at "
               "z over cross-entropy's (mean over training examples and its 10th percentile), "
               "averaged until the target, over its uniform value 1/K (dotted: 1).")
    doc.table(_shown(found), table_numbers(found), "classes",
              f"Steps to {target}, the run named over cross-entropy at the shared η, per "
              "seed: geometric mean [95 % interval] over the seeds where both reached it")
    return _answer(exp.table, found, target)


def _answer(table: pd.DataFrame, found: list[dict], target: str) -> Answer:
    """Three parts, as the question: whether the lag at a shared η grows with K (its ends),
    whether squared error at K·η is told apart from cross-entropy, where the rescaled loss at
    its own η stands; then what the factor shows is left, and how few updates the ratios at
    small K stand on. The intervals are in the table."""
    df = pd.DataFrame(found)
    lr0 = df["shared_lr"].iloc[0]
    shared = df[(df["comparison"] == SHARED) & (df["n"] > 0)]
    scaled = df[df["comparison"] == SCALED]
    parts = []
    if len(shared) > 1:
        grows = gap.grows(list(shared["mean"]))
        parts.append(f"At the shared η = {value(lr0)} squared error's lag "
                     f"{'grows with K' if grows else 'does not grow steadily with K'}: it "
                     f"needed {rough(shared['mean'].iloc[0])}× cross-entropy's updates to "
                     f"{target} at K = {shared['K'].iloc[0]} and "
                     f"{rough(shared['mean'].iloc[-1])}× at K = {shared['K'].iloc[-1]}")
    parts.append("with its η scaled by K it " + _told(scaled))
    rescaled = df[df["comparison"] == RESCALED]
    if len(rescaled):
        parts.append("the rescaled square loss at its own η " + _told(rescaled))
    left = _left([f[0] for f in scaled["factor"]], [f[1] for f in scaled["factor"]],
                 scaled["K"].tolist())
    ce = aggregate.by_run(table[(table["pair"].map(style.family) == "cross-entropy")
                                & np.isclose(table["lr"], lr0)], "steps_to_target")
    few = (f" Cross-entropy at η = {value(lr0)} needs {number(ce['mean'].min(), steps=True)} "
           f"to {number(ce['mean'].max(), steps=True)} updates, so a ratio at small K stands "
           "on a few whole updates." if ce["mean"].notna().any() else "")
    text = "; ".join(parts)
    return Answer(f"{text[0].upper()}{text[1:]}. What is left is {left}.{few}",
                  by_k=[(int(k), float(m)) for k, m in zip(shared["K"], shared["mean"],
                                                           strict=True)],
                  grows=len(shared) > 1 and gap.grows(list(shared["mean"])),
                  scaled=[float(m) for m in scaled.loc[scaled["n"] > 0, "mean"]])


def _told(rows: pd.DataFrame) -> str:
    """``is told apart from cross-entropy at no K (no difference detected at K = 2, 5, 10)``,
    or where it is slower or faster: a comparison's verdict per K, in words."""
    by: dict[str, list[str]] = {}
    for _, r in rows.iterrows():
        if not r["n"] or r["n"] < aggregate.MIN_SEEDS:
            what = "too few seeds for an interval"
        elif r["ci_low"] > 1:
            what = "slower"
        elif r["ci_high"] < 1:
            what = "faster"
        else:
            what = "no difference detected"
        by.setdefault(what, []).append(str(r["K"]))
    if set(by) <= {"no difference detected", "too few seeds for an interval"}:
        lead = "is not told apart from cross-entropy at any K"
    else:
        lead = "is " + " and ".join(f"{w} than cross-entropy at K = {', '.join(ks)}"
                                    for w, ks in by.items() if w in ("slower", "faster"))
    rest = [f"{w} at K = {', '.join(ks)}" for w, ks in by.items()
            if w not in ("slower", "faster")]
    return lead + (f" ({'; '.join(rest)})" if rest else "")


def _left(means: list[float], q10s: list[float], ks: list[int]) -> str:
    """What the factor at K·η shows, over all K in one clause when all are read alike (the
    lowest 10th percentile as the one number), else per K."""
    kinds = {scaling.saturated(q) for q in q10s}
    if len(kinds) == 1 and all(np.isfinite(means)):
        if kinds == {True}:
            return ("saturation: even at K·η a tenth of the training examples passed back "
                    f"under {number(max(q10s))}× their uniform share 1/K")
        return ("a step size, not saturation: the factor squared error trained with at K·η "
                "stayed near or above its uniform value 1/K (its tenth most saturated examples at "
                f"{rough(min(q10s))}× of it or more)")
    return "; ".join(f"K = {k}: " + scaling.factor_text(m, q, f"1/{k}")
                     for m, q, k in zip(means, q10s, ks, strict=True))


LOOKS = {SHARED: {"lw": 1.0, "mfc": "white"}, SCALED: {"lw": 2.2}, RESCALED: {"lw": 1.5}}


def _figure(found: list[dict], target: str):
    """Left: each comparison's ratio against K (log-log) with ratio = K and ratio = 1;
    right: squared error's factor at K·η over 1/K against K."""
    df = pd.DataFrame(found)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.9 + plots.LEGEND_INCHES),
                                      gridspec_kw={"width_ratios": [3, 2]})
    _ratios(left, df, target)
    _factors(right, df[df["comparison"] == SCALED])
    ks = sorted(df["K"].unique())
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("number of classes K")
    extra = [Line2D([], [], color="0.3", marker="o", ms=5, mfc="white", lw=1.0, label=SHARED),
             Line2D([], [], color="0.3", marker="o", ms=5, lw=2.2, label=SCALED),
             Line2D([], [], **{**plots.REFERENCE, "ls": "--"}, label="ratio = K")]
    if (df["n"] == 0).any():
        extra.append(Line2D([], [], color="0.3", lw=0, marker="x", ms=6,
                            label="no seed where both reached it"))
    plots.finish(fig, df["pair"], extra)
    return fig


def _ratios(ax, df: pd.DataFrame, target: str) -> None:
    """Each comparison's ratio against K, with ratio = K (dashed) and ratio = 1 (dotted); a
    K where no seed pairs up as × in a grey strip at the top."""
    ks = sorted(df["K"].unique())
    reached = df[df["n"] > 0]
    high = max([max(ks), *reached["ci_high"].fillna(reached["mean"])])
    low = min([1, *reached["mean"]])
    strip, top = (high * 1.8, high * 4) if (df["n"] == 0).any() else (high * 1.3, high * 1.3)
    if strip < top:  # a grey strip for the × of the K where no seed pairs up
        ax.axhspan(strip, top, color="0.93", lw=0, zorder=0)
    for i, name in enumerate((SHARED, SCALED, RESCALED)):
        at = df[df["comparison"] == name]
        if at.empty:
            continue
        pair = at["pair"].iloc[0]
        x = at["K"] * (1 + 0.05 * (i - 1))  # side by side, not on top of each other
        ax.errorbar(x, at["mean"], yerr=plots.errors(at), marker=style.marker(pair), ms=5,
                    capsize=2, **{**style.line(pair), **LOOKS[name]})
        missed = (at["n"] == 0).to_numpy()
        if missed.any():
            ax.plot(x[missed], np.full(missed.sum(), np.sqrt(strip * top)), lw=0, marker="x",
                    ms=6, color=style.colour(pair))
    ax.plot(ks, ks, **{**plots.REFERENCE, "ls": "--"})
    ax.axhline(1, **plots.REFERENCE)
    ax.set_yscale("log")
    ax.set_ylim(low / 1.5, top)
    ax.yaxis.set_major_locator(FixedLocator([m * 10.0 ** e for e in range(-1, 4)
                                             for m in (1, 2, 5)
                                             if low / 1.5 <= m * 10.0 ** e <= strip]))
    ax.yaxis.set_major_formatter(plots.PLAIN)
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel(f"steps to {target} / cross-entropy's")
    ax.set_title(f"over cross-entropy at η = {value(df['shared_lr'].iloc[0])}, per seed",
                 fontsize=8.5)


def _factors(ax, scaled: pd.DataFrame) -> None:
    """Squared error's factor at K·η over 1/K, averaged until the target: the mean over
    training examples (filled) and their 10th percentile (hollow), against K."""
    look = {**style.line(scaled["pair"].iloc[0]), "label": None}
    for j, (name, fill, width) in enumerate((("mean over examples", None, 2.2),
                                             ("10th percentile", "white", 1.0))):
        ax.plot(scaled["K"], [f[j] for f in scaled["factor"]], marker="o", ms=5, lw=width,
                mfc=fill, **{**look, "label": name})
    ax.axhline(1, **plots.REFERENCE)
    ax.set_yscale("log")
    ax.set_ylabel("factor / (1/K), until the target")
    ax.set_title(f"{SCALED}: its factor", fontsize=8.5)
    ax.legend(loc="best", fontsize=7.5, frameon=False)
    plots.log_ticks(ax)
