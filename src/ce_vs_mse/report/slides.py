"""Slides a teacher can drop into a lecture: 16:9 PNGs in ``figures/slides/``, large type,
each curve named beside it instead of in a legend, one idea each.

1. error × slope: what each loss passes back at z (closed forms, no runs);
2. Nielsen's bad-start neuron stalls with squared error (gradient descent on the closed forms);
3. at a shared η squared error is slower, about K times; at its own η × K the gap closes (the
   ``classes`` runs);
4. when saturation is real: initial weights ×10 (the ``saturation`` runs).

A slide whose runs are absent is left out (and an older copy of it removed).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullLocator

from ..store.files import write_atomic
from . import aggregate, plots, seeds, style
from .sections import classes, mechanism

SIZE, DPI = (16, 9), 120  # 1920 × 1080 pixels
LOOK = {"font.size": 22, "axes.titlesize": 28, "axes.labelsize": 22, "xtick.labelsize": 20,
        "ytick.labelsize": 20, "lines.linewidth": 4, "axes.grid": True}
NAMES = ("1_error_times_slope", "2_neuron_stalls", "3_shared_or_own_eta", "4_saturation")


def _label(ax, x: float, y: float, text: str, pair: str | None = None, **kw) -> None:
    """A curve's name, written beside it in its colour (a slide has no legend)."""
    kw.setdefault("color", style.colour(pair) if pair else style.NEUTRAL[0])
    ax.annotate(text, (x, y), fontsize=kw.pop("fontsize", 22), **kw)


def error_times_slope():
    """|∂ℓ/∂z| for a true label against z: cross-entropy passes back the error, squared error
    through a sigmoid the error times the slope, which vanishes where the unit is wrong."""
    z = np.linspace(-8, 8, 641)
    fig, ax = plt.subplots(figsize=SIZE)
    ce = mechanism.wrong_label_gradient(z, "sigmoid", "bce")
    sq = mechanism.wrong_label_gradient(z, "sigmoid", "mse")
    ax.plot(z, ce, **style.line("sigmoid+bce"))
    ax.plot(z, sq, **style.line("sigmoid+mse"))
    ax.axvspan(z[0], 0, color=style.NEUTRAL[1], alpha=0.12, lw=0)
    _label(ax, -7.8, 1.4, "cross-entropy: the error |a − y|", "sigmoid+bce")
    _label(ax, -7.8, 1.2e-4, "squared error: error × slope σ′(z)", "sigmoid+mse", va="top")
    _label(ax, -7.8, 1.3e-5, "output wrong (label 1)", color="0.35", fontsize=20)
    i = int(np.argmin(np.abs(z + 6)))  # a confident mistake, where the labels leave room
    _label(ax, z[i] + 0.3, sq[i] / 3, f"at z = {z[i]:g}: {sq[i]:.1g}, {ce[i] / sq[i]:.0f}× less "
           "than cross-entropy", "sigmoid+mse", fontsize=20, va="top")
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 5)
    ax.set_xlabel("pre-activation z of the output (label y = 1)")
    ax.set_ylabel("|∂ℓ/∂z|: what the loss passes back")
    ax.set_title("Squared error passes back the error × the slope")
    return fig


def neuron_stalls():
    """Nielsen's neuron from a bad start (a ≈ 0.98, target 0), both costs at η = 0.15."""
    fig, ax = plt.subplots(figsize=SIZE)
    for loss, words in (("bce", "cross-entropy"), ("mse", "squared error")):
        a = mechanism.neuron_descent(loss)
        pair = f"sigmoid+{loss}"
        ax.plot(np.arange(len(a)), a, **style.line(pair))
        at = mechanism.below_half(a)
        ax.plot(at, a[at], "o", ms=14, color=style.colour(pair))
        left = at > len(a) / 2  # the label on the curve's open side
        _label(ax, at + (-10 if left else 10), a[at] + (0.1 if left else -0.12),
               f"{words}: correct after {at} epochs", pair, ha="right" if left else "left")
    ax.axhline(0.5, color=style.NEUTRAL[1], lw=2, ls=":")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("epoch (one gradient step)")
    ax.set_ylabel("output a (target 0)")
    ax.set_title(f"One neuron, badly started: squared error stalls (η = "
                 f"{mechanism.NEURON['lr']:g})")
    return fig


