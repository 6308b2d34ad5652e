"""Shared fixtures: compose the real configs (as the CLI does) and run the real CLI, each
command a process of its own (forked from tests/forkserver.py unless ``fresh=True``)."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ce_vs_mse.train.cli  # noqa: F401 (what every command imports, imported once)
from ce_vs_mse.config import tree as config_tree


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def make_cfg(results_dir):
    """Compose ``configs/config.yaml`` with overrides, results going to a temporary folder."""

    def make(*overrides: str):
        return config_tree.compose(f"results_dir={results_dir}", *overrides)

    return make


class _ForkServer:
    """tests/forkserver.py, started on first use: each command a fork of one process that has
    already imported torch, Hydra and ce_vs_mse, so it does not pay the import again."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="forkserver-"))
        with open(self.folder / "server.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("forkserver.py"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)

    def ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("tests/forkserver.py ended:\n"
                               + (self.folder / "server.log").read_text(errors="replace"))
        return json.loads(answer)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


_server: _ForkServer | None = None


class Forked:
    """A command running in a fork of the fork server; used as a ``subprocess.Popen``."""

    def __init__(self, entry: str, argv0: str, args: tuple[str, ...], cwd: Path, env: dict):
        global _server
        if _server is None or _server.proc.poll() is not None:
            _server = _ForkServer()
        self.server, self.args = _server, [argv0, *args]
        out = Path(tempfile.mkdtemp(dir=self.server.folder))
        self.out_file, self.err_file = out / "stdout", out / "stderr"
        self.out_file.touch()
        self.err_file.touch()
        self.pid = self.server.ask({"start": {
            "entry": entry, "argv0": argv0, "args": list(args), "cwd": str(cwd), "env": env,
            "stdout": str(self.out_file), "stderr": str(self.err_file)}})["pid"]
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.ask({"poll": self.pid})["status"]
        return self.returncode

    def communicate(self, timeout: float) -> tuple[str, str]:
        """Wait for the command to end (killed after ``timeout`` s: TimeoutExpired); its
        stdout and stderr."""
        if self.returncode is None:
            answer = self.server.ask({"wait": self.pid, "timeout": timeout})
            self.returncode = answer["status"]
            if answer["timed_out"]:
                raise subprocess.TimeoutExpired(self.args, timeout, *self.output())
        return self.output()

    def output(self) -> tuple[str, str]:
        return self.out_file.read_text(), self.err_file.read_text()


def forked(entry: str, argv0: str, *args: str, cwd: Path, env: dict | None = None) -> Forked:
    """Start console script ``entry`` (``module:function``) with ``args`` in a process of its
    own (its own process group), forked from tests/forkserver.py."""
    return Forked(entry, argv0, args, cwd, dict(os.environ if env is None else env))


def run_forked(entry: str, argv0: str, *args: str, cwd: Path, env: dict | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
    """:func:`forked` to its end: its exit code, stdout and stderr as subprocess.run's."""
    proc = forked(entry, argv0, *args, cwd=cwd, env=env)
    stdout, stderr = proc.communicate(timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def pytest_collection_modifyitems(session, config, items):
    """Start the fork server now when a selected test runs commands, so that its imports
    overlap the tests before the first command."""
    global _server
    gc.freeze()  # what collection imported stays: the collector need not walk it again (~3 %)
    if _server is None and any(hasattr(item.module, name) for item in items
                               for name in ("cli", "report_cli", "forked")):
        _server = _ForkServer()


def pytest_sessionfinish(session, exitstatus):
    if _server is not None:
        _server.close()


SCRIPT = Path(sys.executable).with_name("ce-vs-mse")


def cli(*args: str, cwd: Path, check: bool = True, fresh: bool = False
        ) -> subprocess.CompletedProcess:
    """Run ``ce-vs-mse`` as a user would: in a process of its own, forked from the fork
    server (``ce_vs_mse.train.cli:main``, the console script's entry point), or with
    ``fresh=True`` the installed console script itself in a new interpreter."""
    # as a user runs it: without HYDRA_FULL_ERROR, which asks for Hydra's own traceback
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    if fresh:
        cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ce_vs_mse.train.cli"]
        proc = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True,
                              env=env, timeout=300)
    else:
        proc = run_forked("ce_vs_mse.train.cli:main", str(SCRIPT), *args, cwd=cwd, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"ce-vs-mse {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


REPORT = "ce_vs_mse.report:main", str(SCRIPT.with_name("ce-vs-mse-report"))


def report_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``ce-vs-mse-report`` in a process of its own, forked from the fork server."""
    return run_forked(*REPORT, *args, cwd=cwd, timeout=120)


def read_metrics(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "metrics.csv")


def negative_bounds(text: str) -> list[str]:
    """Ratios (×a [b, c]) and step-count or ratio table cells whose interval goes below 0."""
    bad = re.findall(r"×[0-9.]+ \[-[^\]]*\]", text)
    for block in re.findall(r"(?m)^\|.*\|$(?:\n^\|.*\|$)+", text):
        header, _, *rows = block.splitlines()
        names = [c.strip() for c in header.strip("|").split("|")]
        for row in rows:
            cells = [c.strip() for c in row.strip("|").split("|")]
            bad += [c for n, c in zip(names, cells, strict=True)
                    if ("steps" in n or "ratio" in n) and ("[-" in c or c.startswith("-"))]
    return bad


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) in the IDX format of MNIST's distribution files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                       *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str, n_train: int = 120, n_test: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 40, (n, 28, 28))
        images[np.arange(n), labels, :] = 255  # class k lights row k: learnable
        write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", labels)
    return labels


WINE_NAMES = {0: "barolo", 1: "grignolino", 2: "barbera"}  # (sorted: barbera, barolo, …)


def wine_frame() -> pd.DataFrame:
    """scikit-learn's wine data (178 rows, 13 numeric columns) with its labels as cultivar
    names in a column ``target``, as a user's file of their own would hold them."""
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    return frame.assign(target=frame["target"].map(WINE_NAMES))


def write_bad_files(folder: Path) -> Path:
    """The files a user might give dataset=file that it must refuse, each in one line (the
    bad-values table of tests/config/test_configs.py names them)."""
    folder.mkdir(parents=True, exist_ok=True)
    wine = wine_frame()
    wine.to_csv(folder / "wine.csv", index=False)
    wine.assign(colour="red", region="Piedmont").to_csv(folder / "text.csv", index=False)
    holes = wine.copy()
    holes.loc[3, "ash"], holes.loc[5, "alcohol"], holes.loc[5, "ash"] = np.nan, np.inf, np.nan
    holes.to_csv(folder / "holes.csv", index=False)
    wine.assign(target="barolo").to_csv(folder / "one.csv", index=False)
    rare = wine.copy()
    rare.loc[0, "target"] = "nebbiolo"
    rare.to_csv(folder / "rare.csv", index=False)
    rare.loc[1, "target"] = "nebbiolo"  # 2 rows: a test split of half leaves 1 to validate on
    rare.to_csv(folder / "rare2.csv", index=False)
    unlabelled = wine.copy()
    unlabelled.loc[2, "target"] = None
    unlabelled.to_csv(folder / "unlabelled.csv", index=False)
    (folder / "empty.csv").write_text("")
    (folder / "broken.parquet").write_bytes(b"not a parquet file")
    (folder / "wine.txt").write_text("alcohol,target\n1,a\n")
    (folder / "folder.csv").mkdir(exist_ok=True)
    np.savez(folder / "arrays.npz", features=wine.drop(columns="target").to_numpy(),
             y=wine["target"].to_numpy().astype(str))
    holes_x = wine.drop(columns="target").to_numpy(copy=True)
    holes_x[7, 2] = np.nan
    np.savez(folder / "holes.npz", X=holes_x, y=wine["target"].to_numpy().astype(str))
    np.savez(folder / "pickled.npz", X=wine.drop(columns="target").to_numpy(),
             y=wine["target"].to_numpy())  # an object array: numpy would need pickle
    return folder
