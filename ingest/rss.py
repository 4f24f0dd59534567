"""RSS and Atom feeds: polled with ETag/Last-Modified; new entries are those not in the last fetch."""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sentimon.schema import Post, PostError

from .base import BadURLError, Event, SourceError, TransientError
from .text import html_to_text

log = logging.getLogger(__name__)
MAX_SEEN_PER_FEED = 1_000


def entry_id(entry: Any) -> str | None:
    return entry.get("id") or entry.get("guid") or entry.get("link") or entry.get("title")


def entry_to_post(entry: Any, feed_url: str, lang: str | None) -> Post | None:
    """A feed entry as a Post: title plus summary as text, id stable per (feed, entry id)."""
    raw_id = entry_id(entry)
    title = html_to_text(entry.get("title"))
    summary = html_to_text(entry.get("summary"))
    text = "\n\n".join(part for part in (title, summary) if part)
    if not raw_id or not text:
        return None
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    created = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else datetime.now(UTC)
    digest = hashlib.sha1(f"{feed_url}\n{raw_id}".encode()).hexdigest()[:24]
    return Post.from_dict(
        {
            "source": "rss",
            "id": digest,
            "text": text,
            "author": entry.get("author"),
            "created_at": created,
            "url": entry.get("link"),
            "lang": lang,
            "metadata": {"feed": feed_url, "entry_id": raw_id[:1024]},
        }
    )


def parse_feed(
    body: bytes, feed_url: str, headers: dict[str, str], seen: list[str]
) -> tuple[list[Event], list[str]]:
    """Events for the entries not in `seen` (oldest first), and the ids to remember for next time."""
    import feedparser

    parsed = feedparser.parse(body, response_headers=headers)
    if parsed.bozo and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise BadURLError(f"rss: {feed_url} is not an RSS/Atom feed ({reason})")
    lang = parsed.feed.get("language") or headers.get("content-language")
    known = set(seen)
    events: list[Event] = []
    ids: list[str] = []
    for entry in reversed(parsed.entries):  # feeds list newest first
        raw_id = entry_id(entry)
        if not raw_id:
            events.append(Event(malformed=f"{feed_url}: entry without id, link or title"))
            continue
        ids.append(raw_id)
        if raw_id in known:
            continue
        try:
            post = entry_to_post(entry, feed_url, lang)
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
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
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
