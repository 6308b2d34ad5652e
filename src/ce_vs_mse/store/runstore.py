"""The run folder: the one contract between training and everything that reads its results.

A run is one (configuration, seed). Its folder is a pure function of the resolved configuration:

    <results_dir>/<experiment>/<head>_<loss>/<dataset>-<model>/<optimizer>-lr<η>[,<key>=<value>…]-<hash>/seed=<s>/

The readable parts say what usually differs between runs (``key=value`` lists every other
option that differs from the schema's default); the hash of the whole configuration keeps two
configurations from ever sharing a folder. Overrides in any order, defaults spelled out or
not, give the same folder. No timestamps: the same command finds the same folder.

Files: ``metrics.csv`` (written as ``metrics.csv.partial`` and renamed at the end),
``config.yaml``, ``events.out.tfevents.*``, ``summary.json`` (written last, atomically) and
``.lock``. A run is *finished* when its ``summary.json`` is a valid summary with status
``done`` or ``diverged`` and the files it vouches for (size and SHA-256 of ``metrics.csv`` and
``config.yaml``) are there unchanged; anything else is unfinished, and is trained again.
A folder is trained by one process at a time: the one holding the ``flock`` on ``.lock``,
which the kernel releases when that process ends, however it ends.

Summaries are strict JSON: a non-finite number is stored as the string ``"nan"``, ``"inf"`` or
``"-inf"`` and read back as a float.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

SUMMARY, METRICS, CONFIG, LOCK = "summary.json", "metrics.csv", "config.yaml", ".lock"
PARTIAL = METRICS + ".partial"
FINISHED = ("done", "diverged")  # never trained again
STATUSES = (*FINISHED, "failed")  # failed: raised or was killed; trained again
VOUCHED = (METRICS, CONFIG)  # files whose size and SHA-256 a summary records

# Keys that do not change what a run computes: out of its name and hash.
NOT_IN_NAME = ("seeds", "device", "threads", "results_dir", "trainer.skip_done",
               "trainer.hist_every_epochs", "dataset.data_dir", "dataset.download")
# Keys already spelt out by the readable part of the name.
IN_READABLE_NAME = ("dataset.name", "model.name", "model.hidden", "model.head", "loss.name",
                    "optimizer.name", "optimizer.lr")
# Keys of how a run is measured rather than what it trains: in the hash, not in the name.
NOT_READABLE = ("trainer.per_decade", "trainer.log_every", "trainer.eval_every",
                "trainer.hist_every_epochs", "trainer.eval_train_max", "trainer.target_accuracy",
                "dataset.standardize", "dataset.test_fraction", "dataset.split_seed")
MAX_LEAF = 100  # characters of key=value in a folder name; the hash still tells them apart

# What a summary must hold, and of which JSON types (None allowed where listed).
_INT, _NUM, _STR = (int,), (int, float, str), (str,)
SUMMARY_FIELDS: dict[str, tuple] = {
    "status": _STR, "experiment": _STR, "run": _STR, "seed": _INT, "head": _STR,
    "params": (dict,), "final": (dict,), "steps": _INT, "target_accuracy": _NUM,
    "steps_to_target": (*_INT, type(None)), "epochs_to_target": (*_INT, type(None)),
    "diverged_at_step": (*_INT, type(None)), "config_hash": _STR,
}


# --- names ---------------------------------------------------------------------------------

def _content(cfg) -> dict:
    """The resolved configuration without the keys that do not change results. Hydra's own
    node is left out before resolving: a sweep checks each job before Hydra fills it in."""
    container = {k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
                 for k, v in cfg.items() if k not in ("hydra", "defaults")}
    for key in NOT_IN_NAME:
        parent, _, leaf = key.rpartition(".")
        (container.get(parent, {}) if parent else container).pop(leaf, None)
    return container


def config_hash(cfg) -> str:
    """Eight hex digits that identify everything in ``cfg`` that affects the results."""
    blob = json.dumps(_content(cfg), sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:8]


def _leaves(tree: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "_".join(_short(v) for v in value)
    return str(value)


def run_name(cfg, head: str, experiment: str = "") -> str:
    """The readable, canonical path of a configuration below its experiment (without seed).

    Options that differ from the schema's defaults (:mod:`ce_vs_mse.schema`) are named by
    their last key, e.g. ``epochs=30``, up to ``MAX_LEAF`` characters, except those that say
    how the run is measured (``NOT_READABLE``); the dataset is left out when it is the experiment's
    own name (``neuron``), so no segment repeats."""
    from ..config.schema import default_values  # what every option is compared against

    defaults = default_values()
    extra = sorted(
        f"{key.rpartition('.')[2]}={_short(value)}" for key, value in _leaves(_content(cfg))
        if key not in IN_READABLE_NAME + NOT_READABLE and "." in key
        and defaults.get(key, object()) != value
    )
    m = cfg.model
    model = m.name + "".join(f"_{h}" for h in m.hidden)
    where = model if cfg.dataset.name == experiment else f"{cfg.dataset.name}-{model}"
    leaf = ",".join([f"{cfg.optimizer.name}-lr{cfg.optimizer.lr:g}", *extra])
    if len(leaf) > MAX_LEAF:  # a path component has at most 255 bytes
        leaf = leaf[:MAX_LEAF].rsplit(",", 1)[0] + ",more"
    return f"{head}_{cfg.loss.name}/{where}/{leaf}-{config_hash(cfg)}".replace(" ", "")


def seed_dir(base: Path, seed: int) -> Path:
    return Path(base) / f"seed={seed}"


# --- writing -------------------------------------------------------------------------------

def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)``, then rename tmp to ``path``: readers, and anything interrupted, see the
    old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def _strict(obj: Any) -> Any:
    """``obj`` with every non-finite float as a string, so that it is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)  # "nan", "inf", "-inf"
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    return obj


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as strict JSON, atomically (:func:`write_atomic`)."""
    text = json.dumps(_strict(obj), indent=2, sort_keys=True, default=str, allow_nan=False)
    write_atomic(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def fingerprint(path: Path) -> dict:
    """Size, line count and SHA-256 of a file: what a summary vouches for."""
    data = path.read_bytes()
    return {"bytes": len(data), "lines": data.count(b"\n"),
            "sha256": hashlib.sha256(data).hexdigest()}


def finish(run_dir: Path, summary: dict) -> None:
    """Write ``summary.json`` last: with status done or diverged it vouches for the files in
    :data:`VOUCHED` as they are now, and the run is finished."""
    if summary["status"] in FINISHED:
        summary = {**summary, "files": {name: fingerprint(run_dir / name) for name in VOUCHED}}
    write_json_atomic(run_dir / SUMMARY, summary)


def clear(run_dir: Path) -> None:
    """Remove what an unfinished earlier attempt left (the caller holds the lock)."""
    for path in run_dir.glob("*"):
        if path.is_dir() and path.name in (METRICS, SUMMARY, CONFIG, PARTIAL):
            shutil.rmtree(path)  # a folder where a file belongs
        elif path.is_file() and (path.name.startswith("events.out.tfevents")
                               or path.name.endswith((".tmp", ".partial"))
                               or path.name in (METRICS, SUMMARY, CONFIG)):
            path.unlink()


# --- reading and verifying -------------------------------------------------------------------

class Unfinished(Exception):
    """A run folder that is not a finished run; the message says why, in a few words."""


def _number(value: Any) -> Any:
    return float(value) if value in ("nan", "inf", "-inf") else value


def _is_diagram(value: Any) -> bool:
    """None (not recorded: a diverged seed, or a run from before it was), or what
    :func:`ce_vs_mse.calibration.reliability` writes: equally long lists of numbers."""
    if value is None:
        return True
    if not isinstance(value, dict) or set(value) != {"count", "confidence_sum", "correct"}:
        return False
    lists = list(value.values())
    return all(isinstance(v, list) and len(v) == len(lists[0])
               and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
               for v in lists)


def read_summary(run_dir: Path) -> dict:
    """The run's summary, checked field by field (non-finite numbers back as floats), or
    :class:`Unfinished` saying what is wrong. Does not check the files it vouches for."""
    path = Path(run_dir) / SUMMARY
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Unfinished("no summary.json (never finished, or still running)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Unfinished(f"summary.json is unreadable ({type(err).__name__})") from None
    if not isinstance(summary, dict):
        raise Unfinished(f"summary.json holds {type(summary).__name__}, not an object")
    if summary.get("status") == "failed":
        raise Unfinished(f"failed: {summary.get('error') or 'no reason recorded'}")
    for key, types in SUMMARY_FIELDS.items():
        value = summary.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            raise Unfinished(f"summary.json has {key}={value!r}")
    if summary["status"] not in FINISHED:
        raise Unfinished(f"summary.json has status={summary['status']!r}")
    if not _is_diagram(summary.get("reliability")):
        raise Unfinished("summary.json has a malformed reliability diagram")
    summary["final"] = {k: _number(v) for k, v in summary["final"].items()}
    return summary


def verify(run_dir: Path) -> dict:
    """The summary of a finished run whose vouched files are intact, else :class:`Unfinished`."""
    summary = read_summary(run_dir)
    files = summary.get("files")
    if not isinstance(files, dict) or set(files) != set(VOUCHED):
        raise Unfinished("summary.json does not vouch for metrics.csv and config.yaml")
    for name, expected in files.items():
        path = Path(run_dir) / name
        try:
            actual = fingerprint(path)
        except FileNotFoundError:
            raise Unfinished(f"{name} is missing") from None
        except OSError as err:
            raise Unfinished(f"{name} is unreadable ({err.strerror})") from None
        if actual != expected:
            raise Unfinished(f"{name} is not the file its summary vouches for "
                             "(truncated or changed)")
    return summary


def is_done(run_dir: Path) -> bool:
    try:
        verify(run_dir)
    except Unfinished:
        return False
    return True


def run_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` that holds or held a run, in a stable order."""
    names = (SUMMARY, METRICS, PARTIAL, CONFIG)
    return sorted({p.parent for name in names for p in Path(root).rglob(name)})


# --- exclusive ownership -----------------------------------------------------------------------

@dataclass
class Lock:
    """An exclusive ``flock`` on ``<folder>/.lock``; the kernel drops it when the process ends."""

    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops the flock
            self.fd = -1


def try_lock(folder: Path) -> Lock | None:
    """Take the folder's lock, or return None when another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return Lock(path, fd)


def holder(folder: Path) -> str:
    """Who holds the folder's lock, as far as its file says (e.g. ``pid 1234``)."""
    with contextlib.suppress(OSError, ValueError):
        return f"pid {int((folder / LOCK).read_text().strip())}"
    return "another process"


@contextlib.contextmanager
def locked(folder: Path, waiting: Callable[[str], object] = print) -> Iterator[None]:
    """Hold the folder's lock for the ``with`` block, waiting for it (and saying so once)
    while another process has it."""
    lock = try_lock(folder)
    if lock is None:
        waiting(f"waiting for {holder(folder)}, which is writing {folder}")
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        lock = Lock(folder / LOCK, fd)
    try:
        yield
    finally:
        lock.release()
