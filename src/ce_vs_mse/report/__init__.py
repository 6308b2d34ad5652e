"""``ce-vs-mse-report``: figures and tables from the logged runs, written to results/report.

Reads ``results/runs/**`` through :mod:`ce_vs_mse.aggregate` and never trains; it imports
neither the training CLI nor the runner. Figures are PNG (and SVG with ``--svg``), tables
CSV, and ``REPORT.md`` shows them all with a caption each, after a summary that answers each
section's question from the runs. The same inputs give byte-identical files (no timestamps;
fixed SVG ids).

- :mod:`.build`: the command; which runs and sections go in; REPORT.md around them
- :mod:`.sections`: the sections, a registry (a new section is one function and one line)
- :mod:`.experiment`: the standard section every experiment gets
- :mod:`.static`: the sections drawn without runs (landscape, gradients, information)
- :mod:`.tables`: what a table row shows, and how many seeds it stands on
- :mod:`.plots`: curve grids, bars and sweeps
- :mod:`.style`: one look per head+loss pair, defined once
- :mod:`.document`: REPORT.md and its files; number formats
"""

from .build import build, main

__all__ = ["build", "main"]
