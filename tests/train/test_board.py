"""What TensorBoard shows, read from a real ``tensorboard`` server over its HTTP data API, on
runs made by the real CLI: the runs and their names, the HParams experiment (loss first,
the schema's domains, the question's metrics), the Custom Scalars layout, and every
metrics.csv column as a scalar tag."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import cli, report_cli
from scipy import stats
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import plugin_data_pb2

from ce_vs_mse.config import schema
from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.core import data as datasets
from ce_vs_mse.core import losses
from ce_vs_mse.core.models import ReplicaMLP
from ce_vs_mse.report import tensorboard as agg_board
from ce_vs_mse.store import layout
from ce_vs_mse.train import board, trainer

STARTUP_S = 90  # how long the server may take to start and read the runs (2 busy cores)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def tensorboard(logdir: Path, log: Path):
    """A real TensorBoard server on ``logdir`` (127.0.0.1, a free port); yields its URL and
    kills it on the way out, whatever happened."""
    exe = Path(sys.executable).with_name("tensorboard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tensorboard.main"]
    port = _free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([*cmd, "--logdir", str(logdir), "--host", "127.0.0.1",
                                 "--port", str(port), "--reload_interval", "1"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=30)


def get(url: str, path: str, body: dict | None = None):
    """The JSON answer of the server at ``path`` (a POST when there is a ``body``)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


SESSION_GROUPS = {"experimentName": "", "startIndex": 0, "sliceSize": 100, "colParams": [],
                  "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                                      "STATUS_RUNNING"]}


# a sweep through the CLI and a TensorBoard server reading it: ~30 s, left to the slow run
SERVED = pytest.mark.slow
SEEDS = 3  # the fewest an interval is drawn from (report.aggregate.MIN_SEEDS)


def _wait(url: str, log: Path, ready, what: str):
    """Ask the server until ``ready(url)`` answers something true (its answer is returned)."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        with contextlib.suppress(OSError, ValueError, KeyError):
            answer = ready(url)
            if answer:
                return answer
        if time.monotonic() > deadline:
            pytest.fail(f"TensorBoard did not show {what} in {STARTUP_S} s:\n"
                        + log.read_text(errors="replace")[-2000:])
        time.sleep(0.5)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """CE against MSE (logistic regression, two epochs, three seeds) by the real CLI, and a
    TensorBoard server on the results, once every run's session has ended there (its last
    event)."""
    cwd = tmp_path_factory.mktemp("board")
    results = cwd / "runs"
    cli("-m", "loss=ce,mse", "trainer.epochs=2", "model=logreg",
        f"seeds=[{','.join(map(str, range(SEEDS)))}]", f"results_dir={results}", cwd=cwd)
    log = cwd / "tensorboard.log"

    def ended(url):
        groups = get(url, "/data/plugin/hparams/session_groups", SESSION_GROUPS)
        return len([g for g in groups["sessionGroups"]
                    if g["sessions"][0]["status"] == "STATUS_SUCCESS"]) == 2 * SEEDS

    with tensorboard(results, log) as url:
        _wait(url, log, ended, "every run")
        yield results, url


@SERVED
def test_one_run_per_seed_named_pair_first(served):
    results, url = served
    runs = get(url, "/data/runs")
    on_disk = sorted(str(p.parent.relative_to(results)) for p in results.rglob("summary.json"))
    assert sorted(runs) == on_disk and len(runs) == 2 * SEEDS  # none of TensorBoard's own
    for run in runs:
        pair = run.split("/")[1]
        assert pair in ("softmax_ce", "softmax_mse")
        assert run.index(pair) + len(pair) <= 40  # readable in the sidebar
        assert len(set(run.split("/"))) == len(run.split("/"))  # no repeated segment


@SERVED
def test_hparams_experiment_lists_loss_first_with_the_schemas_domains(served):
    results, url = served
    exp = get(url, "/data/plugin/hparams/experiment", {"experimentName": ""})
    shown = [h["displayName"] for h in exp["hparamInfos"]]
    # what the sweep varied (and what its command line set), and the seed, marked differs:
    # the server sorts those first, then by name, which keeps board.ORDER within each
    differs = {h["displayName"] for h in exp["hparamInfos"] if h.get("differs")}
    assert differs == {"loss", "model", "epochs", "seed"}
    assert shown == sorted(board.ORDER, key=lambda p: p not in differs)
    assert shown[:5] == ["loss", "model", "seed", "epochs", "head"]  # the table's first columns
    domains = {h["displayName"]: h.get("domainDiscrete") for h in exp["hparamInfos"]}
    assert domains["loss"] == sorted(losses.LOSSES)
    assert domains["model"] == sorted(schema.MODELS)
    assert domains["dataset"] == sorted(datasets.DATASETS)
    assert [m["displayName"] for m in exp["metricInfos"]] == [
        "final test accuracy", "steps to target", "final test CE", "final test MSE"]

    groups = get(url, "/data/plugin/hparams/session_groups", SESSION_GROUPS)["sessionGroups"]
    assert len(groups) == 2 * SEEDS and all(len(g["sessions"]) == 1 for g in groups)
    names = {h["name"] for h in exp["hparamInfos"]}
    for group in groups:
        assert set(group["hparams"]) == names
        summary = json.loads((results / group["name"] / "summary.json").read_text())
        assert group["hparams"][board.hparam_name("loss")] == summary["params"]["loss"]
        metrics = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        assert metrics["test/accuracy"] == pytest.approx(summary["final"]["test/accuracy"])
        assert metrics.get(board.STEPS_TO_TARGET) == summary["steps_to_target"]
    assert {g["hparams"][board.hparam_name("loss")] for g in groups} == {"ce", "mse"}


@SERVED
def test_custom_scalars_layout_has_a_category_per_question(served):
    _, url = served
    layout = get(url, "/data/plugin/custom_scalars/layout")
    assert [c["title"] for c in layout["category"]] == [title for title, _ in board.CATEGORIES]
    tags = set().union(*get(url, "/data/plugin/scalars/tags").values())
    for category in layout["category"]:
        for chart in category["chart"]:
            (pattern,) = chart["multiline"]["tag"]
            assert [t for t in tags if re.match(pattern, t)] == [chart["title"]]


@SERVED
def test_every_metrics_column_is_a_scalar_tag_and_no_histograms_by_default(served):
    results, url = served
    tags = get(url, "/data/plugin/scalars/tags")
    for run, run_tags in tags.items():
        columns = set(pd.read_csv(results / run / "metrics.csv").columns) - {"step", "epoch"}
        assert columns <= set(run_tags)
        assert set(run_tags) - columns <= {board.STEPS_TO_TARGET}
    assert get(url, "/data/plugin/histograms/tags") == {}


@pytest.fixture(scope="module")
def aggregated(served, tmp_path_factory):
    """The report of the sweep by the real ``ce-vs-mse-report``, and a TensorBoard server on
    its seed-aggregated logdir, once it lists both configurations."""
    results, _ = served
    cwd = tmp_path_factory.mktemp("aggregated")
    proc = report_cli("--runs", str(results), "--out", str(cwd / "report"),
                      "--experiments", "default", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    logdir = cwd / "report" / agg_board.FOLDER
    log = cwd / "tensorboard.log"
    with tensorboard(logdir, log) as url:
        _wait(url, log, lambda url: len(get(url, "/data/runs")) == 2, "both configurations")
        yield results, url


def _values(points) -> dict[int, float]:
    """step -> value of the scalars plugin's [wall time, step, value] points."""
    return {step: value for _, step, value in points}


