"""Feed documents (RSS, Atom, JSON Feed) as plain entries, whatever their encoding, free of network I/O."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import orjson

from .base import BadURLError
from .text import html_to_text

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._-]+)", re.IGNORECASE)
JSON_FEED_VERSION = "https://jsonfeed.org/version/"


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item, as the adapter needs it. `id` is None when the item names nothing stable."""

    id: str | None
    title: str
    summary: str
    link: str | None
    author: str | None
    published: datetime | None


@dataclass(frozen=True, slots=True)
class Feed:
    entries: list[Entry]  # newest first, as feeds list them
    lang: str | None
    updated: datetime | None  # the feed's own date (lastBuildDate, <updated>), if any


def parse_document(body: bytes, feed_url: str, headers: dict[str, str]) -> Feed:
    """A feed of any supported kind; relative links resolve against the feed's URL."""
    if _is_json_feed(body, headers.get("content-type", "")):
        return parse_json_feed(body, feed_url)
    return parse_xml_feed(body, feed_url, headers)


def _is_json_feed(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] == b"{"


def decode_legacy(body: bytes, headers: dict[str, str]) -> bytes | str:
    """The body as feedparser should read it: as is when it is UTF-8 or declares its charset (HTTP
    or XML), else decoded with the most plausible legacy encoding (KOI8-R, Shift_JIS, cp1252, …)."""
    if _CHARSET.search(headers.get("content-type", "")) or _XML_ENCODING.match(body):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body))
    if not matches:
        return body
    best = max(matches, key=lambda m: m.coherence - m.chaos)
    return body.decode(best.encoding, errors="replace")


def parse_xml_feed(body: bytes, feed_url: str, headers: dict[str, str]) -> Feed:
    import feedparser

    # feedparser resolves relative links against Content-Location, itself relative to the feed URL.
    location = urljoin(feed_url, headers.get("content-location", ""))
    parsed = feedparser.parse(
        decode_legacy(body, headers), response_headers={**headers, "content-location": location}
    )
    if parsed.bozo and not parsed.entries:
        raise BadURLError(
            f"rss: {feed_url} is not an RSS, Atom or JSON feed ({parsed.get('bozo_exception')})"
        )
    entries = [
        Entry(
            id=e.get("id") or e.get("guid") or e.get("link"),
            title=html_to_text(e.get("title")),
            summary=html_to_text(_richest(e)),
            link=e.get("link"),
            author=e.get("author"),
            published=_struct_time(e.get("published_parsed") or e.get("updated_parsed")),
        )
        for e in parsed.entries
    ]
    lang = parsed.feed.get("language") or headers.get("content-language")
    updated = _struct_time(parsed.feed.get("updated_parsed") or parsed.feed.get("published_parsed"))
    return Feed(entries, lang, updated)


def _richest(entry: Any) -> str | None:
    """The summary, or the full content when the item only has that (Atom <content>)."""
    summary = entry.get("summary")
    if summary:
        return summary
    content = entry.get("content") or []
    return content[0].get("value") if content and isinstance(content[0], dict) else None


def _struct_time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(calendar.timegm(value), UTC) if value else None


def parse_json_feed(body: bytes, feed_url: str) -> Feed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadURLError(f"rss: {feed_url} is not a feed (JSON, but not readable: {exc})") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(JSON_FEED_VERSION):
        raise BadURLError(f"rss: {feed_url} is JSON but not a JSON Feed (no jsonfeed.org version)")
    raw_items = doc.get("items")
    items = raw_items if isinstance(raw_items, list) else []
    base = doc.get("home_page_url") or feed_url
    entries = [_json_entry(item, base) for item in items if isinstance(item, dict)]
    return Feed(entries, doc.get("language"), None)


def _json_entry(item: dict[str, Any], base: str) -> Entry:
    link = item.get("url") if isinstance(item.get("url"), str) else None
    text = item.get("content_text") or html_to_text(item.get("content_html")) or item.get("summary") or ""
    listed = item.get("authors")
    authors = listed if isinstance(listed, list) else [item.get("author")]
    names = [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]
    return Entry(
        id=str(item["id"]) if item.get("id") not in (None, "") else None,
        title=html_to_text(str(item.get("title") or "")),
        summary=str(text).strip(),
        link=urljoin(base, link) if link else None,
        author=", ".join(names) or None,
        published=_iso(item.get("date_published") or item.get("date_modified")),
    )


def _iso(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=UTC)


def http_date(headers: dict[str, str]) -> datetime | None:
    """When the server last changed the feed (Last-Modified), else when it answered (Date)."""
    for name in ("last-modified", "date"):
        try:
            when = parsedate_to_datetime(headers[name])
        except (KeyError, TypeError, ValueError):
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None
