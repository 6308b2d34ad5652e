"""A run's ``summary.json``: one typed record, written and read here only.

A summary's status is ``done`` or ``diverged`` (the run is *finished* and never trained
again) or ``failed`` (it raised, was killed or was interrupted; it is trained again, and the
report counts it). A finished summary is written last and vouches for ``metrics.csv`` and
``config.yaml`` (their size and SHA-256): a run is finished only when its summary is valid
and those files are there unchanged (:func:`verify`); anything else is unfinished.

Every summary, a failed one too, carries what identifies its run: experiment, run name,
seed, configuration hash, resolved head and ``params`` (every option that changes what it
computes, :func:`ce_vs_mse.config.schema.params`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import fingerprint, number, write_json_atomic
from .layout import CONFIG, METRICS, SUMMARY, UNSAFE

FINISHED = ("done", "diverged")  # never trained again
STATUSES = (*FINISHED, "failed")  # failed: raised, was killed or interrupted; trained again
VOUCHED = (METRICS, CONFIG)  # files whose size and SHA-256 a finished summary records


class Unfinished(Exception):
    """A run folder that is not a finished run; the message says why, in a few words."""


@dataclass(frozen=True)
class RunSummary:
    """What ``summary.json`` holds. The fields after ``error`` are a finished run's."""

    status: str
    experiment: str
    run: str
    seed: int
    config_hash: str
    head: str
    params: dict
    error: str | None = None
    steps: int | None = None
    target_accuracy: float | None = None
    steps_to_target: int | None = None
    epochs_to_target: int | None = None
    # the first step whose *validation* accuracy reached the target (dataset.val_fraction);
    # None when never, or without a validation split (and in summaries written before it)
    val_steps_to_target: int | None = None
    diverged_at_step: int | None = None
    final: dict = field(default_factory=dict)  # tag -> the last logged value
    reliability: dict | None = None  # the test split's diagram (core.calibration.reliability)
    logging: dict = field(default_factory=dict)  # cadence keys out of the hash (schema.LOGGING)
    overrides: list = field(default_factory=list)
    provenance: dict | None = None
    wall_time_s: float | None = None
    replicas_in_lockstep: int | None = None
    device: str | None = None
    files: dict | None = None  # VOUCHED -> fingerprint, set by write() when finished

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def failed(self, error: str) -> RunSummary:
        """This run's summary as failed with ``error``: what identifies it, nothing else."""
        keep = {f: getattr(self, f) for f in _IDENTITY}
        return RunSummary(status="failed", error=error, **keep)

    def write(self, run_dir: Path) -> None:
        """Write ``summary.json`` atomically; a finished one vouches for :data:`VOUCHED` as
        they are now, so write it last."""
        record = dataclasses.asdict(self)
        if self.finished:
            record["files"] = {name: fingerprint(Path(run_dir) / name) for name in VOUCHED}
        write_json_atomic(Path(run_dir) / SUMMARY, record)


_IDENTITY = ("experiment", "run", "seed", "config_hash", "head", "params")
_INT, _NUM, _STR, _NONE = (int,), (int, float), (str,), (type(None),)
# Each field's JSON types, checked on reading: for every summary, and for a finished one.
_ALWAYS = {"status": _STR, "experiment": _STR, "run": _STR, "seed": _INT,
           "config_hash": _STR, "head": _STR, "params": (dict,), "error": (*_STR, *_NONE)}
_FINISHED = {"final": (dict,), "steps": _INT, "target_accuracy": _NUM,
             "steps_to_target": (*_INT, *_NONE), "epochs_to_target": (*_INT, *_NONE),
             "diverged_at_step": (*_INT, *_NONE)}
_OPTIONAL = {"logging": (dict,), "overrides": (list,), "provenance": (dict, *_NONE),
             "wall_time_s": (*_NUM, *_NONE), "replicas_in_lockstep": (*_INT, *_NONE),
             "device": (*_STR, *_NONE), "files": (dict, *_NONE),
             "reliability": (dict, *_NONE), "val_steps_to_target": (*_INT, *_NONE)}


# What may reach a file or folder name: an experiment is one name (experiments/<name>.yaml),
# a run three path segments below it (layout.run_name): none of them "." or "..", and no
# character that a path, a Markdown table or HTML reads as more than part of a name.
EXPERIMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_SEGMENT = rf"(?!\.\.?(?:/|$))[^{UNSAFE}]{{1,255}}"
RUN = re.compile(f"{_SEGMENT}/{_SEGMENT}/{_SEGMENT}")


