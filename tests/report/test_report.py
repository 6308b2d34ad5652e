"""The report: aggregation against independently computed statistics, every figure written,
identical output on a rerun, unfinished runs reported instead of crashing it, diverged seeds
counted and never averaged, one look per pair in every figure, and a summary computed from
the runs."""

import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import REPORT, cli, forked, negative_bounds, report_cli
from hydra import compose, initialize_config_dir
from matplotlib.lines import Line2D
from PIL import Image

from ce_vs_mse import report
from ce_vs_mse.report import aggregate, document, headline, plots, sections, style
from ce_vs_mse.report.build import TITLE
from ce_vs_mse.report.document import number, significant
from ce_vs_mse.report.sections.standard import TEST_MSE
from ce_vs_mse.store.published import ANSWER
from ce_vs_mse.train import runner
from ce_vs_mse.train.cli import config_dir

T_975_DF2 = 4.302652729911275  # Student t, 97.5 % quantile, 2 degrees of freedom (3 seeds)


def _run(results: Path, experiment: str, *overrides: str) -> list[Path]:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"results_dir={results}", *overrides])
    return runner.run(cfg, experiment, list(overrides)).run_dirs


TINY = ("model=logreg", "seeds=[0,1,2]", "trainer.epochs=3", "trainer.eval_every=5",
        "trainer.target_accuracy=0.85")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A tiny sweep: digits logreg, CE and MSE, 3 seeds, 3 epochs, and squared error on a
    linear head at an η where some seeds diverge; and the neuron, 1 seed."""
    root = tmp_path_factory.mktemp("results") / "runs"
    for loss in ("ce", "mse"):
        _run(root, "tiny", f"loss={loss}", *TINY)
    _run(root, "tiny", "pair=linear_mse", "optimizer.lr=0.085", *TINY)
    # an experiment that shares its name with a section drawn without runs
    _run(root, "landscape", "model=logreg", "seeds=[0]", "trainer.epochs=1")
    for loss in ("mse", "bce"):
        for w, b in ((0.6, 0.9), (2.0, 2.0)):
            _run(root, "neuron", "experiment=neuron", f"loss={loss}", "trainer.epochs=20",
                 f"model.init_weight={w}", f"model.init_bias={b}", "optimizer.lr=0.15")
    return root


def test_aggregation_matches_independent_statistics(runs):
    table = aggregate.load_runs(runs).table
    tiny = table[table["experiment"] == "tiny"]
    final = aggregate.by_run(tiny, "final test/accuracy").set_index("pair")
    for loss in ("ce", "mse"):
        values = [json.loads(p.read_text())["final"]["test/accuracy"]
                  for p in runs.glob(f"tiny/softmax_{loss}/digits-logreg/*/seed=*/summary.json")]
        assert len(values) == 3
        mean = statistics.fmean(values)
        half = T_975_DF2 * statistics.stdev(values) / 3 ** 0.5
        row = final.loc[f"softmax+{loss}"]
        assert row["mean"] == pytest.approx(mean)
        assert row["ci_low"] == pytest.approx(mean - half)
        assert row["ci_high"] == pytest.approx(mean + half)


def test_paired_ratio_pairs_the_same_seed(runs):
    table = aggregate.load_runs(runs).table
    tiny = table[table["experiment"] == "tiny"].set_index(["pair", "seed"])["steps_to_target"]
    ratio = aggregate.paired_ratio(table[table["experiment"] == "tiny"])
    per_seed = [tiny[("softmax+mse", s)] / tiny[("softmax+ce", s)] for s in range(3)]
    assert ratio["n"].item() == 3  # a geometric mean, its interval on the log ratio: above 0
    assert ratio["mean"].item() == pytest.approx(statistics.geometric_mean(per_seed))
    low, high = np.exp(aggregate.t_interval(np.log(per_seed)))
    assert (ratio["ci_low"].item(), ratio["ci_high"].item()) == pytest.approx((low, high))
    assert 0 < low < ratio["mean"].item() < high


FIGURES: dict[str, object] = {}  # name -> figure, as the in-process build drew them


@pytest.fixture(scope="module")
def built(runs, tmp_path_factory) -> Path:
    """The report of every experiment built twice from the same runs, with SVGs: into ``a/``
    by two worker processes, into ``b/`` in this process (its figures kept in FIGURES)."""
    out = tmp_path_factory.mktemp("report")
    report.build(runs, out / "a", workers=2, experiments="all", svg=True)
    save = document.Document.figure

    def keep(self, fig, name, caption):
        FIGURES[name] = fig
        fig.canvas.draw()  # what the legend and axis limits are once laid out
        save(self, fig, name, caption)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(document.Document, "figure", keep)
        report.build(runs, out / "b", workers=1, experiments="all", svg=True)
    return out


def test_report_writes_every_figure_and_table_and_is_identical_when_rerun(built):
    """Every figure and table is written, and the same bytes come out whether the sections
    were drawn by worker processes or in this process."""
    tmp_path = built
    first, second = tmp_path / "a/REPORT.md", tmp_path / "b/REPORT.md"
    text = first.read_text()
    figures = sorted((tmp_path / "a/figures").iterdir())
    for name in ("tiny_accuracy_step", "tiny_grad_norm", "tiny_steps_to_target", "neuron",
                 "gradients", "bce", "landscape", "landscape_accuracy_step"):
        for ext in ("png", "svg"):
            path = tmp_path / f"a/figures/{name}.{ext}"
            assert path.stat().st_size > 1000, path
        assert f"figures/{name}.png" in text
    for fig in figures:
        assert fig.read_bytes() == (tmp_path / "b/figures" / fig.name).read_bytes(), fig.name
    tables = sorted((tmp_path / "a/tables").iterdir())
    assert {t.name for t in tables} >= {"tiny_final_accuracy.csv", "tiny_steps_to_target.csv",
                                        "tiny_paired_ratio.csv", "neuron.csv",
                                        "landscape.csv"}
    for t in tables:
        assert t.read_bytes() == (tmp_path / "b/tables" / t.name).read_bytes()
    assert second.read_text() == text
    assert "No finished runs of this experiment" in text  # e.g. mnist: skipped with a how-to
    assert not list(tmp_path.rglob("*.tmp"))


def test_svg_only_on_request_and_none_left_behind_without(runs, tmp_path):
    out = tmp_path / "report"
    args = ["--runs", str(runs), "--out", str(out), "--experiments", "information",
            "--workers", "1"]
    assert report.main([*args, "--svg"]) == 0
    assert (out / "figures/bce.svg").stat().st_size > 1000
    assert "--experiments information --svg`" in (out / "REPORT.md").read_text()
    assert report.main(args) == 0  # the SVG would no longer match the PNG: removed
    assert (out / "figures/bce.png").is_file() and not list(out.glob("figures/*.svg"))


def test_neuron_table_reproduces_nielsens_starting_outputs(built):
    table = pd.read_csv(built / "a/tables/neuron.csv")
    starts = table.groupby("start")["output at start"].first()
    assert starts["good start (w=0.6, b=0.9)"] == pytest.approx(0.8176, abs=1e-3)  # σ(1.5)
    assert starts["bad start (w=b=2)"] == pytest.approx(0.9820, abs=1e-3)  # σ(4)


def test_unfinished_and_corrupt_runs_are_reported_and_skipped(runs, tmp_path):
    copy = tmp_path / "runs"
    shutil.copytree(runs / "tiny", copy / "tiny")
    summaries = sorted(copy.glob("tiny/**/summary.json"))
    summaries[0].unlink()  # interrupted before the summary was written
    summaries[1].write_text('{"status": "do')  # half-written
    (summaries[2].parent / "metrics.csv").write_text("")  # empty metrics
    result = aggregate.load_runs(copy)
    assert len(result.skipped) == 3
    assert len(result.table) == 9 - 3
    text = report.build(copy, tmp_path / "report", experiments="tiny").read_text()
    assert "Skipped run folders" in text and "no summary.json" in text
    assert "summary.json is unreadable" in text and "metrics.csv is not the file" in text


def test_report_command_refuses_a_missing_runs_folder_and_never_imports_the_cli(tmp_path):
    # the landscape section imports ce_vs_mse.core.landscape (and the datasets) when it draws
    code = ("import sys; from ce_vs_mse.report import main; code = main(['--runs', sys.argv[1]]);"
            " import ce_vs_mse.core.landscape; print(' '.join(sorted(sys.modules)));"
            " sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "nothing")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "is not a folder" in proc.stderr
    modules = proc.stdout.split()
    assert "ce_vs_mse.report.sections" in modules and "ce_vs_mse.core.landscape" in modules
    assert not {m for m in modules if m.startswith("ce_vs_mse.train")}


def test_ctrl_c_stops_the_report_at_once_and_leaves_only_complete_files(runs, tmp_path):
    out = tmp_path / "report"
    proc = forked(*REPORT, "--runs", str(runs), "--out", str(out), "--workers", "2",
                  "--experiments", "all", cwd=tmp_path)  # in a process group of its own
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("figures/*.png")) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the workers are drawing
        assert list(out.glob("figures/*.png")), "the report never started drawing"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, stderr = proc.communicate(timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    # one line, the parent's: the workers leave Ctrl-C to it
    assert "Traceback" not in stderr and stderr.strip().splitlines() == [
        "ce-vs-mse-report: interrupted; every file in --out is as it was or complete"]
    assert not (out / "REPORT.md").exists()
    with pytest.raises(ProcessLookupError):  # no worker left behind in its process group
        os.killpg(proc.pid, 0)
    assert not list(out.rglob("*.tmp"))
    for png in out.glob("figures/*.png"):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), png.name


@pytest.mark.parametrize("out", ["a-file", "/proc/x"])
def test_an_out_folder_that_cannot_be_written_is_one_line(runs, tmp_path, out):
    out = tmp_path / out if out == "a-file" else Path(out)
    if out.name == "a-file":
        out.write_text("keep me")
    proc = report_cli("--runs", str(runs), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"ce-vs-mse-report: error: --out {out} cannot be written")
    if out.name == "a-file":
        assert out.read_text() == "keep me"


def test_two_reports_into_one_folder_take_turns(runs, tmp_path):
    from ce_vs_mse.store import lock as locks

    out = tmp_path / "report"
    out.mkdir()
    lock = locks.try_lock(out)  # another report is writing here
    proc = forked(*REPORT, "--runs", str(runs), "--out", str(out), "--workers", "1",
                  "--experiments", "information", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while "\n" not in (said := proc.err_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)  # until it reaches the lock and says so
    assert f"waiting for pid {os.getpid()}, which is writing {out}" in said
    time.sleep(0.5)
    assert proc.poll() is None and not (out / "REPORT.md").exists()  # it waits
    lock.release()
    proc.communicate(timeout=120)
    assert proc.returncode == 0 and (out / "REPORT.md").exists()


def test_bad_worker_counts_are_refused_before_any_work(runs, tmp_path):
    with pytest.raises(ValueError, match="workers=0"):
        report.build(runs, tmp_path / "out", workers=0)
    assert not (tmp_path / "out").exists()
    proc = report_cli("--runs", str(runs), "--workers", "-1", cwd=tmp_path)
    assert proc.returncode == 2 and "--workers -1" in proc.stderr


def _tiny(runs: Path) -> pd.DataFrame:
    table = aggregate.load_runs(runs).table
    return table[table["experiment"] == "tiny"]


def _section(text: str, name: str) -> str:
    """Section ``name`` of REPORT.md: its part's text, then its appendix entry (if any)."""
    found = [text.split(heading, 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
             for heading in (f"\n### {name}\n", f"\n### {name}: tables and figures\n")
             if heading in text]
    assert found, name
    return "\n".join(found)


def test_diverged_seeds_are_counted_everywhere_and_never_averaged(runs, built):
    linear = _tiny(runs)[lambda t: t["pair"] == "linear+mse"]
    done, diverged = linear[linear["status"] == "done"], linear[linear["status"] == "diverged"]
    assert len(diverged) and len(done) >= 2, "η = 0.085 should make some seeds diverge, not all"
    d, n = len(diverged), len(linear)
    final = pd.read_csv(built / "a/tables/tiny_final_accuracy.csv").set_index("pair")
    row = final.loc["linear+mse"]
    assert row["mean"] == significant(statistics.fmean(done["final test/accuracy"]))
    assert (row["n"], row["seeds"], row["diverged"]) == (len(done), n, d)
    text = (built / "a/REPORT.md").read_text()
    tiny = _section(text, "tiny")
    # an interval only from MIN_SEEDS seeds or more
    cell = f"| linear+mse | 0.085 | {number(row['mean'])}"
    assert cell + (" [" if len(done) >= aggregate.MIN_SEEDS else " |") in tiny
    assert f"| {len(done)}/{n}, diverged {d}/{n} |" in tiny  # the final-accuracy row's seeds
    assert f"reached {int(done['steps_to_target'].notna().sum())}/{n}, diverged {d}/{n}" in tiny
    captions = [line for line in tiny.splitlines() if line.startswith("*tiny")]
    assert len(captions) == 4
    for caption in captions:
        assert f"linear+mse (lr=0.085): diverged {d}/{n}" in caption, caption
    built_by = next(x for x in text.splitlines()[:40] if x.startswith("Built by"))
    assert f"{d} diverged" in built_by  # the seeds counted on the first screen


def test_axis_limits_come_from_seeds_that_did_not_diverge(runs, built):
    curves = aggregate.load_runs(runs).curves
    tiny = curves[curves["experiment"] == "tiny"]
    fig = FIGURES["tiny_accuracy_step"]
    squared = [ax for ax in fig.axes if ax.get_ylabel().startswith("test squared error")][0]
    done = tiny[tiny["status"] == "done"].dropna(subset=["test/mse"])
    means = aggregate.bands(done, ["pair", "step"], "test/mse", log=True)["mean"]
    assert squared.get_ylim() == pytest.approx(plots._limits(means, TEST_MSE))
    diverged = tiny.loc[tiny["status"] == "diverged", "test/mse"].max()
    assert squared.get_ylim()[1] < diverged  # that seed's last values are off the axis
    title = [ax.get_title() for ax in fig.axes if "η = 0.085" in ax.get_title()]
    assert title and "diverged linear+mse" in title[0]  # said where it is left out


def test_every_figure_is_at_most_1800_px_wide(built):
    """A figure a reader can take in on one screen: panels wrap into rows instead."""
    pngs = sorted((built / "a/figures").glob("*.png"))
    assert len(pngs) > 10
    for png in pngs:
        with Image.open(png) as image:
            assert image.width <= 1800, (png.name, image.size)


def test_accuracy_panels_mark_the_target_where_each_mean_first_reaches_it(runs, built):
    """A dashed line at the target accuracy and, per pair, a marker at the first step where
    its mean over the finished seeds reaches it (from the runs' metrics, recomputed)."""
    tiny = _tiny(runs)
    curves = aggregate.load_runs(runs).curves
    curves = curves[(curves["experiment"] == "tiny") & (curves["status"] == "done")]
    means = curves.groupby(["pair", "step"])["test/accuracy"].mean().dropna()
    first = {pair: s.index.get_level_values("step")[s.to_numpy() >= 0.85].min()
             for pair, s in means.groupby("pair")}
    assert tiny["target_accuracy"].unique().tolist() == [0.85]
    assert any(np.isfinite(v) for v in first.values())  # else the test shows nothing
    fig = FIGURES["tiny_accuracy_step"]
    panels = [ax for ax in fig.axes if ax.get_ylabel() == "test accuracy"]
    marked, levels = {}, set()
    for ax in fig.axes:
        for line in ax.get_lines():
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            if line.get_linestyle() == "--" and len(set(y)) == 1 and y[0] == 0.85:
                levels.add(ax)
            elif line.get_linestyle() == "None" and len(x) == 1 and y[0] == 0.85:
                marked[mcolors.to_hex(line.get_markerfacecolor()), line.get_marker()] = x[0]
    assert panels and set(panels) <= levels
    for pair, step in first.items():  # (tiny: one facet per pair, so one marker per look)
        look = (mcolors.to_hex(style.colour(pair)), style.marker(pair))
        if np.isfinite(step):
            assert marked[look] == step, pair
        else:
            assert look not in marked, pair


def test_a_mean_over_only_some_seeds_is_pale_and_says_how_many(runs, built):
    """In the steps-to-target bars, a run where some seeds diverged or never reached the
    target is pale and written "k/n reached"; a run every seed reached is drawn in full."""
    by_run = aggregate.by_run(_tiny(runs), "steps_to_target").set_index("pair")
    fig = FIGURES["tiny_steps_to_target"]
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    partial = 0
    for patch in ax.patches:
        pair = style.pair_of(patch)
        if pair is None:
            continue
        r = by_run.loc[pair]
        if r["n"] < r["seeds"]:
            partial += 1
            assert patch.get_alpha() == plots.PARTIAL_ALPHA, pair
            assert any(t.startswith(f"{int(r['n'])}/{int(r['seeds'])} reached") for t in texts)
        else:
            assert patch.get_alpha() in (None, 1), pair
    assert partial, "linear+mse at η = 0.085 diverges in some seeds: its bar should be pale"


def _look(artist) -> tuple[str, str | None]:
    """(colour, line style or None) of a line, band, bar or legend entry."""
    if isinstance(artist, Line2D):
        style_ = artist.get_linestyle()
        return mcolors.to_hex(artist.get_color()), None if style_ == "None" else style_
    face = artist.get_facecolor()
    return mcolors.to_hex(face[0] if np.ndim(face) == 2 else face, keep_alpha=False), None


def test_every_figure_draws_a_pair_in_the_same_look(built):
    """Read every line, band, bar and legend entry back from the figures the report drew:
    one colour per loss, one line style per head, whatever the figure."""
    looks: dict[str, set] = {}
    for name, fig in FIGURES.items():
        drawn = [(style.pair_of(a), a) for ax in fig.axes for a in ax.get_children()]
        drawn = [(pair, a) for pair, a in drawn if pair]
        if drawn:
            assert fig.legends, f"{name} has no legend"
        for legend in fig.legends:
            drawn += [(text.get_text(), handle) for handle, text in
                      zip(legend.legend_handles, legend.get_texts(), strict=True)
                      if "+" in text.get_text()]
        for pair, artist in drawn:
            looks.setdefault(pair, set()).add(_look(artist))
    assert {"softmax+ce", "softmax+mse", "sigmoid+bce", "sigmoid+mse", "linear+mse"} <= set(looks)
    for pair, seen in looks.items():
        assert {colour for colour, _ in seen} == {mcolors.to_hex(style.colour(pair))}, pair
        assert {ls for _, ls in seen if ls} == {style.line(pair)["linestyle"]}, pair
    colours = {p: mcolors.to_hex(style.colour(p)) for p in looks}
    assert colours["softmax+ce"] == colours["sigmoid+bce"] != colours["softmax+mse"]
    assert colours["softmax+mse"] == colours["sigmoid+mse"] == colours["linear+mse"]


def test_no_colour_is_chosen_outside_the_style_module():
    package = Path(report.__file__).parent
    for path in package.glob("*.py"):
        if path.name != "style.py":
            source = path.read_text()
            for word in ('"tab:', '"C0"', '"C1"', "color=f\"C", "#0072B2", "#D55E00"):
                assert word not in source, f"{path.name} picks a colour: {word}"


def _answer(text: str, name: str) -> str:
    return next(x for x in _section(text, name).splitlines() if x.startswith("**Answer.**"))


def test_each_section_answers_its_question_from_the_runs(runs, built, tmp_path):
    text = (built / "a/REPORT.md").read_text()
    for name in ("tiny", "neuron", "landscape", "gradients", "information", "mnist"):
        assert f"\n### {name}\n*" in text, name  # its question, then its answer
        assert not re.match(r"\*\*Answer\.\*\* (Yes|No|Partly)\b", _answer(text, name)), name
    # the answer's number is the per-seed ratio of the runs (in two digits; the table has
    # its interval) ...
    tiny = _tiny(runs).set_index(["pair", "seed"])["steps_to_target"]
    ratio = statistics.geometric_mean(tiny[("softmax+mse", s)] / tiny[("softmax+ce", s)]
                                      for s in range(3))
    line = _answer(text, "tiny")
    assert f"{headline.rough(ratio)}×" in line and "[" not in line
    # ... so changing a run changes the line
    copy = tmp_path / "runs"
    shutil.copytree(runs / "tiny", copy / "tiny")
    path = next(copy.glob("tiny/softmax_mse/*/*/seed=0/summary.json"))
    summary_json = json.loads(path.read_text())
    summary_json["steps_to_target"] *= 3
    path.write_text(json.dumps(summary_json))
    changed = statistics.geometric_mean(
        (3 if s == 0 else 1) * tiny[("softmax+mse", s)] / tiny[("softmax+ce", s)]
        for s in range(3))
    text = report.build(copy, tmp_path / "report", workers=1, experiments="tiny").read_text()
    new_line = _answer(text, "tiny")
    assert new_line != line and f"{headline.rough(changed)}×" in new_line


def test_every_figure_written_is_shown_and_the_parts_come_in_order(built):
    text = (built / "a/REPORT.md").read_text()
    for png in (built / "a/figures").glob("*.png"):
        assert f"](figures/{png.name})" in text, png.name
    titles = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    order = [sections.PARTS[p][0] for p in sections.PARTS]
    assert titles == sorted(titles, key=order.index) and titles[-1] == order[-1]
    for name in ("tiny", "neuron", "gradients", "landscape"):  # each in its own part
        part = sections.PARTS[sections.part_of(name)][0]
        at = text.index(f"\n### {name}\n")
        assert text.rfind("\n## ", 0, at) == text.index(f"\n## {part}\n"), name
    # a section's tables are in the appendix, and its part links there
    appendix = text.index("\n## Appendix")
    assert text.index("(tables/tiny_final_accuracy.csv)") > appendix
    assert "[its 3 tables and 3 further figures](#tiny-tables-and-figures)" in _section(
        text, "tiny")


def test_the_first_screen_is_the_answer_and_the_mechanism_figure(runs, tmp_path):
    """The first 40 lines: the title, the short answer (no intervals) between the comment
    lines the console prints it from, and the first figure of the mechanism section (a
    small stand-in where that section is not registered)."""
    def stand_in(doc, exp):
        fig = plt.figure(figsize=(2, 2))
        fig.add_subplot().plot([0, 1], [1, 0.1])
        doc.figure(fig, "mechanism", "The factor against the output. More words here.")
        return headline.Answer("It is drawn.")

    with pytest.MonkeyPatch.context() as patch:
        if "mechanism" not in sections.SECTIONS:
            patch.setitem(sections.SECTIONS, "mechanism", sections.Section(
                "mechanism", "What scales squared error's gradient?", stand_in,
                needs_runs=False, part=sections.CAUSE))
        question = sections.SECTIONS["mechanism"].question
        path = report.build(runs, tmp_path / "report", workers=1,
                            experiments="tiny,mechanism,neuron,lr_scaling_neuron")
    text = path.read_text()
    first = text.splitlines()[:40]
    assert first[0] == TITLE
    start, end = first.index(ANSWER[0]), first.index(ANSWER[1])
    answer = first[start + 1:end]
    assert 1 <= len(answer) <= 8 and answer[0].startswith("**In short.** ")
    assert not any("[" in line for line in answer)
    mechanism = _section(text, "mechanism")
    lead = next(x for x in mechanism.splitlines() if x.startswith("!["))
    assert lead in first[end:]
    caption = first[first.index(lead) + 2]  # one line: the section's question, a link
    assert caption == f"*{question}* ([the figure explained](#mechanism))"


def test_the_committed_report_has_only_the_named_experiments(runs, built, tmp_path):
    """`--experiments named` (the default) leaves out experiments that are not in
    experiments/ and runs of a named one trained with other overrides, and says so."""
    text = report.build(runs, tmp_path / "report", workers=1).read_text()
    assert "\n### tiny\n" not in text and "`tiny`" in text
    assert "No finished runs of this experiment: run `ce-vs-mse experiment=neuron`" in text
    assert "`neuron`: 4 seed(s) trained with overrides" in text
    assert "--experiments named" in text and "\n### neuron\n" in (built / "a/REPORT.md").read_text()


def test_no_interval_of_a_ratio_or_a_step_count_goes_below_zero(built):
    """Step counts and their ratios are geometric means with log-scale intervals, diverged
    seeds and all: no ``[-`` in a ratio or a step-count column of REPORT.md."""
    assert negative_bounds("×1.2 [-0.3, 2.0]")  # the check finds one where there is one
    text = (built / "a/REPORT.md").read_text()
    assert "×" in text and "| steps to" in text
    assert not negative_bounds(text)


def test_report_records_what_built_it(built):
    built_with = _section((built / "a/REPORT.md").read_text(), "How this report was built")
    for what in ("torch ", "matplotlib ", "numpy ", "machine: ", "commit ", "Python "):
        assert what in built_with, what
    assert "runs trained with torch" in built_with


def test_tables_round_to_three_significant_digits_and_name_runs_without_hashes(built):
    text = (built / "a/REPORT.md").read_text()
    tiny = _section(text, "tiny")
    table = tiny.split("**Final test accuracy")[1].split("\n\n")[1]
    header, _, *rows = table.splitlines()
    assert header == "| pair | lr | final test accuracy | seeds |"  # no hash, no constant column
    for row in rows:
        cell = row.split(" | ")[2]  # e.g. 0.963 [0.959, 0.968]
        for value in cell.replace("[", "").replace("]", "").replace(",", "").split():
            assert len(value.lstrip("-0.").replace(".", "")) <= 3, row
    assert "[]" not in tiny and "config_hash" not in text


@pytest.mark.parametrize(("x", "shown"), [(16.8302, "16.8"), (124.246, "124"), (0.96111, "0.961"),
                                         (4.8667, "4.87"), (1095, "1100"), (0.1, "0.100")])
def test_numbers_are_shown_to_three_significant_digits(x, shown):
    assert number(x) == shown
    assert number(42.6, steps=True) == "43"


def test_a_sweep_over_a_dataset_option_reports_one_row_per_value(tmp_path):
    """Runs that differ only in a dataset option are told apart by their params (they used to
    share every params column, and --experiments all died on a non-unique index)."""
    cli("-m", "dataset=blobs", "dataset.n_classes=3,5", "dataset.n_samples=300",
        "dataset.n_features=4", "loss=ce,mse", "model=logreg", "trainer.epochs=1", cwd=tmp_path)
    proc = report_cli("--runs", "results/runs", "--experiments", "all", "--out", "out",
                      cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    runs = aggregate.load_runs(tmp_path / "results/runs")
    assert sorted(runs.table["n_classes"]) == [3, 3, 5, 5]
    assert "n_classes" in aggregate.varying(runs.table)
    steps = pd.read_csv(next((tmp_path / "out/tables").glob("default_final_accuracy*.csv")))
    assert len(steps) == 4, steps  # 2 losses x 2 class counts, each its own row


def test_a_report_whose_every_seed_diverged_is_drawn_with_a_note(tmp_path):
    """docs/usage.md's own diverging run (η = 1e6): every seed diverged, so there is no curve to
    draw; the report says so and counts them instead of dying in the figure code."""
    cli("loss=ce", "optimizer.lr=1e6", "trainer.epochs=1", "seeds=[0,1]", cwd=tmp_path)
    proc = report_cli("--runs", "results/runs", "--experiments", "all", "--out", "out",
                      cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    text = (tmp_path / "out/REPORT.md").read_text()
    assert "Every seed of default diverged or failed: there are no curves to draw" in text
    assert "2 of 2 seeds diverged" in text


def test_a_report_of_no_runs_says_to_train_and_names_only_real_commands(tmp_path):
    """A zero-run report suggested `ce-vs-mse experiment=default`, which does not exist."""
    (tmp_path / "runs").mkdir()
    proc = report_cli("--runs", "runs", "--out", "rep", "--experiments", "default,quickstart",
                      cwd=tmp_path)
    text = (tmp_path / "rep/REPORT.md").read_text()
    assert proc.returncode == 0 and "No finished runs in `--runs` yet" in proc.stdout
    assert "experiment=default" not in text + proc.stdout
    assert "`ce-vs-mse experiment=quickstart`" in text and "`ce-vs-mse loss=mse`" in text
