"""Import boundaries: the decision core loads no I/O library; the CLI lists its sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ingest.cli import SOURCES, app

ROOT = Path(__file__).resolve().parents[2]
CORE = ["base", "text", "sse", "pipeline", "cursors", "post_producer", "formats", "files", "runner",
        "bluesky", "mastodon", "reddit", "hackernews", "rss"]  # fmt: skip
IO_LIBRARIES = ["kafka", "aiokafka", "faust", "sqlalchemy", "redis", "streamlit", "aiohttp", "httpx",
                "websockets", "requests", "urllib3"]  # fmt: skip


def test_the_decision_core_imports_no_io_library():
    code = (
        "import sys\n"
        + "".join(f"import ingest.{name}\n" for name in CORE)
        + f"print(sorted(m for m in {IO_LIBRARIES!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_importing_the_package_and_its_cli_stays_light():
    heavy = ("kafka", "aiohttp", "torch")
    code = f"import sys, ingest, ingest.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_list_names_every_source_with_its_command():
    runner = CliRunner()
    listed = runner.invoke(app, ["--list"])
    assert listed.exit_code == 0
    commands = {c.name for c in app.registered_commands}
    for name, _, _ in SOURCES:
        assert name in listed.output and name in commands
    assert runner.invoke(app, ["list"]).output == listed.output
