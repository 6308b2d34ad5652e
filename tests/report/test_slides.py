"""Slides: the real ``ce-vs-mse-report --slides`` writes 16:9 PNGs into figures/slides/, one
per idea, from tiny real runs of the classes and saturation experiments; without those runs
their slides are left out; every text on a slide is large and no slide has a legend."""

from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pytest
from conftest import report_cli
from hydra import compose, initialize_config_dir
from matplotlib.text import Text

from ce_vs_mse.report import aggregate, slides
from ce_vs_mse.train import runner
from ce_vs_mse.train.cli import config_dir

CLASSES = ("experiment=classes", "dataset.n_classes=2", "dataset.n_samples=600",
           "trainer.epochs=2", "seeds=[0]")
SATURATION = ("experiment=saturation", "trainer.epochs=1", "seeds=[0]")


def _run(results: Path, experiment: str, *overrides: str) -> None:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=[f"results_dir={results}", *overrides])
    runner.run(cfg, experiment, list(overrides))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Squared error and cross-entropy at η and at η × K (K = 2: 0.5 and 1), and from initial
    weights ×1 and ×10: one seed each, one or two epochs."""
    root = tmp_path_factory.mktemp("slides") / "runs"
    for pair in ("softmax_ce", "softmax_mse"):
        for lr in (0.5, 1):
            _run(root, "classes", *CLASSES, f"pair={pair}", f"optimizer.lr={lr}")
        for scale in (1, 10):
            _run(root, "saturation", *SATURATION, f"pair={pair}", f"model.init_scale={scale}")
    return root


def test_the_report_command_writes_16_9_slides(runs, tmp_path):
    proc = report_cli("--runs", str(runs), "--out", "out", "--experiments", "mechanism",
                      "--slides", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    written = sorted((tmp_path / "out/figures/slides").glob("*.png"))
    assert [p.stem for p in written] == list(slides.NAMES)
    for path in written:
        height, width = mpimg.imread(path).shape[:2]
        assert width / height == pytest.approx(16 / 9, rel=0.01), path.name
        assert width >= 1600, path.name
    assert (tmp_path / "out/REPORT.md").is_file()  # and the report as usual


def test_without_their_runs_those_slides_are_left_out(tmp_path):
    (tmp_path / "runs").mkdir()
    folder = tmp_path / "out/figures/slides"
    folder.mkdir(parents=True)
    (folder / f"{slides.NAMES[3]}.png").write_bytes(b"stale")  # from runs since removed
    written = slides.write(aggregate.load_runs(tmp_path / "runs"), tmp_path / "out")
    assert [p.stem for p in written] == list(slides.NAMES[:2])
    assert sorted(p.stem for p in folder.iterdir()) == list(slides.NAMES[:2])


def test_every_text_is_large_and_no_slide_has_a_legend(runs):
    loaded = aggregate.load_runs(runs)
    with plt.rc_context(slides.LOOK):
        figures = [slides.error_times_slope(), slides.neuron_stalls(),
                   slides.shared_or_own_eta(loaded), slides.saturation(loaded)]
        assert all(fig is not None for fig in figures)
        for fig in figures:
            fig.canvas.draw()  # the tick labels exist once drawn
            texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
            assert texts and min(t.get_fontsize() for t in texts) >= 20
            assert not fig.legends and all(ax.get_legend() is None for ax in fig.axes)
            plt.close(fig)
