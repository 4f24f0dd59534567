"""`sentimon ingest <source>`: one command per source, plus `list`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Bring posts from a source into Kafka posts.raw.")
console = Console(stderr=True)
_ROOT_OPTIONS: dict[
    str, float
] = {}  # options given before the source name (`sentimon ingest --kafka-timeout 5 …`)

SOURCES = [
    (
        "file",
        "Replay a JSONL, CSV or SemEval TSV file (optionally at original pace)",
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
        "RSS/Atom feeds, polled with ETag/Last-Modified",
        "sentimon ingest rss https://example.com/feed.xml",
    ),
]

Keywords = Annotated[
    list[str], typer.Option("--keyword", "-k", help="Keep only posts mentioning one of these (repeat).")
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
Langs = Annotated[
    list[str], typer.Option("--lang", help="Keep only posts in these languages, e.g. en (repeat).")
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every reconnect and skipped payload.")]


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    list_: Annotated[bool, typer.Option("--list", help="List the sources and exit.")] = False,
    kafka_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for Kafka at start and when its buffer is full.")
    ] = 15.0,
) -> None:
    """Bring posts from a source into Kafka posts.raw."""
    _ROOT_OPTIONS["kafka_timeout_s"] = kafka_timeout
    if list_:
        list_sources()
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def _common(**kwargs: Any) -> Any:
    from .launch import Common

    kwargs.setdefault("kafka_timeout_s", _ROOT_OPTIONS.get("kafka_timeout_s", 15.0))

    logging.basicConfig(
        level=logging.INFO if kwargs.pop("verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return Common(**kwargs)


def _report(stats: Any, producer: dict[str, Any]) -> None:
    line = " ".join(f"{k}={v}" for k, v in stats.as_dict().items())
    if producer:
        line += f" | kafka acked={producer['sent']} failed={producer['failed']} bytes={producer['bytes']}"
    console.print(f"[dim]{line}[/]")


def _run(source_factory: Any, common: Any, cursor_key: str) -> None:
    from sentimon.settings import get_settings

    from .base import SourceError
    from .launch import describe_error, run_source
    from .sink import SinkError

    try:
        source = source_factory()
        run_source(source, get_settings(), common, cursor_key, _report)
    except (SourceError, SinkError, ValueError) as exc:
        console.print(f"[red]ingest stopped:[/] {describe_error(exc)}")
        raise typer.Exit(2) from None


@app.command("list")
def list_sources() -> None:
    """List the sources `sentimon ingest` can read."""
    table = Table("source", "what", "example")
    for name, what, example in SOURCES:
        table.add_row(name, what, example)
    Console().print(table)


@app.command("file")
def file_cmd(
    path: Annotated[Path, typer.Argument(help="A .jsonl, .csv or SemEval .tsv file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv or semeval (default: from the name).")
    ] = None,
    speed: Annotated[
        float, typer.Option(help="0: as fast as possible; 1: original pace; 10: ten times faster.")
    ] = 0.0,
    max_gap: Annotated[
        float, typer.Option(help="Longest pause between two posts when paced (seconds).")
    ] = 60.0,
    source: Annotated[
        str | None, typer.Option(help="Post.source for rows that do not say (default file).")
    ] = None,
    text_col: Annotated[str, typer.Option(help="CSV column holding the text.")] = "text",
    id_col: Annotated[
        str, typer.Option(help="CSV column holding the post id ('' for the row offset).")
    ] = "id",
    author_col: Annotated[str, typer.Option(help="CSV column holding the author.")] = "author",
    time_col: Annotated[
        str, typer.Option(help="CSV column holding the time (ISO 8601 or epoch).")
    ] = "created_at",
    lang_col: Annotated[str, typer.Option(help="CSV column holding the language.")] = "lang",
    url_col: Annotated[str, typer.Option(help="CSV column holding the URL.")] = "url",
    keyword: Keywords = [],  # noqa: B006 (typer reads the default)
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Replay a file of posts; a rerun resumes where the last one stopped (use --from-start to redo)."""
    from tqdm import tqdm

    from .cursors import cursor_name as make_name
    from .files import FileSource
    from .formats import ColumnMap

    common = _common(
        keywords=keyword,
        max_posts=max_posts,
        from_start=from_start,
        cursor_name=cursor_name,
        dry_run=dry_run,
        bootstrap=bootstrap,
        topic=topic,
        verbose=verbose,
        stats_every_s=0,
    )
    columns = ColumnMap(
        text=text_col,
        id=id_col or None,
        author=author_col or None,
        created_at=time_col or None,
        lang=lang_col or None,
        url=url_col or None,
    )
    bar = tqdm(
        total=path.stat().st_size if path.is_file() else 0,
        unit="B",
        unit_scale=True,
        desc=path.name,
        disable=dry_run,
    )

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        _run(
            lambda: FileSource(path, fmt, columns, source, speed, max_gap, progress),
            common,
            make_name("file", str(path.resolve())),
        )
    finally:
        bar.close()


