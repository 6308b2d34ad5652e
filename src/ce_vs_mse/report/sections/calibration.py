"""Calibration (Guo et al. 2017) of the models the label_noise runs trained: reliability
diagrams, ECE and Brier score per noise level for each loss at every η, at the shared η and at
its own η (chosen on validation); which loss leaves them better calibrated, or that the order
flips with η (ECE moves with η as much as with the loss); and where that agrees with Hu et
al. (NeurIPS 2022), who report square loss better calibrated."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .. import noise_levels, plots, style
from ..document import Document, percent
from ..experiment import Experiment
from ..headline import Answer
from ..noise_levels import Measure
from ..plots import Metric
from ..seeds import done

MIN_BIN = 10  # reliability points stand on at least this many test examples (pooled)


def _overconfidence(diagram: tuple) -> float:
    """Mean confidence minus accuracy over the test split: > 0 overconfident."""
    count, confidence, correct = (np.asarray(v, dtype=float) for v in diagram)
    return (confidence.sum() - correct.sum()) / count.sum()


ECE = Measure("ece", "test ECE", "lower test ECE", lower=True, column="final test/ece")
BRIER = Measure("brier", "test Brier score", "lower test Brier score", lower=True,
                column="final test/brier")
OVER = Measure("over", "confidence − accuracy", "", column="overconfidence")
ACC = Measure("acc", "final test accuracy", "higher final test accuracy",
              column="final test/accuracy")


def draw(doc: Document, exp: Experiment) -> str:
    seeds = done(exp.table).dropna(subset=["reliability"])
    if seeds.empty:
        doc.text("These runs record no reliability diagram (trained before it was logged); "
                 "rerun them.")
        return "no reliability diagrams in these runs."
    found = noise_levels.settings(exp.table)
    for own in (True, False):
        _reliability(doc, seeds, found, own)
    doc.figure(noise_levels.panels(exp, [
        Metric("test/ece", "test ECE (15 bins)", bounds=(0, 1)),
        Metric("test/brier", "test Brier score Σ(p-y)²", bounds=(0, 2))], found),
        "calibration_over_training",
        "calibration: expected calibration error and Brier score on the test split per "
        "epoch, mean over seeds with 95 % band; the upper rows at the shared η, the lower "
        "ones with each loss at its own η (chosen on validation accuracy).")
    seeds = seeds.assign(overconfidence=seeds["reliability"].map(_overconfidence))
    noise_levels.draw(doc, "calibration", seeds, found, [ECE, BRIER, OVER, ACC],
                      [ECE, BRIER, ACC], "Calibration of the trained models on the test "
                      "split, for each loss at every η: ECE, Brier score, mean confidence minus "
                      "accuracy (> 0: overconfident) and final test accuracy, mean [95 % "
                      "interval] over seeds")
    return _answer(seeds, found)


def _reliability(doc: Document, seeds: pd.DataFrame, found: dict, own: bool) -> None:
    """The reliability diagram of each noise level, pooled over the seeds of each loss at its
    own η (``own``) or at the shared η, over the share of test examples in each confidence
    bin."""
    picks = {noise: next((s for s in noise_levels.pictured(at) if (s.chosen is not None) == own),
                         None) for noise, at in found.items()}
    picks = {noise: s for noise, s in picks.items() if s is not None}
    if not picks:
        return
    fig, axes = plt.subplots(2, len(picks), figsize=(3.4 * len(picks) + 0.8,
                                                     6.3 + plots.LEGEND_INCHES),
                             sharex=True, sharey="row", squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3]})
    for j, (noise, setting) in enumerate(sorted(picks.items())):
        for k, (pair, run) in enumerate(setting.runs.items()):
            count, confidence, correct = (np.sum([np.asarray(d[i], dtype=float) for d in
                                                  seeds.loc[seeds["run"] == run, "reliability"]],
                                                 axis=0) for i in range(3))
            bins = len(count)
            centre = (np.arange(bins) + 0.5) / bins
            full = count >= MIN_BIN  # a bin of a few examples says little
            axes[0, j].plot(confidence[full] / count[full], correct[full] / count[full],
                            marker=style.marker(pair), ms=4, lw=1.5, **style.line(pair))
            axes[1, j].bar(centre + (k - 0.5) * 0.4 / bins, count / count.sum(),
                           width=0.4 / bins, **style.bar(pair))
        axes[0, j].plot([0, 1], [0, 1], color=style.NEUTRAL[1], lw=1, ls=":")
        axes[0, j].set_title(plots.wrap(f"{percent(noise)} of training labels wrong, "
                                        + setting.short(), 48), fontsize=8.5)
        axes[1, j].set_xlabel("confidence (top-class probability)")
    axes[0, 0].set_ylabel("accuracy in the bin")
    axes[1, 0].set_ylabel("share of test examples")
    axes[0, 0].set_xlim(0, 1)
    axes[0, 0].set_ylim(0, 1)
    plots.finish(fig, seeds["pair"], [Line2D([], [], color=style.NEUTRAL[1], ls=":",
                                             label="perfect calibration")])
    bins = len(seeds["reliability"].iloc[0][0])
    doc.figure(fig, "calibration_reliability" + ("" if own else "_shared"),
               "calibration: reliability diagrams of the trained models on the test split, "
               + ("each loss at its own η (chosen on validation accuracy)" if own else
                  "both losses at the shared η")
               + f" ({bins} equal-width confidence bins, pooled over seeds): the accuracy of "
               "the examples in each bin against their mean confidence (below the diagonal: "
               f"overconfident; bins of fewer than {MIN_BIN} examples are not drawn), and "
               "below, how the test examples spread over the bins.")


def _answer(seeds: pd.DataFrame, found: dict) -> Answer:
    """Which loss has the lower ECE at every η, or where the order flips; where Hu et al.
    (2022) hold. (The Brier score's order and each loss's own η are in the tables.)"""
    ece = noise_levels.verdicts(seeds, found, ECE)
    if not ece:
        return Answer("No cross-entropy and squared-error runs to compare.")
    winners = {v.winner for v in ece.values()}
    flips = any(v.flips for v in ece.values())
    lead = (f"{winners.pop().capitalize()}, at every η and noise level" if len(winners) == 1
            and None not in winners else
            "Neither loss at every η: which one has the lower test ECE flips with η" if flips
            else "Neither loss at every η")
    return Answer(" ".join(t for t in (f"{lead}.", noise_levels.summary(ece, ECE),
                                       noise_levels.hu(ece, found, "better calibrated", ECE))
                           if t), flips=flips)
