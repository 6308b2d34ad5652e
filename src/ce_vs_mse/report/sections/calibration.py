"""Calibration (Guo et al. 2017) of the models the label_noise runs trained: reliability
diagrams, ECE and Brier score per noise level, and which loss leaves them better calibrated."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .. import noise_levels, plots, style
from ..document import Document, percent
from ..experiment import Experiment
from ..plots import Metric
from ..seeds import done
from ..tables import cell

MIN_BIN = 10  # reliability points stand on at least this many test examples (pooled)


def _overconfidence(diagram: tuple) -> float:
    """Mean confidence minus accuracy over the test split: > 0 overconfident."""
    count, confidence, correct = (np.asarray(v, dtype=float) for v in diagram)
    return (confidence.sum() - correct.sum()) / count.sum()


def draw(doc: Document, exp: Experiment) -> str:
    seeds = done(exp.table).dropna(subset=["reliability"])
    if seeds.empty:
        doc.text("These runs record no reliability diagram (trained before it was logged); "
                 "rerun them.")
        return "no reliability diagrams in these runs."
    levels = sorted(seeds["label_noise"].unique())
    _reliability(doc, seeds, levels)
    doc.figure(noise_levels.panels(exp, [
        Metric("test/ece", "test ECE (15 bins)", bounds=(0, 1)),
        Metric("test/brier", "test Brier score Σ(p-y)²", bounds=(0, 2))]),
        "calibration_over_training",
        "calibration: expected calibration error and Brier score on the test split per "
        "epoch, mean over seeds with 95 % band.")
    seeds = seeds.assign(overconfidence=seeds["reliability"].map(_overconfidence))
    df = noise_levels.per_noise(seeds, {"ece": "final test/ece", "brier": "final test/brier",
                                        "over": "overconfidence", "acc": "final test/accuracy"})
    shown = pd.DataFrame({"wrong labels": df["noise"].map(percent), "pair": df["pair"],
                          "test ECE": df["ece"].map(cell), "test Brier": df["brier"].map(cell),
                          "confidence − accuracy": df["over"].map(cell),
                          "test accuracy": df["acc"].map(cell),
                          "seeds": [str(v["n"]) for v in df["ece"]]})
    doc.table(shown, noise_levels.numbers(df, ("ece", "brier", "over", "acc")), "calibration",
              "Calibration of the trained models on the test split: ECE, Brier score, and "
              "mean confidence minus accuracy (> 0: overconfident), mean [95 % interval] over "
              "seeds")
    return _answer(df, levels)


def _reliability(doc: Document, seeds: pd.DataFrame, levels: list[float]) -> None:
    """The reliability diagram of each noise level, pooled over seeds, over the share of test
    examples in each confidence bin."""
    fig, axes = plt.subplots(2, len(levels), figsize=(3.4 * len(levels) + 0.8,
                                                      6 + plots.LEGEND_INCHES),
                             sharex=True, sharey="row", squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3]})
    for j, noise in enumerate(levels):
        at = seeds[seeds["label_noise"] == noise]
        for k, pair in enumerate(style.order(at["pair"])):
            count, confidence, correct = (np.sum([np.asarray(d[i], dtype=float) for d in
                                                  at.loc[at["pair"] == pair, "reliability"]],
                                                 axis=0) for i in range(3))
            bins = len(count)
            centre = (np.arange(bins) + 0.5) / bins
            full = count >= MIN_BIN  # a bin of a few examples says little
            axes[0, j].plot(confidence[full] / count[full], correct[full] / count[full],
                            marker=style.marker(pair), ms=4, lw=1.5, **style.line(pair))
            axes[1, j].bar(centre + (k - 0.5) * 0.4 / bins, count / count.sum(),
                           width=0.4 / bins, **style.bar(pair))
        axes[0, j].plot([0, 1], [0, 1], color=style.NEUTRAL[1], lw=1, ls=":")
        axes[0, j].set_title(f"{percent(noise)} of training labels wrong", fontsize=8.5)
        axes[1, j].set_xlabel("confidence (top-class probability)")
    axes[0, 0].set_ylabel("accuracy in the bin")
    axes[1, 0].set_ylabel("share of test examples")
    axes[0, 0].set_xlim(0, 1)
    axes[0, 0].set_ylim(0, 1)
    plots.finish(fig, seeds["pair"], [Line2D([], [], color=style.NEUTRAL[1], ls=":",
                                             label="perfect calibration")])
    bins = len(seeds["reliability"].iloc[0][0])
    doc.figure(fig, "calibration_reliability", f"calibration: reliability diagrams of the "
               f"trained models on the test split ({bins} equal-width confidence bins, pooled "
               "over seeds): the accuracy of the examples in each bin against their mean "
               f"confidence (below the diagonal: overconfident; bins of fewer than {MIN_BIN} "
               "examples are not drawn), and below, how the test "
               "examples spread over the bins.")


def _answer(df: pd.DataFrame, levels: list[float]) -> str:
    """Per noise level, which loss's ECE interval lies wholly below the other's."""
    parts, better = [], []
    for noise in levels:
        w = noise_levels.by_loss(df, noise)
        if not {"ce", "mse"} <= set(w.index):
            continue
        ce, sq = w.loc["ce"], w.loc["mse"]
        parts.append(f"{percent(noise)} wrong labels: ECE cross-entropy {cell(ce['ece'])} "
                     f"(confidence − accuracy {cell(ce['over'])}; Brier {cell(ce['brier'])}), "
                     f"squared error {cell(sq['ece'])} ({cell(sq['over'])}; Brier "
                     f"{cell(sq['brier'])})")
        better.append(f"{percent(noise)}: " + (
            "cross-entropy" if ce["ece"]["ci_high"] < sq["ece"]["ci_low"] else
            "squared error" if sq["ece"]["ci_high"] < ce["ece"]["ci_low"] else "neither"))
    summary = ", ".join(better)
    return f"Better calibrated (lower ECE, intervals apart) — {summary}. " + "; ".join(parts) + "."