@app.command("http")
def http_cmd(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: settings.http_ingest_port).")] = None,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body accepted (MiB).")] = 4.0,
    max_batch: Annotated[int, typer.Option(help="Most posts accepted in one request.")] = 1000,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Accept posts over HTTP: POST /v1/posts with `Authorization: Bearer <SENTIMON_INGEST_TOKEN>`."""
    import asyncio
    import signal

    from sentimon.settings import PLACEHOLDER, get_settings

    from .http_endpoint import EndpointConfig, serve
    from .launch import describe_error, make_sink
    from .sink import SinkError

    common = _common(dry_run=dry_run, bootstrap=bootstrap, topic=topic, verbose=verbose)
    settings = get_settings()
    token = settings.ingest_token.get_secret_value()
    if token == PLACEHOLDER:
        console.print("[yellow]warning:[/] SENTIMON_INGEST_TOKEN is the placeholder; set a real token")
    config = EndpointConfig(token=token, max_body_bytes=int(max_body_mb * 1024 * 1024), max_batch=max_batch)
    try:
        sink = make_sink(settings, common)
    except SinkError as exc:
        console.print(f"[red]ingest stopped:[/] {describe_error(exc)}")
        raise typer.Exit(2) from None

    async def main() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await serve(sink, config, host, port or settings.http_ingest_port, stop)

    console.print(f"accepting posts on http://{host}:{port or settings.http_ingest_port}/v1/posts")
    try:
        asyncio.run(main())
    finally:
        sink.close(10.0)
        _report(config.stats, _metrics(sink))


def _metrics(sink: Any) -> dict[str, Any]:
    from .launch import producer_metrics

    return producer_metrics(sink)


@app.command("bluesky")
def bluesky_cmd(
    url: Annotated[
        str, typer.Option(help="Jetstream subscribe URL.")
    ] = "wss://jetstream2.us-east.bsky.network/subscribe",
    lang: Langs = [],  # noqa: B006
    did: Annotated[list[str], typer.Option("--did", help="Only posts by these accounts (repeat).")] = [],  # noqa: B006
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Stream new Bluesky posts from Jetstream; restarts resume from the saved time_us cursor."""
    from .bluesky import JetstreamSource

    common = _common(
        keywords=keyword,
        langs=lang,
        max_posts=max_posts,
        from_start=from_start,
        cursor_name=cursor_name,
        dry_run=dry_run,
        bootstrap=bootstrap,
        topic=topic,
        verbose=verbose,
    )
    _run(lambda: JetstreamSource(url, tuple(did)), common, _key("bluesky", url, *did))


