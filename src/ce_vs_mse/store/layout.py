"""Where a run's files are: its folder's path, a pure function of its configuration.

    <results_dir>/<experiment>/<head>_<loss>/<dataset>-<model>/<optimizer>-lr<η>[,<key>=<value>…]-<hash>/seed=<s>/

The readable parts say what usually differs between runs (``key=value`` lists every other
option that differs from the schema's default); the hash of the whole configuration
(:func:`ce_vs_mse.config.schema.content`) keeps two configurations from ever sharing a
folder. Overrides in any order, defaults spelled out or not, give the same folder. No
timestamps: the same command finds the same folder.

Files of a seed's folder: ``metrics.csv`` (written as ``metrics.csv.partial`` and renamed at
the end), ``config.yaml``, ``events.out.tfevents.*``, ``summary.json``
(:mod:`ce_vs_mse.store.summary`, written last) and ``.lock`` (:mod:`ce_vs_mse.store.lock`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import schema

SUMMARY, METRICS, CONFIG = "summary.json", "metrics.csv", "config.yaml"
PARTIAL = METRICS + ".partial"

# Keys already spelt out by the readable part of the name.
IN_READABLE_NAME = ("dataset.name", "model.name", "model.hidden", "model.head", "loss.name",
                    "optimizer.name", "optimizer.lr")
# Keys of how a run is measured rather than what it trains: in the hash, not in the name.
NOT_READABLE = ("trainer.per_decade", "trainer.log_every", "trainer.eval_every",
                "trainer.eval_train_max", "trainer.target_accuracy",
                "dataset.standardize", "dataset.test_fraction", "dataset.split_seed",
                "dataset.val_fraction", "dataset.sha256")
MAX_LEAF = 100  # characters of key=value in a folder name; the hash still tells them apart


def config_hash(cfg) -> str:
    """Eight hex digits that identify everything in ``cfg`` that affects the results."""
    blob = json.dumps(schema.content(cfg), sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:8]


# Characters no segment of a run's folder name holds: a path's separators, control
# characters, and what a Markdown table, HTML or a shell reads as more than part of a name
# (a regex character class's body; store.summary.RUN checks names against it on reading).
UNSAFE = r"/\\\x00-\x1f|<>*?\"'`\[\]"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "_".join(_short(v) for v in value)
    # e.g. a column name: one folder, never nested ones (store.summary.RUN refuses the rest)
    return re.sub(f"[{UNSAFE}]", "_", str(value))


def dataset_name(cfg) -> str:
    """The dataset as its runs' folders name it: its name, or for dataset=file the file's
    stem, flattened to one folder name (``data/my wine.csv`` -> ``my_wine``)."""
    d = cfg.dataset
    if d.name != "file" or not d.get("path"):
        return d.name
    return re.sub(r"[^\w.+-]", "_", Path(d.path).stem)[:40] or "file"


def run_name(cfg, head: str, experiment: str = "") -> str:
    """The readable, canonical path of a configuration below its experiment (without seed).

    Options that differ from the schema's defaults are named by their last key, e.g.
    ``epochs=30``, up to ``MAX_LEAF`` characters, except those that say how the run is
    measured (``NOT_READABLE``); the dataset is left out when it is the experiment's own name
    (``neuron``), so no segment repeats."""
    defaults = schema.default_values()
    extra = sorted(
        f"{key.rpartition('.')[2]}={_short(value)}"
        for key, value in schema.leaves(schema.content(cfg))
        if key not in IN_READABLE_NAME + NOT_READABLE and "." in key
        and defaults.get(key, object()) != value
    )
    m = cfg.model
    model = m.name + "".join(f"_{h}" for h in m.hidden)
    where = model if cfg.dataset.name == experiment else f"{dataset_name(cfg)}-{model}"
    leaf = ",".join([f"{cfg.optimizer.name}-lr{cfg.optimizer.lr:g}", *extra])
    if len(leaf) > MAX_LEAF:  # a path component has at most 255 bytes
        leaf = leaf[:MAX_LEAF].rsplit(",", 1)[0] + ",more"
    return f"{head}_{cfg.loss.name}/{where}/{leaf}-{config_hash(cfg)}".replace(" ", "")


def job_dir(results_dir: Path, experiment: str, run: str) -> Path:
    """The folder of one configuration (every seed's folder is inside it)."""
    return Path(results_dir) / experiment / run


def seed_dir(base: Path, seed: int) -> Path:
    return Path(base) / f"seed={seed}"


def seed_of(folder: Path) -> int:
    """The seed a seed folder (``seed=<s>``) holds."""
    return int(Path(folder).name.removeprefix("seed="))


def is_canonical(folder: Path, experiment: str, run: str, seed: int) -> bool:
    """Whether ``folder`` is where a run of ``experiment``/``run``/``seed`` belongs (not a copy)."""
    return Path(folder).as_posix().endswith(f"{experiment}/{run}/seed={seed}")


def find(results_dir: Path, experiment: str, config_hash: str, seed: int) -> Iterator[Path]:
    """The folders that may hold seed ``seed`` of the configuration with this hash."""
    return (Path(results_dir) / experiment).glob(f"*/*/*-{config_hash}/seed={seed}")


def _walk(root: Path) -> Iterator[tuple[Path, set[str]]]:
    """Every folder under ``root`` with the names in it, following symbolic links (a run
    folder linked in from other storage is a run like any other; the trainer's
    :func:`find` follows them too) but entering each real folder once, so that a link to a
    folder above it is no loop."""
    seen: set[tuple[int, int]] = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        try:
            st = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        entries = set(dirs) | set(names)  # a summary.json may be a folder by mistake
        dirs.sort()
        yield Path(folder), entries


def run_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` that holds or held a run, in a stable order."""
    marks = {SUMMARY, METRICS, PARTIAL, CONFIG}
    return sorted(folder for folder, names in _walk(root) if marks & names)


def summaries(root: Path) -> list[Path]:
    """Every summary file under ``root``, in a stable order."""
    return sorted(folder / SUMMARY for folder, names in _walk(root) if SUMMARY in names)


def clear(run_dir: Path) -> None:
    """Remove what an unfinished earlier attempt left (the caller holds the lock)."""
    for path in Path(run_dir).glob("*"):
        if path.is_dir() and path.name in (METRICS, SUMMARY, CONFIG, PARTIAL):
            shutil.rmtree(path)  # a folder where a file belongs
        elif path.is_file() and (path.name.startswith("events.out.tfevents")
                               or path.name.endswith((".tmp", ".partial"))
                               or path.name in (METRICS, SUMMARY, CONFIG)):
            path.unlink()


def jobs_manifest(results_dir: Path, experiment: str) -> Path:
    """Where :mod:`ce_vs_mse.store.manifest` keeps an experiment's list of jobs."""
    return Path(results_dir) / experiment / ".jobs.json"
