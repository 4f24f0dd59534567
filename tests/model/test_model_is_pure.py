"""The model package is the torch half only: it reaches no database and no Redis (retraining/ does)
and holds no benchmark (bench/ does)."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import model

ROOT = Path(__file__).resolve().parents[2]
IO = ["sqlalchemy", "alembic", "psycopg", "redis", "faust", "kafka", "aiokafka", "streamlit"]
# Imports that mean "the database, Redis, the retraining service or a benchmark" wherever they are written,
# at the top of a module or inside a function.
FORBIDDEN = (*IO, "sentimon.storage", "retraining", "bench")
# The `sentimon model` command group is wiring: it asks retraining which model serves now, and
# `model bench` measures with bench/classify.py.
WIRING = {"model/cli.py"}


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


def test_no_model_module_imports_storage_redis_retraining_or_bench() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "model").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in WIRING
        for name in _imported(ast.parse(path.read_text()))
        if _forbidden(name)
    }
    assert found == set()


def test_importing_model_loads_no_database_or_redis_library() -> None:
    modules = ["model", *(f"model.{m.name}" for m in pkgutil.iter_modules(model.__path__))]
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {[*IO, 'retraining', 'bench']!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"the model package pulled in: {out.stdout.strip()}"
