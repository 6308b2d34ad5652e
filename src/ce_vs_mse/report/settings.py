"""Sections on the settings in which people choose a loss: Nielsen's MNIST network, depth,
the optimizer, noisy labels, and what each loss does to the model's probabilities.

Each is a ``draw(doc, exp) -> answer`` for :mod:`.sections`; every number in an answer is
computed from the runs, with a 95 % Student-t interval over seeds.
"""

from __future__ import annotations

import ast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullFormatter

from . import aggregate, gap, grad_norms, plots, seeds, style, tables
from .document import Document, interval, percent, significant
from .experiment import ACCURACY, Experiment, standard
from .plots import Metric, Panel

# Nielsen (2015): 784-30-10 sigmoid network, mini-batch 10, 30 epochs, weights N(0, 1),
# 50,000 training images: the quadratic cost at η = 3.0 (ch. 1) and cross-entropy at η = 0.5
# (ch. 3) end at these test accuracies.
NIELSEN = {"mse": (3.0, 0.9542, "ch. 1"), "bce": (0.5, 0.9549, "ch. 3")}


def _ci(values) -> dict:
    return aggregate.mean_ci(pd.Series(values, dtype=float).dropna())


def _cell(stats: dict, steps: bool = False) -> str:
    return interval(stats["mean"], stats["ci_low"], stats["ci_high"], steps) or "—"


def _rounded(numbers: pd.DataFrame) -> pd.DataFrame:
    """A table's numbers as the other tables give them: steps whole, the rest to three
    significant digits."""
    out = numbers.copy()
    for column in out.select_dtypes("float").columns:
        whole = column.startswith("steps")
        out[column] = out[column].map(lambda x, whole=whole: float(round(x)) if whole and
                                      pd.notna(x) else significant(x))
    return out


def _loss(pair: str) -> str:
    return style.split(pair)[1]


