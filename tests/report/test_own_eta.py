"""Each loss's own η is chosen on the validation split, never on the test split; an optimum at
its grid's edge is reported as not bracketed, with no winner named; no interval of a ratio or
a step count goes below 0; and a comparison whose runs an earlier section trained is named as
the same result, not counted again. Small real runs: digits logistic regression, 3 seeds."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import negative_bounds

from ce_vs_mse import report
from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.report import aggregate, tuning
from ce_vs_mse.train import runner

LRS = (0.5, 2.0, 5.0)
SMALL = ("model=logreg", "seeds=[0,1,2]", "trainer.epochs=2", "dataset.train_limit=600",
         "trainer.target_accuracy=0.7")


def _run(results: Path, name: str, *overrides: str) -> None:
    """Train fair_lr's configuration with ``overrides``, as experiment ``name``."""
    cfg = config_tree.compose("experiment=fair_lr", f"results_dir={results}", *overrides)
    runner.run(cfg, name, ["experiment=fair_lr", *overrides])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """fair_lr over three η; the same configuration at η = 0.5 again under another name
    (``again``), and trained one epoch instead of two (``shorter``)."""
    root = tmp_path_factory.mktemp("own-eta") / "runs"
    for pair in ("softmax_ce", "softmax_mse"):
        for lr in LRS:
            _run(root, "fair_lr", f"pair={pair}", f"optimizer.lr={lr}", *SMALL)
        _run(root, "again", f"pair={pair}", "optimizer.lr=0.5", *SMALL)
        _run(root, "shorter", f"pair={pair}", "optimizer.lr=0.5", *SMALL[:-3],
             "trainer.epochs=1", *SMALL[-2:])
    return root


def _edit(root: Path, pair: str, lr: float, **values) -> None:
    """Set, in every seed's summary.json of ``pair`` at ``lr``, ``steps_to_target`` or
    ``val_steps_to_target`` or a final metric (``final={"val/accuracy": 1.0}``)."""
    paths = list(root.glob(f"fair_lr/{pair}/*/sgd-lr{lr:g}[,-]*/seed=*/summary.json"))
    assert len(paths) == 3, paths
    for path in paths:
        summary = json.loads(path.read_text())
        for key, value in values.items():
            if key == "final":
                summary["final"].update(value)
            else:
                summary[key] = value
        path.write_text(json.dumps(summary))


def _chosen(root: Path, criterion: str) -> dict[str, float]:
    table = aggregate.load_runs(root).table
    chosen = tuning.choose(table[table["experiment"] == "fair_lr"], criterion)
    return dict(zip(chosen["pair"], chosen["lr"], strict=True))


def _line(text: str, name: str) -> str:
    """The answer of section ``name`` in REPORT.md (its part's ``**Answer.**`` line)."""
    section = text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
    return next(x for x in section.splitlines() if x.startswith("**Answer.**"))


def test_own_eta_moves_with_the_validation_numbers_and_never_with_the_test_numbers(runs,
                                                                                    tmp_path):
    copy = tmp_path / "runs"
    shutil.copytree(runs / "fair_lr", copy / "fair_lr")
    speed, accuracy = _chosen(copy, tuning.SPEED), _chosen(copy, tuning.ACCURACY)
    on_test, on_val = (lr for lr in LRS if lr != speed["softmax+ce"])
    # one η the best on the test split, by far: the choice stays where validation put it
    _edit(copy, "softmax_ce", on_test, steps_to_target=1, final={"test/accuracy": 1.0})
    assert _chosen(copy, tuning.SPEED) == speed
    assert _chosen(copy, tuning.ACCURACY) == accuracy
    # another the best on the validation split: the choice moves there
    _edit(copy, "softmax_ce", on_val, val_steps_to_target=1, final={"val/accuracy": 1.0})
    assert _chosen(copy, tuning.SPEED) == {**speed, "softmax+ce": on_val}
    assert _chosen(copy, tuning.ACCURACY)["softmax+ce"] == on_val
    # the report's table shows that run, with its own numbers on the test split
    text = report.build(copy, tmp_path / "report", workers=1, experiments="fair_lr").read_text()
    table = text.split("(tables/fair_lr_own_eta.csv))")[1].split("\n\n")[1]
    for criterion in ("fewest updates to 70 %", "highest final accuracy"):
        row = next(r for r in table.splitlines() if r.startswith(f"| softmax+ce | {criterion}"))
        assert f"| η = {on_val:g}" in row, row
        assert "| 1 [1, 1] |" not in row.split("| η = ")[1].split(" | ", 2)[2], row


@pytest.mark.parametrize("at_edge", [True, False])
def test_an_optimum_at_the_grids_edge_is_not_bracketed_and_names_no_winner(runs, tmp_path,
                                                                           at_edge):
    copy = tmp_path / "runs"
    shutil.copytree(runs / "fair_lr", copy / "fair_lr")
    for pair in ("softmax_ce", "softmax_mse"):  # validation: η = 2 fastest, 0.5 and 5 slower
        for lr, steps in zip(LRS, (30, 10, 20), strict=True):
            _edit(copy, pair, lr, val_steps_to_target=steps)
    if at_edge:
        _edit(copy, "softmax_mse", 5.0, val_steps_to_target=5)
    text = report.build(copy, tmp_path / "report", workers=1, experiments="fair_lr").read_text()
    speed = _line(text, "fair_lr").split("for accuracy")[0]  # chosen for speed
    assert "at each loss's own η, chosen on validation (softmax+ce 2, softmax+mse " \
           f"{5 if at_edge else 2})" in speed
    if at_edge:
        assert ("Not bracketed: softmax+mse's η = 5 is the grid's largest, so no winner is "
                "named at each loss's own η.") in speed
        assert "| fewest updates to 70 % | η = 5 (the grid's largest: not bracketed) |" in text
    else:
        assert "bracketed" not in speed
    assert not negative_bounds(text)


def test_a_repeated_configuration_is_named_as_the_same_result_and_counted_once(runs,
                                                                               tmp_path):
    text = report.build(runs, tmp_path / "report", workers=1,
                        experiments="fair_lr,again,shorter").read_text()
    again, shorter = (text.split(f"\n### {name}: tables and figures\n")[1].split("\n### ")[0]
                      for name in ("again", "shorter"))  # their appendix entries
    assert "softmax+mse / softmax+ce uses the same runs as fair_lr" in again
    assert ("softmax+mse / softmax+ce uses the same configuration as fair_lr, trained 1 vs 2 "
            "epochs (steps to target are the same wherever the 1-epoch runs reached it)"
            ) in shorter
    for name in ("again", "shorter"):  # the answers say it, briefly; the appendix says how
        assert "Not new evidence: its one comparison repeats runs of fair_lr." in _line(text,
                                                                                      name)
    assert "Not new evidence" not in _line(text, "fair_lr")
    # three η in fair_lr, and the η = 0.5 comparison twice more: 5 comparisons, 3 results
    appendix = text.split("\n## Appendix")[1]
    assert "compare squared error with cross-entropy or BCE 5 times" in appendix
    assert "3 independent results, and 2 comparisons that repeat runs" in appendix
    assert not negative_bounds(text)
