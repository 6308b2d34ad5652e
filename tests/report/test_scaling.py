"""The step-size account: the lr_scaling and classes sections (and the depth and neuron runs
they cite) drawn from small real runs, their tables recomputed here from the runs' own
summary.json and metrics.csv files; the output figure's gradient-ratio row; and how a ratio
is put in words."""

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ce_vs_mse import report
from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.report import document, scaling
from ce_vs_mse.report.sections import standard
from ce_vs_mse.train import runner

T_975_DF2 = 4.302652729911275  # Student t, 97.5 % quantile, 2 degrees of freedom (3 seeds)
TINY = ("seeds=[0,1,2]", "trainer.epochs=2")
CLASSES = (2, 5)


def _run(results: Path, experiment: str, *overrides: str) -> None:
    cfg = config_tree.compose(f"experiment={experiment}", f"results_dir={results}",
                              *overrides)
    runner.run(cfg, experiment, [f"experiment={experiment}", *overrides])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A few jobs of each experiment, a few epochs each: lr_scaling's four pairs at η and
    η·K (or η·4), classes at K = 2 and 5, three depth jobs and the neuron's bad start."""
    root = tmp_path_factory.mktemp("scaling") / "runs"
    digits = (*TINY, "dataset.train_limit=600", "model.hidden=[16]",
              "trainer.target_accuracy=0.6")
    for pair, lr in (("softmax_ce", 0.5), ("softmax_mse", 0.5), ("softmax_mse", 5),
                     ("sigmoid_bce", 0.5), ("sigmoid_mse", 0.5), ("sigmoid_mse", 2)):
        _run(root, "lr_scaling", f"pair={pair}", f"optimizer.lr={lr}", *digits)
    for k in CLASSES:
        for pair, lr in (("softmax_ce", 0.5), ("softmax_mse", 0.5), ("softmax_mse", k * 0.5),
                         ("linear_sq_rescaled", 0.05), ("linear_sq_rescaled", 0.5)):
            _run(root, "classes", f"pair={pair}", f"optimizer.lr={lr}",
                 f"dataset.n_classes={k}", "dataset.n_samples=1000", *TINY)
    for pair, lr in (("softmax_ce", 0.5), ("softmax_mse", 0.5), ("softmax_mse", 5)):
        _run(root, "depth", f"pair={pair}", f"optimizer.lr={lr}", *digits)
    for loss in ("mse", "bce"):
        _run(root, "neuron", f"loss={loss}", "optimizer.lr=0.15", "model.init_weight=2.0",
             "model.init_bias=2.0", "trainer.epochs=30")
    return root


@pytest.fixture(scope="module")
def built(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scaling-report")
    report.build(runs, out, workers=1,
                 experiments="lr_scaling,lr_scaling_depth,lr_scaling_neuron,classes")
    return out


def _summaries(runs: Path, experiment: str) -> pd.DataFrame:
    rows = []
    for path in sorted((runs / experiment).rglob("summary.json")):
        s = json.loads(path.read_text())
        rows.append({**s["params"], "status": s["status"], "dir": path.parent,
                     "steps": s["steps_to_target"], "val_steps": s["val_steps_to_target"],
                     "uniform": s["final"]["grad_ratio_uniform"]})
    return pd.DataFrame(rows)


def _geometric(values) -> tuple[float, float, float]:
    """Geometric mean and the t-interval of the logs mapped back (3 values), by hand."""
    logs = [math.log(v) for v in values]
    mean = statistics.fmean(logs)
    half = T_975_DF2 * statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) == 3 \
        else math.nan
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def _line(text: str, name: str) -> str:
    """The answer of section ``name`` in REPORT.md (its part's ``**Answer.**`` line)."""
    section = text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
    return next(x for x in section.splitlines() if x.startswith("**Answer.**"))


