"""``ce-vs-mse-report``: figures and tables from the logged runs, written to results/report.

Reads ``results/runs/**`` through :mod:`ce_vs_mse.aggregate` and never trains. Figures are
PNG and SVG, tables CSV, and ``REPORT.md`` shows them all with a caption each. The same
inputs give byte-identical files (no timestamps; fixed SVG ids).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from . import aggregate, forks, information, losses, models  # noqa: E402
from . import data as datasets  # noqa: E402
from .runstore import locked, write_atomic  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "ce-vs-mse", "svg.fonttype": "none",  # text stays text
                     "figure.dpi": 100, "savefig.dpi": 100,
                     "axes.grid": True, "grid.alpha": 0.3})
# What each experiment answers, shown at the top of its section.
QUESTIONS = {
    "quickstart": "Cross-entropy against squared error on digits (the default job).",
    "neuron": "Nielsen's single sigmoid neuron: does a badly saturated start stall learning?",
    "binary": "Breast cancer (2 classes): sigmoid and softmax heads, CE/BCE against squared error.",
    "multiclass": "Digits (10 classes): softmax and sigmoid heads, CE/BCE against squared error.",
    "saturation": "Larger initial weights saturate the units: does the CE-MSE gap widen?",
    "fair_lr": "Each loss at its own best learning rate, and both at a shared one.",
    "counter_case": "Squared error on linear outputs (Hui & Belkin 2021) against softmax + CE.",
    "mnist": "Nielsen's 784-30-10 sigmoid network on MNIST.",
}
ORDER = ["quickstart", "neuron", "multiclass", "binary", "saturation", "fair_lr", "counter_case",
         "mnist"]


class Report:
    """Collects figures, tables and text, then writes REPORT.md."""

    def __init__(self, out: Path, title: bool = True):
        self.out = out
        self.lines: list[str] = []
        if title:
            self.text("# Why cross-entropy trains classifiers faster than squared error")
        (out / "figures").mkdir(parents=True, exist_ok=True)
        (out / "tables").mkdir(parents=True, exist_ok=True)

    def text(self, *lines: str) -> None:
        self.lines += [*lines, ""]

    def figure(self, fig, name: str, caption: str) -> None:
        fig.tight_layout()
        # tight_layout leaves a placeholder layout engine behind, and with any engine set
        # savefig draws the figure once more before drawing it to the file: drop it.
        fig.set_layout_engine(None)
        for fmt, extra in (("png", {}), ("svg", {"metadata": {"Date": None}})):
            write_atomic(self.out / "figures" / f"{name}.{fmt}",
                         lambda tmp, fmt=fmt, extra=extra: fig.savefig(tmp, format=fmt, **extra))
        plt.close(fig)
        self.text(f"![{name}](figures/{name}.png)", "", f"*{caption}*")

    def table(self, df: pd.DataFrame, name: str, caption: str) -> None:
        df = df.round(4)
        write_atomic(self.out / "tables" / f"{name}.csv", lambda tmp: df.to_csv(tmp, index=False))
        self.text(f"**{caption}** ([{name}.csv](tables/{name}.csv))", "", _markdown(df))

    def write(self) -> Path:
        path = self.out / "REPORT.md"
        write_atomic(path, lambda tmp: tmp.write_text("\n".join(self.lines).rstrip() + "\n"))
        return path


def _markdown(df: pd.DataFrame) -> str:
    cells = [[("" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v)) for v in row]
             for row in df.itertuples(index=False)]
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    return "\n".join([head, rule, *("| " + " | ".join(c) + " |" for c in cells)])


def _facet(table: pd.DataFrame) -> pd.Series:
    """A label of the parameters (other than head/loss) that vary within an experiment."""
    cols = aggregate.varying(table)
    if not cols:
        return pd.Series("all", index=table.index)
    return table[cols].astype(str).apply(
        lambda r: ", ".join(f"{c}={v}" for c, v in zip(cols, r, strict=True)), axis=1)


def _natural(label: str) -> tuple:
    """Sort "init_scale=3.0" before "init_scale=10.0": numbers compare as numbers."""
    parts = []
    for part in label.split(", "):
        value = part.rpartition("=")[2]
        try:
            parts.append((0, float(value), ""))
        except ValueError:
            parts.append((1, 0.0, value))
    return tuple(parts)


def _with_facets(curves: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    facets = table.assign(facet=_facet(table))[["run", "facet"]].drop_duplicates()
    return curves.merge(facets, on="run")


def _draw_bands(ax, df: pd.DataFrame, x: str, y: str, log: bool, pairs: list[str]) -> None:
    """One line per head+loss pair: the mean over seeds and its 95 % band."""
    stats_ = aggregate.bands(df, ["pair", x], y, log=log)
    for k, pair in enumerate(pairs):
        s = stats_[stats_["pair"] == pair]
        if s.empty:
            continue
        color = f"C{k}"
        ax.plot(s[x], s["mean"], color=color, label=pair, lw=1.4)
        ax.fill_between(s[x], s["ci_low"], s["ci_high"], color=color, alpha=0.2, lw=0)


def curves_figure(curves, metrics: list[str], x: str, ylabel: dict, log: bool = False):
    """One row per metric, one column per facet; mean over seeds with a 95 % t band (for a
    log axis: geometric mean and the t band of the logs)."""
    facets = sorted(curves["facet"].unique(), key=_natural)
    pairs = sorted(curves["pair"].unique())
    fig, axes = plt.subplots(len(metrics), len(facets), squeeze=False, sharex=True,
                             figsize=(3.6 * len(facets) + 1, 2.8 * len(metrics)))
    for i, metric in enumerate(metrics):
        for j, facet in enumerate(facets):
            ax = axes[i, j]
            data = curves[(curves["facet"] == facet)].dropna(subset=[metric])
            if data.empty:  # e.g. a hidden layer of a model that has none
                ax.set_visible(False)
                continue
            _draw_bands(ax, data, x, metric, log, pairs)
            ax.set_title(facet if i == 0 else "", fontsize=9)
            ax.set_xlabel(f"{x} ({'mini-batch updates' if x == 'step' else 'passes'})")
            ax.set_ylabel(ylabel.get(metric, metric))
            if log:
                ax.set_yscale("log")
            if i == j == 0:
                ax.legend(fontsize=8)
    return fig


def _epoch_ends(curves: pd.DataFrame) -> pd.DataFrame:
    """The evaluation at the end of each epoch (the last evaluated step of each epoch)."""
    ev = curves.dropna(subset=["test/accuracy"])
    return ev.loc[ev.groupby(["run", "seed", "epoch"])["step"].idxmax()]


YLABEL = {"test/accuracy": "test accuracy (fraction)", "test/ce": "test cross-entropy (nats)",
          "test/mse": "test squared error ½Σ(a-y)²", "output/grad_z_abs_mean": "mean |∂ℓ/∂z|",
          "output/saturated_fraction": "saturated outputs (fraction)"}


def experiment_section(rep: Report, name: str, table: pd.DataFrame, curves: pd.DataFrame):
    """The standard figures and tables of one experiment."""
    curves = _with_facets(curves, table)
    n_seeds = table.groupby("run")["seed"].nunique().min()
    rep.text(f"## {name}", QUESTIONS.get(name, ""),
             f"{table['run'].nunique()} configurations × {n_seeds} seeds; bands and ± are 95 % "
             "t-intervals over seeds.")
    rep.figure(curves_figure(curves, ["test/accuracy", "test/ce", "test/mse"], "step", YLABEL),
               f"{name}_accuracy_step", f"{name}: test accuracy, cross-entropy and squared error "
               "against mini-batch updates, mean over seeds with 95 % band.")
    rep.figure(curves_figure(_epoch_ends(curves), ["test/accuracy", "test/ce", "test/mse"],
                             "epoch", YLABEL), f"{name}_eval_epoch",
               f"{name}: test accuracy, cross-entropy and squared error of the current model at "
               "each epoch end, whatever loss trained it.")
    layers = [c for c in curves if c.startswith("grad_norm/") and c.endswith(".weight")]
    names = {c: f"‖∂L/∂W‖ {c.split('/')[1].split('.')[0]}" for c in layers}
    rep.figure(curves_figure(curves, layers, "step", names, log=True), f"{name}_grad_norm",
               f"{name}: L2 norm of the gradient of each layer's weights (log scale; geometric "
               "mean over seeds with 95 % band): how much signal reaches each layer.")
    rep.figure(curves_figure(curves, ["output/grad_z_abs_mean", "output/saturated_fraction"],
                             "step", YLABEL), f"{name}_output",
               f"{name}: mean |∂ℓ/∂z| at the output pre-activation and the share of saturated "
               "output units (∂a/∂z < 0.01).")
    steps = aggregate.by_run(table, "steps_to_target")
    reached = table.groupby("run")["steps_to_target"].apply(lambda s: s.notna().sum())
    steps["reached"] = steps["run"].map(reached).astype(str) + "/" + steps["of_seeds"].astype(str)
    target = table["target_accuracy"].iloc[0]
    rep.table(steps.drop(columns=["experiment", "n", "of_seeds"]), f"{name}_steps_to_target",
              f"Steps to {target:.0%} test accuracy (mean over the seeds that reached it)")
    rep.figure(steps_bar(steps, target), f"{name}_steps_to_target",
               f"{name}: mini-batch updates until test accuracy first reaches {target:.0%}, "
               "mean and 95 % interval over seeds (missing bar: not reached).")
    ratio = aggregate.paired_ratio(table)
    if not ratio.empty:
        rep.table(ratio.drop(columns=["experiment"]), f"{name}_paired_ratio",
                  "Paired per-seed ratio of steps to target, squared error over cross-entropy "
                  "(same head, same seed, same start; > 1: squared error is slower)")
    final = aggregate.by_run(table, "final test/accuracy")
    rep.table(final.drop(columns=["experiment", "of_seeds"]), f"{name}_final_accuracy",
              "Final test accuracy")
    return steps, ratio, final


def steps_bar(steps: pd.DataFrame, target: float):
    labels = steps["pair"] + steps.drop(columns=["experiment", "run", "pair", "n", "mean",
                                                 "ci_low", "ci_high", "of_seeds", "reached"]
                                        ).astype(str).apply(lambda r: " " + " ".join(r), axis=1)
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(steps) + 1))
    y = np.arange(len(steps))
    err = np.vstack([steps["mean"] - steps["ci_low"], steps["ci_high"] - steps["mean"]])
    ax.barh(y, steps["mean"], xerr=np.nan_to_num(err), color="tab:blue", alpha=0.7)
    ax.set_yticks(y, labels)
    ax.set_xlabel(f"steps to {target:.0%} test accuracy (mini-batch updates)")
    return fig


def neuron_section(rep: Report, table: pd.DataFrame, curves: pd.DataFrame) -> None:
    """Nielsen's figures: output, cost and |∂C/∂w| per epoch for both starts and both costs."""
    starts = {(0.6, 0.9): "good start (w=0.6, b=0.9)", (2.0, 2.0): "bad start (w=b=2)"}
    table = table[[(w, b) in starts for w, b in zip(table["init_weight"], table["init_bias"],
                                                    strict=True)]]
    fig, axes = plt.subplots(3, 2, figsize=(10, 8), sharex=True)
    for j, ((w, b), title) in enumerate(starts.items()):
        runs = table[(table["init_weight"] == w) & (table["init_bias"] == b)]
        for _, r in runs.sort_values(["loss", "lr"]).iterrows():
            c = curves[curves["run"] == r["run"]].dropna(subset=["test/mse"])
            label = f"{'quadratic' if r['loss'] == 'mse' else 'cross-entropy'}, η={r['lr']:g}"
            axes[0, j].plot(c["epoch"], np.sqrt(2 * c["test/mse"]), label=label)  # a: y = 0
            cost = c["test/mse"] if r["loss"] == "mse" else c["test/ce"]
            axes[1, j].plot(c["epoch"], cost, label=label)
            g = curves[curves["run"] == r["run"]].dropna(subset=["grad_norm/output.weight"])
            axes[2, j].plot(g["epoch"], g["grad_norm/output.weight"], label=label)
        axes[0, j].set_title(title)
    for ax, lab in zip(axes[:, 0], ["output a = σ(wx+b)", "cost C (its own loss)", "|∂C/∂w|"],
                       strict=True):
        ax.set_ylabel(lab)
    axes[2, 1].set_yscale("log")
    axes[2, 0].set_yscale("log")
    for ax in axes[2]:
        ax.set_xlabel("epoch (one full-batch gradient step)")
    axes[0, 1].legend(fontsize=8)
    rep.text("## neuron", QUESTIONS["neuron"])
    rep.figure(fig, "neuron", "Single neuron (x=1, y=0): with the quadratic cost the badly "
               "started output barely moves for ~150 epochs while cross-entropy drops at once.")
    rows = []
    for _, r in table.sort_values(["init_weight", "loss", "lr"]).iterrows():
        c = curves[curves["run"] == r["run"]].dropna(subset=["test/mse"])
        a = np.sqrt(2 * c["test/mse"].to_numpy())
        below = np.nonzero(a < 0.5)[0]
        rows.append({"start": starts[(r["init_weight"], r["init_bias"])], "loss": r["loss"],
                     "lr": r["lr"], "output at start": a[0], "output after 300 epochs": a[-1],
                     "epochs until output < 0.5": int(c["epoch"].iloc[below[0]])
                     if below.size else np.nan})
    rep.table(pd.DataFrame(rows), "neuron", "Single neuron: output before and after training")


