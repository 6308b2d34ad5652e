"""``ce-vs-mse-report``: which runs and sections go in, drawing them, and REPORT.md around them:
the title, the short answer and the mechanism figure on the first screen, then each part of
the story (:data:`.sections.PARTS`) with its sections' questions, lead figures and answers,
and an appendix of every table, further figure, skipped run and what built it.

The sections (:mod:`.sections`) are drawn side by side on Linux, each in a fresh fork of this
process (:func:`ce_vs_mse.forks.map_in_forks`), so the same runs give the same bytes however
many workers draw them.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .. import forks
from ..config import tree as config_tree
from ..store import provenance, published
from ..store.lock import locked
from . import aggregate, headline, reuse, slides
from .document import Block, Document, anchor, body, escape
from .experiment import Experiment
from .sections import (
    ADHOC_QUESTION,
    APPENDIX,
    CAUSE,
    PARTS,
    PHENOMENON,
    SECTIONS,
    YOURS,
    part_of,
    standard,
)
from .tensorboard import write_logdir

TITLE = "# Why cross-entropy trains classifiers faster than squared error, and when it does not"
YOURS_TITLE = "# Cross-entropy or squared error on your data?"  # the verdict is its heading
MECHANISM = "mechanism"  # the section whose first figure the first screen shows
PACKAGES = ("torch", "numpy", "pandas", "scipy", "matplotlib")  # what draws the report


def choose(table: pd.DataFrame, experiments: str) -> tuple[list[str], pd.DataFrame, list[str]]:
    """The sections to draw (in order), the runs they use, and a note on the runs left out.

    ``named``: the sections of experiments/*.yaml and those drawn without runs, from the runs
    those files make (other overrides, e.g. ``trainer.epochs=3``, are left out); ``all``:
    those and every other experiment found, with all their runs; else a comma-separated list
    of names: just those sections."""
    present = sorted(set(table["experiment"])) if len(table) else []
    if experiments in ("named", "all"):
        named = config_tree.named_experiments()
        wanted = [n for n in SECTIONS
                  if SECTIONS[n].experiment in named or not SECTIONS[n].needs_runs]
        wanted += [n for n in named if n not in SECTIONS]
        if experiments == "all":
            wanted += [n for n in present if n not in wanted]
    else:
        wanted = [n.strip() for n in experiments.split(",") if n.strip()]
        order = list(SECTIONS)
        wanted.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
    if not len(table):
        return wanted, table, []
    drawn = {SECTIONS[n].experiment if n in SECTIONS else n for n in wanted}
    keep = table["experiment"].isin(drawn)
    notes = []
    if experiments == "named":
        member = [e not in named or overrides is None
                  or config_tree.in_experiment(e, overrides, seed)
                  for e, overrides, seed in zip(table["experiment"], table["overrides"],
                                                table["seed"], strict=True)]
        extra = table[keep & ~pd.Series(member, index=table.index)]
        for name, group in extra.groupby("experiment"):
            notes.append(f"- `{name}`: {len(group)} seed(s) trained with overrides that "
                         f"`experiments/{name}.yaml` does not make (e.g. "
                         f"{escape(' '.join(group['overrides'].iloc[0]))})")
        keep &= pd.Series(member, index=table.index)
    others = sorted(set(table.loc[~table["experiment"].isin(drawn), "experiment"]))
    if others:
        what = ("not in experiments/" if experiments in ("named", "all")
                else "not in --experiments")
        notes.append(f"- experiments {what}: {', '.join(f'`{n}`' for n in others)}")
    return wanted, table[keep], notes


def build(runs_dir: Path, out: Path, workers: int | None = None,
          experiments: str = "named", svg: bool = False, lecture: bool = False) -> Path:
    """Write the report of the runs in ``runs_dir`` to ``out`` (see :func:`choose` for
    ``experiments``); every figure as PNG, and also as SVG with ``svg``; with ``lecture``
    the slides too (:mod:`.slides`, from the runs it has read). On Linux its
    sections are drawn by ``workers`` processes at a time (default: one per usable core, at
    most 4), each a fresh fork of this one; elsewhere, or with ``workers=1``, in this
    process."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers!r}; give a number of processes >= 1")
    if sys.platform != "linux":  # fork is unsafe on macOS and missing on Windows
        workers = 1
    workers = workers or min(4, len(os.sched_getaffinity(0)))
    collecting = gc.isenabled()
    if workers > 1:
        # Off here and in the workers, which inherit it: what this process makes (the runs)
        # is not garbage, and a worker exits when its section is drawn, its garbage (closed
        # figures) never freed. Each full collection would walk (or free) it all: about 1
        # CPU-s here and 5 in the workers.
        gc.disable()
    try:
        return _build(runs_dir, out, workers, experiments, svg, lecture)
    finally:
        if collecting:
            gc.enable()


def _build(runs_dir: Path, out: Path, workers: int, experiments: str, svg: bool,
           lecture: bool) -> Path:
    runs = aggregate.load_runs(runs_dir)
    names, table, left_out = choose(runs.table, experiments)
    curves = (runs.curves[runs.curves["experiment"].isin(set(table["experiment"]))
                          & runs.curves["run"].isin(set(table["run"]))]
              if len(table) else runs.curves)
    # a section that cites another experiment's runs (runs_of) is the repeat, wherever its
    # part puts it: the one that trained them comes first
    cites = sorted(names, key=lambda n: bool(n in SECTIONS and SECTIONS[n].runs_of))
    repeated = reuse.repeats(table, [(n, SECTIONS[n].experiment if n in SECTIONS else n)
                                     for n in cites])
    draw = functools.partial(_section, aggregate.Runs(table, curves), out, svg, repeated)
    doc = Document(out)
    # the sections with the most seeds (the most to draw) start first, so that the largest
    # is not left to be drawn alone at the end; before them those drawn without runs, whose
    # cost no seed count shows (the landscape's, 4 CPU-s, is among the largest)
    size = table["experiment"].value_counts() if len(table) else pd.Series(dtype=int)
    first = sorted(names, key=lambda n: (n not in SECTIONS or SECTIONS[n].needs_runs,
                                         -size.get(n, 0)))
    try:
        drawn = dict(zip(first, forks.map_in_forks(draw, first, workers) if workers > 1
                         else [draw(name) for name in first], strict=True))
        drawn = [drawn[name] for name in names]
    except BaseException:  # a worker stopped mid-write leaves its temporary file
        for tmp in out.glob("*/*.tmp"):
            tmp.unlink()
        raise
    command = (f"ce-vs-mse-report --runs {runs_dir} --experiments {experiments}"
               + (" --svg" if svg else ""))
    built = "How this report was built"
    parts = {name: part_of(name) for name in names}
    if set(parts.values()) == {YOURS}:  # your own data alone: its verdict is the answer
        doc.text(YOURS_TITLE)
        short = [d.answer.split(". ")[0].rstrip(".") + "." for d in drawn]  # the verdict
    else:
        doc.text(TITLE)
        short = headline.compose([(d.name, parts[d.name], d.answer) for d in drawn],
                                 PHENOMENON, CAUSE)
    if not len(table):
        short = ["No finished runs in `--runs` yet, so nothing here is measured: train first, "
                 "e.g. `ce-vs-mse experiment=quickstart` (or `bash scripts/reproduce.sh` for "
                 "every experiment)."]
    doc.text(published.ANSWER[0], "**In short.** " + "\n".join(short), published.ANSWER[1])
    mechanism = next((d for d in drawn if d.name == MECHANISM), None)
    lead = next((b for b in mechanism.blocks if b.kind == "figure"), None) if mechanism else None
    if lead is not None:  # captioned by its section's question; its part explains the panels
        doc.text(f"![{lead.name}](figures/{lead.name}.png)", "",
                 f"*{mechanism.question}* ([the figure explained]({anchor(MECHANISM)}))")
    doc.text(f"Built by `{command}` from {len(table)} seeds ({_counts(table)}); every number "
             "is computed from the runs' `summary.json` and `metrics.csv` "
             f"([{built.lower()}]({anchor(built)})). Numbers in the text are rounded; the "
             "tables in the appendix give each with its 95 % interval.")
    present = [p for p in PARTS if any(parts[n] == p for n in names)] + [APPENDIX] * (
        APPENDIX not in parts.values())
    doc.text("**Contents:** " + " · ".join(f"[{PARTS[p][0]}]({anchor(PARTS[p][0])})"
                                          for p in present))
    appendix = []
    for part in present:
        title, about = PARTS[part]
        doc.text(f"## {title}", about)
        if part == APPENDIX:
            doc.text(*_independent(repeated))
            doc.add(appendix)
        for d in drawn:
            if parts[d.name] != part:
                continue
            shown, rest = ((d.blocks, []) if part == APPENDIX else
                           body(d.blocks, d.figures))
            doc.text(f"### {d.name}", f"*{d.question}*")
            doc.add(shown)
            doc.text(f"**Answer.** {d.answer}")
            if rest:
                more = f"{d.name}: tables and figures"
                doc.text(f"In the appendix: [{_contents(rest)}]({anchor(more)}).")
                appendix += [Block("text", (f"### {more}", "")), *rest]
    if runs.skipped:
        doc.text("### Skipped run folders", "Not finished or unreadable:", "",
                 *(f"- {escape(d)}: {escape(why)}" for d, why in runs.skipped))
    if left_out:
        doc.text("### Runs left out", "`--experiments all` includes them:", "", *left_out)
    doc.text(f"### {built}", *_built_with(command, table))
    write_logdir(aggregate.Runs(table, curves), out)  # seeds as one curve with a band
    if lecture:  # from the runs already read (every one: slides pick their experiments)
        slides.write(runs, out)
    return doc.write()


