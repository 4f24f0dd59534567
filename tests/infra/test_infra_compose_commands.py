"""Every command docker-compose.yml runs is a real `sentimon` command with real options."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SERVICES = ("migrate", "ingest", "worker", "dashboard")


@pytest.mark.parametrize("service", SERVICES)
def test_compose_command_parses_with_the_sentimon_cli(service: str) -> None:
    from sentimon.cli import app

    command = yaml.safe_load(COMPOSE.read_text())["services"][service]["command"]
    result = CliRunner().invoke(app, [*command, "--help"])  # --help: parse the options, run nothing
    assert result.exit_code == 0, f"`sentimon {' '.join(command)}` is not a valid command:\n{result.output}"
