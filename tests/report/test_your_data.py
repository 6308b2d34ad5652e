"""The your_data section on a tiny real sweep of experiments/your_data.yaml over a wine CSV
(trained through the CLI): its heading is its verdict, and says what the runs' numbers say.
The runs' summaries are then edited, seed by seed, so that squared error is slower, faster or
no different (and an η unbracketed): the heading follows, computed here from the summaries
with a t-interval of its own, and never says one loss is faster where the numbers do not."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import cli, wine_frame
from scipy import stats

from ce_vs_mse import report
from ce_vs_mse.report import headline
from ce_vs_mse.report.document import number

GRID = (0.5, 1.0, 2.0)  # the middle one is chosen (below), so that it is bracketed
SEEDS = (0, 1, 2)
CE_FASTER = "cross-entropy reaches 90 % test accuracy in fewer updates than squared error"
SQ_FASTER = "squared error reaches 90 % test accuracy in fewer updates than cross-entropy"
NO_DIFFERENCE = "no difference was detected in the updates"
UNBRACKETED = "the η grid did not bracket each loss's best η: no winner on speed is named"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("your_data")
    wine_frame().to_csv(root / "wine.csv", index=False)
    cli("-m", "experiment=your_data", f"dataset.path={root / 'wine.csv'}",
        "dataset.label=target", f"optimizer.lr={','.join(map(str, GRID))}",
        f"seeds=[{','.join(map(str, SEEDS))}]", "trainer.epochs=5",
        f"results_dir={root / 'runs'}", cwd=root)
    return root / "runs"


def _summaries(runs: Path) -> dict[tuple[str, float, int], tuple[Path, dict]]:
    """(loss, η, seed) -> (path, summary) of every seed of the sweep."""
    out = {}
    for path in runs.glob("your_data/*/*/*/seed=*/summary.json"):
        s = json.loads(path.read_text())
        out[(s["params"]["loss"], s["params"]["lr"], s["seed"])] = (path, s)
    return out


def _edited(runs: Path, tmp_path: Path, factors, chosen=(1.0, 1.0)) -> Path:
    """A copy of the runs in which each loss's η ``chosen`` (ce, mse) has the fewest
    validation updates and the best final validation accuracy, and squared error's test
    steps at it are cross-entropy's times ``factors`` (per seed)."""
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    found = _summaries(copy)
    for (loss, lr, seed), (path, s) in found.items():
        own = lr == chosen[loss == "mse"]
        s["val_steps_to_target"] = 5 if own else 50
        s["final"]["val/accuracy"] = 0.99 if own else 0.9
        if own and loss == "mse":
            ce = found[("ce", chosen[0], seed)][1]
            s["steps_to_target"] = round(ce["steps_to_target"] * factors[seed])
        path.write_text(json.dumps(s))
    return copy


def _ratio_interval(copy: Path, chosen=(1.0, 1.0)) -> tuple[float, float, float]:
    """Squared error's steps over cross-entropy's at their chosen η, per seed: geometric mean
    and 95 % t-interval, computed here from the summaries."""
    found = _summaries(copy)
    logs = [math.log(found[("mse", chosen[1], s)][1]["steps_to_target"]
                     / found[("ce", chosen[0], s)][1]["steps_to_target"]) for s in SEEDS]
    mean, sem = np.mean(logs), stats.sem(logs)
    half = stats.t.ppf(0.975, len(logs) - 1) * sem if sem > 0 else 0.0
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def _page(copy: Path, out: Path) -> tuple[str, str]:
    """The section's heading line and the report's short answer (its first screen), whose
    title asks the question rather than assuming its answer."""
    text = report.build(copy, out, workers=1, experiments="your_data").read_text()
    lines = text.splitlines()
    assert lines[0] == "# Cross-entropy or squared error on your data?"
    heading = next(line for line in lines if line.startswith("### On wine"))
    short = next(line for line in lines if line.startswith("**In short.**"))
    answer = next(line for line in lines if line.startswith("**Answer.**"))
    assert short.removeprefix("**In short.** ") == answer.removeprefix(
        "**Answer.** ").split(". ")[0] + "."  # the first screen: the verdict
    return heading, answer


