"""The core package stands under every other one: only its CLI wiring (`sentimon/cli/`) imports them."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "sentimon"
WIRING = CORE / "cli"
UPPER = ("model", "retraining", "bench", "stream_processor", "ingest", "dashboard", "infra")


def _imports(path: Path) -> set[str]:
    """Every absolute import of a module, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_only_the_cli_wiring_imports_the_packages_above_the_core() -> None:
    upward = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in CORE.rglob("*.py")
        if WIRING not in path.parents
        for name in _imports(path)
        if name.split(".")[0] in UPPER
    )
    assert upward == []


def test_the_wiring_is_where_the_upward_imports_are() -> None:
    """The check above looks at the right files: the CLI does import the other packages."""
    wired = {name.split(".")[0] for path in WIRING.rglob("*.py") for name in _imports(path)}
    assert {"model", "retraining", "bench", "stream_processor", "dashboard"} <= wired