def _log_x(ax) -> None:
    """A log x axis labelled 0.5, 1, 2, 5 (not 5×10⁻¹)."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(plots.PLAIN)
    ax.xaxis.set_minor_formatter(NullFormatter())


# --- Nielsen's MNIST network -----------------------------------------------------------------

def nielsen_mnist(doc: Document, exp: Experiment) -> str:
    standard(doc, exp)
    final = aggregate.by_run(exp.table, "final test/accuracy")
    if "dataset" not in final:
        final = final.assign(dataset=exp.table["dataset"].iloc[0])
    final = final.iloc[style.ranks(final["pair"])]
    own = [_is_nielsens(r) for _, r in final.iterrows()]
    shown = pd.DataFrame({
        "pair": final["pair"], "η": final["lr"].map(tables.value), "dataset": final["dataset"],
        "final test accuracy": [_cell(r) for _, r in final.iterrows()],
        "seeds": [tables.seeds(r) for _, r in final.iterrows()],
        "Nielsen (50,000 images, 30 epochs)": [
            f"{100 * NIELSEN[_loss(p)][1]:.2f} % ({NIELSEN[_loss(p)][2]})" if o else ""
            for p, o in zip(final["pair"], own, strict=True)]})
    numbers = final[["pair", "lr", "dataset", "mean", "ci_low", "ci_high", "n"]]
    epochs = ", ".join(map(str, sorted(exp.table["epochs"].unique())))
    doc.table(shown, _rounded(numbers), "nielsen_mnist_vs_published",
              f"Final test accuracy after {epochs} epochs on {_train_size(exp)}, against "
              "Nielsen's published figures (his own η for each cost; his weights N(0, 1), these "
              "N(0, 1/n_in) as in his network2.py)")
    parts, verdicts = [], []
    for dataset, at in final.assign(own=own).groupby("dataset"):
        mine = at[at["own"]].set_index(at.loc[at["own"], "pair"].map(_loss))
        if not {"mse", "bce"} <= set(mine.index):
            continue
        sq, ce = mine.loc["mse"], mine.loc["bce"]
        ratio = seeds.ratio(exp.table, sq["run"], ce["run"])
        shared = _shared_ratios(exp.table[exp.table["dataset"] == dataset])
        below = 100 * (min(NIELSEN["mse"][1], NIELSEN["bce"][1]) - min(sq["mean"], ce["mean"]))
        verdicts.append("Yes, within a point of his figures" if below <= 1 else
                        f"No, up to {below:.1f} points below his figures")
        parts.append(f"On {dataset} after {epochs} epochs squared error at η = {sq['lr']:g} ends "
                     f"at {_cell(sq)} test accuracy and cross-entropy at η = {ce['lr']:g} at "
                     f"{_cell(ce)} (Nielsen, 50,000 images and 30 epochs: "
                     f"{100 * NIELSEN['mse'][1]:.2f} and {100 * NIELSEN['bce'][1]:.2f} %); updates "
                     f"to {exp.target}, squared error over cross-entropy per seed, each at its "
                     f"own η ×{_cell(ratio)}" + "".join(shared))
    if not parts:
        return "no run at Nielsen's η of each cost."
    if len(verdicts) > 1:  # mnist_5k and full MNIST: say which is which
        verdicts = [f"{v} ({p.split(' after')[0].lower()})" for v, p in zip(verdicts, parts,
                                                                          strict=True)]
    return "; ".join(verdicts) + ". " + "; ".join(parts) + "."


def _is_nielsens(row) -> bool:
    """Is this run a cost at the η Nielsen gave it?"""
    theirs = NIELSEN.get(_loss(row["pair"]))
    return theirs is not None and bool(np.isclose(row["lr"], theirs[0]))


def _shared_ratios(table: pd.DataFrame) -> list[str]:
    """``, at η = 0.5 ×2.5 [1.6, 3.3]`` for each η at which both costs ran."""
    out = []
    for lr, at in table.groupby("lr"):
        runs = at.drop_duplicates("run").set_index(at.drop_duplicates("run")["pair"].map(_loss))
        if {"mse", "bce"} <= set(runs.index):
            r = seeds.ratio(at, runs.loc["mse", "run"], runs.loc["bce", "run"])
            reached = {loss: int(seeds.done(at[at["run"] == runs.loc[loss, "run"]])[
                "steps_to_target"].notna().sum()) for loss in ("mse", "bce")}
            count = at["seed"].nunique()
            out.append(f", both at η = {lr:g} ×{_cell(r)}" if r["n"] else
                       f", both at η = {lr:g}: reached by squared error in {reached['mse']} "
                       f"and by cross-entropy in {reached['bce']} of {count} seeds")
    return out


def _train_size(exp: Experiment) -> str:
    names = set(exp.table["dataset"])
    return ("the 4,000 training images of mnist_5k" if names == {"mnist_5k"}
            else ", ".join(sorted(names)))


# --- depth -----------------------------------------------------------------------------------

def _depth(hidden: str) -> int:
    return len(ast.literal_eval(hidden))


def depth(doc: Document, exp: Experiment) -> str:
    table = exp.table.assign(depth=exp.table["hidden"].map(_depth))
    shared = _shared_lr(table)
    rows = []
    for d in sorted(table["depth"].unique()):
        at = table[table["depth"] == d]
        for pair in style.order(at["pair"]):
            runs = aggregate.by_run(at[at["pair"] == pair], "final test/accuracy")
            pick = seeds.best(runs)
            best = runs.iloc[0] if pick is None else runs.loc[pick]
            one = runs[np.isclose(runs["lr"], shared)].iloc[0]
            for which, r in (("shared η", one), ("best η", best)):
                of_run = at[at["run"] == r["run"]]
                steps = aggregate.mean_ci(seeds.done(of_run)["steps_to_target"].dropna())
                rows.append({"depth": d, "pair": pair, "which": which, "lr": r["lr"],
                             "run": r["run"], "acc": r, "steps": steps,
                             "reached": f"{steps['n']}/{len(of_run)}"})
    df = pd.DataFrame(rows)
    _depth_figure(doc, df, exp.target, shared)
    _depth_gradients(doc, exp, table, shared)
    shown = pd.DataFrame({
        "hidden layers": df["depth"], "pair": df["pair"], "η": [
            f"{tables.value(lr)}{' (best)' if w == 'best η' else ''}"
            for lr, w in zip(df["lr"], df["which"], strict=True)],
        "final test accuracy": [_cell(a) for a in df["acc"]],
        f"steps to {exp.target}": [_cell(s, steps=True) for s in df["steps"]],
        "reached": df["reached"]})
    numbers = pd.DataFrame({
        "hidden_layers": df["depth"], "pair": df["pair"], "eta": df["which"], "lr": df["lr"],
        "accuracy_mean": [a["mean"] for a in df["acc"]],
        "accuracy_ci_low": [a["ci_low"] for a in df["acc"]],
        "accuracy_ci_high": [a["ci_high"] for a in df["acc"]],
        "steps_mean": [s["mean"] for s in df["steps"]],
        "steps_ci_low": [s["ci_low"] for s in df["steps"]],
        "steps_ci_high": [s["ci_high"] for s in df["steps"]]})
    doc.table(shown.drop_duplicates(subset=["hidden layers", "pair", "η"]), _rounded(numbers),
              "depth",
              f"Each depth and pair at the shared η = {shared:g} and at its best η (by mean final "
              "test accuracy among runs with no diverged seed): mean [95 % interval] over seeds")
    return _depth_answer(df, table, exp.target, shared)


def _shared_lr(table: pd.DataFrame) -> float:
    """The η every depth and pair was trained at (the smallest, if several)."""
    common = set.intersection(*(set(g["lr"]) for _, g in table.groupby(["depth", "pair"])))
    return min(common) if common else float(table["lr"].min())


def _depth_figure(doc: Document, df: pd.DataFrame, target: str, shared: float) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6 + plots.LEGEND_INCHES))
    for ax, (key, ylabel) in zip(axes, (("acc", "final test accuracy"),
                                        ("steps", f"mini-batch updates to {target}")),
                                 strict=True):
        for pair in style.order(df["pair"]):
            for which, width in (("shared η", 1.0), ("best η", 2.0)):
                s = df[(df["pair"] == pair) & (df["which"] == which)]
                stats = pd.DataFrame([{k: v[k] for k in ("mean", "ci_low", "ci_high")}
                                      for v in s[key]], dtype=float)
                look = {**style.line(pair), "linestyle": "-" if which == "best η" else ":"}
                ax.errorbar(s["depth"], stats["mean"].to_numpy(), yerr=plots.errors(stats),
                            marker=style.marker(pair), ms=4, capsize=2, lw=width, **look)
        ax.set_xticks(sorted(df["depth"].unique()))
        ax.set_xlabel("hidden sigmoid layers")
        ax.set_ylabel(ylabel)
    axes[1].set_yscale("log")
    plots.log_ticks(axes[1])
    extra = [Line2D([], [], color="0.3", lw=2.0, label="each loss's best η"),
             Line2D([], [], color="0.3", lw=1.0, ls=":", label=f"shared η = {shared:g}")]
    plots.finish(fig, df["pair"], extra)
    doc.figure(fig, "depth", f"depth: final test accuracy and updates to {target} against the "
               "number of hidden layers, mean and 95 % interval over seeds (updates: over the "
               "seeds that reached it; a missing point: none did).")


def _depth_gradients(doc: Document, exp: Experiment, table: pd.DataFrame, shared: float) -> None:
    """Per-layer gradient norms at the first logged step, against the layer, per depth; and
    over training for the deepest network."""
    runs = table[np.isclose(table["lr"], shared)][["run", "depth"]].drop_duplicates()
    curves = seeds.done(exp.curves).merge(runs, on="run")
    depths = sorted(runs["depth"].unique())
    first = curves.loc[curves["step"] > 0, "step"].min()
    fig, axes = plt.subplots(1, len(depths), figsize=(2.9 * len(depths) + 0.8,
                                                       3.2 + plots.LEGEND_INCHES),
                             sharey=True, squeeze=False)
    for ax, d in zip(axes[0], depths, strict=True):
        at = curves[(curves["depth"] == d) & (curves["step"] == first)]
        layers = [f"layer{i}" for i in range(1, d + 1)] + ["output"]
        for pair in style.order(at["pair"]):
            norms = at[at["pair"] == pair][[grad_norms.column(n) for n in layers]]
            gm = np.exp(np.log(norms).mean())  # geometric mean over seeds
            ax.plot(range(1, len(layers) + 1), gm.to_numpy(), marker=style.marker(pair),
                    ms=4, lw=1.5, **style.line(pair))
        ax.set_xticks(range(1, len(layers) + 1), [n.replace("layer", "") for n in layers])
        ax.set_title(f"{d} hidden layer{'s' if d > 1 else ''}", fontsize=8.5)
        ax.set_xlabel("layer (input → output)")
        ax.set_yscale("log")
    plots.log_ticks(axes[0, 0])
    axes[0, 0].set_ylabel(f"‖∂L/∂W‖ at step {first:g}")
    plots.finish(fig, curves["pair"])
    doc.figure(fig, "depth_gradient_by_layer", f"depth: the L2 norm of each layer's weight "
               f"gradient at the first logged step ({first:g}) at η = {shared:g}, geometric mean "
               "over seeds: how much of the output's signal reaches each layer.")
    deepest = curves[curves["depth"] == depths[-1]]
    logged = [c for c in grad_norms.weight_columns(deepest) if deepest[c].notna().any()]
    panels = [[Panel(grad_norms.layer(c), deepest, Metric(c, "‖∂L/∂W‖", log=True))
               for c in logged]]
    doc.figure(plots.panels_figure(panels, "step", "mini-batch updates", first),
               "depth_gradient_deepest", f"depth: each layer's weight-gradient norm over "
               f"training in the {depths[-1]}-hidden-layer network at η = {shared:g} "
               "(geometric mean over seeds with 95 % band; log scales).")


def _depth_answer(df: pd.DataFrame, table: pd.DataFrame, target: str, shared: float) -> str:
    """Per depth, squared error's steps over cross-entropy's, per seed; the gap "grows" as
    :func:`.gap.grows` says (only cross-entropy reaching the target is the widest gap; depths
    where neither does are left out)."""
    parts, gaps = [], {"shared η": [], "best η": []}
    for d, at in df.groupby("depth"):
        cells = []
        for which in gaps:
            w = at[at["which"] == which].set_index(at.loc[at["which"] == which, "pair"]
                                                   .map(_loss))
            if not {"ce", "mse"} <= set(w.index):
                continue
            ce, sq = w.loc["ce"], w.loc["mse"]
            at_lr = (f"η = {ce['lr']:g}" if which == "shared η" else
                     f"each's best η ({ce['lr']:g})" if ce["lr"] == sq["lr"] else
                     f"each's best η ({ce['lr']:g} and {sq['lr']:g})")
            r = seeds.ratio(table, sq["run"], ce["run"])
            if r["n"]:
                cells.append(f"×{_cell(r)} at {at_lr}")
                gaps[which].append(r["mean"])
            elif ce["steps"]["n"] and not sq["steps"]["n"]:
                cells.append(f"only cross-entropy reached it at {at_lr}")
                gaps[which].append(np.inf)
            elif sq["steps"]["n"] and not ce["steps"]["n"]:
                cells.append(f"only squared error reached it at {at_lr}")
                gaps[which].append(0.0)
            else:
                cells.append(f"neither reached it at {at_lr}")
        parts.append(f"{d} hidden layer{'s' if d > 1 else ''}: " + ", ".join(cells))
    at_shared, at_best = gap.grows(gaps["shared η"]), gap.grows(gaps["best η"])
    verdict = {(True, True): "Yes", (False, False): "No"}.get(
        (at_shared, at_best),
        f"At the shared η = {shared:g} {'yes' if at_shared else 'no'}, at "
        f"each loss's best η {'yes' if at_best else 'no'}")
    return (f"{verdict}: steps to {target}, squared error over cross-entropy per seed; "
            + "; ".join(parts) + ".")


# --- optimizer -------------------------------------------------------------------------------

def _optimizer_name(row) -> str:
    if row["optimizer"] == "adam":
        return f"Adam η={tables.value(row['lr'])}"
    if row.get("momentum", 0):
        return f"SGD+momentum {tables.value(row['momentum'])} η={tables.value(row['lr'])}"
    return f"SGD η={tables.value(row['lr'])}"


def optimizer(doc: Document, exp: Experiment) -> str:
    standard(doc, exp)
    ratio = aggregate.paired_ratio(exp.table)
    ratio = ratio.assign(name=ratio.apply(_optimizer_name, axis=1))
    steps = aggregate.by_run(exp.table, "steps_to_target")
    steps = steps.assign(name=steps.apply(_optimizer_name, axis=1))
    names = list(dict.fromkeys(ratio["name"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 2 + plots.LEGEND_INCHES))
    y = np.arange(len(names))[::-1]
    for k, pair in enumerate(style.order(steps["pair"])):
        s = steps[steps["pair"] == pair].set_index("name").reindex(names)
        axes[0].errorbar(s["mean"], y + 0.12 * (k - 0.5), xerr=plots.errors(s), ls="none",
                         marker=style.marker(pair), capsize=2, color=style.colour(pair),
                         label=style.TAG + pair)
    r = ratio.set_index("name").reindex(names)
    axes[1].errorbar(r["mean"], y, xerr=plots.errors(r), ls="none", marker="o", capsize=2,
                     color="0.2")
    axes[1].axvline(1, color="0.5", lw=1, ls="--")
    for ax in axes:
        ax.set_yticks(y, names, fontsize=8)
        _log_x(ax)
        ax.grid(axis="y", visible=False)
    axes[1].set_yticklabels([])
    axes[0].set_xlabel(f"mini-batch updates to {exp.target}")
    axes[1].set_xlabel("squared error's updates / cross-entropy's, per seed")
    plots.finish(fig, steps["pair"])
    doc.figure(fig, "optimizer_ratio", f"optimizer: updates to {exp.target} per optimizer "
               "(left) and their ratio, squared error over cross-entropy, per seed (right; 1: "
               "as fast), mean and 95 % interval over seeds.")
    parts, below = [], []
    for name, row in r.iterrows():
        parts.append(f"{name} ×{_cell(row)}" if row["n"] else f"{name}: no seed where both "
                     f"reached {exp.target}")
        if row["n"] >= 2 and row["ci_low"] <= 1 + 0.25:
            below.append(name)
    adam = [n for n in below if n.startswith("Adam")]
    verdict = ("Yes under Adam" if adam and len(below) < len(r) else
               "No" if not below else "Yes under every optimizer" if len(below) == len(r)
               else "Partly")
    return (f"{verdict} (ratio's interval reaching down to 1.25 or less: "
            f"{', '.join(below) or 'none'}). Steps to {exp.target} of squared error over "
            "cross-entropy, per seed: " + "; ".join(parts) + ".")


# --- label noise -----------------------------------------------------------------------------

TRAIN_ACCURACY = Metric("train/accuracy", "training accuracy (noisy labels)", bounds=(0, 1))


def _per_seed_best(exp: Experiment) -> pd.DataFrame:
    """Each done seed's best and final test accuracy (over its evaluations)."""
    evaluated = seeds.done(exp.curves).dropna(subset=["test/accuracy"])
    acc = evaluated.sort_values("step").groupby(["run", "seed"])["test/accuracy"]
    out = pd.DataFrame({"best": acc.max(), "final": acc.last()}).reset_index()
    out["drop"] = out["best"] - out["final"]
    return out.merge(exp.table[["run", "seed", "pair", "label_noise",
                                "final train/accuracy"]], on=["run", "seed"])


