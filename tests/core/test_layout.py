"""The codebase keeps the habits it promises: READMEs, module docstrings, small modules, light imports."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["sentimon", "bench", "model", "retraining", "ingest", "stream_processor", "dashboard", "infra"]
MAX_MODULE_LINES = 400


def _modules() -> list[Path]:
    return sorted(
        p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations/versions" not in str(p)
    )


@pytest.mark.parametrize("folder", [*PACKAGES, "tests"])
def test_each_top_level_folder_says_what_it_does(folder: str) -> None:
    readme = ROOT / folder / "README.md"
    assert readme.is_file(), f"{folder}/ has no README.md"
    assert len(readme.read_text().split()) >= 15


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for p in _modules()
        if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert missing == []


def test_modules_stay_small() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_packages_import_with_an_empty_environment() -> None:
    """Nothing connects or reads configuration at import time."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root")}
    code = "import model, retraining, stream_processor, ingest, dashboard, sentimon.cli"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _class_names(node: ast.AST) -> bool:
    """A tuple, list or set written out as exactly the three sentiment classes."""
    if not isinstance(node, ast.Tuple | ast.List | ast.Set) or len(node.elts) != 3:
        return False
    values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
    return values == {"negative", "neutral", "positive"}


def test_the_sentiment_classes_are_written_in_one_place() -> None:
    home = ROOT / "sentimon" / "sentiment.py"
    copies = [
        f"{p.relative_to(ROOT)}:{node.lineno}"
        for p in _modules()
        if p != home
        for node in ast.walk(ast.parse(p.read_text()))
        if _class_names(node)
        or (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LABELS" for t in node.targets))
        or (isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "LABELS")
    ]
    assert copies == []
