"""The ingest CLI: shared options declared once reach every command as one typed IngestOptions."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from ingest.cli import app
from ingest.cli_common import KAFKA, LANG_STREAM, RootOptions, ingest_command
from ingest.options import IngestOptions


def probe_app(shared: tuple[str, ...]) -> tuple[typer.Typer, list[tuple[IngestOptions, str]]]:
    """A one-command app (root callback as in ingest.cli) that records what the command receives."""
    probe = typer.Typer()
    seen: list[tuple[IngestOptions, str]] = []

    @probe.callback()
    def root(ctx: typer.Context, kafka_timeout: float = 15.0) -> None:
        ctx.obj = RootOptions(kafka_timeout_s=kafka_timeout, metrics_port=9)

    @ingest_command(probe, "probe", shared)
    def command(options: IngestOptions, name: str = typer.Argument(...), poll: float = 1.0) -> None:
        seen.append((options, f"{name}/{poll}"))

    return probe, seen


def test_shared_and_root_options_arrive_as_one_typed_object():
    probe, seen = probe_app(LANG_STREAM)
    args = ["--kafka-timeout", "3", "probe", "x", "--poll", "2", "-k", "acme", "-k", "air",
            "--lang", "en", "--max-posts", "5", "--edits", "--dry-run", "--topic", "t", "-v"]  # fmt: skip
    result = CliRunner().invoke(probe, args)
    assert result.exit_code == 0, result.output
    [(options, own)] = seen
    assert own == "x/2.0"
    assert options == IngestOptions(
        keywords=["acme", "air"], langs=["en"], max_posts=5, edits=True, dry_run=True, topic="t",
        verbose=True, kafka_timeout_s=3.0, metrics_port=9,
    )  # fmt: skip


def test_a_command_offers_only_the_shared_options_it_takes():
    probe, seen = probe_app(KAFKA)
    assert CliRunner().invoke(probe, ["probe", "x", "--dry-run"]).exit_code == 0
    refused = CliRunner().invoke(probe, ["probe", "x", "--keyword", "acme"])
    assert refused.exit_code == 2 and "No such option" in refused.output
    assert seen[0][0] == IngestOptions(dry_run=True, metrics_port=9)


def test_every_source_command_lists_the_shared_options_in_its_help():
    runner = CliRunner()
    for name in ("file", "bluesky", "mastodon", "reddit", "hackernews", "rss"):
        shown = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
        for flag in ("--keyword", "--max-posts", "--from-start", "--cursor-name", "--dry-run", "--verbose"):
            assert flag in shown, (name, flag)
    assert "--lang" in runner.invoke(app, ["bluesky", "--help"], env={"COLUMNS": "200"}).output
    assert "--edits" not in runner.invoke(app, ["rss", "--help"], env={"COLUMNS": "200"}).output
