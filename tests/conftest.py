"""Shared fixtures: compose the real configs (as the CLI does) and run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from ce_vs_mse.cli import config_dir


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def make_cfg(results_dir):
    """Compose ``configs/config.yaml`` with overrides, results going to a temporary folder."""

    def make(*overrides: str):
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose("config", overrides=[f"results_dir={results_dir}", *overrides])

    return make


def cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed ``ce-vs-mse`` console script as a user would."""
    script = Path(sys.executable).with_name("ce-vs-mse")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "ce_vs_mse.cli"]
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    proc = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"ce-vs-mse {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def read_metrics(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "metrics.csv")