def _contents(blocks: list[Block]) -> str:
    """``its 3 tables and 2 further figures`` (or ``its notes``) in ``blocks``."""
    count = {kind: sum(b.kind == kind for b in blocks) for kind in ("table", "figure")}
    said = [f"{n} {'further ' * (kind == 'figure')}{kind}{'s' * (n > 1)}"
            for kind, n in count.items() if n]
    return "its " + (" and ".join(said) if said else "notes")


def _independent(repeated: dict[str, reuse.Repeats]) -> list[str]:
    """How many comparisons the answers stand on, and how many of them are independent (a
    run reused by several sections counts once)."""
    total = sum(r.total for r in repeated.values())
    if not total:
        return []
    again = sum(len(labels) for r in repeated.values() for labels in r.of.values())
    return [f"The sections compare squared error with cross-entropy or BCE {total} times (a "
            "squared-error run and a log-loss run that differ only in the loss, paired seed by "
            f"seed): {total - again} independent results, and {again} comparisons that repeat "
            "runs of an earlier section, which those sections name as not new evidence."]


def _counts(table: pd.DataFrame) -> str:
    status = table["status"].value_counts() if len(table) else pd.Series(dtype=int)
    return ", ".join(f"{status.get(s, 0)} {s}" for s in ("done", "diverged", "failed"))


