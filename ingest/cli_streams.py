"""The network source commands: bluesky, mastodon, reddit, hackernews, rss (registered by cli.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from .cli_common import (
    Bootstrap,
    CursorName,
    DryRun,
    Edits,
    FromStart,
    Keywords,
    Langs,
    MaxPosts,
    Topic,
    Verbose,
    key,
    make_common,
    run_cli,
)

JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
HN_API = "https://hacker-news.firebaseio.com/v0"
REDDIT_API, REDDIT_AUTH = "https://oauth.reddit.com", "https://www.reddit.com"


def bluesky(
    url: Annotated[str, typer.Option(help="Jetstream subscribe URL.")] = JETSTREAM,
    lang: Langs = [],  # noqa: B006 (typer reads the default)
    did: Annotated[list[str], typer.Option("--did", help="Only posts by these accounts (repeat).")] = [],  # noqa: B006
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    edits: Edits = True,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Stream new Bluesky posts from Jetstream; restarts resume from the saved time_us cursor."""
    from .bluesky import JetstreamSource

    common = make_common(locals())
    run_cli(lambda: JetstreamSource(url, tuple(did)), common, key("bluesky", url, *did))


def mastodon(
    base_url: Annotated[str, typer.Argument(help="Instance URL, e.g. https://mastodon.social")],
    hashtag: Annotated[
        str | None, typer.Option(help="Follow this hashtag instead of the public timeline.")
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Only posts from this instance.")] = False,
    token: Annotated[str | None, typer.Option(envvar="SENTIMON_MASTODON_TOKEN", help="Access token.")] = None,
    streaming_url: Annotated[
        str | None, typer.Option(help="Streaming server, when not the instance.")
    ] = None,
    lang: Langs = [],  # noqa: B006
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    edits: Edits = True,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Stream a Mastodon timeline; after a restart, missed statuses are fetched first (since-id)."""
    from .mastodon import MastodonSource

    common = make_common(locals())
    run_cli(
        lambda: MastodonSource(base_url, token, hashtag, local, streaming_url),
        common,
        key("mastodon", base_url, hashtag or "", str(local)),
    )


def reddit(
    subreddits: Annotated[list[str], typer.Argument(help="Subreddit names, e.g. python rust")],
    client_id: Annotated[str, typer.Option(envvar="SENTIMON_REDDIT_CLIENT_ID", help="OAuth app id.")] = "",
    client_secret: Annotated[
        str, typer.Option(envvar="SENTIMON_REDDIT_CLIENT_SECRET", help="App secret.")
    ] = "",
    user_agent: Annotated[
        str, typer.Option(help="User-Agent Reddit asks apps to set.")
    ] = "sentimon-ingest/0.1",
    comments: Annotated[bool, typer.Option(help="Also new comments, not only new posts.")] = True,
    poll: Annotated[float, typer.Option(help="Seconds between polls.")] = 10.0,
    api_base: Annotated[str, typer.Option(help="API base URL (listings).")] = REDDIT_API,
    auth_base: Annotated[str, typer.Option(help="Base URL of the OAuth token endpoint.")] = REDDIT_AUTH,
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    edits: Edits = True,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Poll new posts (and comments) of subreddits with an OAuth app's credentials."""
    from .reddit import RedditSource

    common = make_common(locals())
    kinds = ("posts", "comments") if comments else ("posts",)
    run_cli(
        lambda: RedditSource(
            subreddits, client_id, client_secret, user_agent, kinds, poll, auth_base, api_base
        ),
        common,
        key(
            "reddit", *sorted(s.lower() for s in subreddits), *([api_base] if api_base != REDDIT_API else [])
        ),
    )


def hackernews(
    url: Annotated[str, typer.Option(help="API base URL.")] = HN_API,
    stories: Annotated[bool, typer.Option(help="Include stories.")] = True,
    comments: Annotated[bool, typer.Option(help="Include comments.")] = True,
    backfill: Annotated[int, typer.Option(help="On the first run, start this many items back.")] = 0,
    poll: Annotated[float, typer.Option(help="Seconds between polls of maxitem.")] = 5.0,
    keyword: Keywords = [],  # noqa: B006
    max_posts: MaxPosts = None,
    from_start: FromStart = False,
    cursor_name: CursorName = None,
    edits: Edits = True,
    dry_run: DryRun = False,
    bootstrap: Bootstrap = None,
    topic: Topic = None,
    verbose: Verbose = False,
) -> None:
    """Follow new Hacker News stories and comments; the cursor is the last item id handled."""
    from .hackernews import HackerNewsSource

    common = make_common(locals())
    kinds = tuple(k for k, on in (("story", stories), ("comment", comments)) if on)
    run_cli(lambda: HackerNewsSource(url, kinds, poll, backfill), common, key("hackernews", url))


def rss(
    feeds: Annotated[list[str], typer.Argument(help="Feed URLs (RSS, Atom or JSON Feed).")],
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
    """Poll RSS, Atom or JSON feeds; only entries not seen before are sent."""
    from .rss import RssSource

    common = make_common(locals())
    run_cli(lambda: RssSource(feeds, poll), common, key("rss", *sorted(feeds)))