def _parameter_sweep(rep: Report, name: str, table: pd.DataFrame, column: str, xlabel: str):
    """Final accuracy and steps to target against one swept parameter, per head+loss pair."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric, lab in ((axes[0], "final test/accuracy", "final test accuracy"),
                            (axes[1], "steps_to_target", "steps to target accuracy")):
        _draw_bands(ax, table.dropna(subset=[metric]), column, metric, False,
                    sorted(table["pair"].unique()))
        ax.set_xscale("log")
        ax.legend(fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(lab)
    rep.figure(fig, f"{name}_by_{column}", f"{name}: final test accuracy and steps to target "
               f"against {xlabel}, mean and 95 % interval over seeds.")


def fair_lr_table(rep: Report, table: pd.DataFrame) -> None:
    final = aggregate.by_run(table, "final test/accuracy")
    best = final.loc[final.groupby("pair")["mean"].idxmax()]
    rep.table(best.drop(columns=["experiment", "of_seeds"]), "fair_lr_best",
              "Each loss at its own best η (by mean final test accuracy)")


def _true_class_logits(z: torch.Tensor, head: str) -> torch.Tensor:
    """Outputs whose true-class (last) logit is z: one sigmoid unit, or two classes whose
    other logit stays at 0."""
    z = z.reshape(-1, 1)
    return z if head == "sigmoid" else torch.cat([torch.zeros_like(z), z], dim=1)


def gradient_section(rep: Report) -> None:
    """∂ℓ/∂z against z for one output unit whose target is 1: closed form and autograd."""
    z = torch.linspace(-8, 8, 401, dtype=torch.float64)
    pts = torch.linspace(-7, 7, 15, dtype=torch.float64)
    cases = [("sigmoid", "mse"), ("sigmoid", "bce"), ("softmax", "ce"), ("softmax", "mse"),
             ("linear", "mse")]
    fig, ax = plt.subplots(figsize=(7, 4))
    for head, loss in cases:
        y = torch.ones(len(z), dtype=torch.long)
        curve = losses.grad_wrt_z(loss, head, _true_class_logits(z, head), y)[:, -1]
        zp = _true_class_logits(pts, head).requires_grad_(True)
        losses.per_example(loss, zp, torch.ones(len(pts), dtype=torch.long), head).sum().backward()
        line, = ax.plot(z, curve, label=f"{head} + {loss}")
        ax.plot(pts, zp.grad[:, -1].detach(), "o", color=line.get_color(), ms=3)
    ax.set_ylim(-1.6, 0.3)
    ax.set_xlabel("output pre-activation z of the true class")
    ax.set_ylabel("∂ℓ/∂z (per example)")
    ax.legend(fontsize=8)
    rep.text("## gradients", "The gradient each loss passes back at the output. Lines: closed "
             "form (losses.grad_wrt_z); dots: autograd.")
    rep.figure(fig, "gradients", "∂ℓ/∂z for a target of 1: squared error through a sigmoid or "
               "softmax vanishes when the output is confidently wrong (z ≪ 0); CE does not "
               "(sigmoid + BCE lies under softmax + CE: a 2-way softmax is a sigmoid).")


def loss_slice(cfg, grid: np.ndarray, first=(28, 0), second=(0, 0)) -> dict[str, np.ndarray]:
    """Mean training loss, squared error and cross-entropy on a softmax head, as a function of
    one first-layer weight ``layer1.weight[first]`` and one output weight
    ``output.weight[second]`` set to every pair of values in ``grid``; every other weight keeps
    its seed-0 initial value. Returns (len(grid), len(grid)) arrays, rows: first-layer weight."""
    data = datasets.load(cfg.dataset)
    n = len(grid)
    # n identical replicas of the seed's initial network, one per output-weight value.
    model, _ = models.build(cfg, data.n_features, data.n_classes, [cfg.seeds[0]] * n)
    w1, w2 = model.layers["layer1"].weight, model.layers["output"].weight
    g = torch.as_tensor(grid, dtype=torch.float32)
    out = {"mse": np.zeros((n, n)), "ce": np.zeros((n, n))}
    y = data.y_train.expand(n, -1)
    with torch.no_grad():
        w2[(slice(None), *second)] = g
        for i, a in enumerate(g):  # one row of the grid per pass
            w1[(slice(None), *first)] = a
            z = model(data.x_train)
            out["mse"][i] = losses.squared_error(z, y, "softmax").mean(-1).numpy()
            out["ce"][i] = losses.cross_entropy(z, y).mean(-1).numpy()
    return out


def landscape_section(rep: Report, cfg) -> None:
    grid = np.linspace(-8, 8, 41)
    surf = loss_slice(cfg, grid)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    rows = []
    for ax, (loss, label) in zip(axes, (("mse", "squared error ½Σ(p-y)²"),
                                        ("ce", "cross-entropy (nats)")), strict=True):
        c = ax.contourf(grid, grid, surf[loss], levels=30, cmap="viridis")
        fig.colorbar(c, ax=ax, label=label)
        ax.set_xlabel("output weight (hidden unit 0 → class 0)")
        ax.set_ylabel("first-layer weight (pixel 28 → hidden unit 0)")
        ax.set_title(loss)
        dy, dx = np.gradient(surf[loss], grid, grid)
        slope = np.hypot(dx, dy)
        rows.append({"loss": loss, "min": surf[loss].min(), "max": surf[loss].max(),
                     "median gradient norm": float(np.median(slope)),
                     "share with gradient norm < 1e-3": float((slope < 1e-3).mean())})
    rep.text("## landscape", "Glorot & Bengio (2010) §4.1: the training loss of the digits MLP "
             "(seed-0 initial weights) over one first-layer and one output weight, all other "
             "weights fixed; computed from `experiments/landscape.yaml`, no training.")
    rep.figure(fig, "landscape", "Training loss over a 2-D slice of weight space: squared "
               "error is flat (a plateau) over far more of the slice than cross-entropy.")
    rep.table(pd.DataFrame(rows), "landscape", "Flatness of the two slices (gradient of the "
              "mean loss with respect to the two weights)")


def information_section(rep: Report) -> None:
    y_hat = np.linspace(0.001, 0.999, 500)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for y in (1, 0):
        ax.plot(y_hat, information.binary_cross_entropy(y, y_hat).numpy(), label=f"y = {y}")
    for q in (0.3, 0.6, 0.9):
        ax.plot(q, float(information.binary_cross_entropy(1, q)), "ko", ms=4)
        ax.annotate(f"{float(information.binary_cross_entropy(1, q)):.3f}", (q, 0.1 +
                    float(information.binary_cross_entropy(1, q))), fontsize=8)
    ax.set_xlabel("prediction ŷ = σ(z)")
    ax.set_ylabel("binary cross-entropy (bits)")
    ax.legend()
    rep.text("## information", "The lecture's numbers: H(0.6, 0.4) = "
             f"{float(information.entropy([0.6, 0.4])):.3f} bits; cross-entropy of a true label "
             "with ŷ = 0.6, 0.9, 0.3 is "
             + ", ".join(f"{float(information.binary_cross_entropy(1, q)):.3f}"
                         for q in (0.6, 0.9, 0.3)) + " bits (× ln 2 for nats).")
    rep.figure(fig, "bce", "Binary cross-entropy in bits against the prediction ŷ, for a true "
               "(y = 1) and a false (y = 0) label; dots: the lecture's worked values.")


def compose_experiment(name: str):
    """The resolved configuration of ``experiment=name``, as the CLI would compose it."""
    from hydra import compose, initialize_config_dir

    from .cli import config_dir

    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("config", overrides=[f"experiment={name}"])


STATIC_SECTIONS = ["landscape", "gradients", "information"]  # drawn without runs


def build(runs_dir: Path, out: Path, workers: int | None = None) -> Path:
    """Write the report of the runs in ``runs_dir`` to ``out``. On Linux its sections are
    drawn by ``workers`` processes at a time (default: one per usable core, at most 4),
    each a fresh fork of this one; elsewhere, or with ``workers=1``, in this process."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers!r}; give a number of processes >= 1")
    runs = aggregate.load_runs(runs_dir)
    rep = Report(out)
    rep.text(f"Generated by `ce-vs-mse-report` from `{runs_dir}` "
             f"({len(runs.table)} finished runs). Every number below is read from the runs' "
             "`summary.json` and `metrics.csv`.")
    if runs.skipped:
        rep.text("Skipped runs (not finished or unreadable):", "",
                 *(f"- `{d}`: {why}" for d, why in runs.skipped))
    present = set(runs.table["experiment"]) if len(runs.table) else set()
    sections = [*(("experiment", name) for name in [*ORDER, *sorted(present - set(ORDER))]),
                *(("static", name) for name in STATIC_SECTIONS)]
    draw = functools.partial(_section, runs, out)
    if sys.platform != "linux":  # fork is unsafe on macOS and missing on Windows
        workers = 1
    workers = workers or min(4, len(os.sched_getaffinity(0)))
    try:
        drawn = (forks.map_in_forks(draw, sections, workers) if workers > 1
                 else [draw(section) for section in sections])
    except BaseException:  # a worker stopped mid-write leaves its temporary file
        for tmp in out.glob("*/*.tmp"):
            tmp.unlink()
        raise
    for lines in drawn:
        rep.lines += lines
    return rep.write()