@SERVED
def test_aggregated_logdir_serves_the_seeds_mean_and_t_band(aggregated):
    results, url = aggregated
    runs = get(url, "/data/runs")
    on_disk = {str(p.parent.parent.relative_to(results)) for p in results.rglob("summary.json")}
    assert sorted(runs) == sorted(on_disk)  # a run per configuration, named as its folder
    layout = get(url, "/data/plugin/custom_scalars/layout")
    charts = {c["title"]: c["margin"]["series"][0]
              for category in layout["category"] for c in category["chart"]}
    assert list(charts) == list(agg_board.TAGS)
    t = stats.t.ppf(0.975, df=SEEDS - 1)
    for run in runs:
        seeds = [pd.read_csv(d / "metrics.csv") for d in sorted((results / run).iterdir())]
        assert len(seeds) == SEEDS
        for tag, series in charts.items():
            per_step = pd.concat(seeds).dropna(subset=[tag]).groupby("step")[tag].apply(list)
            mean = _values(get(url, "/data/plugin/scalars/scalars?" + urllib.parse.urlencode(
                {"run": run, "tag": series["value"]})))
            assert list(mean) == per_step.index.tolist()
            assert list(mean.values()) == pytest.approx(
                [statistics.fmean(v) for v in per_step], rel=1e-6)
            # mean and band as the margin chart asks for them: one regex of the three, per run
            sides = ("value", "lower", "upper")
            regex = "|".join(f"({re.escape(series[side])})" for side in sides)
            answer = get(url, "/data/plugin/custom_scalars/scalars?" + urllib.parse.urlencode(
                {"run": run, "tag": regex}))
            assert answer["regex_valid"]
            drawn, low, high = (_values(answer["tag_to_events"][series[side]]) for side in sides)
            assert drawn == mean
            half = [t * statistics.stdev(v) / SEEDS ** 0.5 for v in per_step]
            assert list(low) == list(high) == list(mean)
            assert list(low.values()) == pytest.approx(
                [m - h for m, h in zip(mean.values(), half, strict=True)], rel=1e-5, abs=1e-7)
            assert list(high.values()) == pytest.approx(
                [m + h for m, h in zip(mean.values(), half, strict=True)], rel=1e-5, abs=1e-7)


