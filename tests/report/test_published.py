"""``ce-vs-mse-report`` builds into results/latest and compares its tables with the published
report's (results/report), which only ``--publish`` writes; the comparison's three verdicts
on the tables of a real small build (ce_vs_mse.store.published)."""

import csv
import hashlib
from pathlib import Path

import pytest
from conftest import cli, report_cli

from ce_vs_mse.store import published

# the columns of a steps / accuracy / ratio table: its label, one estimate, four counts
STANDARD = ["pair", "mean", "ci_low", "ci_high", "n", "seeds", "diverged", "failed"]


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Quickstart's logistic regression, 3 seeds, trained once; published with --publish,
    then built again the default way."""
    cwd = tmp_path_factory.mktemp("published")
    cli("experiment=quickstart", "model=logreg", "seeds=[0,1,2]", "trainer.epochs=3", cwd=cwd)
    args = ("--experiments", "quickstart", "--workers", "1")
    publish = report_cli(*args, "--publish", cwd=cwd)
    assert publish.returncode == 0, publish.stderr
    before = _digests(cwd / "results/report")
    latest = report_cli(*args, cwd=cwd)
    assert latest.returncode == 0, latest.stderr
    assert _digests(cwd / "results/report") == before  # the published report is untouched
    return cwd, publish, latest


def test_the_default_build_goes_to_latest_and_finds_every_value_identical(builds):
    cwd, publish, latest = builds
    assert (cwd / "results/latest/REPORT.md").is_file()
    assert "Compared with" not in publish.stdout  # --publish is the published report
    tables = published.TABLE_LINK.findall((cwd / "results/latest/REPORT.md").read_text())
    assert {Path(t).stem for t in tables} == {"quickstart_steps_to_target",
                                             "quickstart_final_accuracy",
                                             "quickstart_paired_ratio"}
    rows = 0
    for name in tables:
        with open(cwd / "results/latest/tables" / name, newline="") as f:
            assert next(csv.reader(f)) == STANDARD
        rows += len(_rows(cwd / "results/latest/tables" / name))
    values = 5 * rows  # per row: the mean with its interval, n, seeds, diverged, failed
    assert (f"Compared with the published report (results/report): {values} of {values} "
            "table values identical, 0 within the published 95 % interval, 0 outside it"
            ) in latest.stdout


def test_the_build_ends_with_the_answer_then_the_comparison_then_the_report(builds):
    cwd, _, latest = builds
    text = (cwd / "results/latest/REPORT.md").read_text()
    answer = text.split(published.ANSWER[0] + "\n")[1].split(published.ANSWER[1])[0].strip()
    assert answer.startswith("**In short.** On the datasets of part 1, at one shared")
    said = answer.splitlines()
    lines = latest.stdout.strip().splitlines()
    assert lines[-1] == "Report: results/latest/REPORT.md"
    assert lines[-2].startswith("Compared with the published report (results/report): ")
    assert lines[-3] == "" and lines[-3 - len(said):-3] == said


def test_values_are_identical_within_the_published_interval_or_outside(builds, tmp_path):
    cwd, _, _ = builds
    shown = tmp_path / "published"
    (shown / "tables").mkdir(parents=True)
    (shown / "REPORT.md").write_text("")
    for table in (cwd / "results/report/tables").glob("*.csv"):
        (shown / "tables" / table.name).write_bytes(table.read_bytes())
    steps = _rows(shown / "tables/quickstart_steps_to_target.csv")
    first, second = steps[0], steps[1]
    assert float(first["ci_low"]) < float(first["mean"]) < float(first["ci_high"])
    first["mean"] = first["ci_high"]  # another mean, whose interval holds the new one
    second["ci_low"] = second["ci_high"] = str(3 * float(second["mean"]))  # one that does not
    _write(shown / "tables/quickstart_steps_to_target.csv", steps)
    accuracy = _rows(shown / "tables/quickstart_final_accuracy.csv")
    accuracy[0]["n"] = str(int(accuracy[0]["n"]) - 1)  # a count has no interval
    _write(shown / "tables/quickstart_final_accuracy.csv", accuracy)
    ratio = _rows(shown / "tables/quickstart_paired_ratio.csv")
    ratio[0]["pair"] = "sigmoid+mse / sigmoid+bce"  # a row that is not the same row
    _write(shown / "tables/quickstart_paired_ratio.csv", ratio)

    result = published.compare(cwd / "results/latest", shown)
    values = 5 * (len(steps) + len(accuracy) + len(ratio))
    assert (result.within, dict(result.outside)) == (1, {
        "quickstart_steps_to_target": 1, "quickstart_final_accuracy": 1,
        "quickstart_paired_ratio": 5 * len(ratio)})
    assert result.identical == values - 1 - 2 - 5 * len(ratio)
    assert result.other_rows == ["quickstart_paired_ratio"]
    assert result.line().endswith(
        "Outside: quickstart_final_accuracy (1), quickstart_paired_ratio "
        f"({5 * len(ratio)}, other rows), quickstart_steps_to_target (1).")
    # nothing published to compare with, or the build is the published report: no comparison
    assert published.compare(cwd / "results/latest", tmp_path / "none") is None
    assert published.compare(cwd / "results/report", cwd / "results/report") is None


def test_only_publish_writes_the_published_report(tmp_path):
    (tmp_path / "results/runs").mkdir(parents=True)
    into = report_cli("--out", "results/report", cwd=tmp_path)
    assert into.returncode == 2
    assert ("--out results/report is the published report; add --publish to rewrite it"
            in into.stderr)
    both = report_cli("--publish", "--out", "elsewhere", cwd=tmp_path)
    assert both.returncode == 2
    assert "--publish writes the published report, results/report; leave out --out" in both.stderr
    assert not (tmp_path / "results/report").exists() and not (tmp_path / "elsewhere").exists()