def _section(runs: aggregate.Runs, out: Path, section: tuple[str, str]) -> list[str]:
    """Draw one section of the report (its figures and tables); return its Markdown lines.
    ``section`` is ("experiment", name) or ("static", name)."""
    kind, name = section
    threads = torch.get_num_threads()
    # One thread, here and in a worker alike: the same arithmetic either way, and a forked
    # child must not use an OpenMP pool its parent may have started.
    torch.set_num_threads(1)
    try:
        rep = Report(out, title=False)
        if kind == "static":
            {"landscape": lambda: landscape_section(rep, compose_experiment("landscape")),
             "gradients": lambda: gradient_section(rep),
             "information": lambda: information_section(rep)}[name]()
        elif name not in set(runs.table.get("experiment", ())):
            how = ("put MNIST in `data/` (README, Data) and run `ce-vs-mse experiment=mnist`"
                   if name == "mnist" else f"run `ce-vs-mse experiment={name}`")
            rep.text(f"## {name}", f"No finished runs of this experiment: {how}.")
        else:
            table = runs.table[runs.table["experiment"] == name]
            curves = runs.curves[runs.curves["experiment"] == name]
            if name == "neuron":
                neuron_section(rep, table, curves)
            else:
                experiment_section(rep, name, table, curves)
            if name == "saturation":
                _parameter_sweep(rep, name, table, "init_scale", "initial weight scale (×)")
            if name == "fair_lr":
                _parameter_sweep(rep, name, table, "lr", "learning rate η")
                fair_lr_table(rep, table)
        return rep.lines
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("results/runs"),
                        help="folder of finished runs (default: results/runs)")
    parser.add_argument("--out", type=Path, default=Path("results/report"),
                        help="where REPORT.md, figures/ and tables/ go (default: results/report)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes drawing sections at once (Linux; default: one per "
                             "usable core, at most 4; 1 draws everything in this process)")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers {args.workers}: give a number of processes >= 1")
    if not args.runs.is_dir():
        print(f"ce-vs-mse-report: error: --runs {args.runs} is not a folder; train first, "
              "e.g. `ce-vs-mse experiment=quickstart`", file=sys.stderr)
        return 2
    def waiting(message: str) -> None:
        print(f"ce-vs-mse-report: {message}", file=sys.stderr, flush=True)

    try:
        args.out.mkdir(parents=True, exist_ok=True)
        with locked(args.out, waiting):  # two reports into one folder take turns
            path = build(args.runs, args.out, args.workers)
    except OSError as err:
        print(f"ce-vs-mse-report: error: --out {args.out} cannot be written: "
              f"{err.strerror or err} ({err.filename or args.out})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ce-vs-mse-report: interrupted; every file in --out is as it was or complete",
              file=sys.stderr)
        return 130
    print(f"Report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