def _of(runs: aggregate.Runs, experiment: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table and curves of ``experiment``'s runs (empty when there are none)."""
    if not len(runs.table):
        return runs.table, runs.curves
    return (runs.table[runs.table["experiment"] == experiment],
            runs.curves[runs.curves["experiment"] == experiment])


def shared_or_own_eta(runs: aggregate.Runs):
    """Per number of classes K, squared error's steps to target over cross-entropy's, at the
    shared η and at η × K (:func:`.sections.classes.comparisons`); None without the runs."""
    table, curves = _of(runs, "classes")
    if table.empty:
        return None
    found = pd.DataFrame(classes.comparisons(seeds.done(table), curves))
    if found.empty or found["mean"].isna().all():
        return None
    fig, ax = plt.subplots(figsize=SIZE)
    pair = found["pair"].iloc[0]
    for what, lw, words in ((classes.SHARED, 4, "squared error, same η"),
                            (classes.SCALED, 2.5, "squared error, its own η × K")):
        rows = found[found["comparison"] == what].dropna(subset=["mean"])
        if rows.empty:
            continue
        ax.plot(rows["K"], rows["mean"], marker="o", ms=12, lw=lw, color=style.colour(pair),
                ls="-" if what == classes.SHARED else "--")
        last = rows.iloc[-1]
        _label(ax, last["K"] * 1.06, last["mean"],
               f"{words}:\n×{last['mean']:.2g} at K = {int(last['K'])}", pair, va="center")
    ks = np.array(sorted(found["K"].unique()), dtype=float)
    ax.plot(ks, ks, color=style.NEUTRAL[1], lw=2, ls=":")
    k = ks[max(len(ks) - 2, 0)]
    _label(ax, k, k * 1.5, "= K", color=style.NEUTRAL[1])
    ax.axhline(1, color=style.NEUTRAL[0], lw=1.5)
    _label(ax, ks[0], 0.93, "as fast as cross-entropy", fontsize=20, color="0.35", va="top")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ks, [f"{k:g}" for k in ks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(ks[0] / 1.3, ks[-1] * 4)
    ax.set_ylim(0.6, max(found["mean"].max(), ks[-1]) * 1.6)
    plots.log_ticks(ax)
    ax.set_xlabel("number of classes K")
    ax.set_ylabel("updates to target,\nsquared error ÷ cross-entropy")
    ax.set_title("A smaller step: at the same η squared error is ~K× slower")
    return fig


def saturation(runs: aggregate.Runs):
    """Test accuracy against updates for both losses from initial weights ×1 and ×10 (the
    ``saturation`` runs, mean over seeds); None without them."""
    table, curves = _of(runs, "saturation")
    scales = sorted(table["init_scale"].unique()) if len(table) else []
    if len(scales) < 2 or curves.empty:
        return None
    curves = seeds.done(curves)
    shown = (scales[0], scales[-1])
    fig, axes = plt.subplots(1, 2, figsize=SIZE, sharey=True)
    for ax, scale in zip(axes, shown, strict=True):
        at = curves.merge(table.loc[table["init_scale"] == scale, ["run", "seed"]])
        stats = aggregate.bands(at.dropna(subset=["test/accuracy"]), ["pair", "step"],
                                "test/accuracy")
        for pair in style.order(stats["pair"]):
            s = stats[stats["pair"] == pair]
            ax.plot(s["step"], s["mean"], **style.line(pair))
            words = "cross-entropy" if style.family(pair) == "cross-entropy" else "squared error"
            above = words == "cross-entropy"  # the faster curve's name above it, the other below
            _label(ax, s["step"].iloc[-1], s["mean"].iloc[-1] + (0.03 if above else -0.03),
                   words, pair, ha="right", va="bottom" if above else "top")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
        ax.set_title(f"initial weights ×{scale:g}")
        ax.set_xlabel("mini-batch updates")
    axes[0].set_ylabel("test accuracy")
    axes[0].set_ylim(0, 1.08)
    fig.suptitle("When saturation is real: large initial weights stall squared error",
                 fontsize=28)
    return fig


def write(runs: aggregate.Runs, out: Path) -> list[Path]:
    """Draw the slides into ``out/figures/slides/``; returns the PNGs written."""
    folder = out / "figures" / "slides"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with plt.rc_context(LOOK):
        makers = (error_times_slope, neuron_stalls, lambda: shared_or_own_eta(runs),
                  lambda: saturation(runs))
        for name, make in zip(NAMES, makers, strict=True):
            path = folder / f"{name}.png"
            fig = make()
            if fig is None:
                path.unlink(missing_ok=True)  # no runs: no slide, and no stale one
                continue
            fig.tight_layout()
            write_atomic(path, lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=DPI))
            plt.close(fig)
            written.append(path)
    return written
