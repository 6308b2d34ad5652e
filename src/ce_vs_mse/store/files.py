"""Files that are never seen half-written, and strict JSON.

Every file the suite writes for another process to read (a run's summary, a job list, the
report's pages) goes through :func:`write_atomic`: readers, and anything interrupted, see the
old file or the new one, never half of one. JSON is strict: a non-finite number is stored as
the string ``"nan"``, ``"inf"`` or ``"-inf"`` and read back as a float (:func:`number`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)``, then rename tmp to ``path``."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def strict(obj: Any) -> Any:
    """``obj`` with every non-finite float as a string, so that it is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)  # "nan", "inf", "-inf"
    if isinstance(obj, dict):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strict(v) for v in obj]
    return obj


def number(value: Any) -> Any:
    """A number as :func:`strict` stored it: ``"nan"``, ``"inf"``, ``"-inf"`` back as floats."""
    return float(value) if value in ("nan", "inf", "-inf") else value


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as strict JSON, atomically."""
    text = json.dumps(strict(obj), indent=2, sort_keys=True, default=str, allow_nan=False)
    write_atomic(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def fingerprint(path: Path) -> dict:
    """Size, line count and SHA-256 of a file: what a summary vouches for."""
    return fingerprint_of(Path(path).read_bytes())


def fingerprint_of(data: bytes) -> dict:
    """:func:`fingerprint` of bytes already read."""
    return {"bytes": len(data), "lines": data.count(b"\n"),
            "sha256": hashlib.sha256(data).hexdigest()}
