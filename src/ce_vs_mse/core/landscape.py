"""The loss over a 2-D slice of weight space (Glorot & Bengio 2010, §4.1): no training.

Beside :mod:`ce_vs_mse.models` and :mod:`ce_vs_mse.losses`, whose network and formulas it
evaluates; the report draws what :func:`loss_slice` returns.
"""

from __future__ import annotations

import numpy as np
import torch

from . import data as datasets
from . import losses, models


def loss_slice(cfg, grid: np.ndarray, first=(28, 0), second=(0, 0)) -> dict[str, np.ndarray]:
    """Mean training loss, squared error and cross-entropy on a softmax head, as a function of
    one first-layer weight ``layer1.weight[first]`` and one output weight
    ``output.weight[second]`` set to every pair of values in ``grid``; every other weight keeps
    its seed-0 initial value. Returns {"mse", "ce"}: (len(grid), len(grid)) arrays, rows: the
    first-layer weight, columns: the output weight."""
    data = datasets.load(cfg.dataset)
    n = len(grid)
    # n identical replicas of the seed's initial network, one per output-weight value.
    model, _ = models.build(cfg, data.n_features, data.n_classes, [cfg.seeds[0]] * n)
    w1, w2 = model.layers["layer1"].weight, model.layers["output"].weight
    g = torch.as_tensor(grid, dtype=torch.float32)
    out = {"mse": np.zeros((n, n)), "ce": np.zeros((n, n))}
    y = data.y_train.expand(n, -1)
    with torch.no_grad():
        w2[(slice(None), *second)] = g
        for i, a in enumerate(g):  # one row of the grid per pass
            w1[(slice(None), *first)] = a
            z = model(data.x_train)
            out["mse"][i] = losses.squared_error(z, y, "softmax").mean(-1).numpy()
            out["ce"][i] = losses.cross_entropy(z, y).mean(-1).numpy()
    return out


def flatness(surface: np.ndarray, grid: np.ndarray, flat: float = 1e-3) -> dict[str, float]:
    """How flat a slice is: its range, the median norm of its gradient with respect to the
    two weights (finite differences on ``grid``), and the share of the grid where that norm
    is below ``flat``."""
    d_rows, d_cols = np.gradient(surface, grid, grid)
    slope = np.hypot(d_rows, d_cols)
    return {"min": float(surface.min()), "max": float(surface.max()),
            "median gradient norm": float(np.median(slope)),
            f"share with gradient norm < {flat:g}": float((slope < flat).mean())}
