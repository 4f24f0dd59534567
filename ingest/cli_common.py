"""What every `sentimon ingest <source>` command shares: its options, logging, running and reporting."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from .options import IngestOptions

if TYPE_CHECKING:
    from .display import Display

console = Console(stderr=True)


@dataclass(slots=True, frozen=True)
class RootOptions:
    """Given before the source (`sentimon ingest --kafka-timeout 5 file …`); kept in the click context."""

    kafka_timeout_s: float = 15.0
    metrics_port: int | None = None


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

# Each shared option: its annotation, its default, and the IngestOptions field it fills.
SHARED: dict[str, tuple[Any, Any, str]] = {
    "lang": (Langs, [], "langs"),
    "keyword": (Keywords, [], "keywords"),
    "max_posts": (MaxPosts, None, "max_posts"),
    "from_start": (FromStart, False, "from_start"),
    "cursor_name": (CursorName, None, "cursor_name"),
    "edits": (Edits, True, "edits"),
    "dry_run": (DryRun, False, "dry_run"),
    "bootstrap": (Bootstrap, None, "bootstrap"),
    "topic": (Topic, None, "topic"),
    "verbose": (Verbose, False, "verbose"),
}
KAFKA = ("dry_run", "bootstrap", "topic", "verbose")  # where posts go: every command
SOURCE = ("keyword", "max_posts", "from_start", "cursor_name", *KAFKA)  # a source with a cursor
STREAM = ("keyword", "max_posts", "from_start", "cursor_name", "edits", *KAFKA)  # one that edits
LANG_STREAM = ("lang", *STREAM)  # one that knows its posts' language

Command = Callable[..., None]
_KEYWORD = inspect.Parameter.KEYWORD_ONLY  # typer passes every parameter by name


def ingest_command(
    app: typer.Typer, name: str, shared: Sequence[str] = SOURCE
) -> Callable[[Command], Command]:
    """Register `func(options: IngestOptions, **own)` as `sentimon ingest NAME`, with the shared options
    declared once here: typer sees the command's own parameters followed by `shared`, and the
    function gets them, with the root options, as one typed IngestOptions."""

    def register(func: Command) -> Command:
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "options"]
        params = [
            *(p.replace(kind=_KEYWORD) for p in own),
            inspect.Parameter("ctx", _KEYWORD, annotation=typer.Context),
            *(inspect.Parameter(n, _KEYWORD, annotation=SHARED[n][0], default=SHARED[n][1]) for n in shared),
        ]

        @functools.wraps(func)
        def command(ctx: typer.Context, **values: Any) -> None:
            picked = {SHARED[n][2]: values.pop(n) for n in shared}
            func(make_options(ctx, **picked), **values)

        # typer reads the options from __signature__, which a plain function does not declare.
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        app.command(name)(command)
        return func

    return register


def make_options(ctx: typer.Context, **fields: Any) -> IngestOptions:
    """The command's shared options and the root ones as an IngestOptions; also sets up logging
    (-v shows reconnects and skipped payloads)."""
    from .display import ConsoleLogHandler

    root = ctx.find_object(RootOptions) or RootOptions()
    options = IngestOptions(kafka_timeout_s=root.kafka_timeout_s, metrics_port=root.metrics_port, **fields)
    logging.basicConfig(
        level=logging.INFO if options.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[ConsoleLogHandler(console)],  # the console that draws the bar: lines print above it
    )
    return options


def report(stats: Any, producer: dict[str, Any]) -> None:
    """One status line: what the source gave and what Kafka acknowledged."""
    from .display import summary

    console.print(f"[dim]{summary(stats, producer)}[/]", soft_wrap=True)


def stream_status(source: Any) -> Display:
    """A network source's live status line (a summary every 30 s off a terminal)."""
    from .display import StreamStatus

    return StreamStatus(console, source.name)


def run_cli(
    source_factory: Callable[[], Any],
    options: IngestOptions,
    cursor_key: str,
    display_for: Callable[[Any], Display] = stream_status,
) -> None:
    """Build the source and run it; a configuration or delivery problem exits 2 with one clear line."""
    from sentimon.settings import get_settings

    from .base import SourceError
    from .launch import describe_error, run_source
    from .post_producer import ProducerError

    try:
        run_source(source_factory(), get_settings(), options, cursor_key, display_for)
    except (SourceError, ProducerError, ValueError) as exc:
        fail(describe_error(exc))


def fail(message: str) -> None:
    console.print(f"[red]ingest stopped:[/] {message}")
    raise typer.Exit(2)


def key(*parts: str) -> str:
    """The default cursor file name for a source configuration."""
    from .cursors import cursor_name

    return cursor_name(*parts)
