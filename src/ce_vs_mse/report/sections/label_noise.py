"""Wrong training labels (Ghosh et al. 2017; Zhang & Sabuncu 2018): test accuracy (clean
labels) and training accuracy (noisy) per epoch, best against final test accuracy, and whether
squared error, a bounded loss, is more robust than cross-entropy."""

from __future__ import annotations

import pandas as pd

from .. import noise_levels
from ..document import Document, percent
from ..experiment import Experiment
from ..plots import Metric
from ..seeds import done
from ..tables import cell
from .standard import ACCURACY

TRAIN_ACCURACY = Metric("train/accuracy", "training accuracy (noisy labels)", bounds=(0, 1))


def _per_seed_best(exp: Experiment) -> pd.DataFrame:
    """Each done seed's best and final test accuracy (over its evaluations)."""
    evaluated = done(exp.curves).dropna(subset=["test/accuracy"])
    acc = evaluated.sort_values("step").groupby(["run", "seed"])["test/accuracy"]
    out = pd.DataFrame({"best": acc.max(), "final": acc.last()}).reset_index()
    out["drop"] = out["best"] - out["final"]
    return out.merge(exp.table[["run", "seed", "pair", "label_noise",
                                "final train/accuracy"]], on=["run", "seed"])


def draw(doc: Document, exp: Experiment) -> str:
    doc.figure(noise_levels.panels(exp, [ACCURACY, TRAIN_ACCURACY]), "label_noise_accuracy",
               "label_noise: test accuracy (clean labels) and training accuracy (against the "
               "noisy labels it is trained on) per epoch, mean over seeds with 95 % band. A "
               "model that fits the wrong labels gains training accuracy and loses test "
               "accuracy.")
    df = noise_levels.per_noise(_per_seed_best(exp), {k: k for k in (
        "best", "final", "drop", "final train/accuracy")})
    shown = pd.DataFrame({"wrong labels": df["noise"].map(percent), "pair": df["pair"],
                          "best test accuracy": df["best"].map(cell),
                          "final test accuracy": df["final"].map(cell),
                          "best − final": df["drop"].map(cell),
                          "final training accuracy (noisy)":
                              df["final train/accuracy"].map(cell),
                          "seeds": [str(b["n"]) for b in df["best"]]})
    doc.table(shown, noise_levels.numbers(df, ("best", "final", "drop")), "label_noise",
              "Best and final test accuracy under label noise (test labels clean), and the "
              "fall from best to final: mean [95 % interval] over seeds")
    highest = df["noise"].max()
    top = noise_levels.by_loss(df, highest)
    if not {"ce", "mse"} <= set(top.index):
        return "no cross-entropy and squared-error runs to compare."
    ce, sq = top.loc["ce"], top.loc["mse"]
    robust = sq["final"]["ci_low"] > ce["final"]["ci_high"]
    return (f"{'Yes' if robust else 'No'}: with {percent(highest)} of training labels "
            f"wrong, cross-entropy ends at {cell(ce['final'])} test accuracy after a best "
            f"of {cell(ce['best'])} (a fall of {cell(ce['drop'])}), squared error at "
            f"{cell(sq['final'])} after {cell(sq['best'])} (a fall of {cell(sq['drop'])}).")
