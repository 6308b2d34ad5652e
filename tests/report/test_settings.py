"""The settings in which people choose a loss: Nielsen's initialisation, the reliability
diagram every run records, and the depth, optimizer, label-noise, calibration and MNIST
sections drawn from small real runs, their numbers recomputed here from the run files."""

import dataclasses
import json
import math
import re
import shutil
import statistics
from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image

from ce_vs_mse import report
from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.core import calibration
from ce_vs_mse.core.models import ReplicaMLP
from ce_vs_mse.report import headline, noise_levels
from ce_vs_mse.store import summary as summaries
from ce_vs_mse.train import runner


def test_nielsen_init_draws_weights_with_variance_one_over_fan_in_and_biases_with_one():
    model = ReplicaMLP([400, 300, 10], "sigmoid", seeds=[0, 1], init="nielsen")
    w, b = model.layers["layer1"].weight, model.layers["layer1"].bias
    assert w.shape == (2, 400, 300) and b.shape == (2, 1, 300)
    assert float(w.detach().std()) == pytest.approx(1 / math.sqrt(400), rel=0.02)
    assert float(b.detach().std()) == pytest.approx(1.0, rel=0.1)
    assert float(model.layers["output"].weight.detach().std()) == pytest.approx(
        1 / math.sqrt(300), rel=0.1)
    lecun = ReplicaMLP([400, 300, 10], "sigmoid", seeds=[0, 1], init="lecun")
    assert torch.equal(lecun.layers["layer1"].weight, w)  # the same draw; only biases differ
    assert not lecun.layers["layer1"].bias.any()


def test_reliability_bins_match_hand_computed_values_and_the_ece():
    # one sigmoid unit: p(class 1) = 0.9, 0.3, 0.65, 0.05 -> confidence 0.9, 0.7, 0.65, 0.95
    # and predictions 1, 0, 1, 0; labels 1, 1, 0, 0 -> correct 1, 0, 0, 1
    p1 = torch.tensor([0.9, 0.3, 0.65, 0.05])
    z = torch.log(p1 / (1 - p1)).reshape(1, 4, 1)
    y = torch.tensor([1, 1, 0, 0])
    (d,) = calibration.reliability(z, y, "sigmoid", bins=5)
    # bins of width 0.2: 0.9 and 0.95 in (0.8, 1], 0.7 and 0.65 in (0.6, 0.8]
    assert d["count"] == [0, 0, 0, 2, 2]
    assert d["correct"] == [0, 0, 0, 0, 2]
    assert d["confidence_sum"] == pytest.approx([0, 0, 0, 1.35, 1.85])
    ece = sum(abs(c - s) for c, s in zip(d["correct"], d["confidence_sum"], strict=True)) / 4
    assert ece == pytest.approx(abs(0 - 1.35) / 4 + abs(2 - 1.85) / 4)
    conf, pred = calibration.probabilities(z, "sigmoid").max(-1)
    assert ece == pytest.approx(float(calibration.expected_calibration_error(
        conf, (pred == y).float(), bins=5)[0]))


def test_a_diverged_replica_has_no_reliability_diagram():
    z = torch.tensor([[[0.1, 0.2]], [[float("nan"), 0.0]]])
    first, second = calibration.reliability(z, torch.tensor([1]), "softmax")
    assert sum(first["count"]) == 1 and second is None


def _run(results: Path, experiment: str, *overrides: str) -> None:
    cfg = config_tree.compose(f"experiment={experiment}", f"results_dir={results}",
                              *overrides)
    runner.run(cfg, experiment, [f"experiment={experiment}", *overrides])


SIG3 = 5e-3  # the tables keep three significant digits

TINY = ("seeds=[0,1,2]", "trainer.epochs=2", "trainer.eval_every=0",
        "dataset.train_limit=600")
