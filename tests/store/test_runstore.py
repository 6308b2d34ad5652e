"""The run folder's contract: canonical names, strict summaries, verified completion, the lock.
Damaged folders come from a real run, damaged the ways a user or a crash would."""

import json
import re
import shutil

import numpy as np
import pytest
from conftest import read_metrics
from omegaconf import OmegaConf

from ce_vs_mse.report import aggregate
from ce_vs_mse.store import files, layout
from ce_vs_mse.store import lock as locks
from ce_vs_mse.store import summary as summaries
from ce_vs_mse.train import runner


def test_the_folder_is_a_function_of_the_configuration_not_of_its_spelling(make_cfg):
    a = make_cfg("loss=mse", "trainer.epochs=3")
    b = make_cfg("trainer.epochs=3", "trainer.batch_size=32", "loss=mse", "optimizer=sgd")
    c = make_cfg("trainer.epochs=4", "loss=mse")
    assert layout.run_name(a, "softmax", "x") == layout.run_name(b, "softmax", "x")
    assert layout.run_name(a, "softmax", "x") != layout.run_name(c, "softmax", "x")
    name = layout.run_name(a, "softmax", "x")
    assert name.startswith("softmax_mse/digits-mlp_32/") and ",epochs=3-" in name
    long = make_cfg(*(f"model.{k}=0.5" for k in ("init_scale", "init_weight", "init_bias")),
                    "optimizer.momentum=0.9", "optimizer.weight_decay=0.001", "trainer.epochs=3",
                    "trainer.batch_size=7", "loss.k=3", "loss.M=4", "dataset.noise=0.5",
                    "trainer.log_every=3", "trainer.eval_every=9")
    leaf = layout.run_name(long, "softmax", "x").split("/")[2]
    assert len(leaf) <= layout.MAX_LEAF + 12 and "log_every" not in leaf
    # the dataset is not repeated when it names the experiment
    assert layout.run_name(a, "softmax", "digits").startswith("softmax_mse/mlp_32/")


def test_summaries_are_strict_json_and_non_finite_numbers_come_back(tmp_path):
    files.write_json_atomic(tmp_path / "s.json", {"final": {"a": float("nan"),
                                                               "b": float("-inf"), "c": 1.5}})
    text = (tmp_path / "s.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert files.number(json.loads(text)["final"]["b"]) == float("-inf")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One real finished run (2 seeds) to copy and damage."""
    from hydra import compose, initialize_config_dir

    from ce_vs_mse.train.cli import config_dir

    root = tmp_path_factory.mktemp("store")
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"results_dir={root}", "model=logreg",
                                           "trainer.epochs=2", "seeds=[0,1]"])
    job = runner.run(cfg, "store")
    assert [r.status for r in job.seeds] == ["done", "done"]
    return cfg, root, layout.seed_dir(job.folder, 0)


def _utf16(d):
    (d / "summary.json").write_text((d / "summary.json").read_text(), encoding="utf-16")


def _set(key, value):
    def damage(d):
        s = json.loads((d / "summary.json").read_text())
        s[key] = value
        (d / "summary.json").write_text(json.dumps(s))
    return damage


def _lines(d):
    lines = (d / "metrics.csv").read_text().splitlines(keepends=True)
    (d / "metrics.csv").write_text("".join(lines[:-3]))


def _mid_row(d):
    text = (d / "metrics.csv").read_text()
    (d / "metrics.csv").write_text(text[: len(text) - 7])


def _summary_dir(d):
    (d / "summary.json").unlink()
    (d / "summary.json").mkdir()


