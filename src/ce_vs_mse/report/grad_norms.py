"""The per-layer gradient norms the runs log, one column per layer: ``grad_norm/<layer>.weight``
(``layer1`` … ``layerN``, ``output``)."""

from __future__ import annotations

import pandas as pd


def column(layer: str) -> str:
    """``grad_norm/layer1.weight``: the column of ``layer``'s weight-gradient norm."""
    return f"grad_norm/{layer}.weight"


def layer(column: str) -> str:
    """``layer1``: the layer whose weight-gradient norm ``column`` holds."""
    return column.split("/")[1].split(".")[0]


def weight_columns(curves: pd.DataFrame) -> list[str]:
    """The weight-gradient-norm columns of ``curves``, from the input to the output layer.

    A column is listed when ``curves`` has it, logged or not: runs of other networks read in
    with these give it, empty."""
    return sorted((c for c in curves if c.startswith("grad_norm/") and c.endswith(".weight")),
                  key=lambda c: (c.endswith("output.weight"), c))


def title(column: str) -> str:
    """``hidden layer 1``, ``output layer``: the layer of ``column`` in words."""
    name = layer(column)
    return "output layer" if name == "output" else name.replace("layer", "hidden layer ")