def test_lr_scaling_table_is_each_runs_steps_and_effective_lr(runs, built):
    table = pd.read_csv(built / "tables/lr_scaling.csv")
    assert list(table.columns) == ["setting", "pair", "lr", "effective_lr", "steps_mean",
                                   "steps_low", "steps_high", "reached", "seeds"]
    s = _summaries(runs, "lr_scaling")
    assert len(table) == 6 == s.groupby(["head", "loss", "lr"]).ngroups
    per_head = {"softmax": 1 / 10, "sigmoid": 1 / 4}  # digits: 10 classes
    for (head, loss, lr), group in s.groupby(["head", "loss", "lr"]):
        row = table[(table["pair"] == f"{head}+{loss}") & np.isclose(table["lr"], lr)]
        assert row["setting"].item() == f"{head} head, initial weights ×1"
        effective = lr * per_head[head] if loss == "mse" else lr
        assert row["effective_lr"].item() == pytest.approx(effective, rel=5e-3)
        steps = group.loc[group["status"] == "done", "steps"].dropna()
        assert row["reached"].item() == len(steps) and row["seeds"].item() == 3
        if len(steps):
            mean, low, high = _geometric(steps)
            assert row["steps_mean"].item() == round(mean)
            if len(steps) == 3:
                assert row["steps_low"].item() == round(low)
                assert row["steps_high"].item() == round(high)
        else:
            assert np.isnan(row["steps_mean"].item())
    assert s["steps"].notna().any()  # some run reached the target: the test compared steps


def _ratio(s: pd.DataFrame, slow: pd.Series, fast: pd.Series) -> tuple[float, int]:
    """Per seed, steps of the run selected by ``slow`` over ``fast``: geometric mean, seeds."""
    a = s[slow].set_index("seed")["steps"]
    b = s[fast].set_index("seed")["steps"]
    both = pd.concat([a, b], axis=1, keys=["a", "b"]).dropna()
    return (statistics.geometric_mean(both["a"] / both["b"]) if len(both) else math.nan,
            len(both))


def _chosen(group: pd.DataFrame) -> float:
    """The rescaled loss's η as its validation split chooses it, by hand: most seeds reaching
    the validation target, then the fewest updates (geometric mean)."""
    def key(lr):
        val = group.loc[np.isclose(group["lr"], lr) & (group["status"] == "done"),
                        "val_steps"].dropna()
        return (-len(val), statistics.geometric_mean(val) if len(val) else math.inf)
    return min(group["lr"].unique(), key=key)


def test_classes_table_is_the_paired_ratio_of_the_runs(runs, built):
    table = pd.read_csv(built / "tables/classes.csv")
    assert list(table.columns) == ["K", "comparison", "ratio_mean", "ratio_low",
                                   "ratio_high", "seeds"]
    s = _summaries(runs, "classes")
    s = s[s["status"] == "done"]
    compared = 0
    for k in CLASSES:
        at = s[s["n_classes"] == k]
        assert at.loc[at["head"] == "softmax", "uniform"].eq(1 / k).all()
        ce = (at["loss"] == "ce") & np.isclose(at["lr"], 0.5)
        sq = at["loss"] == "mse"
        rescaled = at[at["loss"] == "sq_rescaled"]
        own = np.isclose(at["lr"], _chosen(rescaled)) & (at["loss"] == "sq_rescaled")
        for name, slow in (("squared error at the shared η", sq & np.isclose(at["lr"], 0.5)),
                           ("squared error at K·η", sq & np.isclose(at["lr"], k * 0.5)),
                           ("rescaled square loss at its validation η", own)):
            mean, n = _ratio(at, slow, ce)
            row = table[(table["K"] == k) & (table["comparison"] == name)]
            assert row["seeds"].item() == n
            if n:
                assert row["ratio_mean"].item() == pytest.approx(mean, rel=5e-3)
                compared += 1
            else:
                assert np.isnan(row["ratio_mean"].item())
            if n < 3:
                assert np.isnan(row["ratio_low"].item())  # no interval from fewer seeds
    assert compared >= 3


def test_depth_runs_are_cited_with_squared_error_at_ten_times_eta(runs, built):
    table = pd.read_csv(built / "tables/lr_scaling_depth.csv")
    s = _summaries(runs, "depth")
    ce = (s["loss"] == "ce") & np.isclose(s["lr"], 0.5)
    mean, n = _ratio(s, (s["loss"] == "mse") & np.isclose(s["lr"], 5), ce)
    row = table[table["comparison"] == "squared error at η = 5"]
    assert row["seeds"].item() == n
    if n:
        assert row["ratio_mean"].item() == pytest.approx(mean, rel=5e-3)
    text = (built / "REPORT.md").read_text()
    assert _line(text, "lr_scaling_depth").count("Cited from the depth experiment's runs, "
                                                 "not retrained") == 1
    assert not list(runs.glob("lr_scaling_depth*"))  # read, never trained under its name