@app.command("mastodon")
def mastodon_cmd(
    base_url: Annotated[str, typer.Argument(help="Instance URL, e.g. https://mastodon.social")],
    hashtag: Annotated[
        str | None, typer.Option(help="Follow this hashtag instead of the public timeline.")
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Only posts from this instance.")] = False,
    token: Annotated[str | None, typer.Option(envvar="SENTIMON_MASTODON_TOKEN", help="Access token.")] = None,
    streaming_url: Annotated[
        str | None, typer.Option(help="Streaming server, when not the instance URL.")
    ] = None,
    lang: Langs = [],  # noqa: B006
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Stream a Mastodon timeline; after a restart, missed statuses are fetched first (since-id)."""
    from .mastodon import MastodonSource

    common = _common(
        keywords=keyword,
        langs=lang,
        max_posts=max_posts,
        from_start=from_start,
        cursor_name=cursor_name,
        dry_run=dry_run,
        bootstrap=bootstrap,
        topic=topic,
        verbose=verbose,
    )
    _run(
        lambda: MastodonSource(base_url, token, hashtag, local, streaming_url),
        common,
        _key("mastodon", base_url, hashtag or "", str(local)),
    )


@app.command("reddit")
def reddit_cmd(
    subreddits: Annotated[list[str], typer.Argument(help="Subreddit names, e.g. python rust")],
    client_id: Annotated[
        str, typer.Option(envvar="SENTIMON_REDDIT_CLIENT_ID", help="OAuth app client id.")
    ] = "",
    client_secret: Annotated[
        str, typer.Option(envvar="SENTIMON_REDDIT_CLIENT_SECRET", help="OAuth app secret.")
    ] = "",
    user_agent: Annotated[
        str, typer.Option(help="User-Agent Reddit asks apps to set.")
    ] = "sentimon-ingest/0.1",
    comments: Annotated[bool, typer.Option(help="Also new comments, not only new posts.")] = True,
    poll: Annotated[float, typer.Option(help="Seconds between polls.")] = 10.0,
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Poll new posts (and comments) of subreddits with an OAuth app's credentials."""
    from .reddit import RedditSource

    common = _common(
        keywords=keyword,
        max_posts=max_posts,
        from_start=from_start,
        cursor_name=cursor_name,
        dry_run=dry_run,
        bootstrap=bootstrap,
        topic=topic,
        verbose=verbose,
    )
    kinds = ("posts", "comments") if comments else ("posts",)
    _run(
        lambda: RedditSource(subreddits, client_id, client_secret, user_agent, kinds, poll),
        common,
        _key("reddit", *sorted(s.lower() for s in subreddits)),
    )


@app.command("hackernews")
def hackernews_cmd(
    url: Annotated[str, typer.Option(help="API base URL.")] = "https://hacker-news.firebaseio.com/v0",
    stories: Annotated[bool, typer.Option(help="Include stories.")] = True,
    comments: Annotated[bool, typer.Option(help="Include comments.")] = True,
    backfill: Annotated[int, typer.Option(help="On the first run, start this many items back.")] = 0,
    poll: Annotated[float, typer.Option(help="Seconds between polls of maxitem.")] = 5.0,
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Follow new Hacker News stories and comments; the cursor is the last item id handled."""
    from .hackernews import HackerNewsSource

    common = _common(
        keywords=keyword,
        max_posts=max_posts,
        from_start=from_start,
        cursor_name=cursor_name,
        dry_run=dry_run,
        bootstrap=bootstrap,
        topic=topic,
        verbose=verbose,
    )
    kinds = tuple(k for k, on in (("story", stories), ("comment", comments)) if on)
    _run(lambda: HackerNewsSource(url, kinds, poll, backfill), common, _key("hackernews", url))


@app.command("rss")
def rss_cmd(
    feeds: Annotated[list[str], typer.Argument(help="Feed URLs (RSS or Atom).")],
    poll: Annotated[float, typer.Option(help="Seconds between polls of each feed.")] = 300.0,
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Poll RSS/Atom feeds; only entries not seen before are sent."""
    from .rss import RssSource

    common = _common(
        keywords=keyword,
        max_posts=max_posts,
        from_start=from_start,
        cursor_name=cursor_name,
        dry_run=dry_run,
        bootstrap=bootstrap,
        topic=topic,
        verbose=verbose,
    )
    _run(lambda: RssSource(feeds, poll), common, _key("rss", *sorted(feeds)))


def _key(*parts: str) -> str:
    from .cursors import cursor_name

    return cursor_name(*parts)
