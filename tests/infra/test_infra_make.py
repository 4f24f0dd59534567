"""`make run`'s first install says what it is doing and why it takes minutes; a second one is silent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_install(folder: Path) -> str:
    """`make install` in a copy of the Makefile, with `true` standing in for Python (no real install)."""
    result = subprocess.run(["make", "install", "PYTHON=true"], cwd=folder, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_first_install_explains_itself_and_the_second_does_nothing(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    first = make_install(tmp_path)
    assert "Installing Sentimon" in first and "few minutes" in first and "PyTorch" in first
    assert "Installed" in first
    assert "Installing" not in make_install(tmp_path)
