"""An experiment's list of jobs, kept beside its runs: ``<results_dir>/<experiment>/.jobs.json``.

Composing an experiment's jobs costs Hydra a fraction of a CPU-second each, so
:mod:`ce_vs_mse.reproduce` keeps the list (each job's configuration hash and seeds) with the
digest of everything it was composed from, and reuses it while that digest is unchanged.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from .files import write_json_atomic
from .layout import jobs_manifest


def read(results_dir: Path, experiment: str, inputs: str) -> list[dict] | None:
    """The jobs last listed for ``experiment`` (``{"hash", "seeds"}`` each), if they were
    composed from the same ``inputs``; else None."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        kept = json.loads(jobs_manifest(results_dir, experiment).read_text())
        if kept["inputs"] == inputs:
            return kept["jobs"]
    return None


def write(results_dir: Path, experiment: str, inputs: str, jobs: list[dict]) -> None:
    path = jobs_manifest(results_dir, experiment)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"inputs": inputs, "jobs": jobs})
