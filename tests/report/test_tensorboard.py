"""The report's seed-aggregated TensorBoard logdir, read back with TensorBoard's own reader:
one run per configuration, the mean of each main scalar over the seeds that finished and its
Student-t band, the band left out below three seeds, and a margin chart per tag."""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from scipy import stats
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar import layout_pb2

from ce_vs_mse.config.tree import config_dir
from ce_vs_mse.report import aggregate
from ce_vs_mse.report import tensorboard as board
from ce_vs_mse.train import runner

TINY = ("model=logreg", "trainer.epochs=2", "trainer.eval_every=5")


def _run(results: Path, *overrides: str) -> list[Path]:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"results_dir={results}", *overrides])
    return runner.run(cfg, "tiny", list(overrides)).run_dirs


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """CE and MSE with three seeds each, and MSE at a second η with two; their logdir."""
    root = tmp_path_factory.mktemp("results")
    seeds = {"ce": _run(root, "loss=ce", "seeds=[0,1,2]", *TINY),
             "mse": _run(root, "loss=mse", "seeds=[0,1,2]", *TINY),
             "two": _run(root, "loss=mse", "seeds=[0,1]", "optimizer.lr=0.2", *TINY)}
    out = board.write_logdir(aggregate.load_runs(root), root / "report")
    return seeds, out


def _events(run: Path) -> EventAccumulator:
    acc = EventAccumulator(str(run), size_guidance={"scalars": 0, "tensors": 0})
    return acc.Reload()


def _name(seed_dir: Path) -> str:
    """The aggregated run's name: the seed folder's experiment and configuration."""
    return "/".join(seed_dir.parent.parts[-4:])


def test_one_run_per_configuration_with_the_seeds_mean_and_t_band(logdir):
    seeds, out = logdir
    runs = sorted(str(p.parent.relative_to(out)) for p in out.rglob("events.out.tfevents.*"))
    assert runs == sorted(_name(dirs[0]) for dirs in seeds.values())
    for loss in ("ce", "mse"):
        acc = _events(out / _name(seeds[loss][0]))
        metrics = pd.concat([pd.read_csv(d / "metrics.csv") for d in seeds[loss]])
        for tag in board.TAGS:
            per_step = metrics.dropna(subset=[tag]).groupby("step")[tag].apply(list)
            mean = acc.Scalars(tag)
            assert [e.step for e in mean] == per_step.index.tolist()
            assert [e.value for e in mean] == pytest.approx(
                [statistics.fmean(v) for v in per_step], rel=1e-6)
            t = stats.t.ppf(0.975, df=2)
            half = [t * statistics.stdev(v) / 3 ** 0.5 for v in per_step]
            low, high = (acc.Scalars(f"{tag}/{side}") for side in (board.LOW, board.HIGH))
            assert [e.step for e in low] == [e.step for e in high] == [e.step for e in mean]
            assert [e.value for e in low] == pytest.approx(
                [statistics.fmean(v) - h for v, h in zip(per_step, half, strict=True)],
                rel=1e-5, abs=1e-7)
            assert [e.value for e in high] == pytest.approx(
                [statistics.fmean(v) + h for v, h in zip(per_step, half, strict=True)],
                rel=1e-5, abs=1e-7)


def test_two_seeds_give_a_mean_and_no_band(logdir):
    seeds, out = logdir
    tags = set(_events(out / _name(seeds["two"][0])).Tags()["scalars"])
    assert tags == set(board.TAGS)  # fewer than aggregate.MIN_SEEDS: no interval


def test_layout_draws_each_tag_as_a_margin_chart_of_its_band(logdir):
    seeds, out = logdir
    acc = _events(out / _name(seeds["ce"][0]))
    (event,) = acc.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])
    charts = [chart for category in layout.category for chart in category.chart]
    assert [c.title for c in charts] == list(board.TAGS)  # one category each, in this order
    assert len(layout.category) == len(charts)
    tags = set(acc.Tags()["scalars"])
    for chart in charts:
        (series,) = chart.margin.series
        assert {series.value, series.lower, series.upper} <= tags
        assert series.value == chart.title


def test_a_report_of_other_experiments_keeps_this_ones_and_replaces_its_own(logdir, tmp_path):
    seeds, out = logdir
    stale = out / "tiny" / "softmax_ce" / "gone"
    stale.mkdir(parents=True)
    other = out / "other"
    other.mkdir()
    board.write_logdir(aggregate.load_runs(seeds["ce"][0].parents[4]), out.parent)
    assert other.is_dir() and not stale.exists()
    assert (out / _name(seeds["ce"][0])).is_dir()