DAMAGE = {
    "metrics.csv cut by lines": (_lines, "metrics.csv is not the file its summary vouches"),
    "metrics.csv cut mid-row": (_mid_row, "metrics.csv is not the file"),
    "metrics.csv empty": (lambda d: (d / "metrics.csv").write_text(""), "metrics.csv is not"),
    "metrics.csv missing": (lambda d: (d / "metrics.csv").unlink(), "metrics.csv is missing"),
    "metrics.csv binary": (lambda d: (d / "metrics.csv").write_bytes(b"\x00\xff" * 50),
                           "metrics.csv is not"),
    "config.yaml missing": (lambda d: (d / "config.yaml").unlink(), "config.yaml is missing"),
    "summary null": (lambda d: (d / "summary.json").write_text("null"), "holds NoneType"),
    "summary a list": (lambda d: (d / "summary.json").write_text("[]"), "holds list"),
    "summary final null": (_set("final", None), "final=None"),
    "summary seed text": (_set("seed", "0"), "seed='0'"),
    "summary status odd": (_set("status", "running"), "status='running'"),
    "summary without files": (_set("files", None), "does not vouch"),
    "summary val steps text": (_set("val_steps_to_target", "5"), "val_steps_to_target='5'"),
    "summary UTF-16": (_utf16, "unreadable"),
    "summary a directory": (_summary_dir, "unreadable"),
    "summary cut": (lambda d: (d / "summary.json").write_text('{"status": "do'), "unreadable"),
    "summary missing": (lambda d: (d / "summary.json").unlink(), "no summary.json"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_run_is_unfinished_listed_by_the_report_and_trained_again(finished, case,
                                                                             tmp_path):
    cfg, root, original = finished
    results = tmp_path / "runs"
    shutil.copytree(root, results)
    folder = results / original.relative_to(root)
    damage, reason = DAMAGE[case]
    damage(folder)

    with pytest.raises(summaries.Unfinished, match=reason.replace("(", r"\(")):
        summaries.verify(folder)
    runs = aggregate.load_runs(results)  # never raises; lists the damaged folder
    assert [d for d, _ in runs.skipped] == [str(folder)] and len(runs.table) == 1

    job = runner.run(OmegaConf.merge(cfg, {"results_dir": str(results)}), "store")
    assert [r.status for r in job.seeds] == ["done", "skipped"]
    summaries.verify(folder)
    again, before = read_metrics(folder), read_metrics(original)
    assert again.shape == before.shape
    assert np.allclose(again.to_numpy(float), before.to_numpy(float), rtol=1e-5, equal_nan=True)


def test_a_summary_written_before_val_steps_to_target_still_reads(finished, tmp_path):
    _, _, run_dir = finished
    copy = tmp_path / "seed=0"
    shutil.copytree(run_dir, copy)
    record = json.loads((copy / "summary.json").read_text())
    assert record.pop("val_steps_to_target") is None  # no validation split
    (copy / "summary.json").write_text(json.dumps(record))
    summary = summaries.verify(copy)
    assert summary.val_steps_to_target is None and summary.steps == record["steps"]


def test_a_copy_of_a_run_folder_is_named_and_left_out_by_the_report(finished, tmp_path):
    _, root, original = finished
    results = tmp_path / "runs"
    shutil.copytree(root, results)
    backup = results / "backup" / "seed=0"
    shutil.copytree(results / original.relative_to(root), backup)
    runs = aggregate.load_runs(results)
    assert len(runs.table) == 2 and not runs.table["path"].str.startswith("backup").any()
    assert [(d, "the same run as") for d, why in runs.skipped if why.startswith("the same")] \
        == [(str(backup), "the same run as")]


def test_the_lock_is_exclusive_and_dies_with_its_holder(tmp_path):
    first = locks.try_lock(tmp_path)
    assert first is not None and locks.try_lock(tmp_path) is None
    assert locks.holder(tmp_path).startswith("pid ")
    first.release()
    again = locks.try_lock(tmp_path)
    assert again is not None
    again.release()


@pytest.fixture
def read_only(tmp_path):
    """A read-only view of ``tmp_path/rw`` (a bind mount remounted ro), as a finished study on
    read-only storage is; unmounted after the test."""
    import subprocess

    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(rw), str(ro)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        yield rw, ro
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_finished_runs_on_read_only_storage_are_done_not_failed(make_cfg, read_only):
    """A rerun decides "finished" before it takes a lock for writing (opening .lock for writing
    on read-only storage used to fail the job: "1 failed")."""
    rw, ro = read_only
    args = ("model=logreg", "trainer.epochs=1", "seeds=[0,1]")
    first = runner.run(make_cfg(f"results_dir={rw}", *args), "ro")
    assert [r.status for r in first.seeds] == ["done", "done"]
    again = runner.run(make_cfg(f"results_dir={ro}", *args), "ro")
    assert again.error is None and [r.status for r in again.seeds] == ["skipped", "skipped"]
    assert [r.accuracy for r in again.seeds] == [r.accuracy for r in first.seeds]


def _vouched(edit):
    """Damage that keeps the folder self-consistent: ``edit`` the summary (a dict) or
    metrics.csv (its text), and have the summary vouch for the result, as a hand-edited or
    maliciously made folder would."""
    def damage(d):
        s = json.loads((d / "summary.json").read_text())
        text = (d / "metrics.csv").read_text()
        text = edit(s, text) or text
        (d / "metrics.csv").write_text(text)
        s["files"]["metrics.csv"] = files.fingerprint(d / "metrics.csv")
        (d / "summary.json").write_text(json.dumps(s))
    return damage


def _field(key, value, inside=None):
    def edit(s, _):
        (s[inside] if inside else s)[key] = value
    return edit


def _text_in_metrics(_, text):
    head, first, *rest = text.splitlines(keepends=True)
    cells = first.split(",")
    cells[-1] = "oops\n"
    return "".join([head, ",".join(cells), *rest])


# Folders whose summary vouches for its files, but whose fields a report must not trust: each
# is listed with its reason (never a traceback), and nothing it names reaches a file name.
CORRUPT = {
    "experiment an absolute path": (_field("experiment", "/some/other/dir/ESCAPED"),
                                    "experiment='/some/other/dir/ESCAPED', not a name"),
    "experiment up the tree": (_field("experiment", "../../../ESCAPED"), "not a name"),
    "run up the tree": (_field("run", "a/../../ESCAPED"), "not three path segments"),
    "run with markup": (_field("run", "a/b/<script>"), "not three path segments"),
    "final a string": (_field("final", "high"), "final='high'"),
    "final a dict of dicts": (_field("final", {"test/accuracy": {"x": 1}}),
                              "final['test/accuracy']"),
    "target accuracy text": (_field("target_accuracy", "0.9"), "target_accuracy='0.9'"),
    "hidden a list": (_field("hidden", [30], inside="params"), "params['hidden']=[30]"),
    "head two lines": (_field("head", "soft|max\n<script>alert(1)</script>", inside="params"),
                       "params['head']"),
    "metrics text in a number column": (_text_in_metrics, "not numbers in column"),
}


@pytest.mark.parametrize("case", CORRUPT)
def test_a_corrupt_but_self_consistent_folder_is_listed_with_its_reason(finished, case,
                                                                       tmp_path):
    _, root, original = finished
    results = tmp_path / "runs"
    shutil.copytree(root, results)
    folder = results / original.relative_to(root)
    edit, reason = CORRUPT[case]
    _vouched(edit)(folder)
    runs = aggregate.load_runs(results)  # never raises
    assert [d for d, _ in runs.skipped] == [str(folder)] and len(runs.table) == 1
    assert reason in dict(runs.skipped)[str(folder)]


def test_a_report_writes_nothing_outside_out_whatever_a_summary_names(finished, tmp_path):
    """A copied run whose summary names its experiment as a path elsewhere used to make the
    report write ``ESCAPED_*.png`` and ``.csv`` there."""
    from ce_vs_mse import report

    _, root, original = finished
    results, elsewhere = tmp_path / "runs", tmp_path / "elsewhere"
    shutil.copytree(root, results)
    elsewhere.mkdir()
    copy = results / "copied" / "seed=0"
    shutil.copytree(results / original.relative_to(root), copy)
    _vouched(_field("experiment", str(elsewhere / "ESCAPED")))(copy)
    again = results / "copied2" / "seed=0"
    shutil.copytree(results / original.relative_to(root), again)
    _vouched(_field("experiment", "../../elsewhere/ESCAPED2"))(again)
    text = report.build(results, tmp_path / "out" / "report", workers=1,
                       experiments="all").read_text()
    assert not list(elsewhere.iterdir()) and not list(tmp_path.glob("out/*ESCAPED*"))
    assert "ESCAPED" not in "".join(p.name for p in (tmp_path / "out").rglob("*"))
    assert str(copy) in text and "not a name" in text


def test_symlinked_run_folders_are_read_and_a_link_loop_is_no_trap(finished, make_cfg,
                                                                   tmp_path):
    """A run folder linked in from other storage is done for the trainer (``find`` follows
    links) and so it is for the report (``rglob`` did not follow them: 0 seeds)."""
    cfg, root, original = finished
    results, storage = tmp_path / "runs", tmp_path / "storage"
    shutil.copytree(root, results)
    job = original.parent.relative_to(root)
    shutil.move(results / job, storage)
    (results / job).symlink_to(storage, target_is_directory=True)
    (storage / "loop").symlink_to(results, target_is_directory=True)  # a link up the tree
    runs = aggregate.load_runs(results)
    assert sorted(runs.table["seed"]) == [0, 1] and set(runs.table["status"]) == {"done"}
    again = runner.run(OmegaConf.merge(cfg, {"results_dir": str(results)}), "store")
    assert [r.status for r in again.seeds] == ["skipped", "skipped"]


@pytest.mark.parametrize("how", ["rewritten", "removed"])
def test_a_run_retrained_while_the_report_reads_it_is_listed_as_being_written(
        finished, tmp_path, monkeypatch, how):
    """Between checking a summary and reading its metrics.csv, another process retrains the
    run: the report lists it as being written, never pairs the old summary with the new file
    and never raises (5 of 938 loads used to raise FileNotFoundError)."""
    _, root, original = finished
    results = tmp_path / "runs"
    shutil.copytree(root, results)
    folder = results / original.relative_to(root)
    verify = summaries.verify

    def verify_then_retrain(run_dir):
        s = verify(run_dir)
        if run_dir == folder:
            metrics = folder / "metrics.csv"
            if how == "removed":
                metrics.unlink()
            else:
                files.write_atomic(metrics, lambda tmp: tmp.write_text(
                    metrics.read_text().replace("\n", "\n", 1) + metrics.read_text()[-40:]))
        return s

    monkeypatch.setattr(summaries, "verify", verify_then_retrain)
    runs = aggregate.load_runs(results)
    assert dict(runs.skipped)[str(folder)].startswith("being written")
    assert list(runs.table["seed"]) == [1]


def test_what_a_run_folder_holds_reaches_report_md_escaped(finished, tmp_path):
    """A params.head of "soft|max\\n<script>…" was written raw into REPORT.md (a table row
    broken, <script> present); so were error texts and folder names in the skipped list."""
    from ce_vs_mse import report

    _, root, original = finished
    results = tmp_path / "runs"
    shutil.copytree(root, results)
    marked = results / "x|y <script>alert(2)</script>" / "seed=0"
    shutil.copytree(results / original.relative_to(root), marked)
    _vouched(_field("head", "soft|max\n<script>alert(1)</script>", inside="params"))(marked)
    failed = results / original.relative_to(root).parent / "seed=1"
    record = json.loads((failed / "summary.json").read_text())
    record.update(status="failed", error="OSError: <img src=x onerror=alert(3)> | `rm`")
    (failed / "summary.json").write_text(json.dumps(record))
    text = report.build(results, tmp_path / "report", workers=1, experiments="all").read_text()
    assert "<script>" not in text and "<img" not in text and "alert(" in text
    for table in text.split("\n\n"):  # every table row has its header's number of cells
        rows = [r for r in table.splitlines() if r.startswith("| ")]
        cells = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
        assert len(cells) <= 1, table
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in text  # the folder, named and escaped
