"""Where the suite's own files are, for every entry point (without importing torch)."""

from __future__ import annotations

from pathlib import Path


def config_dir() -> Path:
    """The config tree: inside the installed package (wheel), else the repository's."""
    packaged = Path(__file__).parent / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "configs"
