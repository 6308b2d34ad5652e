"""The import contracts of pyproject.toml ([tool.importlinter]), checked by import-linter:
train and report never import each other, and core < config < store never import up."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_package_keeps_its_import_contracts():
    proc = _lint(ROOT, ROOT / "src")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("report/tables.py", "from ..train import runner", "never import each other"),
    ("core/losses.py", "from ..store import layout", "floors below it"),
    ("store/layout.py", "from ..report import aggregate", "floors below it"),
])
def test_an_import_against_the_architecture_breaks_a_contract(tmp_path, module, line, broken):
    shutil.copytree(ROOT / "src" / "ce_vs_mse", tmp_path / "src" / "ce_vs_mse",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / "src" / "ce_vs_mse" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    proc = _lint(tmp_path, tmp_path / "src")
    assert proc.returncode == 1, proc.stdout
    assert f"{broken} BROKEN" in proc.stdout
