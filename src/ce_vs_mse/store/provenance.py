"""What reproduces a run: the command line, package versions, and the code's git state."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("ce-vs-mse", "torch", "numpy", "scikit-learn", "hydra-core", "omegaconf",
            "tensorboard", "pandas")
# What the code is: a change to these is a change to the code. Not results/ (the committed
# report is in the tree too, and every build rewrites it), nor untracked or ignored files.
SOURCES = (":/src", ":/configs", ":/experiments", ":/pyproject.toml", ":/scripts")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def package_version(package: str) -> str | None:
    """The installed version of ``package``; None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def collect() -> dict:
    """Command line, Python and package versions, git commit and whether the code had
    uncommitted changes (:func:`source_changes`; None where the code is not in a git
    checkout, e.g. installed from a wheel)."""
    changes = source_changes()
    return {
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: package_version(p) for p in PACKAGES},
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if changes is None else bool(changes),
    }


def source_changes() -> str | None:
    """The uncommitted changes to the tracked files of :data:`SOURCES`, as ``git diff``
    shows them ("" when there are none); None outside a git checkout."""
    return _git("diff", "HEAD", "--", *SOURCES)


def code_state() -> str:
    """The commit and any uncommitted change to the code and configuration
    (:func:`source_changes`)."""
    return f"{_git('rev-parse', 'HEAD')} {source_changes()}"
