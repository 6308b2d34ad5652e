"""scripts/reproduce.sh (ce_vs_mse.reproduce): trains what is missing, and with nothing
missing does nothing, yet still notices a damaged run; on a fresh clone it leaves git
status clean (the report goes to the git-ignored results/latest), and the report's footer
calls only a change to the code "uncommitted"."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.store import layout
from ce_vs_mse.store import summary as summaries

RUN = [sys.executable, "-m", "ce_vs_mse.reproduce", "--experiments", "quickstart",
       "--out", "report", "trainer.epochs=1", "model=logreg"]


def _working_in(folder: Path) -> list[int]:
    """The processes whose working directory is ``folder``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == folder:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _reproduce(cwd) -> str:
    proc = subprocess.run(RUN, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr  # the runs' log lines (Hydra's) go to stdout


@pytest.mark.slow  # three invocations of the whole pipeline, each training and reporting
def test_a_rerun_trains_nothing_and_a_damaged_run_is_trained_again(tmp_path):
    first = _reproduce(tmp_path)
    assert "== quickstart: nothing trained yet" in first
    # its list of jobs is the one its sweep composed, as a fresh composition lists them
    composed = [{"hash": layout.config_hash(cfg), "seeds": list(cfg.seeds)}
                for cfg in config_tree.experiment_jobs("quickstart", RUN[-2:])]
    kept = json.loads((tmp_path / "results/runs/quickstart/.jobs.json").read_text())["jobs"]
    assert sorted(map(str, kept)) == sorted(map(str, composed)) and len(kept) == 2
    assert (tmp_path / "report/REPORT.md").is_file()
    assert "1 trained, 0 already finished" in first
    assert "Seeds: 10 trained, 0 diverged, 0 skipped (done before), 0 failed" in first

    again = _reproduce(tmp_path)  # nothing to do: no training, no report
    assert "== quickstart: all 2 job(s) finished" in again
    assert "is up to date" in again and "0 trained, 1 already finished" in again
    assert "Seeds: 0 trained, 0 diverged, 10 skipped (done before), 0 failed" in again

    # the report's own files are part of "up to date": a deleted figure, a garbled table
    figure = next((tmp_path / "report/figures").glob("*.png"))
    figure.unlink()
    rebuilt = _reproduce(tmp_path)
    assert "is up to date" not in rebuilt and "0 trained, 1 already finished" in rebuilt
    assert figure.is_file()
    table = next((tmp_path / "report/tables").glob("*.csv"))
    table.write_text(table.read_text().replace("5", "6"))
    assert "is up to date" not in _reproduce(tmp_path)
    assert "is up to date" in _reproduce(tmp_path)

    (metrics,) = [p for p in (tmp_path / "results/runs").rglob("seed=3/metrics.csv")
                  if "softmax_mse" in str(p)]
    metrics.write_text(metrics.read_text()[:-40])  # cut mid-row
    damaged = _reproduce(tmp_path)
    assert "== quickstart: 1 seed(s) to train" in damaged
    assert "metrics.csv is not the file its summary vouches for" in damaged
    assert "1 trained" in damaged and "is up to date" not in damaged


@pytest.mark.slow  # starts the whole pipeline, then interrupts it
def test_ctrl_c_stops_every_experiment_with_one_line(tmp_path):
    proc = subprocess.Popen([*RUN[:3], "--experiments", "quickstart,binary", "--out", "report",
                             "trainer.epochs=400"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:  # both experiments are training once both are announced
        lines.append(line)
        if "== binary:" in line:
            break
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert rest.strip().splitlines()[-1].startswith("ce-vs-mse-reproduce: interrupted.")
    assert "Traceback" not in rest
    time.sleep(1)  # the experiments' forks are gone with it, and no run claims to be done
    assert _working_in(tmp_path) == []
    for summary in (tmp_path / "results/runs").rglob("summary.json"):  # stopped: failed
        s = summaries.read(summary.parent)
        assert s.status in ("done", "diverged") or (
            s.status == "failed" and s.error in ("interrupted (Ctrl-C)", "terminated (SIGTERM)"))


@pytest.mark.slow  # starts the whole pipeline, then kills it
def test_a_killed_reproduce_leaves_no_temporary_folder(tmp_path):
    """Side by side, each experiment's output waits in a file; those were in a
    ce-vs-mse-reproduce-* folder that a SIGKILL left behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen([*RUN[:3], "--experiments", "quickstart,binary", "--out", "report",
                             "--workers", "2", "trainer.epochs=400"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(temp)}, start_new_session=True)
    for line in proc.stderr:
        if "== binary:" in line:
            break
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert [p.name for p in temp.iterdir() if p.name.startswith("ce-vs-mse")] == []


ROOT = Path(__file__).parents[1]


def _clone(tmp_path: Path) -> Path:
    """A fresh clone of this checkout as it is now: its tracked files (the published report
    among them) committed in a new repository."""
    clone = tmp_path / "clone"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_symlink() or source.is_file():  # (configs/experiment is a link)
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name, follow_symlinks=False)
    for git in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "clone"]):
        subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org",
                        *git], cwd=clone, check=True)
    return clone


def _in(clone: Path, *args: str) -> subprocess.CompletedProcess:
    """``args`` run in ``clone`` with its own code (a fresh interpreter)."""
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    return subprocess.run(args, cwd=clone, capture_output=True, text=True, env=env, timeout=300)


def _status(clone: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                          text=True, check=True).stdout


def test_only_a_change_to_the_code_is_an_uncommitted_change(tmp_path):
    clone = _clone(tmp_path)
    ask = [sys.executable, "-c", "from ce_vs_mse.store import provenance as p; "
           "print(p.collect()['git_dirty'], p.code_state().split()[0])"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert _in(clone, *ask).stdout.split() == ["False", head]
    report = clone / "results/report/REPORT.md"
    report.write_text(report.read_text() + "rebuilt\n")  # the report's own files
    (clone / "src/ce_vs_mse/new.py").write_text("")  # an untracked file
    assert _status(clone) and _in(clone, *ask).stdout.split() == ["False", head]
    for changed in ("src/ce_vs_mse/__init__.py", "experiments/quickstart.yaml",
                    "pyproject.toml", "scripts/reproduce.sh"):
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=clone, check=True)
        (clone / changed).write_text((clone / changed).read_text() + "\n# changed\n")
        assert _in(clone, *ask).stdout.split() == ["True", head], changed


@pytest.mark.slow  # the pipeline three times in a fresh interpreter, each training or reporting
def test_a_fresh_clone_stays_clean_and_only_publish_rewrites_the_report(tmp_path):
    clone = _clone(tmp_path)
    first = _in(clone, *RUN[:3], "--experiments", "quickstart", *RUN[-2:])
    assert first.returncode == 0, first.stderr
    assert _status(clone) == ""  # runs and report went to git-ignored folders
    latest = (clone / "results/latest/REPORT.md").read_text()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert f"- code: ce-vs-mse 0.1.0, commit {head}\n" in latest  # no "uncommitted changes"
    # it ends with the report's answer, the comparison, and where the report is
    said = latest.split("<!-- answer -->\n")[1].split("<!-- /answer -->")[0].strip()
    ending = [*said.splitlines(), ""]
    lines = first.stderr.strip().splitlines()
    assert lines[-2 - len(ending):-2] == ending
    assert lines[-2].startswith("Compared with the published report (results/report): ")
    assert lines[-1] == "Report: results/latest/REPORT.md"

    again = _in(clone, *RUN[:3], "--experiments", "quickstart", *RUN[-2:])
    assert "Report: results/latest/REPORT.md is up to date" in again.stderr
    assert again.stderr.strip().splitlines()[-2 - len(ending):] == lines[-2 - len(ending):]

    publish = _in(clone, *RUN[:3], "--experiments", "quickstart", "--publish", *RUN[-2:])
    assert publish.returncode == 0, publish.stderr
    assert "Compared with" not in publish.stderr
    assert publish.stderr.strip().endswith("Report: results/report/REPORT.md")
    changed = {line[3:] for line in _status(clone).splitlines()}
    assert changed and all(p.startswith("results/report/") for p in changed), changed