@dataclass(frozen=True)
class Drawn:
    """One section as drawn: its question, its answer (with the facts the opening answer
    uses), its blocks, and the figures its part shows (:func:`.document.body`)."""

    name: str
    question: str
    answer: headline.Answer
    blocks: list[Block]
    figures: tuple[str, ...] = ()


def _section(runs: aggregate.Runs, out: Path, svg: bool, repeated: dict[str, reuse.Repeats],
             name: str) -> Drawn:
    """Draw one section; its answer says which of its comparisons repeat an earlier
    section's runs."""
    threads = torch.get_num_threads()
    # One thread, here and in a worker alike: the same arithmetic either way, and a forked
    # child must not use an OpenMP pool its parent may have started.
    torch.set_num_threads(1)
    try:
        doc = Document(out, svg)
        section = SECTIONS.get(name)
        question = section.question if section else ADHOC_QUESTION
        figures = section.figures if section else ()
        source = section.experiment if section else name
        table = (runs.table[runs.table["experiment"] == source] if len(runs.table)
                 else runs.table)
        exp = None
        if len(table):
            exp = Experiment(source, table, runs.curves[runs.curves["experiment"] == source])
        if exp is None and (section is None or section.needs_runs):
            if name == "mnist":
                how = "put MNIST in `data/` (README, Data) and run `ce-vs-mse experiment=mnist`"
            elif source in config_tree.named_experiments():
                how = f"run `ce-vs-mse experiment={source}`"
            else:  # e.g. default: what a plain `ce-vs-mse ...` writes, not an experiment file
                how = (f"train it first: `{source}` is not in experiments/, e.g. "
                       "`ce-vs-mse loss=mse` writes experiment `default`")
            doc.text(f"No finished runs of this experiment: {how}.")
            return Drawn(name, question, headline.Answer(f"Not run yet ({how})."), doc.blocks)
        again = repeated.get(name, reuse.Repeats())
        if again.of:
            doc.note(f"*{again.note()}*")
        answer = (section.draw if section else standard.draw)(doc, exp)
        facts = getattr(answer, "facts", {})
        if exp is not None and exp.lost():  # the answer says what no answer stands on
            answer = f"{answer.rstrip('.')} ({exp.lost()}; left out)."
        return Drawn(name, question, headline.Answer(f"{answer} {again.short()}".strip(),
                                                     **facts), doc.blocks, figures)
    finally:
        torch.set_num_threads(threads)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        model = ""
    return f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def _built_with(command: str, table: pd.DataFrame) -> list[str]:
    """What built this report, and what trained its runs."""
    origin = provenance.collect()
    commit = origin["git_commit"] or "not a git checkout"
    dirty = {True: " (with uncommitted changes)", False: "", None: ""}[origin["git_dirty"]]
    shown = {p: provenance.package_version(p) or "not installed" for p in ("ce-vs-mse",
                                                                         *PACKAGES)}
    versions = ", ".join(f"{p} {shown[p]}" for p in PACKAGES)
    lines = [f"- command: `{command}`",
             f"- code: ce-vs-mse {shown['ce-vs-mse']}, commit {commit}{dirty}",
             f"- Python {origin['python']}; {versions}",
             f"- machine: {_cpu()}; {origin['platform']}"]
    if len(table) and "git_commit" in table:
        trained = table[table["status"] != "failed"]
        for column, what in (("git_commit", "commit (+changes: uncommitted changes)"),
                             ("torch", "torch"),
                             ("platform", "platform")):
            values = trained[column].fillna("not recorded").value_counts().sort_index()
            lines.append(f"- runs trained with {what}: "
                         + ", ".join(f"{v} ({n} seeds)" for v, n in values.items()))
    return lines


