"""scripts/reproduce.sh (ce_vs_mse.reproduce): trains what is missing, and with nothing
missing does nothing, yet still notices a damaged run."""

import subprocess
import sys

import pytest

RUN = [sys.executable, "-m", "ce_vs_mse.reproduce", "--experiments", "quickstart",
       "--out", "report", "trainer.epochs=1", "model=logreg"]


def _reproduce(cwd) -> str:
    proc = subprocess.run(RUN, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr  # the runs' log lines (Hydra's) go to stdout


@pytest.mark.slow  # three invocations of the whole pipeline, each training and reporting
def test_a_rerun_trains_nothing_and_a_damaged_run_is_trained_again(tmp_path):
    first = _reproduce(tmp_path)
    assert "== quickstart: 10 seed(s) to train" in first
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
