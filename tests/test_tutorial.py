"""docs/tutorial.ipynb, the notebook a teacher hands out, runs from top to bottom in a fresh
directory on the Python running these tests, and what it prints is what the suite computes:
the lecture's gradient step from core's formulas, the runs' steps to target from their
summary.json, and its figures."""

from __future__ import annotations

import base64
import io
import json
import re
import statistics
import sys
from pathlib import Path

import matplotlib.image
import nbformat
import pytest
import torch
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

from ce_vs_mse.core import losses

NOTEBOOK = Path(__file__).parents[1] / "docs" / "tutorial.ipynb"


def test_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed in an empty directory: (the text each code cell printed, the PNGs
    it displayed, that directory). Any cell that raises fails the tests (CellExecutionError).

    Its kernel is this Python's: a ``python3`` kernel spec whose command is sys.executable, on
    JUPYTER_PATH, which comes before a user's own kernel specs (~/.local/share/jupyter)."""
    cwd = tmp_path_factory.mktemp("tutorial")
    jupyter = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(jupyter / "kernels" / "python3")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(jupyter))
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(cwd)}}).execute()
    texts, pngs = [], []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for out in cell.outputs:
            texts.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
            if "image/png" in out.get("data", {}):
                pngs.append(base64.b64decode(out["data"]["image/png"]))
    return "\n".join(texts), pngs, cwd


def _seeds(cwd: Path, loss: str, lr: float) -> list[dict]:
    found = [json.loads(p.read_text())
             for p in sorted(cwd.glob("outputs/tutorial/quickstart/*/*/*/seed=*/summary.json"))]
    return [s for s in found if s["params"]["loss"] == loss and s["params"]["lr"] == lr
            and s["params"]["init_scale"] == 1.0]


@pytest.mark.slow
def test_kernel_is_this_environment(executed):
    text, _, _ = executed
    cli = Path(re.search(r"CLI: (\S+)", text).group(1))
    assert cli.parent == Path(sys.executable).parent, "the kernel is not this test's Python"


@pytest.mark.slow
def test_lecture_step_is_core_gradient(executed):
    text, _, _ = executed
    m = re.search(r"cross-entropy passes back (\S+); squared error (\S+) × (\S+) = (\S+)", text)
    ce, error, slope, sq = map(float, m.groups())
    z = torch.logit(torch.tensor([[0.6]], dtype=torch.float64))
    y = torch.tensor([1])
    assert ce == error == pytest.approx(losses.grad_wrt_z("bce", "sigmoid", z, y).item(), abs=5e-5)
    assert sq == pytest.approx(losses.grad_wrt_z("mse", "sigmoid", z, y).item(), abs=5e-5)
    # the lecture's numbers: label 1, ŷ = 0.6
    assert (ce, slope, sq) == pytest.approx((-0.4, 0.24, -0.096), abs=5e-5)


@pytest.mark.slow
def test_reads_both_losses_runs(executed):
    """The notebook's steps to 90 %, read off metrics.csv, are the trainer's own steps_to_target
    of the same seeds; at a shared η squared error needs several times cross-entropy's updates,
    at 10 × η (K = 10 classes) about as many."""
    text, _, cwd = executed
    assert "metrics.csv files read: {'ce': 5, 'mse': 5}" in text
    median = {}
    for loss, lr in [("ce", 0.5), ("mse", 0.5), ("mse", 5.0)]:
        seeds = _seeds(cwd, loss, lr)
        assert [s["status"] for s in seeds] == ["done"] * 5, (loss, lr)
        median[loss, lr] = statistics.median(s["steps_to_target"] for s in seeds)
    m = re.search(r"cross-entropy (\d+), squared error (\d+)", text)
    assert (int(m.group(1)), int(m.group(2))) == (median["ce", 0.5], median["mse", 0.5])
    assert median["mse", 0.5] > 2 * median["ce", 0.5]
    assert median["mse", 5.0] < 2 * median["ce", 0.5]


@pytest.mark.slow
def test_draws_its_figures(executed):
    _, pngs, _ = executed
    assert len(pngs) == 3  # accuracy curves, the gradient at z, the exercise's curves
    for png in pngs:
        height, width, _ = matplotlib.image.imread(io.BytesIO(png), format="png").shape
        assert width > 400 and height > 200
