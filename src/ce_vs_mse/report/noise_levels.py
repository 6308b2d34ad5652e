"""Label noise as the label_noise and calibration sections show it: each loss at every η it
was trained at, at the shared η and at its own η, per noise level; and whether the order of
the two losses holds at every η or flips with it.

A *setting* is one way to put the two losses side by side at a noise level: both at one η
(``η = 0.5``), or each at its own η, chosen by :func:`.tuning.choose` on validation accuracy
(validation labels are as noisy as the training ones: a user has no clean labels), never on
the test split that the numbers are then read from. A loss that learns slower also fits the
noise later, so a verdict from one shared η can be a verdict about η.

In a setting the losses are compared seed by seed (the same seed: the same initial weights
and batches): squared error's value minus cross-entropy's, its mean and t-interval over the
seeds (:func:`.aggregate.mean_ci`). An interval that holds 0, or none (fewer than 3 seeds),
is *no difference detected*: never read as the two being the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from . import aggregate, plots, style, tables, tuning
from .document import Document, percent
from .experiment import Experiment
from .plots import Metric, Panel
from .seeds import done

SHARED_LR = 0.5  # configs/optimizer/sgd.yaml's η, at which label_noise ran before it swept η
OWN = "each loss's own η"


@dataclass(frozen=True)
class Measure:
    """A per-seed number the losses are compared by: ``name`` heads its CSV columns
    (``ece_mean``), ``label`` names it in a table or on an axis, ``better`` says in the
    answer who wins (``lower test ECE``), ``lower``: whether lower is better; ``column``: the
    per-seed frame's column, when not ``name``."""

    name: str
    label: str
    better: str
    lower: bool = False
    column: str = ""

    @property
    def source(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Setting:
    """Both losses at one noise level, each in one run: ``runs`` and ``lrs`` by pair (in the
    report's order: cross-entropy first); ``chosen``: each pair's :func:`.tuning.choose` row
    when each is at its own η, else None; ``shared``: whether this is the shared η."""

    noise: float
    name: str  # "η = 0.5" or OWN
    runs: dict[str, str]
    lrs: dict[str, float]
    chosen: dict[str, pd.Series] | None = None
    shared: bool = False

    def describe(self) -> str:
        """``η = 0.5 (shared)``, or ``each loss's own η: cross-entropy η = 0.1 (…), squared
        error η = 0.5``."""
        if self.chosen is None:
            return self.name + (" (shared)" if self.shared else "")
        return f"{OWN}: " + ", ".join(f"{style.family(p)} {tuning.describe(r)}"
                                      for p, r in self.chosen.items())

    def short(self) -> str:
        """``η = 0.5 for both``, or ``own η: cross-entropy 0.1, squared error 0.5``: as a
        panel's title says it."""
        if self.chosen is None:
            return f"{self.name} for both"
        return "own η: " + ", ".join(f"{style.family(p)} {lr:g}" for p, lr in self.lrs.items())


def settings(table: pd.DataFrame) -> dict[float, list[Setting]]:
    """Per noise level: a setting for each η that every pair was trained at there
    (ascending; the one nearest :data:`SHARED_LR` on a log scale is the *shared* one), then
    :data:`OWN` when the runs have a validation split to choose it on."""
    runs = table[["label_noise", "pair", "lr", "run"]].drop_duplicates()
    chosen = (tuning.choose(table, tuning.ACCURACY) if tuning.has_validation(table)
              else pd.DataFrame(columns=["label_noise", "pair"]))
    out = {}
    for noise, at in runs.groupby("label_noise"):
        pairs = style.order(at["pair"])
        common = sorted(set.intersection(*(set(at.loc[at["pair"] == p, "lr"]) for p in pairs)))
        shared = min(common, key=lambda lr: abs(math.log(lr / SHARED_LR)), default=None)
        found = []
        for lr in common:
            one = at[at["lr"] == lr].drop_duplicates("pair").set_index("pair")
            found.append(Setting(noise, f"η = {lr:g}", {p: one.loc[p, "run"] for p in pairs},
                                 {p: lr for p in pairs}, shared=lr == shared))
        own = chosen[chosen["label_noise"] == noise].set_index("pair")
        if len(pairs) > 1 and set(pairs) <= set(own.index):
            found.append(Setting(noise, OWN, {p: own.loc[p, "run"] for p in pairs},
                                 {p: float(own.loc[p, "lr"]) for p in pairs},
                                 {p: own.loc[p] for p in pairs}))
        out[noise] = found
    return out


def pictured(found: list[Setting]) -> list[Setting]:
    """The settings a figure of curves shows of a noise level: the shared one, then each
    loss at its own η."""
    return [s for s in found if s.shared] + [s for s in found if s.chosen is not None]


def per_eta(seeds: pd.DataFrame, measures: list[Measure]) -> pd.DataFrame:
    """Mean and interval (:func:`.aggregate.mean_ci`) over the done seeds of each measure,
    one row per noise level, pair and η (a run), in that order."""
    rows = [{"noise": noise, "pair": pair, "lr": lr, "run": run,
             **{m.name: aggregate.mean_ci(g[m.source]) for m in measures}}
            for (noise, pair, lr, run), g in done(seeds).groupby(["label_noise", "pair", "lr",
                                                                  "run"])]
    df = pd.DataFrame(rows)
    pairs = style.order(df["pair"])
    return df.iloc[sorted(range(len(df)), key=lambda i: (
        df["noise"].iloc[i], pairs.index(df["pair"].iloc[i]), df["lr"].iloc[i]))]


def _settings_of(row: pd.Series, found: list[Setting]) -> list[Setting]:
    """The :func:`pictured` settings a :func:`per_eta` row's run is in."""
    return [s for s in pictured(found) if s.runs.get(row["pair"]) == row["run"]]


def eta_label(row: pd.Series, found: list[Setting]) -> str:
    """A :func:`per_eta` row's η as its table shows it: ``0.5 (shared)``, ``0.1 (own η, at
    the grid's edge)``, ``0.5 (shared; own η)``."""
    marks = [("shared" if s.chosen is None else "own η"
              + ("" if s.chosen[row["pair"]]["bracketed"] else ", at the grid's edge"))
             for s in _settings_of(row, found)]
    return tables.value(row["lr"]) + (f" ({'; '.join(marks)})" if marks else "")


def numbers(df: pd.DataFrame, measures: list[Measure],
            found: dict[float, list[Setting]]) -> pd.DataFrame:
    """The CSV of a :func:`per_eta` table: its η, whether it is the shared η and the pair's
    own, then mean, ci_low and ci_high of each measure, and the seeds."""
    of = [_settings_of(r, found[r["noise"]]) for _, r in df.iterrows()]
    return tables.rounded_numbers(pd.DataFrame({
        "label_noise": df["noise"], "pair": df["pair"], "lr": df["lr"],
        "shared": [any(s.chosen is None for s in o) for o in of],
        "own": [any(s.chosen is not None for s in o) for o in of],
        **{f"{m.name}_{s}": [v[s] for v in df[m.name]] for m in measures
           for s in ("mean", "ci_low", "ci_high")},
        "n": [v["n"] for v in df[measures[0].name]]}))


def difference(seeds: pd.DataFrame, setting: Setting, column: str) -> dict | None:
    """Squared error's ``column`` minus cross-entropy's in ``setting``, per seed (both done
    with a value): mean, interval and ``n``; None when the setting is not those two losses."""
    if [style.family(p) for p in setting.runs] != ["cross-entropy", "squared error"]:
        return None
    ce, sq = (done(seeds[seeds["run"] == run]).set_index("seed")[column]
              for run in setting.runs.values())
    both = pd.concat({"sq": sq, "ce": ce}, axis=1, join="inner").dropna()
    return aggregate.mean_ci(both["sq"] - both["ce"])


def better(diff: dict | None, measure: Measure) -> str | None:
    """The loss (its words) whose ``measure`` is better by a squared-error-minus-cross-entropy
    ``diff`` whose interval excludes 0; None when no difference is detected."""
    if diff is None or not (diff["ci_low"] > 0 or diff["ci_high"] < 0):  # NaN: no interval
        return None
    sq_higher = diff["ci_low"] > 0
    return "squared error" if sq_higher != measure.lower else "cross-entropy"


@dataclass(frozen=True)
class Verdict:
    """One measure at one noise level: the better loss in each setting (None: no difference
    detected) and the seeds each comparison stood on."""

    better: dict[str, str | None]  # setting name -> loss words or None
    n: dict[str, int]

    @property
    def winner(self) -> str | None:
        """The loss that is better in every setting, or None."""
        found = set(self.better.values())
        return found.pop() if len(found) == 1 and None not in found else None

    @property
    def flips(self) -> bool:
        """Each loss is the better one in some setting."""
        return len(set(self.better.values()) - {None}) == 2

    def words(self) -> str:
        """``cross-entropy at every η and at each loss's own η``; ``cross-entropy at η = 0.5
        and 2, squared error at each loss's own η (the order flips with η)``; with ``no
        difference detected at … (n = 5)`` where none is."""
        if self.winner:
            return f"{self.winner} at {_where(list(self.better), every=True)}"
        by: dict[str | None, list[str]] = {}
        for name, who in self.better.items():
            by.setdefault(who, []).append(name)
        text = ", ".join(f"{who} at {_where(names)}" for who, names in by.items() if who)
        text += " (the order flips with η)" if self.flips else ""
        if None in by:
            counts = sorted({self.n[name] for name in by[None]})
            n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
            text += ("; " if text else "") + (f"no difference detected at "
                                              f"{_where(by[None], every=len(by) == 1)} "
                                              f"(n = {n})")
        return text


def _where(names: list[str], every: bool = False) -> str:
    """``η = 0.1, 0.5 and 2 and at each loss's own η``; with ``every`` (all the settings of
    a noise level), ``every η`` (``and at each loss's own η`` when it is one of them)."""
    lrs = [n.removeprefix("η = ") for n in names if n != OWN]
    parts = (["every η"] if every else [f"η = {join(lrs)}"]) if lrs else []
    return " and at ".join(parts + [OWN] * (OWN in names))


def join(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def verdicts(seeds: pd.DataFrame, found: dict[float, list[Setting]],
             measure: Measure) -> dict[float, Verdict]:
    """Per noise level, ``measure``'s :class:`Verdict` over its settings."""
    out = {}
    for noise, at in found.items():
        diffs = {s.name: difference(seeds, s, measure.source) for s in at}
        diffs = {k: d for k, d in diffs.items() if d is not None}
        if diffs:
            out[noise] = Verdict({k: better(d, measure) for k, d in diffs.items()},
                                 {k: d["n"] for k, d in diffs.items()})
    return out


def summary(found: dict[float, Verdict], measure: Measure) -> str:
    """``Lower test ECE — at 0 % and 20 % wrong labels: cross-entropy at every η …; at 40 %:
    ….``: noise levels with the same words said once; "" with none."""
    by: dict[str, list[float]] = {}
    for noise, v in found.items():
        by.setdefault(v.words(), []).append(noise)
    parts = [f"at {join([percent(n) for n in noises])} wrong labels: {words}"
             for words, noises in by.items()]
    return f"{measure.better[0].upper()}{measure.better[1:]} — " + "; ".join(parts) + "." \
        if parts else ""


def agreement(found: dict[float, Verdict], setting: str, favoured: str = "squared error"
              ) -> str:
    """Where the runs agree with a paper that finds ``favoured`` better, in ``setting`` at
    each noise level: ``agree at 20 % and 40 % wrong labels and disagree at 0 % wrong
    labels``."""
    by: dict[str, list[str]] = {}
    for noise, v in found.items():
        if setting in v.better:
            who = v.better[setting]
            key = ("agree" if who == favoured else "disagree" if who else
                   "detect no difference")
            by.setdefault(key, []).append(percent(noise))
    return join([f"{key} at {join(levels)} wrong labels" for key, levels in by.items()]
                ) if by else ""


def hu(found: dict[float, Verdict], settings_: dict[float, list[Setting]], claim: str,
       measure: Measure) -> str:
    """Where the runs agree with Hu, Wang, Wang & Li (NeurIPS 2022), who report square loss
    ``claim`` (``better calibrated``), by ``measure``: with each loss at its own η and at
    the shared η (said once when the same)."""
    shared = next((s.name for at in settings_.values() for s in at if s.shared), None)
    by: dict[str, list[str]] = {}
    for where, name in ((OWN, OWN), (f"the shared {shared}", shared)):
        agreed = agreement(found, name) if name else ""
        if agreed:
            by.setdefault(agreed, []).append(f"at {where}")
    if not by:
        return ""
    (first, where), *rest = by.items()
    return (f"Hu, Wang, Wang & Li (NeurIPS 2022) report square loss {claim}. By "
            f"{measure.label} these runs, {join(where)}, {first}" + "".join(
                f"; {join(w)} they {agreed}" for agreed, w in rest) + ".")


def chosen_words(settings_: dict[float, list[Setting]]) -> str:
    """``Each loss's own η (the highest final validation accuracy): at 20 % and 40 % wrong
    labels, cross-entropy η = 0.1 (…), squared error η = 0.5``, levels with the same choice
    said once; "" when none was chosen."""
    by: dict[str, list[str]] = {}
    for noise, at in settings_.items():
        for s in at:
            if s.chosen is not None:
                by.setdefault(s.describe().removeprefix(f"{OWN}: "), []).append(percent(noise))
    return ("Each loss's own η (the highest final validation accuracy): " + "; ".join(
        f"at {join(levels)} wrong labels, {words}" for words, levels in by.items())
            + ".") if by else ""


def comparison(seeds: pd.DataFrame, found: dict[float, list[Setting]],
             measures: list[Measure]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(shown, numbers) of the comparison table: one row per noise level and setting, each
    measure's squared-error-minus-cross-entropy difference per seed with its interval."""
    rows = []
    for noise, at in found.items():
        for s in at:
            diffs = {m.name: difference(seeds, s, m.source) for m in measures}
            if None not in diffs.values():
                rows.append({"noise": noise, "setting": s, **diffs})
    df = pd.DataFrame(rows)
    if df.empty:
        return df, df
    first = df[measures[0].name]
    shown = pd.DataFrame({"wrong labels": df["noise"].map(percent),
                          "η": [s.describe() for s in df["setting"]],
                          **{m.label: df[m.name].map(tables.cell) for m in measures},
                          "seeds": [str(d["n"]) for d in first]})
    lrs = [list(s.lrs.values()) for s in df["setting"]]  # cross-entropy's, squared error's
    numbers = tables.rounded_numbers(pd.DataFrame({
        "label_noise": df["noise"], "setting": [s.name for s in df["setting"]],
        "lr_ce": [lr[0] for lr in lrs], "lr_mse": [lr[1] for lr in lrs],
        **{f"{m.name}_diff_{k}": [d[k] for d in df[m.name]] for m in measures
           for k in ("mean", "ci_low", "ci_high")},
        "n": [d["n"] for d in first]}))
    return shown, numbers


COMPARED = ("Squared error minus cross-entropy, seed by seed (the same initial weights and "
            "batches), at each η both were trained at and with each loss at its own η: mean "
            "[95 % interval]; an interval that holds 0 detects no difference")


def draw(doc: Document, name: str, seeds: pd.DataFrame, found: dict[float, list[Setting]],
         measures: list[Measure], compare: list[Measure], caption: str) -> None:
    """Into ``doc``: the figure of the ``compare`` measures against η (<name>_by_eta), the
    table of every measure per noise level, pair and η (<name>, ``caption``), and the
    squared-error-minus-cross-entropy table of each setting (<name>_compared)."""
    df = per_eta(seeds, measures)
    doc.figure(eta_figure(df, compare, found), f"{name}_by_eta",
               f"{name}: " + join([m.label for m in compare]) + " against η, per noise "
               "level, mean and 95 % interval over seeds; a ring marks each loss's own η "
               "(chosen on validation accuracy), the dotted line the shared η. Where the lines "
               "cross, which loss is better depends on η.")
    shown = pd.DataFrame({
        "wrong labels": df["noise"].map(percent), "pair": df["pair"],
        "η": [eta_label(r, found[r["noise"]]) for _, r in df.iterrows()],
        **{m.label: df[m.name].map(tables.cell) for m in measures},
        "seeds": [str(v["n"]) for v in df[measures[0].name]]})
    doc.table(shown, numbers(df, measures, found), name, caption)
    doc.table(*comparison(seeds, found, compare), f"{name}_compared", COMPARED)


def eta_figure(df: pd.DataFrame, measures: list[Measure], found: dict[float, list[Setting]]):
    """Each measure (a row) against η, one panel per noise level (a column), one line per
    pair with its 95 % intervals; a ring marks each loss's own η, a dotted line the shared
    one."""
    levels = sorted(df["noise"].unique())
    fig, axes = plt.subplots(len(measures), len(levels), squeeze=False, sharex=True,
                             sharey="row", figsize=(3.4 * len(levels) + 0.9,
                                                    2.6 * len(measures) + plots.LEGEND_INCHES
                                                    + 0.3))
    for j, noise in enumerate(levels):
        at = df[df["noise"] == noise]
        own = next((s for s in found.get(noise, []) if s.chosen is not None), None)
        shared = next((s.lrs for s in found.get(noise, []) if s.shared), None)
        for i, m in enumerate(measures):
            ax = axes[i, j]
            for pair in style.order(at["pair"]):
                s = at[at["pair"] == pair]
                stats = pd.DataFrame(list(s[m.name]), index=s.index)
                ax.errorbar(s["lr"], stats["mean"], yerr=plots.errors(stats), capsize=2,
                            marker=style.marker(pair), ms=4, lw=1.5, **style.line(pair))
                if own is not None:
                    mine = stats[s["run"] == own.runs[pair]]
                    ax.plot([own.lrs[pair]] * len(mine), mine["mean"], ls="none", marker="o",
                            ms=11, mfc="none", mew=1.5, color=style.colour(pair))
            if shared is not None:
                ax.axvline(next(iter(shared.values())), color=style.NEUTRAL[1], lw=1, ls=":")
            ax.set_xscale("log")
            ax.set_xticks(sorted(df["lr"].unique()), [tables.value(v) for v in
                                                       sorted(df["lr"].unique())])
            ax.minorticks_off()
            if i == 0:
                ax.set_title(f"{percent(noise)} of training labels wrong", fontsize=8.5)
            if j == 0:
                ax.set_ylabel(plots.wrap(m.label, 26))
            if i == len(measures) - 1:
                ax.set_xlabel("learning rate η")
    extra = [Line2D([], [], ls="none", marker="o", ms=11, mfc="none", mew=1.5,
                    color=style.NEUTRAL[0], label="each loss's own η (chosen on validation)"),
             Line2D([], [], color=style.NEUTRAL[1], lw=1, ls=":", label="shared η")]
    plots.finish(fig, df["pair"], extra)
    return fig


def panels(exp: Experiment, metrics: list[Metric], found: dict[float, list[Setting]]):
    """A figure of ``metrics`` per epoch, one column per noise level: a row of each at the
    shared η, then a row of each with each loss at its own η (:func:`pictured`)."""
    curves = done(exp.curves)
    levels = sorted(found)
    grid = []
    for b in range(max(len(pictured(found[noise])) for noise in levels)):
        for i, metric in enumerate(metrics):
            row = []
            for noise in levels:
                s = pictured(found[noise])[b] if b < len(pictured(found[noise])) else None
                title = f"{percent(noise)} wrong labels, " + (
                    "—" if s is None else s.short())
                runs = [] if s is None else list(s.runs.values())
                row.append(Panel(title if i == 0 else "", curves[curves["run"].isin(runs)],
                                 metric))
            grid.append(row)
    return plots.panels_figure(grid, "epoch", "epoch", None)