def main(argv: list[str] | None = None, *, closing: bool = True) -> int:
    """``ce-vs-mse-report``; with ``closing`` it ends by printing the report's answer and
    how it compares with the published report (:func:`.published.ending`)."""
    forks.sigterm_as_interrupt()
    parser = argparse.ArgumentParser(
        description="Figures, tables and REPORT.md from the logged runs (never trains).")
    parser.add_argument("--runs", type=Path, default=Path("results/runs"),
                        help="folder of finished runs (default: results/runs)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where REPORT.md, figures/ and tables/ go (default: "
                             f"{published.LATEST}, which git ignores)")
    parser.add_argument("--publish", action="store_true",
                        help=f"write the published report, {published.PUBLISHED} (committed), "
                             "instead of comparing with it")
    parser.add_argument("--experiments", default="named",
                        help="which experiments: 'named' (default; the committed report): "
                             "those of experiments/*.yaml, from the runs those files make, "
                             "and the sections drawn without runs; 'all': those and every "
                             "other experiment and run in --runs (e.g. 'default', from a plain "
                             "`ce-vs-mse ...`); or a comma-separated list of names")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes drawing sections at once (Linux; default: one per "
                             "usable core, at most 4; 1 draws everything in this process)")
    parser.add_argument("--svg", action="store_true",
                        help="also write every figure as SVG (figures/<name>.svg), which "
                             "takes about as long again as the PNGs")
    parser.add_argument("--slides", action="store_true",
                        help="also write 16:9 slides for a lecture (figures/slides/*.png)")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers {args.workers}: give a number of processes >= 1")
    try:
        args.out = published.destination(args.out, args.publish)
    except ValueError as err:
        parser.error(str(err))
    if not args.runs.is_dir():
        print(f"ce-vs-mse-report: error: --runs {args.runs} is not a folder; train first, "
              "e.g. `ce-vs-mse experiment=quickstart`", file=sys.stderr)
        return 2

    def waiting(message: str) -> None:
        print(f"ce-vs-mse-report: {message}", file=sys.stderr, flush=True)

    try:
        args.out.mkdir(parents=True, exist_ok=True)
        with locked(args.out, waiting):  # two reports into one folder take turns
            path = build(args.runs, args.out, args.workers, args.experiments, args.svg,
                         lecture=args.slides)
    except OSError as err:
        print(f"ce-vs-mse-report: error: --out {args.out} cannot be written: "
              f"{err.strerror or err} ({err.filename or args.out})", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (forks.Terminated)
        term = isinstance(stop, forks.Terminated)
        print(f"ce-vs-mse-report: {'terminated (SIGTERM)' if term else 'interrupted'}; every "
              "file in --out is as it was or complete", file=sys.stderr)
        return forks.Terminated.EXIT if term else 130
    if closing:
        print("\n".join(published.ending(path)))
    return 0
