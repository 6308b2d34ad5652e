"""Wrong training labels (Ghosh et al. 2017; Zhang & Sabuncu 2018): test accuracy (clean
labels) and training accuracy (noisy) per epoch, best against final test accuracy, for each
loss at every η it was trained at, at the shared η and at its own η (chosen on validation);
and whether squared error, a bounded loss, is more robust than cross-entropy at every η or
only at some (a loss that learns slower also fits the noise later)."""

from __future__ import annotations

import pandas as pd

from .. import noise_levels
from ..document import Document
from ..experiment import Experiment
from ..headline import Answer
from ..noise_levels import Measure
from ..plots import Metric
from ..seeds import done
from .standard import ACCURACY

TRAIN_ACCURACY = Metric("train/accuracy", "training accuracy (noisy labels)", bounds=(0, 1))
FINAL = Measure("final", "final test accuracy", "higher final test accuracy")
BEST = Measure("best", "best test accuracy", "higher best test accuracy")
DROP = Measure("drop", "best − final test accuracy", "a smaller fall from best to final",
               lower=True)
TRAINED = Measure("train", "final training accuracy (noisy)", "", column="final train/accuracy")


def _per_seed_best(exp: Experiment) -> pd.DataFrame:
    """Each done seed's best and final test accuracy (over its evaluations)."""
    evaluated = done(exp.curves).dropna(subset=["test/accuracy"])
    acc = evaluated.sort_values("step").groupby(["run", "seed"])["test/accuracy"]
    out = pd.DataFrame({"best": acc.max(), "final": acc.last()}).reset_index()
    out["drop"] = out["best"] - out["final"]
    return out.merge(exp.table[["run", "seed", "status", "pair", "label_noise", "lr",
                                "final train/accuracy"]], on=["run", "seed"])


def draw(doc: Document, exp: Experiment) -> str:
    found = noise_levels.settings(exp.table)
    doc.figure(noise_levels.panels(exp, [ACCURACY, TRAIN_ACCURACY], found),
               "label_noise_accuracy",
               "label_noise: test accuracy (clean labels) and training accuracy (against the "
               "noisy labels it is trained on) per epoch, mean over seeds with 95 % band; the "
               "upper rows at the shared η, the lower ones with each loss at its own η (by "
               "final validation accuracy; validation labels are as noisy as the training "
               "ones). A model that fits the wrong labels gains training accuracy and loses "
               "test accuracy.")
    seeds = _per_seed_best(exp)
    noise_levels.draw(doc, "label_noise", seeds, found, [BEST, FINAL, DROP, TRAINED],
                      [FINAL, BEST, DROP], "Best and final test accuracy under label noise "
                      "(test labels clean), the fall from best to final, and the final "
                      "training accuracy, for each loss at every η: mean [95 % interval] over "
                      "seeds")
    return _answer(seeds, found)


def _answer(seeds: pd.DataFrame, found: dict) -> Answer:
    """Whether squared error ends with the higher test accuracy under noise at every η, or
    where the order flips with η; the order of final accuracy and of the fall from best to
    final, per noisy level; where Hu et al. (2022) hold. (Best accuracy and each loss's own η
    are in the tables.)"""
    noisy = {n: s for n, s in found.items() if n > 0} or found
    final = noise_levels.verdicts(seeds, noisy, FINAL)
    if not final:
        return Answer("No cross-entropy and squared-error runs to compare.")
    winners = {v.winner for v in final.values()}
    flips = any(v.flips for v in final.values())
    lead = ("Squared error ends more accurate at every η and noise level"
            if winners == {"squared error"} else
            "Cross-entropy ends more accurate at every η and noise level"
            if winners == {"cross-entropy"} else
            "It depends on η more than on the loss: which one ends more accurate flips with η"
            if flips else "Only at some η: elsewhere no difference was detected")
    orders = [noise_levels.summary(noise_levels.verdicts(seeds, noisy, m), m)
              for m in (FINAL, DROP)]
    return Answer(" ".join(t for t in (f"{lead}.", *orders,
                                       noise_levels.hu(final, noisy, "more robust", FINAL))
                           if t), flips=flips)
