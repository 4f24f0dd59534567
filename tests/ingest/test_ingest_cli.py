"""The ingest CLI: shared options reach every command as one typed IngestOptions; what a run shows."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console
from typer.testing import CliRunner

from ingest.cli import app
from ingest.cli_common import KAFKA, LANG_STREAM, RootOptions, ingest_command
from ingest.display import StreamStatus
from ingest.options import IngestOptions
from ingest.pipeline import IngestStats

ROOT = Path(__file__).resolve().parents[2]


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


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def screen_lines(raw: str) -> list[str]:
    """What a terminal shows line by line, escape codes and carriage-return redraws split apart."""
    return [part for line in ANSI.sub("", raw).split("\n") for part in line.split("\r") if part.strip()]


def test_a_file_replay_ends_its_bar_at_100_percent_with_counts_and_log_lines_above_it(tmp_path):
    data = tmp_path / "posts.jsonl"
    when = [f"2024-09-10T12:00:{i:02d}Z" for i in range(30)]
    rows = [{"id": str(i), "text": f"post {i}", "created_at": at} for i, at in enumerate(when)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n\n")
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "160"}
    env = {**terminal, "SENTIMON_DATA_DIR": str(tmp_path / "var"), "PATH": os.environ["PATH"]}
    result = subprocess.run([sys.executable, "-m", "ingest", "file", str(data), "--dry-run"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = screen_lines(result.stderr)
    bars = [line for line in lines if line.startswith("posts.jsonl")]
    assert "100%" in bars[-1] and "30 sent" in bars[-1] and "/s" in bars[-1] and "1 malformed" in bars[-1]
    [warning] = [line for line in lines if "skipped a malformed payload" in line]
    assert warning.startswith("20") and "━" not in warning and "%" not in warning  # its own line
    assert lines[-1].startswith("received=30 sent=30")


def test_a_stream_shows_a_live_status_line_on_a_terminal_and_summaries_elsewhere():
    stats = IngestStats(received=15, sent=12, filtered=3)
    acked = {"sent": 12, "failed": 0, "bytes": 900}
    terminal = Console(file=io.StringIO(), force_terminal=True, width=200)
    live = StreamStatus(terminal, "bluesky")
    live.update(stats, acked)
    live.finish(stats, acked)
    shown = "\n".join(screen_lines(terminal.file.getvalue()))  # type: ignore[attr-defined]
    assert live.every_s == 1.0
    assert "bluesky: 12 sent" in shown and "3 filtered" in shown and "kafka acked=12" in shown

    log = Console(file=io.StringIO(), force_terminal=False, width=200)
    quiet = StreamStatus(log, "bluesky")
    quiet.update(stats, acked)
    assert quiet.every_s == 30.0
    assert log.file.getvalue().startswith("received=15 sent=12")  # type: ignore[attr-defined]
