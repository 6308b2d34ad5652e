"""The landscape section: both surfaces on one colour scale, and a flatness threshold relative
to each surface's own range, recomputed here from the slice."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.contour import ContourSet

from ce_vs_mse.config.tree import compose
from ce_vs_mse.core import landscape as core_landscape
from ce_vs_mse.report import document
from ce_vs_mse.report.sections import landscape


def test_one_colour_scale_and_a_relative_threshold(tmp_path, monkeypatch):
    figures, slices = {}, []
    save, slice_ = document.Document.figure, core_landscape.loss_slice

    def keep(self, fig, name, caption):
        figures[name] = fig
        save(self, fig, name, caption)

    def kept_slice(cfg, grid):  # the section's own slice, not computed a second time here
        slices.append((cfg, grid, slice_(cfg, grid)))
        return slices[-1][2]

    monkeypatch.setattr(document.Document, "figure", keep)
    monkeypatch.setattr(core_landscape, "loss_slice", kept_slice)
    doc = document.Document(tmp_path)
    answer = landscape.draw(doc, None)
    sets = [c for ax in figures["landscape"].axes for c in ax.collections
            if isinstance(c, ContourSet)]
    assert len(sets) == 2
    assert list(sets[0].levels) == list(sets[1].levels)  # one scale for both panels
    assert sets[0].get_clim() == sets[1].get_clim()
    ((cfg, grid, surf),) = slices
    assert cfg == compose("experiment=landscape")
    table = pd.read_csv(tmp_path / "tables/landscape.csv").set_index("pair")
    shares = {}
    for loss, s in surf.items():
        span = s.max() - s.min()
        slope = np.hypot(*np.gradient(s, grid, grid))
        shares[loss] = float((slope < landscape.RELATIVE * span).mean())
        row = table.loc[f"softmax+{loss}"]
        assert row["range"] == pytest.approx(span, rel=5e-3)
        assert row[landscape.FLAT] == pytest.approx(shares[loss], abs=5e-3)
    # a surface and the same surface ×10 are equally flat by a relative threshold
    ten = core_landscape.flatness(10 * surf["mse"], grid,
                                  landscape.RELATIVE * 10 * np.ptp(surf["mse"]))
    assert list(ten.values())[-1] == pytest.approx(shares["mse"])
    assert "relative to each surface's own range" in answer
    assert f"{100 * shares['mse']:.0f} % of the slice for squared error" in answer