@pytest.mark.parametrize("factors,expected", [
    ((3.0, 3.3, 2.7), CE_FASTER), ((0.3, 0.25, 0.35), SQ_FASTER),
    ((0.8, 1.25, 1.0), NO_DIFFERENCE)], ids=["ce faster", "squared faster", "no difference"])
def test_the_heading_is_the_verdict_the_numbers_give(runs, tmp_path, factors, expected):
    copy = _edited(runs, tmp_path, factors)
    mean, low, high = _ratio_interval(copy)
    verdict = CE_FASTER if low > 1 else SQ_FASTER if high < 1 else NO_DIFFERENCE
    assert verdict == expected  # the edit made the case it names
    heading, answer = _page(copy, tmp_path / "report")
    assert verdict in heading and verdict in answer
    for other in {CE_FASTER, SQ_FASTER, NO_DIFFERENCE, UNBRACKETED} - {verdict}:
        assert other not in heading and other not in answer
    assert "On wine (sha256 " in heading  # the file, by its stem and digest
    # in words, the ratio rounded (its interval is in the section's table)
    assert f"{headline.rough(mean)}× " in answer.split("at the shared")[0]


def test_an_eta_at_the_grids_edge_names_no_winner(runs, tmp_path):
    copy = _edited(runs, tmp_path, (3.0, 3.3, 2.7), chosen=(1.0, 2.0))
    heading, answer = _page(copy, tmp_path / "report")
    assert UNBRACKETED in heading and CE_FASTER not in answer and SQ_FASTER not in answer
    assert "softmax+mse's η = 2 is the grid's largest" in answer


def test_a_loss_that_never_reached_the_target_on_validation_gets_no_speed_verdict(runs, tmp_path):
    copy = _edited(runs, tmp_path, (3.0, 3.3, 2.7))
    for path, s in _summaries(copy).values():
        if s["params"]["loss"] == "mse":
            s["val_steps_to_target"] = None
            path.write_text(json.dumps(s))
    heading, answer = _page(copy, tmp_path / "report")
    assert ("no verdict on speed: softmax+mse reached 90 % on validation at no η of the grid"
            in heading)
    assert CE_FASTER not in answer and SQ_FASTER not in answer


def test_accuracy_calibration_and_the_factor_are_the_chosen_runs(runs, tmp_path):
    copy = _edited(runs, tmp_path, (3.0, 3.3, 2.7))
    found = _summaries(copy)
    _, answer = _page(copy, tmp_path / "report")
    ece = {loss: np.mean([found[(loss, 1.0, s)][1]["final"]["test/ece"] for s in SEEDS])
           for loss in ("ce", "mse")}
    diff = [found[("mse", 1.0, s)][1]["final"]["test/ece"]
            - found[("ce", 1.0, s)][1]["final"]["test/ece"] for s in SEEDS]
    low, high = stats.t.interval(0.95, len(diff) - 1, np.mean(diff), stats.sem(diff))
    word = ("squared error worse calibrated" if low > 0 else
            "squared error better calibrated" if high < 0 else "no difference detected")
    ece_clause = answer.split("Test ECE")[1].split("Why:")[0]
    assert f"softmax+mse {number(ece['mse'])} [" in ece_clause
    assert f"softmax+ce {number(ece['ce'])} [" in ece_clause
    assert word in ece_clause
    assert "Why: at its own η = 1, " in answer and "its uniform value 1/3" in answer


def test_without_runs_the_section_says_how_to_make_them(tmp_path):
    (tmp_path / "runs").mkdir()
    text = report.build(tmp_path / "runs", tmp_path / "report", workers=1,
                        experiments="your_data").read_text()
    assert ("`ce-vs-mse -m experiment=your_data dataset.path=<your .csv, .parquet or .npz "
            "file> dataset.label=<its label column>`") in text