# --- without a server ------------------------------------------------------------------------

def test_experiment_declares_every_run_parameter_once_in_an_order_its_names_keep():
    (value,) = board.experiment().value
    exp = plugin_data_pb2.HParamsPluginData.FromString(
        value.metadata.plugin_data.content).experiment
    names = [h.name for h in exp.hparam_infos]
    assert names == sorted(names)  # TensorBoard sorts by name: the order survives
    assert set(board.ORDER) == set(schema.PARAMS) | {"head", "seed"}  # what runner records
    assert len(board.ORDER) == len(set(board.ORDER))
    assert "auto" not in board.choices()["head"]  # a run records the head it resolved
    assert board.experiment() == board.experiment()  # the same in every run


def test_layout_of_an_mlp_charts_each_layer_and_leaves_the_rest_out():
    model = ReplicaMLP([4, 3, 2], "sigmoid", seeds=[0])
    tags = trainer.metric_names(model)
    (value,) = board.layout(tags).value
    layout = layout_pb2.Layout.FromString(value.tensor.string_val[0])
    charts = {c.title: [ch.title for ch in c.chart] for c in layout.category}
    assert charts["gradient norm per layer"] == [  # the output first, as logreg's
        "grad_norm/output.weight", "grad_norm/output.bias", "grad_norm/layer1.weight",
        "grad_norm/layer1.bias"]
    assert charts["accuracy"] == ["test/accuracy", "train/accuracy"]
    assert charts["calibration (ECE, Brier)"] == ["test/ece", "test/brier", "train/ece",
                                                  "train/brier"]
    charted = {t for titles in charts.values() for t in titles}
    assert set(tags) - charted == {"train/loss", "lr"}
    assert isinstance(board.layout([]), Summary)


def test_layout_charts_the_gradient_ratio_and_the_validation_split_between_test_and_train():
    model = ReplicaMLP([4, 2], "sigmoid", seeds=[0])
    x, y = torch.zeros(6, 4), torch.tensor([0, 1, 0, 1, 0, 1])
    with_val = datasets.Data(x, y, x, y, 2, x_val=x, y_val=y)
    tags = trainer.metric_names(model, with_val)
    (value,) = board.layout(tags).value
    layout = layout_pb2.Layout.FromString(value.tensor.string_val[0])
    charts = {c.title: [ch.title for ch in c.chart] for c in layout.category}
    assert charts["accuracy"] == ["test/accuracy", "val/accuracy", "train/accuracy"]
    (ratio,) = [title for title in charts if title.startswith("gradient ratio")]
    assert "squared error's" in ratio and "over cross-entropy's" in ratio
    assert charts[ratio] == ["test/grad_ratio", "test/grad_ratio_q10", "val/grad_ratio",
                             "val/grad_ratio_q10", "train/grad_ratio", "train/grad_ratio_q10",
                             "grad_ratio_uniform"]
    charted = {t for titles in charts.values() for t in titles}
    assert set(tags) - charted == {"train/loss", "lr"}
    assert set(tags) - set(trainer.metric_names(model)) == {
        f"val/{m}" for m in ("accuracy", "ce", "mse", "ece", "brier", "grad_ratio",
                             "grad_ratio_q10")}


# --- the link that opens on the comparison ---------------------------------------------------

