"""The code base is lint-clean under the project's ruff configuration (pyproject.toml), so style
drift and the bugs ruff catches (unused imports, late-bound loop variables, call defaults)
fail the suite rather than a later review."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("ruff")
    from ruff.__main__ import find_ruff_bin

    return subprocess.run([find_ruff_bin(), "check", "--no-cache", *args], cwd=cwd, capture_output=True, text=True)


def test_ruff_finds_nothing():
    result = _ruff(str(ROOT), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_same_check_flags_a_planted_defect(tmp_path):
    (tmp_path / "planted.py").write_text("import os\n\n\ndef f(x=[]):\n    return x\n")
    result = _ruff("--config", str(ROOT / "pyproject.toml"), str(tmp_path / "planted.py"), cwd=tmp_path)
    assert result.returncode == 1 and "F401" in result.stdout and "B006" in result.stdout, result.stdout
