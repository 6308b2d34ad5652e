"""A sweep ends with what it found (ce_vs_mse.train.console.answer): each squared-error job
against the cross-entropy job that differs only in the loss, seed by seed, and each job's
steps to target and final accuracy; numbers checked against the runs' summary.json."""

import json
import statistics

import pytest
from conftest import cli

SWEEP = ("experiment=quickstart", "model=logreg", "optimizer.lr=0.5,1.0", "seeds=[0,1,2]",
         "trainer.epochs=3")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Quickstart's two losses at two η (4 jobs of 3 seeds), then the same command again."""
    cwd = tmp_path_factory.mktemp("console")
    first = cli(*SWEEP, cwd=cwd)
    again = cli(*SWEEP, cwd=cwd)
    runs = {}
    for path in (cwd / "results/runs/quickstart").rglob("summary.json"):
        s = json.loads(path.read_text())
        runs.setdefault((s["params"]["loss"], s["params"]["lr"]), {})[s["seed"]] = s
    return first, again, runs


def _answer(stderr: str) -> str:
    """The lines between the sweep's count line and where its results are."""
    return stderr.split("\nSweep of 4 job(s), 12 seed(s): ")[1].split("\nResults: ")[0]


def test_a_sweep_ends_with_each_pairs_ratio_and_each_jobs_results(sweep):
    first, _, runs = sweep
    assert "\nSweep of 4 job(s), 12 seed(s): 12 trained.\n" in first.stderr
    answer = _answer(first.stderr)
    assert answer.splitlines()[1].startswith(
        "Squared error against cross-entropy or BCE, in jobs that differ only in the loss")
    for lr in (0.5, 1.0):
        mse, ce = runs[("mse", lr)], runs[("ce", lr)]
        assert all(s["status"] == "done" and s["steps_to_target"]
                   for s in [*mse.values(), *ce.values()]), "every seed should reach 90 %"
        ratio = statistics.geometric_mean(mse[k]["steps_to_target"] / ce[k]["steps_to_target"]
                                          for k in range(3))
        assert (f"  softmax+mse / softmax+ce (lr={lr}), steps to 90 %: ×{ratio:.2f} (geometric "
                "mean over the 3 of 3 seeds where both reached 90 %)") in answer
        for loss, seeds in (("mse", mse), ("ce", ce)):
            steps = statistics.geometric_mean(s["steps_to_target"] for s in seeds.values())
            accuracy = statistics.fmean(s["final"]["test/accuracy"] for s in seeds.values())
            assert (f"    softmax+{loss}: steps to 90 %: {round(steps)} (reached 3/3), final "
                    f"test accuracy {100 * accuracy:.1f} %") in answer


def test_a_rerun_that_trains_nothing_says_what_its_runs_found(sweep):
    first, again, _ = sweep
    assert "\nSweep of 4 job(s), 12 seed(s): 12 skipped (done before).\n" in again.stderr
    assert _answer(again.stderr).split("\n", 1)[1] == _answer(first.stderr).split("\n", 1)[1]