def test_neuron_factor_is_sigma_prime_of_its_output(runs, built):
    s = _summaries(runs, "neuron")
    metrics = pd.read_csv(s.loc[s["loss"] == "mse", "dir"].item() / "metrics.csv")
    first = metrics.dropna(subset=["train/grad_ratio"]).iloc[0]
    a = math.sqrt(2 * first["train/mse"])  # target 0: ½a²
    assert first["train/grad_ratio"] == pytest.approx(a * (1 - a), rel=1e-3)
    line = _line((built / "REPORT.md").read_text(), "lr_scaling_neuron")
    assert f"the quadratic cost's factor is {document.number(a * (1 - a))} = a(1 − a)" in line
    assert line.startswith("**Answer.** Saturation from the bad start") and "not retrained" in line


def test_answers_name_their_condition_and_say_no_verdict(built):
    text = (built / "REPORT.md").read_text()
    for name in ("lr_scaling", "lr_scaling_depth", "classes"):
        answer = _line(text, name).split("* ", 1)[1]
        assert not answer.startswith(("Yes", "No ", "No:", "Partly"))
        assert "scaled by" in answer and "[" not in answer  # the intervals are in the tables
    for name in ("lr_scaling", "lr_scaling_depth"):  # which effect, per setting
        assert any(w in _line(text, name).lower() for w in (
            "a smaller step with", "saturation with", "neither loss reached"))
    for setting in ("softmax head at initial weights ×1", "sigmoid head at"):
        assert setting in _line(text, "lr_scaling")
    assert "What is left is" in _line(text, "classes")
    for figure in ("lr_scaling", "lr_scaling_factor", "lr_scaling_depth_factor",
                   "lr_scaling_neuron_factor", "classes"):
        assert (built / "figures" / f"{figure}.png").stat().st_size > 10_000, figure


def test_the_opening_answer_says_the_step_size_with_the_ratios_of_the_runs(runs, built):
    """The short answer's step-size sentence gives squared error at K·η over cross-entropy
    from a clean start: its numbers are ratios of these runs (classes' table, lr_scaling's by
    hand), in two digits."""
    text = (built / "REPORT.md").read_text()
    block = text.split("<!-- answer -->\n", 1)[1].split("\n<!-- /answer -->", 1)[0]
    table = pd.read_csv(built / "tables/classes.csv")
    ratios = list(table.loc[table["comparison"] == "squared error at K·η", "ratio_mean"])
    s = _summaries(runs, "lr_scaling")
    for head, lr, ce in (("softmax", 5, "ce"), ("sigmoid", 2, "bce")):
        at = s[s["head"] == head]
        ratios.append(_ratio(at, (at["loss"] == "mse") & np.isclose(at["lr"], lr),
                             (at["loss"] == ce))[0])
    ratios = {report.headline.rough(r) for r in ratios if np.isfinite(r)}
    assert ratios, "no run pair reached the target: nothing to say"
    sentence = next(x for x in block.splitlines() if "with its η scaled by K" in x)
    said = sentence.split("with its η scaled by K (or 4) it needed ")[1].split(" cross")[0]
    numbers = said.removeprefix("about ").replace("×", "").split(" to ")
    assert set(numbers) <= ratios, (said, ratios)
    assert "[" not in block


