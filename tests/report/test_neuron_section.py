"""The neuron figure, drawn from real runs of experiments/neuron.yaml: its legend's η entries
in the line style every curve has, and the two costs on one scale (each over its start)."""

from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from ce_vs_mse.report import aggregate, document, style
from ce_vs_mse.report.experiment import Experiment
from ce_vs_mse.report.sections import neuron
from ce_vs_mse.train import runner
from ce_vs_mse.train.cli import config_dir


def _train(results: Path) -> None:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        for loss in ("mse", "bce"):
            for w, b in ((0.6, 0.9), (2.0, 2.0)):
                for lr in (0.15, 0.005):
                    overrides = ["experiment=neuron", f"loss={loss}", "trainer.epochs=15",
                                 f"model.init_weight={w}", f"model.init_bias={b}",
                                 f"optimizer.lr={lr}"]
                    cfg = compose("config", overrides=[f"results_dir={results}", *overrides])
                    runner.run(cfg, "neuron", overrides)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    root = tmp_path_factory.mktemp("neuron")
    _train(root / "runs")
    runs = aggregate.load_runs(root / "runs")
    kept = {}
    save = document.Document.figure

    def keep(self, fig, name, caption):
        kept.update(fig=fig, caption=caption)
        save(self, fig, name, caption)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(document.Document, "figure", keep)
        neuron.draw(document.Document(root / "out"), Experiment("neuron", runs.table, runs.curves))
    return kept, runs


def test_the_legend_draws_each_eta_as_its_curves_are_drawn(drawn):
    kept, _ = drawn
    fig = kept["fig"]
    curves = {line.get_linestyle() for ax in fig.axes for line in ax.get_lines()
              if style.pair_of(line)}
    assert curves == {"--"}  # every pair is on a sigmoid head
    (legend,) = fig.legends
    etas = [h for h, t in zip(legend.legend_handles, legend.get_texts(), strict=True)
            if t.get_text().startswith("η")]
    assert len(etas) == 2 and {h.get_linestyle() for h in etas} == curves
    pair_colours = {mcolors.to_hex(c) for c in style.FAMILY_COLOUR.values()}
    assert not {mcolors.to_hex(h.get_color()) for h in etas} & pair_colours  # grey


def test_the_costs_share_one_scale_each_over_its_start(drawn):
    kept, runs = drawn
    fig = kept["fig"]
    middle = [ax for ax in fig.axes if ax.get_ylabel().startswith("cost")]
    lines = [line for ax in fig.axes for line in ax.get_lines()
             if style.pair_of(line) and ax.get_subplotspec().rowspan.start == 1]
    assert middle and len(lines) == len(runs.table)
    for line in lines:
        y = line.get_ydata()
        assert y[0] == pytest.approx(1.0) and np.all(y <= 1 + 1e-6)
    # unnormalised, cross-entropy's start (BCE of σ(4), target 0: 4.02) is 8× the quadratic's
    bad = runs.curves[(runs.curves["epoch"] == 0)]
    assert bad["test/ce"].max() / bad["test/mse"].max() > 5
    assert "each cost over its own value at the start" in kept["caption"]
