"""Hacker News: new stories and comments from the official Firebase API (maxitem, then each item)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sentimon.schema import Post, PostError

from .base import BadURLError, Event, SourceError
from .edits import as_update, deletion
from .text import html_to_text, make_post, plain

log = logging.getLogger(__name__)
DEFAULT_URL = "https://hacker-news.firebaseio.com/v0"
SENT_KEPT = 20_000  # item id → digest of the text sent, to tell an edit or a deletion on a later poll
DELETED_BY_EDIT = "[deleted]"  # what a comment's author leaves when "deleting" it by editing


def is_gone(item: dict[str, Any]) -> bool:
    """Deleted, killed, or emptied by its author (text edited to '[deleted]')."""
    text = html_to_text(item.get("text"))
    return bool(item.get("deleted") or item.get("dead")) or text == DELETED_BY_EDIT


def item_to_post(item: dict[str, Any]) -> Post | None:
    """A story or comment as a Post; None for deleted/dead items and items without text."""
    if is_gone(item):
        return None
    kind = item.get("type")
    body = html_to_text(item.get("text"))
    if kind == "story":
        title = plain(item.get("title"))
        text = f"{title}\n\n{body}" if body else title
    elif kind == "comment":
        text = body
    else:
        return None
    if not text:
        return None
    item_id = item["id"]
    return make_post(
        {
            "source": "hackernews",
            "id": str(item_id),
            "text": text,
            "author": item.get("by"),
            "created_at": datetime.fromtimestamp(int(item["time"]), UTC),
            "url": f"https://news.ycombinator.com/item?id={item_id}",
            "metadata": {
                "type": kind,
                "parent": item.get("parent"),
                "link": item.get("url"),
                "score": item.get("score"),
            },
        }
    )


def item_event(item_id: int, item: Any, kinds: frozenset[str]) -> Event:
    """The Event for one fetched item; the cursor is its id either way."""
    if item is None:
        return Event(cursor=item_id)  # never published or not yet visible: skip it
    if not isinstance(item, dict) or item.get("id") != item_id:
        return Event(malformed=f"item {item_id}: not an item object", cursor=item_id)
    if item.get("type") not in kinds:
        return Event(cursor=item_id)
    try:
        post = item_to_post(item)
    except PostError as exc:
        return Event(malformed=f"item {item_id}: {exc.reason}", cursor=item_id)
    except (KeyError, TypeError, ValueError) as exc:
        return Event(malformed=f"item {item_id}: bad field {exc}", cursor=item_id)
    return Event(post=post, cursor=item_id) if post else Event(cursor=item_id, filtered=True)


def digest(post: Post) -> str:
    return hashlib.sha1(post.text.encode()).hexdigest()[:16]


class SentItems:
    """The items sent in this run and a digest of their text: what a later poll compares against."""

    def __init__(self, capacity: int = SENT_KEPT):
        self.capacity = capacity
        self._digests: OrderedDict[int, str] = OrderedDict()

    def __contains__(self, item_id: int) -> bool:
        return item_id in self._digests

    def remember(self, item_id: int, event: Event) -> None:
        if event.post is not None:
            self._digests[item_id] = digest(event.post)
            while len(self._digests) > self.capacity:
                self._digests.popitem(last=False)

    def change(self, item_id: int, item: Any) -> Event:
        """A delete or update event when a sent item is gone or its text changed; else nothing."""
        previous = self._digests.get(item_id)
        if previous is None or not isinstance(item, dict) or item.get("id") != item_id:
            return Event()
        if is_gone(item):
            del self._digests[item_id]
            return Event(post=deletion("hackernews", str(item_id), datetime.now(UTC)))
        try:
            post = item_to_post(item)
        except (PostError, KeyError, TypeError, ValueError):
            return Event()
        if post is None or digest(post) == previous:
            return Event()
        self._digests[item_id] = digest(post)
        return Event(post=as_update(post, digest(post)))


class HackerNewsSource:
    """Polls maxitem and fetches every new id in order; the cursor is the last id handled."""

    finite = False

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        kinds: tuple[str, ...] = ("story", "comment"),
        poll_interval_s: float = 5.0,
        backfill: int = 0,
        concurrency: int = 8,
        max_per_poll: int = 500,
        missing_retry_s: float = 2.0,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise BadURLError(f"Hacker News API URL must start with http(s)://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.kinds = frozenset(kinds)
        self.poll_interval_s = poll_interval_s
        self.backfill = backfill
        self.concurrency = concurrency
        self.max_per_poll = max_per_poll
        self.missing_retry_s = missing_retry_s
        self.name = "hackernews"
        self.sent = SentItems()
        self._updates_ok = True

    async def stream(self, cursor: Any) -> AsyncIterator[Event]:
        from .net import new_session

        last: int | None = int(cursor) if isinstance(cursor, int | str) and str(cursor).isdigit() else None
        async with new_session() as session:
            while True:
                newest = await self._max_item(session)
                if last is None:
                    last = max(0, newest - self.backfill)
                    yield Event(cursor=last)
                upto = min(newest, last + self.max_per_poll)
                for start in range(last + 1, upto + 1, self.concurrency):
                    ids = list(range(start, min(start + self.concurrency, upto + 1)))
                    for item_id, item in zip(ids, await self._fetch_many(session, ids), strict=True):
                        event = item_event(item_id, item, self.kinds)
                        self.sent.remember(item_id, event)
                        yield event
                        last = item_id
                if upto >= newest:
                    for event in await self._changes(session):
                        yield event
                    await asyncio.sleep(self.poll_interval_s)

    async def _changes(self, session: Any) -> list[Event]:
        """Edits and deletions of items sent in this run, from /updates.json (recently changed items)."""
        from .net import get_json

        if not self._updates_ok:
            return []
        try:
            updates = await get_json(session, f"{self.base_url}/updates.json", "hackernews updates")
        except SourceError as exc:
            log.warning("hackernews: no edits or deletions will be followed: %s", exc)
            self._updates_ok = False
            return []
        changed = updates.get("items") if isinstance(updates, dict) else None
        ids = (
            [i for i in changed if isinstance(i, int) and i in self.sent] if isinstance(changed, list) else []
        )
        if not ids:
            return []
        items = await self._fetch_many(session, ids)
        return [e for e in (self.sent.change(i, item) for i, item in zip(ids, items, strict=True)) if e.post]

    async def _max_item(self, session: Any) -> int:
        from .net import get_json

        value = await get_json(session, f"{self.base_url}/maxitem.json", "hackernews maxitem")
        if not isinstance(value, int):
            raise BadURLError(f"hackernews: {self.base_url}/maxitem.json did not return an item id")
        return value

    async def _fetch_many(self, session: Any, ids: list[int]) -> list[Any]:
        """Fetch items concurrently; an item still null after one retry is skipped (it may never appear)."""
        from .net import get_json

        async def fetch(item_id: int) -> Any:
            url = f"{self.base_url}/item/{item_id}.json"
            item = await get_json(session, url, "hackernews item")
            if item is None and self.missing_retry_s > 0:
                await asyncio.sleep(self.missing_retry_s)
                item = await get_json(session, url, "hackernews item")
            return item

        results = await asyncio.gather(*(fetch(i) for i in ids), return_exceptions=True)
        for result in results:  # all requests are finished, so a failure leaves nothing running
            if isinstance(result, BaseException):
                raise result
        return results