def test_the_factor_is_averaged_over_the_updates_until_the_target(runs):
    """scaling.factor_share against the trapezoid mean of train/grad_ratio over its uniform
    value, step 0 to the step the target was reached, from one run's metrics.csv."""
    from ce_vs_mse.report import aggregate

    loaded = aggregate.load_runs(runs)
    table, curves = loaded.table, loaded.curves
    s = _summaries(runs, "lr_scaling")
    pick = s[(s["loss"] == "mse") & (s["head"] == "softmax") & np.isclose(s["lr"], 5)
             & (s["status"] == "done")]
    values = []
    for _, r in pick.iterrows():
        m = pd.read_csv(r["dir"] / "metrics.csv").dropna(subset=["train/grad_ratio"])
        if pd.notna(r["steps"]):
            m = m[m["step"] <= r["steps"]]
        x, y = m["step"].to_numpy(float), (m["train/grad_ratio"] / r["uniform"]).to_numpy()
        values.append(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))
    run = table.loc[(table["experiment"] == "lr_scaling") & (table["pair"] == "softmax+mse")
                    & np.isclose(table["lr"], 5), "run"].iloc[0]
    got = scaling.factor_share(table, curves, run)
    assert got["n"] == len(values) == 3
    assert got["mean"] == pytest.approx(statistics.geometric_mean(values), rel=1e-9)


def _r(n, mean, low, high, seeds=5) -> dict:
    return {"n": n, "mean": mean, "ci_low": low, "ci_high": high, "seeds": seeds,
            "reached": (n, seeds), "missing": False}


def test_ratio_words_never_read_an_overlap_as_equivalence():
    assert scaling.ratio_text(_r(5, 0.9, 0.7, 1.2)) == \
        "×0.900 [0.700, 1.20] (no difference detected at n = 5)"
    assert scaling.ratio_text(_r(5, 2.0, 1.5, 2.6)) == "×2.00 [1.50, 2.60]"
    assert scaling.ratio_text(_r(2, 2.0, math.nan, math.nan)) == \
        "×2.00 (2 of 5 seeds both reached it: no interval)"
    assert scaling.needs("at η = 0.5", {**_r(0, math.nan, math.nan, math.nan),
                                        "reached": (0, 4)}) == \
        "at η = 0.5: no seed where both reached it (squared error 0/5, cross-entropy 4/5)"


def test_matched_learning_rates_and_effective_lr():
    grid = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]
    assert scaling.matched(grid, 1 / 10) == 0.5  # and 5 beside it
    assert scaling.matched(grid, 1 / 4) == 0.5  # and 2
    assert scaling.matched([0.15, 0.005], 1 / 4) is None
    assert scaling.effective_lr("softmax+mse", 5, 0.1) == pytest.approx(0.5)
    assert scaling.effective_lr("sigmoid+mse", 2, 0.25) == pytest.approx(0.5)
    assert scaling.effective_lr("softmax+ce", 2, 0.1) == 2
    assert scaling.effective_lr("linear+mse", 2, math.nan) == 2


def test_output_figure_draws_the_gradient_ratio_against_its_uniform_value(runs, tmp_path):
    """The standard section's output figure: its last row (of each block of facets) is
    train/grad_ratio, with a grey line at 1/K in each panel (K = 2 and 5 here)."""
    from ce_vs_mse.report import aggregate
    from ce_vs_mse.report.experiment import Experiment

    loaded = aggregate.load_runs(runs)
    keep = loaded.table["experiment"] == "classes"
    exp = Experiment("classes", loaded.table[keep],
                     loaded.curves[loaded.curves["experiment"] == "classes"])
    figures = {}
    save = document.Document.figure

    def capture(self, fig, name, caption):
        fig.canvas.draw()
        figures[name] = fig
        save(self, fig, name, caption)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(document.Document, "figure", capture)
        standard.draw(document.Document(tmp_path), exp)
    fig = figures["classes_output"]
    rows = [ax for ax in fig.axes if ax.get_ylabel() == standard.GRAD_RATIO.label]
    assert rows, "no gradient-ratio row"
    levels = set()  # over every gradient-ratio row (facets wrap into blocks of rows)
    starts = {ax.get_subplotspec().rowspan.start for ax in rows}
    for ax in fig.axes:
        if ax.get_subplotspec().rowspan.start in starts:
            levels |= {round(line.get_ydata()[0], 6) for line in ax.get_lines()
                       if line.get_linestyle() == ":" and len(set(line.get_ydata())) == 1}
    assert levels == {0.5, 0.2}
    assert not any("saturated and wrong" in ax.get_ylabel() for ax in fig.axes)
