"""Shared fixtures: compose the real configs (as the CLI does) and run the real CLI, each
command a process of its own (forked from tests/forkserver.py unless ``fresh=True``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
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


class _ForkServer:
    """tests/forkserver.py, started on first use: each command a fork of one process that has
    already imported torch, Hydra and ce_vs_mse, so it does not pay the import again."""

    def __init__(self) -> None:
        self.log = Path(tempfile.mkdtemp(prefix="forkserver-"))
        with open(self.log / "server.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("forkserver.py"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)

    def run(self, entry: str, argv0: str, args: tuple[str, ...], cwd: Path, env: dict,
            timeout: float) -> subprocess.CompletedProcess:
        out, err = self.log / "stdout", self.log / "stderr"
        request = {"entry": entry, "argv0": argv0, "args": list(args), "cwd": str(cwd),
                   "env": env, "stdout": str(out), "stderr": str(err), "timeout": timeout}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("tests/forkserver.py ended:\n"
                               + (self.log / "server.log").read_text(errors="replace"))
        answer = json.loads(answer)
        stdout, stderr = out.read_text(), err.read_text()
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired([argv0, *args], timeout, stdout, stderr)
        return subprocess.CompletedProcess([argv0, *args], answer["status"], stdout, stderr)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.log, ignore_errors=True)


_server: _ForkServer | None = None


def forked(entry: str, argv0: str, *args: str, cwd: Path,
           env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run console script ``entry`` (``module:function``) with ``args`` in its own process,
    forked from tests/forkserver.py; its exit code, stdout and stderr as subprocess.run's."""
    global _server
    if _server is None or _server.proc.poll() is not None:
        _server = _ForkServer()
    return _server.run(entry, argv0, args, cwd, dict(os.environ if env is None else env),
                       timeout)


def pytest_sessionfinish(session, exitstatus):
    if _server is not None:
        _server.close()


SCRIPT = Path(sys.executable).with_name("ce-vs-mse")


def cli(*args: str, cwd: Path, check: bool = True, fresh: bool = False
        ) -> subprocess.CompletedProcess:
    """Run ``ce-vs-mse`` as a user would: in a process of its own, forked from the fork
    server (``ce_vs_mse.cli:main``, the console script's entry point), or with
    ``fresh=True`` the installed console script itself in a new interpreter."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    if fresh:
        cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ce_vs_mse.cli"]
        proc = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True,
                              env=env, timeout=300)
    else:
        proc = forked("ce_vs_mse.cli:main", str(SCRIPT), *args, cwd=cwd, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"ce-vs-mse {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def report_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``ce-vs-mse-report`` (``ce_vs_mse.report:main``) in a process of its own, forked
    from the fork server."""
    return forked("ce_vs_mse.report:main", str(SCRIPT.with_name("ce-vs-mse-report")), *args,
                  cwd=cwd, timeout=120)


def read_metrics(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "metrics.csv")
