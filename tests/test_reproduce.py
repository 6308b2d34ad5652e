"""scripts/reproduce.sh (ce_vs_mse.reproduce): trains what is missing, and with nothing
missing does nothing, yet still notices a damaged run."""

import json
import os
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
    for summary in (tmp_path / "results/runs").rglob("summary.json"):
        assert summaries.verify(summary.parent).status in ("done", "diverged")
