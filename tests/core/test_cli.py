"""One `sentimon` command reaches every job, and the core commands work on the embedded default."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentimon.cli import app
from sentimon.settings import get_settings

JOBS = [
    "run",
    "worker",
    "ingest",
    "model",
    "retrain",
    "models",
    "labels",
    "bench",
    "dashboard",
    "stack",
    "db",
]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "REDIS_URL", "CONFIG"):
        monkeypatch.delenv(f"SENTIMON_{name}", raising=False)
    monkeypatch.setenv("SENTIMON_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_help_lists_every_job(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    listed = {line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")}
    assert set(JOBS) <= listed


def test_bench_offers_every_benchmark(runner: CliRunner) -> None:
    result = runner.invoke(app, ["bench", "--help"], terminal_width=200)
    assert {"classify", "alerts", "pipeline", "quantify"} <= {
        line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")
    }


def test_topics_round_trip_on_the_embedded_database(runner: CliRunner, tmp_path: Path) -> None:
    added = runner.invoke(app, ["topics", "add", "acme", '#acme OR "acme corp"'])
    assert added.exit_code == 0, added.output
    assert (tmp_path / "sentimon.db").is_file()
    listed = runner.invoke(app, ["topics", "list"], terminal_width=200)
    assert "acme" in listed.output and '#acme OR "acme corp"' in listed.output
    removed = runner.invoke(app, ["topics", "rm", "1"])
    assert removed.exit_code == 0
    assert "acme" not in runner.invoke(app, ["topics", "list"], terminal_width=200).output


@pytest.mark.parametrize("rule", ["(acme OR", '"acme corp', "AND", "", "   "])
def test_topics_add_refuses_a_rule_that_does_not_parse(runner: CliRunner, rule: str) -> None:
    result = runner.invoke(app, ["topics", "add", "acme", rule])
    assert result.exit_code == 2 and "error: rule" in result.output
    assert "acme" not in runner.invoke(app, ["topics", "list"], terminal_width=200).output


def test_topics_add_and_rm_say_clearly_what_is_wrong(runner: CliRunner) -> None:
    assert (
        runner.invoke(app, ["topics", "add", "acme", "-hiring acme"]).exit_code == 0
    )  # a rule may start with -
    again = runner.invoke(app, ["topics", "add", "acme", "acme"])
    assert again.exit_code == 1 and "exists already" in again.output and "Traceback" not in again.output
    missing = runner.invoke(app, ["topics", "rm", "999"])
    assert missing.exit_code == 1 and "no topic 999" in missing.output and "deleted" not in missing.output


def test_config_shows_the_embedded_mode_and_hides_secrets(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config"], terminal_width=200)
    assert result.exit_code == 0
    assert "embedded" in result.output
    assert "**********" in result.output


def test_topic_names_print_as_written_and_changes_are_audited(runner: CliRunner, tmp_path: Path) -> None:
    from sentimon.settings import get_settings
    from sentimon.storage import audit
    from sentimon.storage.db import make_engine

    name = "[lnk]x[/lnk] [bold]y[/] :smile:"
    added = runner.invoke(app, ["topics", "add", name, "lnkword"], terminal_width=200)
    assert f"'{name}' added" in added.output
    assert name in runner.invoke(app, ["topics", "list"], terminal_width=200).output
    runner.invoke(app, ["topics", "rm", "1"])
    engine = make_engine(get_settings().db_url)
    with engine.connect() as conn:
        logged = [(e.action, e.target, e.actor.startswith("cli:")) for e in audit.list_entries(conn)]
    engine.dispose()
    assert logged == [("topic_delete", "1", True), ("topic_create", "1", True)]
