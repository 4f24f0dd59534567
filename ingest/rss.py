"""RSS, Atom and JSON feeds: polled with ETag/Last-Modified; new entries are those not in the last fetch."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sentimon.schema import Post, PostError

from .base import BadURLError, Event, RateLimited, SourceError, TransientError
from .feeds import Entry, Feed, http_date, parse_document
from .text import make_post

log = logging.getLogger(__name__)
MAX_SEEN_PER_FEED = 1_000


def entry_id(entry: Entry) -> str | None:
    """The entry's own id, else one made from its text (an item with only a description)."""
    if entry.id:
        return entry.id
    text = f"{entry.title}\n{entry.summary}".strip()
    return "sha1:" + hashlib.sha1(text.encode()).hexdigest() if text else None


def entry_time(entry: Entry, feed: Feed, headers: dict[str, str]) -> tuple[datetime, str]:
    """When the entry was published, and where that came from: the entry, else the feed's own date,
    else the HTTP Last-Modified/Date, else the time it was fetched. Only the first is the entry's."""
    for when, origin in ((entry.published, "entry"), (feed.updated, "feed"), (http_date(headers), "http")):
        if when is not None:
            return when, origin
    return datetime.now(UTC), "fetched"


def entry_to_post(entry: Entry, feed_url: str, feed: Feed, headers: dict[str, str]) -> Post | None:
    """A feed entry as a Post: title plus summary as text, id stable per (feed, entry id)."""
    raw_id = entry_id(entry)
    text = "\n\n".join(part for part in (entry.title, entry.summary) if part)
    if not raw_id or not text:
        return None
    created, origin = entry_time(entry, feed, headers)
    metadata: dict[str, Any] = {"feed": feed_url, "entry_id": raw_id[:1024]}
    if origin != "entry":
        metadata["time_source"] = origin  # undated entry: created_at is an estimate, said so
    digest = hashlib.sha1(f"{feed_url}\n{raw_id}".encode()).hexdigest()[:24]
    return make_post(
        {
            "source": "rss",
            "id": digest,
            "text": text,
            "author": entry.author,
            "created_at": created,
            "url": entry.link,
            "lang": feed.lang,
            "metadata": metadata,
        }
    )


def parse_feed(
    body: bytes, feed_url: str, headers: dict[str, str], seen: list[str]
) -> tuple[list[Event], list[str]]:
    """Events for the entries not in `seen` (oldest first), and the ids to remember for next time."""
    feed = parse_document(body, feed_url, headers)
    known = set(seen)
    events: list[Event] = []
    ids: list[str] = []
    for entry in reversed(feed.entries):  # feeds list newest first
        raw_id = entry_id(entry)
        if not raw_id:
            events.append(Event(malformed=f"{feed_url}: entry without id, link, title or text"))
            continue
        ids.append(raw_id)
        if raw_id in known:
            continue
        try:
            post = entry_to_post(entry, feed_url, feed, headers)
        except PostError as exc:
            events.append(Event(malformed=f"{feed_url}: entry {raw_id}: {exc.reason}"))
            continue
        events.append(Event(post=post) if post else Event(filtered=True))
    remembered = list(dict.fromkeys(seen + ids))[-MAX_SEEN_PER_FEED:]
    return events, remembered


class RssSource:
    """Polls each feed every `poll_interval_s`; the cursor keeps per-feed ETag, Last-Modified and seen ids."""

    finite = False

    def __init__(self, feeds: list[str], poll_interval_s: float = 300.0):
        bad = [f for f in feeds if not f.startswith(("http://", "https://"))]
        if not feeds or bad:
            raise BadURLError(
                f"rss: feed URLs must start with http(s)://: {', '.join(bad) or '(none given)'}"
            )
        self.feeds = list(dict.fromkeys(feeds))
        self.poll_interval_s = poll_interval_s
        self.name = "rss"
        self._polled_ok: set[str] = set()

    async def stream(self, cursor: Any) -> AsyncIterator[Event]:
        from .net import new_session

        state: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (cursor or {}).items() if k in self.feeds}
        async with new_session() as session:
            while True:
                for feed in self.feeds:
                    try:
                        events = await self._poll(session, feed, state)
                    except (SourceError, TransientError) as exc:
                        if feed not in self._polled_ok and isinstance(exc, SourceError):
                            raise  # a feed that never worked is a configuration error
                        if feed not in self._polled_ok and not isinstance(exc, RateLimited):
                            # unreachable from the start: most likely a wrong URL, say so and stop
                            raise SourceError(f"cannot reach the feed at start: {exc}") from exc
                        log.warning("rss: %s (will retry at the next poll)", exc)
                        continue
                    # The feed's new state rides on its last entry: saved once every entry is acknowledged.
                    snapshot = {k: dict(v) for k, v in state.items()}
                    events = events or [Event()]
                    for event in events[:-1]:
                        yield event
                    yield replace(events[-1], cursor=snapshot)
                await asyncio.sleep(self.poll_interval_s)

    async def _poll(self, session: Any, feed: str, state: dict[str, dict[str, Any]]) -> list[Event]:
        """Fetch one feed conditionally; update its state in place and return its new entries."""
        from .net import check_status, network_errors

        previous = state.get(feed, {})
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/xml;q=0.9, */*;q=0.5"
        }
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("modified"):
            headers["If-Modified-Since"] = previous["modified"]
        async with network_errors(f"rss {feed}"), session.get(feed, headers=headers) as response:
            if response.status == 304:
                self._polled_ok.add(feed)
                return []
            await check_status(response, f"rss {feed}")
            body = await response.read()
            response_headers = {k.lower(): v for k, v in response.headers.items()}
        events, seen = parse_feed(body, feed, response_headers, list(previous.get("seen", [])))
        state[feed] = {
            "etag": response_headers.get("etag"),
            "modified": response_headers.get("last-modified"),
            "seen": seen,
        }
        self._polled_ok.add(feed)
        return events