def _noise_panels(exp: Experiment, metrics: list[Metric]):
    """A figure of ``metrics`` (one row each) per epoch, one column per noise level."""
    curves = seeds.done(exp.curves).merge(
        exp.table[["run", "label_noise"]].drop_duplicates(), on="run")
    levels = sorted(curves["label_noise"].unique())
    panels = [[Panel(f"{percent(n)} of training labels wrong" if i == 0 else "",
                     curves[curves["label_noise"] == n], metric) for n in levels]
              for i, metric in enumerate(metrics)]
    return plots.panels_figure(panels, "epoch", "epoch", None)


def _per_noise(seeds: pd.DataFrame, stats: dict[str, str]) -> pd.DataFrame:
    """Mean and interval (:func:`_ci`) over seeds of each column ``stats[name]``, per noise
    level and pair, in that order (pairs in the report's order)."""
    rows = [{"noise": noise, "pair": pair, **{k: _ci(g[c]) for k, c in stats.items()}}
            for (noise, pair), g in seeds.groupby(["label_noise", "pair"])]
    df = pd.DataFrame(rows)
    pairs = style.order(df["pair"])
    return df.iloc[sorted(range(len(df)), key=lambda i: (df["noise"].iloc[i],
                                                         pairs.index(df["pair"].iloc[i])))]


