"""What every `sentimon ingest <source>` command shares: its options, logging, running and reporting."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console(stderr=True)
ROOT_OPTIONS: dict[str, Any] = {}  # given before the source: `sentimon ingest --kafka-timeout 5 file …`

Keywords = Annotated[
    list[str], typer.Option("--keyword", "-k", help="Keep only posts mentioning one of these (repeat).")
]
Langs = Annotated[
    list[str], typer.Option("--lang", help="Keep only posts in these languages, e.g. en (repeat).")
]
MaxPosts = Annotated[int | None, typer.Option(help="Stop after sending this many posts.")]
FromStart = Annotated[bool, typer.Option("--from-start", help="Ignore the saved cursor and start over.")]
CursorName = Annotated[
    str | None, typer.Option(help="Name of the cursor file (default: derived from the options).")
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print posts as JSON lines instead of producing them.")
]
Bootstrap = Annotated[
    str | None, typer.Option(help="Kafka bootstrap servers (default: SENTIMON_KAFKA_BOOTSTRAP).")
]
Topic = Annotated[str | None, typer.Option(help="Kafka topic (default: settings.topic_raw).")]
Edits = Annotated[
    bool,
    typer.Option(
        "--edits/--no-edits",
        help="Send edits and deletions at the source as update/delete events (--no-edits: counted, skipped).",
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every reconnect and skipped payload.")]


# Each command's parameter name → the launch.Common field it fills.
SHARED_OPTIONS = {
    "keyword": "keywords",
    "lang": "langs",
    "max_posts": "max_posts",
    "from_start": "from_start",
    "cursor_name": "cursor_name",
    "dry_run": "dry_run",
    "bootstrap": "bootstrap",
    "topic": "topic",
    "edits": "edits",
}


def make_common(params: Mapping[str, Any], **overrides: Any) -> Any:
    """The shared options picked by name from a command's parameters (it passes `locals()`), as a
    launch.Common; also sets up logging (-v shows reconnects). Typer needs the options declared on
    every command, but the mapping onto Common is written once, here."""
    from .launch import Common

    fields = {field: params[name] for name, field in SHARED_OPTIONS.items() if name in params}
    fields["kafka_timeout_s"] = ROOT_OPTIONS.get("kafka_timeout_s", 15.0)
    fields["metrics_port"] = ROOT_OPTIONS.get("metrics_port")
    logging.basicConfig(
        level=logging.INFO if params.get("verbose") else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return Common(**{**fields, **overrides})


def report(stats: Any, producer: dict[str, Any]) -> None:
    """One status line: what the source gave and what Kafka acknowledged."""
    line = " ".join(f"{k}={v}" for k, v in stats.as_dict().items())
    if producer:
        line += f" | kafka acked={producer['sent']} failed={producer['failed']} bytes={producer['bytes']}"
    console.print(f"[dim]{line}[/]", soft_wrap=True)


def run_cli(source_factory: Any, common: Any, cursor_key: str) -> None:
    """Build the source and run it; a configuration or delivery problem exits 2 with one clear line."""
    from sentimon.settings import get_settings

    from .base import SourceError
    from .launch import describe_error, run_source
    from .sink import SinkError

    try:
        run_source(source_factory(), get_settings(), common, cursor_key, report)
    except (SourceError, SinkError, ValueError) as exc:
        fail(describe_error(exc))


def fail(message: str) -> None:
    console.print(f"[red]ingest stopped:[/] {message}")
    raise typer.Exit(2)


def key(*parts: str) -> str:
    """The default cursor file name for a source configuration."""
    from .cursors import cursor_name

    return cursor_name(*parts)