_MARKUP = re.compile(r"[\x00-\x1f<>|`]")  # a line break, an HTML tag, a table cell, code


def _is_param(value: Any) -> bool:
    """A params value as :func:`ce_vs_mse.config.schema.params` writes it: a number, a
    bool, None, or one line of text without markup (lists, such as ``hidden``, as their
    text)."""
    if isinstance(value, str):  # shown in REPORT.md's prose too, where no escaping reaches
        return not _MARKUP.search(value)
    return value is None or isinstance(value, bool | int | float)


def _is_diagram(value: Any) -> bool:
    """None (not recorded: a diverged seed), or what :func:`ce_vs_mse.core.calibration.
    reliability` writes: equally long lists of numbers."""
    if value is None:
        return True
    if not isinstance(value, dict) or set(value) != {"count", "confidence_sum", "correct"}:
        return False
    lists = list(value.values())
    return all(isinstance(v, list) and len(v) == len(lists[0])
               and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
               for v in lists)


def _check(record: dict, types: dict, required: bool) -> None:
    for key, allowed in types.items():
        if key not in record and not required:
            continue
        value = record.get(key)
        if not isinstance(value, allowed) or isinstance(value, bool):
            raise Unfinished(f"summary.json has {key}={value!r}")


def read(run_dir: Path) -> RunSummary:
    """The folder's summary, checked field by field (non-finite numbers back as floats), a
    failed one too, or :class:`Unfinished` saying what is wrong. Does not check the files it
    vouches for (:func:`verify` does)."""
    path = Path(run_dir) / SUMMARY
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Unfinished("no summary.json (never finished, or still running)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Unfinished(f"summary.json is unreadable ({type(err).__name__})") from None
    if not isinstance(record, dict):
        raise Unfinished(f"summary.json holds {type(record).__name__}, not an object")
    if record.get("status") not in STATUSES:
        raise Unfinished(f"summary.json has status={record.get('status')!r}")
    _check(record, _ALWAYS, required=True)
    if not EXPERIMENT.fullmatch(record["experiment"]) or ".." in record["experiment"]:
        raise Unfinished(f"summary.json has experiment={record['experiment']!r}, not a name "
                         "(letters, digits, _ . -)")
    if not RUN.fullmatch(record["run"]):
        raise Unfinished(f"summary.json has run={record['run']!r}, not three path segments "
                         "of a run name")
    bad = next((k for k, v in record["params"].items() if not _is_param(v)), None)
    if bad is not None:
        raise Unfinished(f"summary.json has params[{bad!r}]={record['params'][bad]!r}, not a "
                         "number or one line of text")
    if record["status"] in FINISHED:
        record["target_accuracy"] = number(record.get("target_accuracy"))
        _check(record, _FINISHED, required=True)
        record["final"] = {k: number(v) for k, v in record["final"].items()}
        bad = [k for k, v in record["final"].items()
               if not isinstance(v, int | float) or isinstance(v, bool)]
        if bad:
            raise Unfinished(f"summary.json has final[{bad[0]!r}]={record['final'][bad[0]]!r}")
    _check(record, _OPTIONAL, required=False)
    if not _is_diagram(record.get("reliability")):
        raise Unfinished("summary.json has a malformed reliability diagram")
    known = {f.name for f in dataclasses.fields(RunSummary)}
    return RunSummary(**{k: v for k, v in record.items() if k in known})


def verify(run_dir: Path) -> RunSummary:
    """The summary of a finished run whose vouched files are intact, else :class:`Unfinished`."""
    summary = read(run_dir)
    if not summary.finished:
        raise Unfinished(f"failed: {summary.error or 'no reason recorded'}")
    files = summary.files
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


def write_claims(path: Path, claims: dict[Path, RunSummary]) -> None:
    """Note the runs a job is about to train, each with what its summary will identify it
    by, so that whoever outlives the job can mark them failed (:func:`read_claims`)."""
    write_json_atomic(path, [{"folder": str(Path(folder).resolve()),
                              "summary": dataclasses.asdict(s)} for folder, s in claims.items()])


def read_claims(path: Path) -> dict[Path, RunSummary]:
    """The claims :func:`write_claims` noted (empty when there are none)."""
    try:
        claims = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {Path(c["folder"]): RunSummary(**c["summary"]) for c in claims}