def _noise_numbers(df: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """The CSV of a :func:`_per_noise` table: mean, ci_low and ci_high of each name."""
    return _rounded(pd.DataFrame({
        "label_noise": df["noise"], "pair": df["pair"],
        **{f"{k}_{s}": [v[s] for v in df[k]] for k in names for s in ("mean", "ci_low",
                                                                      "ci_high")},
        "n": [v["n"] for v in df[names[0]]]}))


def _by_loss(df: pd.DataFrame, noise: float) -> pd.DataFrame:
    """The rows of one noise level, indexed by loss (ce, mse)."""
    at = df[df["noise"] == noise]
    return at.set_index(at["pair"].map(_loss))


def label_noise(doc: Document, exp: Experiment) -> str:
    doc.figure(_noise_panels(exp, [ACCURACY, TRAIN_ACCURACY]), "label_noise_accuracy",
               "label_noise: test accuracy (clean labels) and training accuracy (against the "
               "noisy labels it is trained on) per epoch, mean over seeds with 95 % band. A "
               "model that fits the wrong labels gains training accuracy and loses test "
               "accuracy.")
    df = _per_noise(_per_seed_best(exp), {k: k for k in ("best", "final", "drop",
                                                          "final train/accuracy")})
    shown = pd.DataFrame({"wrong labels": df["noise"].map(percent), "pair": df["pair"],
                          "best test accuracy": df["best"].map(_cell),
                          "final test accuracy": df["final"].map(_cell),
                          "best − final": df["drop"].map(_cell),
                          "final training accuracy (noisy)":
                              df["final train/accuracy"].map(_cell),
                          "seeds": [str(b["n"]) for b in df["best"]]})
    doc.table(shown, _noise_numbers(df, ("best", "final", "drop")), "label_noise",
              "Best and final test accuracy under label noise (test labels clean), and the "
              "fall from best to final: mean [95 % interval] over seeds")
    highest = df["noise"].max()
    top = _by_loss(df, highest)
    if not {"ce", "mse"} <= set(top.index):
        return "no cross-entropy and squared-error runs to compare."
    ce, sq = top.loc["ce"], top.loc["mse"]
    robust = sq["final"]["ci_low"] > ce["final"]["ci_high"]
    return (f"{'Yes' if robust else 'No'}: with {percent(highest)} of training labels "
            f"wrong, cross-entropy ends at {_cell(ce['final'])} test accuracy after a best "
            f"of {_cell(ce['best'])} (a fall of {_cell(ce['drop'])}), squared error at "
            f"{_cell(sq['final'])} after {_cell(sq['best'])} (a fall of {_cell(sq['drop'])}).")


# --- calibration -----------------------------------------------------------------------------

MIN_BIN = 10  # reliability points stand on at least this many test examples (pooled)


def _overconfidence(diagram: tuple) -> float:
    """Mean confidence minus accuracy over the test split: > 0 overconfident."""
    count, confidence, correct = (np.asarray(v, dtype=float) for v in diagram)
    return (confidence.sum() - correct.sum()) / count.sum()


def calibration(doc: Document, exp: Experiment) -> str:
    done = seeds.done(exp.table).dropna(subset=["reliability"])
    if done.empty:
        doc.text("These runs record no reliability diagram (trained before it was logged); "
                 "rerun them.")
        return "no reliability diagrams in these runs."
    levels = sorted(done["label_noise"].unique())
    fig, axes = plt.subplots(2, len(levels), figsize=(3.4 * len(levels) + 0.8,
                                                      6 + plots.LEGEND_INCHES),
                             sharex=True, sharey="row", squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3]})
    for j, noise in enumerate(levels):
        at = done[done["label_noise"] == noise]
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
    plots.finish(fig, done["pair"], [Line2D([], [], color=style.NEUTRAL[1], ls=":",
                                            label="perfect calibration")])
    bins = len(done["reliability"].iloc[0][0])
    doc.figure(fig, "calibration_reliability", f"calibration: reliability diagrams of the "
               f"trained models on the test split ({bins} equal-width confidence bins, pooled "
               "over seeds): the accuracy of the examples in each bin against their mean "
               f"confidence (below the diagonal: overconfident; bins of fewer than {MIN_BIN} "
               "examples are not drawn), and below, how the test "
               "examples spread over the bins.")
    doc.figure(_noise_panels(exp, [Metric("test/ece", "test ECE (15 bins)", bounds=(0, 1)),
                                   Metric("test/brier", "test Brier score Σ(p-y)²",
                                          bounds=(0, 2))]), "calibration_over_training",
               "calibration: expected calibration error and Brier score on the test split per "
               "epoch, mean over seeds with 95 % band.")
    done = done.assign(overconfidence=done["reliability"].map(_overconfidence))
    df = _per_noise(done, {"ece": "final test/ece", "brier": "final test/brier",
                           "over": "overconfidence", "acc": "final test/accuracy"})
    shown = pd.DataFrame({"wrong labels": df["noise"].map(percent), "pair": df["pair"],
                          "test ECE": df["ece"].map(_cell), "test Brier": df["brier"].map(_cell),
                          "confidence − accuracy": df["over"].map(_cell),
                          "test accuracy": df["acc"].map(_cell),
                          "seeds": [str(v["n"]) for v in df["ece"]]})
    doc.table(shown, _noise_numbers(df, ("ece", "brier", "over", "acc")), "calibration",
              "Calibration of the trained models on the test split: ECE, Brier score, and "
              "mean confidence minus accuracy (> 0: overconfident), mean [95 % interval] over "
              "seeds")
    parts, better = [], []
    for noise in levels:
        w = _by_loss(df, noise)
        if not {"ce", "mse"} <= set(w.index):
            continue
        ce, sq = w.loc["ce"], w.loc["mse"]
        parts.append(f"{percent(noise)} wrong labels: ECE cross-entropy {_cell(ce['ece'])} "
                     f"(confidence − accuracy {_cell(ce['over'])}; Brier {_cell(ce['brier'])}), "
                     f"squared error {_cell(sq['ece'])} ({_cell(sq['over'])}; Brier "
                     f"{_cell(sq['brier'])})")
        better.append(f"{percent(noise)}: " + (
            "cross-entropy" if ce["ece"]["ci_high"] < sq["ece"]["ci_low"] else
            "squared error" if sq["ece"]["ci_high"] < ce["ece"]["ci_low"] else "neither"))
    summary = ", ".join(better)
    return f"Better calibrated (lower ECE, intervals apart) — {summary}. " + "; ".join(parts) + "."