LONGER = tuple(o for o in TINY if not o.startswith("trainer.epochs=")) + ("trainer.epochs=8",)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Small real runs of each new experiment (a few epochs, narrow networks)."""
    root = tmp_path_factory.mktemp("settings") / "runs"
    for pair in ("softmax_ce", "softmax_mse"):
        for noise in (0.0, 0.4):
            for lr in (0.5, 2):
                _run(root, "label_noise", f"pair={pair}", f"dataset.label_noise={noise}",
                     f"optimizer.lr={lr}", "model.hidden=[16]", *TINY)
        for hidden in ("[8]", "[8,8]"):
            for lr in (0.5, 2):
                _run(root, "depth", f"pair={pair}", f"model.hidden={hidden}",
                     f"optimizer.lr={lr}", "trainer.target_accuracy=0.5", *TINY)
        for opt in ("sgd", "adam"):  # long enough for both losses to reach the target
            _run(root, "optimizer", f"pair={pair}", f"optimizer={opt}",
                 "trainer.target_accuracy=0.3", *LONGER)
    for pair in ("sigmoid_mse", "sigmoid_bce"):
        for lr in (0.5, 3.0):
            _run(root, "nielsen_mnist", f"pair={pair}", f"optimizer.lr={lr}", "seeds=[0,1]",
                 "trainer.epochs=2", "dataset.train_limit=400", "trainer.batch_size=20",
                 "trainer.target_accuracy=0.5")
    return root


@pytest.fixture(scope="module")
def built(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("settings-report")
    report.build(runs, out, workers=1,
                 experiments="nielsen_mnist,depth,optimizer,label_noise,calibration")
    return out


def _summaries(runs: Path, experiment: str) -> pd.DataFrame:
    rows = []
    for path in sorted((runs / experiment).rglob("summary.json")):
        s = json.loads(path.read_text())
        rows.append({**s["params"], "run": s["run"], "status": s["status"],
                     "steps_to_target": s["steps_to_target"], "reliability": s["reliability"],
                     "val_steps_to_target": s.get("val_steps_to_target"),
                     **{f"final {k}": v for k, v in s["final"].items()}, "dir": path.parent})
    return pd.DataFrame(rows)


def _line(text: str, name: str) -> str:
    """The answer of section ``name`` in REPORT.md (its part's ``**Answer.**`` line)."""
    section = text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
    return next(x for x in section.splitlines() if x.startswith("**Answer.**"))


def test_every_new_section_is_drawn_with_its_figures_and_tables(built):
    text = (built / "REPORT.md").read_text()
    for name in ("nielsen_mnist", "depth", "optimizer", "label_noise", "calibration"):
        assert f"\n### {name}\n" in text
        assert "Not run yet" not in _line(text, name)
    for figure in ("depth", "depth_gradient_by_layer", "depth_gradient_deepest",
                   "optimizer_ratio", "label_noise_accuracy", "calibration_reliability",
                   "calibration_over_training", "nielsen_mnist_accuracy_step"):
        assert (built / "figures" / f"{figure}.png").stat().st_size > 10_000, figure
    for table in ("depth", "label_noise", "calibration", "nielsen_mnist_vs_published"):
        assert len(pd.read_csv(built / "tables" / f"{table}.csv")) > 0, table


def test_every_figure_is_at_most_1800_px_wide(built):
    pngs = sorted((built / "figures").glob("*.png"))
    assert len(pngs) > 10
    for png in pngs:
        with Image.open(png) as image:
            assert image.width <= 1800, (png.name, image.size)


def test_optimizer_runs_are_named_by_optimizer_in_tables_and_titles(runs, built):
    """The optimizer section's tables say SGD or Adam (and SGD+momentum for momentum runs),
    not the config's lower-case name, and its CSV holds what the runs were trained with."""
    s = _summaries(runs, "optimizer")
    table = pd.read_csv(built / "tables" / "optimizer_steps_to_target.csv")
    assert set(s["optimizer"]) == {"sgd", "adam"} and (s["momentum"] == 0).all()
    assert set(table["optimizer"]) == {"SGD", "Adam"}
    text = (built / "REPORT.md").read_text()
    assert "| softmax+ce | Adam | 0.001 |" in text and "| sgd |" not in text


def test_label_noise_table_is_each_seeds_best_and_final_test_accuracy_at_every_eta(runs,
                                                                                   built):
    table = pd.read_csv(built / "tables" / "label_noise.csv")
    s = _summaries(runs, "label_noise")
    assert len(table) == s.groupby(["label_noise", "loss", "lr"]).ngroups == 8
    for (noise, loss, lr), group in s.groupby(["label_noise", "loss", "lr"]):
        best, final = [], []
        for d in group["dir"]:
            acc = pd.read_csv(d / "metrics.csv")["test/accuracy"].dropna()
            best.append(acc.max())
            final.append(acc.iloc[-1])
        row = table[(table["label_noise"] == noise) & (table["pair"] == f"softmax+{loss}")
                    & (table["lr"] == lr)]
        assert row["best_mean"].item() == pytest.approx(statistics.fmean(best), rel=SIG3)
        assert row["final_mean"].item() == pytest.approx(statistics.fmean(final), rel=SIG3)
        assert row["drop_mean"].item() == pytest.approx(
            statistics.fmean(b - f for b, f in zip(best, final, strict=True)), abs=1e-3)


def test_calibration_comes_from_every_seeds_diagram_of_the_whole_test_split(runs, built):
    s = _summaries(runs, "label_noise")
    n_test = 360  # digits: 1797 examples, 20 % held out, stratified
    for diagram, ece in zip(s["reliability"], s["final test/ece"], strict=True):
        assert sum(diagram["count"]) == n_test
        gaps = [abs(c - k) for c, k in zip(diagram["correct"], diagram["confidence_sum"],
                                           strict=True)]
        assert sum(gaps) / n_test == pytest.approx(ece, abs=1e-5)  # the logged ECE, rebuilt
    table = pd.read_csv(built / "tables" / "calibration.csv")
    assert len(table) == 8
    for (noise, loss, lr), group in s.groupby(["label_noise", "loss", "lr"]):
        row = table[(table["label_noise"] == noise) & (table["pair"] == f"softmax+{loss}")
                    & (table["lr"] == lr)]
        assert row["ece_mean"].item() == pytest.approx(group["final test/ece"].mean(), rel=SIG3)
        over = [(sum(d["confidence_sum"]) - sum(d["correct"])) / n_test
                for d in group["reliability"]]
        assert row["over_mean"].item() == pytest.approx(statistics.fmean(over), rel=SIG3)


def test_optimizer_answer_is_the_per_seed_ratio_under_each_optimizer(runs, built):
    s = _summaries(runs, "optimizer").sort_values("seed")
    line = _line((built / "REPORT.md").read_text(), "optimizer")
    for opt, name in (("sgd", "SGD η=0.5"), ("adam", "Adam η=0.001")):
        at = s[s["optimizer"] == opt]
        mse = at[at["loss"] == "mse"].set_index("seed")["steps_to_target"]
        ce = at[at["loss"] == "ce"].set_index("seed")["steps_to_target"]
        ratios = (mse / ce).dropna()
        assert len(ratios) >= 3, f"{opt}: too few seeds reached the target for an interval"
        geometric = statistics.geometric_mean(ratios)
        said = f"{headline.rough(geometric)}×( \\(no difference detected\\))? under {name}"
        assert re.search(said, line), line
    assert "[" not in line  # the intervals are in the tables


def test_depth_table_has_each_depth_at_the_shared_and_its_own_eta(runs, built):
    """The shared η is 0.5; each loss's own η is the one chosen on the validation split (most
    seeds reaching the target there, then the fewest updates), never on the test split."""
    table = pd.read_csv(built / "tables" / "depth.csv")
    assert sorted(table["hidden_layers"].unique()) == [1, 2]
    s = _summaries(runs, "depth").assign(depth=lambda d: d["hidden"].map(
        lambda h: len(json.loads(h))))
    for (depth, loss), group in s.groupby(["depth", "loss"]):
        means = group.groupby("lr")["final test/accuracy"].mean()
        rows = table[(table["hidden_layers"] == depth) & (table["pair"] == f"softmax+{loss}")]
        shared = rows[rows["eta"] == "shared η"]
        own = rows[rows["eta"] == "own η"]
        assert shared["lr"].item() == 0.5
        assert shared["accuracy_mean"].item() == pytest.approx(means[0.5], rel=SIG3)
        val = group.groupby("lr")["val_steps_to_target"]
        reached = val.count()
        if not reached.any():  # no η reached the target on validation: no own η
            assert own.empty
            continue
        fewest = val.apply(lambda x: statistics.geometric_mean(x.dropna()) if x.notna().any()
                           else math.inf)
        assert own["lr"].item() == min(reached.index, key=lambda lr: (-reached[lr],
                                                                      fewest[lr]))


def test_nielsen_table_marks_his_eta_for_each_cost(built):
    table = pd.read_csv(built / "tables" / "nielsen_mnist_vs_published.csv")
    assert set(zip(table["pair"], table["lr"], strict=True)) == {
        (p, lr) for p in ("sigmoid+mse", "sigmoid+bce") for lr in (0.5, 3.0)}
    text = (built / "REPORT.md").read_text()
    assert "95.42 % (ch. 1)" in text and "95.49 % (ch. 3)" in text
    line = _line(text, "nielsen_mnist")
    assert "squared error at η = 3 at " in line and "cross-entropy at η = 0.5 at " in line
    assert "both at η = 0.5" in line and "[" not in line


def test_a_malformed_reliability_diagram_makes_a_run_unfinished(runs, tmp_path):
    folder = next((runs / "label_noise").rglob("seed=0"))
    copy = tmp_path / "run"
    copy.mkdir()
    for f in folder.iterdir():
        if f.is_file():
            (copy / f.name).write_bytes(f.read_bytes())
    assert summaries.is_done(copy)
    summary = json.loads((copy / "summary.json").read_text())
    for bad in ({"count": [1, 2]}, {"count": [1], "confidence_sum": [0.5], "correct": [1, 2]},
                {"count": ["1"], "confidence_sum": [0.5], "correct": [1]}, [1, 2, 3]):
        (copy / "summary.json").write_text(json.dumps({**summary, "reliability": bad}))
        with pytest.raises(summaries.Unfinished, match="reliability"):
            summaries.verify(copy)
    (copy / "summary.json").write_text(json.dumps({**summary, "reliability": None}))
    assert summaries.is_done(copy)  # not recorded (a run from before it was) is finished



def test_own_eta_is_the_highest_mean_final_validation_accuracy(runs, built):
    s = _summaries(runs, "label_noise")
    for table in ("label_noise", "calibration"):
        own = pd.read_csv(built / "tables" / f"{table}.csv").query("own")
        assert len(own) == 4  # each loss at each noise level
        for (noise, loss), group in s.groupby(["label_noise", "loss"]):
            means = group.groupby("lr")["final val/accuracy"].mean()
            row = own[(own["label_noise"] == noise) & (own["pair"] == f"softmax+{loss}")]
            assert row["lr"].item() == means.idxmax()


def _set_last(run_dir: Path, values: dict[str, float]) -> None:
    """Make ``values`` the last logged value of each tag in metrics.csv and the summary's
    ``final`` alike, the summary vouching for the changed file as training would have."""
    metrics = pd.read_csv(run_dir / "metrics.csv")
    for tag, value in values.items():
        metrics.loc[metrics[tag].last_valid_index(), tag] = value
    metrics.to_csv(run_dir / "metrics.csv", index=False)
    s = summaries.read(run_dir)
    dataclasses.replace(s, final={**s.final, **values}).write(run_dir)


# 40 % wrong labels, edited: (loss, η) -> final test ECE and accuracy. Cross-entropy is better
# at η = 0.5 and squared error at η = 2 (and validation picks η = 2 for both): the order flips.
FLIP_ECE = {("ce", 0.5): 0.1, ("mse", 0.5): 0.2, ("ce", 2): 0.3, ("mse", 2): 0.2}
FLIP_ACC = {("ce", 0.5): 0.40, ("mse", 0.5): 0.35, ("ce", 2): 0.30, ("mse", 2): 0.45}


@pytest.fixture(scope="module")
def edited(runs, tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the label_noise runs edited so that validation accuracy favours η = 2 for
    both losses (test accuracy favours η = 0.5 for cross-entropy), with clean labels
    cross-entropy has the lower ECE at every η, and with 40 % wrong labels the order of ECE
    and of final test accuracy flips with η; and its report."""
    root = tmp_path_factory.mktemp("edited") / "runs"
    shutil.copytree(runs / "label_noise", root / "label_noise")
    for _, r in _summaries(root, "label_noise").iterrows():
        spread = (0.01 if r["loss"] == "ce" else 0.02) * r["seed"]  # differences vary by seed
        values = {"val/accuracy": (0.9 if r["lr"] == 2 else 0.5) + spread}
        if r["label_noise"] == 0:
            values["test/ece"] = (0.05 if r["loss"] == "ce" else 0.15) + spread
        else:
            values["test/ece"] = FLIP_ECE[r["loss"], r["lr"]] + spread
            values["test/accuracy"] = FLIP_ACC[r["loss"], r["lr"]] + spread
        _set_last(r["dir"], values)
    out = tmp_path_factory.mktemp("edited-report")
    report.build(root, out, workers=1, experiments="label_noise,calibration")
    return root, out


def test_own_eta_comes_from_validation_and_its_numbers_from_test(edited):
    root, out = edited
    table = pd.read_csv(out / "tables" / "label_noise.csv")
    own = table.query("own")
    assert (own["lr"] == 2).all() and len(own) == 4  # not η = 0.5, cross-entropy's best on test
    ce = own[(own["label_noise"] == 0.4) & (own["pair"] == "softmax+ce")]
    assert ce["final_mean"].item() == pytest.approx(0.30 + 0.01, rel=SIG3)  # seeds 0, 1, 2
    compared = pd.read_csv(out / "tables" / "calibration_compared.csv").set_index(
        ["label_noise", "setting"])
    s = _summaries(root, "label_noise").set_index(["label_noise", "lr", "loss", "seed"])
    ece = s["final test/ece"]
    for noise, lr in ((0.0, 0.5), (0.4, 0.5), (0.4, 2)):
        diffs = [ece[noise, lr, "mse", seed] - ece[noise, lr, "ce", seed] for seed in range(3)]
        assert compared.loc[(noise, f"η = {lr:g}"), "ece_diff_mean"] == pytest.approx(
            statistics.fmean(diffs), rel=SIG3)
    assert compared.loc[(0.4, "each loss's own η"), ["lr_ce", "lr_mse"]].tolist() == [2, 2]


def test_answers_say_the_order_flips_with_eta_and_name_a_winner_only_at_every_eta(edited):
    text = (edited[1] / "REPORT.md").read_text()
    calibration = _line(text, "calibration")
    assert ("**Answer.** Neither loss at every η: which one has the lower test ECE flips with "
            "η. Lower test ECE — ") in calibration
    assert ("at 0 % wrong labels: cross-entropy at every η and at each loss's own η;"
            in calibration)
    assert ("at 40 % wrong labels: cross-entropy at η = 0.5, squared error at η = 2 and at "
            "each loss's own η (the order flips with η)." in calibration)
    assert ("Hu, Wang, Wang & Li (NeurIPS 2022) report square loss better calibrated. By "
            "test ECE these runs, at each loss's own η, disagree at 0 % wrong labels and agree "
            "at 40 % wrong labels; at the shared η = 0.5 they disagree at 0 % and 40 % wrong "
            "labels." in calibration)
    label_noise = _line(text, "label_noise")
    assert "**Answer.** It depends on η more than on the loss: which one ends more accurate " \
        "flips with η. Higher final test accuracy — at 40 % wrong labels: " \
        "cross-entropy at η = 0.5, squared error at η = 2 and at each loss's own η (the order " \
        "flips with η)." in label_noise
    assert not re.search(r"(?<!\d)0 %", label_noise)  # robustness: a question of noisy labels


def test_overlapping_intervals_are_no_difference_detected_and_seeds_are_paired():
    ece = noise_levels.Measure("ece", "test ECE", "lower test ECE", lower=True)
    pairs = ("softmax+ce", "softmax+mse")

    def verdict(*runs: tuple[list[float], list[float]]) -> noise_levels.Verdict:
        """The verdict of settings η = 1, 2, … whose cross-entropy and squared-error seeds
        have these test ECEs."""
        settings, rows = [], []
        for i, values in enumerate(runs, start=1):
            names = {p: f"{p}-{i}" for p in pairs}
            settings.append(noise_levels.Setting(0.4, f"η = {i}", names, dict.fromkeys(pairs, i)))
            rows += [{"run": names[p], "seed": seed, "status": "done", "ece": v}
                     for p, ece_ in zip(pairs, values, strict=True)
                     for seed, v in enumerate(ece_)]
        return noise_levels.verdicts(pd.DataFrame(rows), {0.4: settings}, ece)[0.4]

    # each loss's interval overlaps the other's, but squared error is higher on every seed
    paired = ([0.1, 0.2, 0.3], [0.12, 0.225, 0.33])
    unclear = ([0.1, 0.2, 0.3], [0.2, 0.1, 0.31])
    flipped = ([0.12, 0.225, 0.33], [0.1, 0.2, 0.3])
    assert verdict(paired).words() == "cross-entropy at every η"
    assert verdict(paired, paired).winner == "cross-entropy"
    assert verdict(unclear).words() == "no difference detected at every η (n = 3)"
    partly = verdict(paired, unclear)
    assert partly.winner is None and not partly.flips
    assert partly.words() == "cross-entropy at η = 1; no difference detected at η = 2 (n = 3)"
    both = verdict(paired, unclear, flipped)
    assert both.winner is None and both.flips
    assert both.words() == ("cross-entropy at η = 1, squared error at η = 3 (the order flips "
                            "with η); no difference detected at η = 2 (n = 3)")