def test_comparison_url_colours_runs_by_loss_and_pins_the_test_metrics(make_cfg):
    url = urllib.parse.urlsplit(board.comparison_url("http://localhost:6006/"))
    assert (url.scheme, url.netloc, url.path, url.fragment) == (
        "http", "localhost:6006", "/", "timeseries")
    query = urllib.parse.parse_qs(url.query, strict_parsing=True)
    assert all(len(v) == 1 for v in query.values())
    query = {k: v[0] for k, v in query.items()}
    assert query["smoothing"] == "0"
    # TensorBoard groups runs by the JSON of the regex's groups: one colour per loss
    kind, _, pattern = query["runColorGroup"].partition(":")
    assert kind == "regex"
    names = {}
    for overrides in (["loss=ce"], ["loss=mse"], ["loss=mse", "model=logreg"],
                      ["pair=linear_sq_rescaled"], ["pair=sigmoid_bce"]):
        cfg = make_cfg(*overrides)
        head = {"pair=linear_sq_rescaled": "linear", "pair=sigmoid_bce": "sigmoid"}.get(
            overrides[0], "softmax")
        run = layout.run_name(cfg, head, "quickstart")
        for logdir_name in (f"{run}/seed=3", f"quickstart/{run}/seed=0"):
            names[logdir_name] = re.search(pattern, logdir_name).groups()
    assert {groups for groups in names.values()} == {("ce",), ("mse",), ("sq_rescaled",),
                                                    ("bce",)}
    assert re.search(pattern, "quickstart/softmax_ce_more/x/seed=0") is None
    # the frontend's own check of a pinned scalar card: a plugin and a tag, no run
    assert json.loads(query["pinnedCards"]) == [{"plugin": "scalars", "tag": t}
                                                for t in board.COMPARED]
    model = ReplicaMLP([4, 3, 2], "sigmoid", seeds=[0])
    x, y = torch.zeros(6, 4), torch.tensor([0, 1, 0, 1, 0, 1])
    tags = trainer.metric_names(model, datasets.Data(x, y, x, y, 2, x_val=x, y_val=y))
    assert [t for t in tags if re.search(query["tagFilter"], t)] == list(board.COMPARED)
    # nothing a terminal would end a link at
    assert not set(board.comparison_url()) & set(" \"'<>|[]{}^`\\")


# --- HParams: what the run's sweep varies ----------------------------------------------------

def _experiment(acc) -> dict:
    """hparam display name -> whether it differs, in the order the HParams table shows them."""
    content = acc.PluginTagToContent("hparams")["_hparams_/experiment"]
    infos = plugin_data_pb2.HParamsPluginData.FromString(content).experiment.hparam_infos
    return {h.display_name: h.differs for h in sorted(infos, key=lambda h: h.name)}


def _first_shown(differs: dict) -> list[str]:
    """The five columns the HParams table shows at first: the server sorts the
    hyperparameters by ``differs``, then by name (which keeps board.ORDER), and the table shows
    the first five."""
    return sorted(differs, key=lambda p: not differs[p])[:5]


def test_a_sweeps_runs_mark_what_it_varies_and_the_seed_as_shown_columns(tmp_path):
    proc = cli("-m", "loss=ce,mse", "seeds=[0,1]", "model=logreg", "trainer.epochs=1",
               f"results_dir={tmp_path}", cwd=tmp_path)
    # the end-of-sweep hint: the server's command, then the link that opens on the comparison
    assert f"tensorboard --logdir {tmp_path / 'default'}\n" in proc.stderr
    assert proc.stderr.count(board.comparison_url()) == 1
    experiments = []
    for events in sorted(tmp_path.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events), size_guidance={"tensors": 0})
        acc.Reload()
        experiments.append(_experiment(acc))
    assert len(experiments) == 4 and all(e == experiments[0] for e in experiments)
    differs = experiments[0]
    # the swept loss and the seed, and what the command line set for every job (a job sees
    # only its own values)
    assert {p for p, d in differs.items() if d} == {"loss", "seed", "model", "epochs"}
    assert _first_shown(differs) == ["loss", "model", "seed", "epochs", "head"]


def test_an_experiment_files_sweep_marks_its_keys_and_the_seed():
    # saturation sweeps pair=softmax_ce,softmax_mse and model.init_scale=1,3,10 over 5 seeds
    grid, seeds = config_tree.sweep_grid("saturation")
    job = [f"{key}={values[-1]}" for key, values in grid.items()]
    swept = board.swept("saturation", [*job, "experiment=saturation", "results_dir=x"], seeds)
    assert swept == {"loss", "init_scale", "seed"}  # one head: it does not differ
    differs = {p: p in swept for p in board.ORDER}
    assert _first_shown(differs) == ["loss", "init_scale", "seed", "head", "model"]
    # a pair over heads varies the head too; one seed is no column of its own
    grid, _ = config_tree.sweep_grid("lr_scaling")
    swept = board.swept("lr_scaling", [f"{k}={v[0]}" for k, v in grid.items()], [0])
    assert swept == {"head", "loss", "init_scale", "lr"}
    assert board.swept("default", ["loss=mse", "device=cpu", "seeds=[0]"], [0]) == {"loss"}


def test_experiment_refuses_a_differs_that_is_no_hyperparameter():
    with pytest.raises(ValueError, match=r"differs=\['los'\]: not hyperparameters"):
        board.experiment(["los"])
