"""The figure of a section that sweeps one parameter (saturation's initial scale, fair_lr's
learning rate): final accuracy and steps to target against it, per pair."""

from __future__ import annotations

from . import aggregate, plots, tables
from .document import Document
from .experiment import Experiment


def figure(doc: Document, exp: Experiment, column: str, xlabel: str) -> None:
    """Draw final accuracy and steps to target against ``column`` (labelled ``xlabel``)."""
    fig = plots.sweep([(aggregate.by_run(exp.table, "final test/accuracy"),
                        "final test accuracy", ""),
                       (aggregate.by_run(exp.table, "steps_to_target"),
                        f"steps to {exp.target}", "reached")], column, xlabel)
    left_out = tables.left_out(exp.table, exp.labels)
    doc.figure(fig, f"{exp.name}_by_{column}", f"{exp.name}: final test accuracy and steps to "
               f"{exp.target} against {xlabel}, mean and 95 % interval over seeds (steps: "
               "geometric mean over the seeds that reached it; a hollow point: over only some of "
               "its seeds, counted beside it; a cross at the top: none reached it)."
               + (f" {left_out}" if left_out else ""))
