"""`sentimon ingest <source>`: one command per source, plus `list` (and `--list`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from . import cli_streams
from .cli_common import KAFKA, RootOptions, console, fail, ingest_command, key, report, run_cli
from .options import IngestOptions

app = typer.Typer(help="Bring posts from a source into Kafka posts.raw.")

SOURCES = [
    (
        "file",
        "Replay a JSONL, CSV or SemEval TSV file, optionally at its pace",
        "sentimon ingest file posts.jsonl",
    ),
    (
        "http",
        "HTTP endpoint: POST one post or a batch as JSON (bearer token)",
        "sentimon ingest http --port 8080",
    ),
    (
        "bluesky",
        "Bluesky Jetstream firehose: new posts, language filter",
        "sentimon ingest bluesky --lang en",
    ),
    (
        "mastodon",
        "Mastodon streaming API: public or hashtag timeline",
        "sentimon ingest mastodon https://mastodon.social --hashtag python",
    ),
    (
        "reddit",
        "Reddit: new posts and comments of subreddits (OAuth app)",
        "sentimon ingest reddit python rust",
    ),
    (
        "hackernews",
        "Hacker News: new stories and comments (official API)",
        "sentimon ingest hackernews -k rust",
    ),
    (
        "rss",
        "RSS, Atom and JSON feeds, polled with ETag/Last-Modified",
        "sentimon ingest rss https://example.com/feed.xml",
    ),
]


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    list_: Annotated[bool, typer.Option("--list", help="List the sources and exit.")] = False,
    kafka_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for Kafka (start, full buffer).")
    ] = 15.0,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics on this port while ingesting.")
    ] = None,
) -> None:
    """Bring posts from a source into Kafka posts.raw."""
    ctx.obj = RootOptions(kafka_timeout_s=kafka_timeout, metrics_port=metrics_port)
    if list_:
        list_sources()
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


@app.command("list")
def list_sources() -> None:
    """List the sources `sentimon ingest` can read."""
    table = Table("source", "what", "example")
    for name, what, example in SOURCES:
        table.add_row(name, what, example)
    Console().print(table)


@ingest_command(app, "file")
def file_cmd(
    options: IngestOptions,
    path: Annotated[Path, typer.Argument(help="A .jsonl, .csv or SemEval .tsv file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv or semeval (default: by name).")
    ] = None,
    speed: Annotated[float, typer.Option(help="0: at once; 1: original pace; 10: ten times faster.")] = 0.0,
    max_gap: Annotated[float, typer.Option(help="Longest pause between two paced posts (s).")] = 60.0,
    source: Annotated[str | None, typer.Option(help="Post.source where rows do not say.")] = None,
    text_col: Annotated[str, typer.Option(help="CSV column holding the text.")] = "text",
    id_col: Annotated[str, typer.Option(help="CSV column holding the id ('' = row offset).")] = "id",
    author_col: Annotated[str, typer.Option(help="CSV column holding the author.")] = "author",
    time_col: Annotated[str, typer.Option(help="CSV column holding the time (ISO/epoch).")] = "created_at",
    lang_col: Annotated[str, typer.Option(help="CSV column holding the language.")] = "lang",
    url_col: Annotated[str, typer.Option(help="CSV column holding the URL.")] = "url",
) -> None:
    """Replay a file of posts; a rerun resumes where the last one stopped (--from-start to redo)."""
    from .formats import ColumnMap

    columns = ColumnMap(
        text_col, id_col or None, author_col or None, time_col or None, lang_col or None, url_col or None
    )
    _replay(path, fmt, columns, source, speed, max_gap, options)


def _replay(
    path: Path,
    fmt: str | None,
    columns: Any,
    source: str | None,
    speed: float,
    gap: float,
    options: IngestOptions,
) -> None:
    """Run the file source with a progress bar over the file's bytes, the posts sent and their rate."""
    from .files import FileSource

    run_cli(
        lambda: FileSource(path, fmt, columns, source, speed, gap),
        options,
        key("file", str(path.resolve())),
        _file_progress,
    )


def _file_progress(source: Any) -> Any:
    from .display import FileProgress

    bar = FileProgress(console, source.path.name, source.total_bytes)
    source.progress = bar.read_to
    return bar


@ingest_command(app, "http", KAFKA)
def http_cmd(
    options: IngestOptions,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: settings.http_ingest_port).")] = None,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body accepted (MiB).")] = 4.0,
    max_batch: Annotated[int, typer.Option(help="Most posts accepted in one request.")] = 1000,
) -> None:
    """Accept posts over HTTP: POST /v1/posts with `Authorization: Bearer <SENTIMON_INGEST_TOKEN>`."""
    import asyncio

    from sentimon.settings import PLACEHOLDER, get_settings

    from .http_endpoint import EndpointConfig, serve
    from .launch import describe_error, make_producer, producer_metrics
    from .metrics import exported
    from .post_producer import ProducerError

    settings = get_settings()
    token = settings.ingest_token.get_secret_value()
    if token == PLACEHOLDER:
        console.print("[yellow]warning:[/] SENTIMON_INGEST_TOKEN is the placeholder; set a real token")
    config = EndpointConfig(token=token, max_body_bytes=int(max_body_mb * 1024 * 1024), max_batch=max_batch)
    try:
        sink = make_producer(settings, options)
    except ProducerError as exc:
        fail(describe_error(exc))
    port = port or settings.http_ingest_port
    console.print(f"accepting posts on http://{host}:{port}/v1/posts")
    try:
        with exported(options.metrics_port, "http", config.stats, sink):
            asyncio.run(serve(sink, config, host, port))
    finally:
        sink.close(10.0)
        report(config.stats, producer_metrics(sink))


cli_streams.register(app)
