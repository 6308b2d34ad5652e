"""The report: aggregation against independently computed statistics, every figure written,
identical output on a rerun, and unfinished runs reported instead of crashing it."""

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from ce_vs_mse import aggregate, report, runner
from ce_vs_mse.cli import config_dir

T_975_DF2 = 4.302652729911275  # Student t, 97.5 % quantile, 2 degrees of freedom (3 seeds)


def _run(results: Path, experiment: str, *overrides: str) -> list[Path]:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"results_dir={results}", *overrides])
    return runner.run(cfg, experiment, list(overrides)).run_dirs


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A tiny sweep: digits logreg, CE and MSE, 3 seeds, 3 epochs; and the neuron, 1 seed."""
    root = tmp_path_factory.mktemp("results") / "runs"
    for loss in ("ce", "mse"):
        _run(root, "tiny", "model=logreg", f"loss={loss}", "seeds=[0,1,2]", "trainer.epochs=3",
             "trainer.eval_every=5", "trainer.target_accuracy=0.85")
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
    tiny = table[table["experiment"] == "tiny"].set_index(["loss", "seed"])["steps_to_target"]
    ratio = aggregate.paired_ratio(table[table["experiment"] == "tiny"])
    per_seed = [tiny[("mse", s)] / tiny[("ce", s)] for s in range(3)]
    assert ratio["n"].item() == 3
    assert ratio["mean"].item() == pytest.approx(statistics.fmean(per_seed))


@pytest.fixture(scope="module")
def built(runs, tmp_path_factory) -> Path:
    """The report built twice from the same runs: into ``a/`` by two worker processes, into
    ``b/`` in this process."""
    out = tmp_path_factory.mktemp("report")
    report.build(runs, out / "a", workers=2)
    report.build(runs, out / "b", workers=1)
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
    assert len(result.table) == 6 - 3
    text = report.build(copy, tmp_path / "report").read_text()
    assert "Skipped runs" in text and "no summary.json" in text
    assert "summary.json is unreadable" in text and "metrics.csv is not the file" in text


def test_report_command_refuses_a_missing_runs_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ce_vs_mse.report", "--runs",
                           str(tmp_path / "nothing")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "is not a folder" in proc.stderr


def test_ctrl_c_stops_the_report_at_once_and_leaves_only_complete_files(runs, tmp_path):
    out = tmp_path / "report"
    proc = subprocess.Popen([sys.executable, "-m", "ce_vs_mse.report", "--runs", str(runs),
                             "--out", str(out), "--workers", "2"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
    proc = subprocess.run([sys.executable, "-m", "ce_vs_mse.report", "--runs", str(runs),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"ce-vs-mse-report: error: --out {out} cannot be written")
    if out.name == "a-file":
        assert out.read_text() == "keep me"


def test_two_reports_into_one_folder_take_turns(runs, tmp_path):
    from ce_vs_mse import runstore

    out = tmp_path / "report"
    out.mkdir()
    lock = runstore.try_lock(out)  # another report is writing here
    proc = subprocess.Popen([sys.executable, "-m", "ce_vs_mse.report", "--runs", str(runs),
                             "--out", str(out), "--workers", "1"], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    said = proc.stderr.readline()  # blocks until it reaches the lock
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
    proc = subprocess.run([sys.executable, "-m", "ce_vs_mse.report", "--runs", str(runs),
                           "--workers", "-1"], capture_output=True, text=True)
    assert proc.returncode == 2 and "--workers -1" in proc.stderr
