"""Mastodon: public or hashtag timelines over the streaming API (SSE), backfilled by since-id on resume."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from sentimon.schema import Post, PostError

from .base import BadURLError, Event, TransientError
from .edits import as_update, deletion
from .sse import SSEMessage, SSEParser
from .text import html_to_text, make_post

log = logging.getLogger(__name__)
MAX_ID_CHARS = 256
KEYS_KEPT = 50_000  # status id → post id of recent statuses, to name the post a `delete` removes


def status_to_post(status: dict[str, Any], instance: str) -> Post | None:
    """A Mastodon Status as a Post (None for posts without text; reblogs are told apart before)."""
    text = html_to_text(status.get("content"))
    spoiler = (status.get("spoiler_text") or "").strip()
    if spoiler:
        text = f"{spoiler}\n\n{text}" if text else spoiler
    if not text:
        return None
    uri = str(status.get("uri") or "")
    post_id = uri if uri and len(uri) <= MAX_ID_CHARS else f"{instance}/{status['id']}"
    account = status.get("account") or {}
    tags = [t.get("name") for t in status.get("tags") or [] if isinstance(t, dict)]
    return make_post(
        {
            "source": "mastodon",
            "id": post_id,
            "text": text,
            "author": account.get("acct"),
            "created_at": status["created_at"],
            "url": status.get("url") or uri or None,
            "lang": status.get("language"),
            "metadata": {"instance": instance, "status_id": str(status["id"]), "tags": tags},
        }
    )


def status_event(status: Any, instance: str, edited: bool = False) -> Event:
    """A Status payload as an Event whose cursor is the status id (the next since_id); with
    `edited` (a `status.update`), the post is the edit of the one sent before."""
    if not isinstance(status, dict) or "id" not in status:
        return Event(malformed="not a Mastodon status (no id)")
    cursor = str(status["id"])
    if status.get("reblog"):
        return Event(cursor=cursor, repost=True)
    try:
        post = status_to_post(status, instance)
        if post is not None and edited:
            post = as_update(post, status.get("edited_at") or "unknown")
    except PostError as exc:
        return Event(malformed=f"status {cursor}: {exc.reason}", cursor=cursor)
    except (KeyError, TypeError) as exc:
        return Event(malformed=f"status {cursor}: missing {exc}", cursor=cursor)
    return Event(post=post, cursor=cursor) if post else Event(cursor=cursor, filtered=True)


class StatusKeys:
    """Which post id each recent status id was sent under: a `delete` names only the status id."""

    def __init__(self, capacity: int = KEYS_KEPT):
        self.capacity = capacity
        self._ids: OrderedDict[str, str] = OrderedDict()

    def remember(self, event: Event) -> None:
        if event.post is not None and "status_id" in event.post.metadata:
            self._ids[event.post.metadata["status_id"]] = event.post.id
            self._ids.move_to_end(event.post.metadata["status_id"])
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)

    def deletion(self, status_id: str, instance: str) -> Event:
        """The delete event of a status sent in this run; nothing for others (never sent, or sent
        before a restart: their post id cannot be told from the status id alone)."""
        post_id = self._ids.pop(status_id, None)
        if post_id is None:
            log.debug("mastodon: delete of status %s, not sent in this run", status_id)
            return Event()
        gone = deletion("mastodon", post_id, datetime.now(UTC), instance=instance, status_id=status_id)
        return Event(post=gone)


def newer(a: str | None, b: str | None) -> str | None:
    """The later of two status ids (numeric strings compare by length, then digits)."""
    if a is None or b is None:
        return a or b
    return max(a, b, key=lambda s: (len(s), s))


class MastodonSource:
    """Streams a timeline; after a restart it first fetches what was missed (bounded pages)."""

    finite = False

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        hashtag: str | None = None,
        local: bool = False,
        streaming_url: str | None = None,
        backfill_pages: int = 5,
        idle_timeout_s: float = 60.0,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadURLError(f"Mastodon base URL must look like https://mastodon.social, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.streaming_url = (streaming_url or self.base_url).rstrip("/")
        self.instance = parts.netloc
        self.token = token
        self.hashtag = hashtag.lstrip("#") if hashtag else None
        self.local = local
        self.backfill_pages = backfill_pages
        self.idle_timeout_s = idle_timeout_s
        self.name = f"mastodon:{self.instance}" + (f"#{self.hashtag}" if self.hashtag else "")
        self.keys = StatusKeys()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def timeline_url(self) -> str:
        if self.hashtag:
            return f"{self.base_url}/api/v1/timelines/tag/{quote(self.hashtag)}"
        return f"{self.base_url}/api/v1/timelines/public"

    def stream_url(self) -> tuple[str, dict[str, str]]:
        if self.hashtag:
            path = "hashtag/local" if self.local else "hashtag"
            return f"{self.streaming_url}/api/v1/streaming/{path}", {"tag": self.hashtag}
        path = "public/local" if self.local else "public"
        return f"{self.streaming_url}/api/v1/streaming/{path}", {}

    async def stream(self, cursor: Any) -> AsyncIterator[Event]:
        from .net import new_session

        latest = str(cursor) if cursor is not None else None
        async with new_session(read_timeout_s=self.idle_timeout_s, headers=self._headers()) as session:
            events = (
                self._live(session)
                if latest is None
                else _chain(self._backfill(session, latest), self._live(session))
            )
            async for event in events:
                self.keys.remember(event)
                # Federated statuses can arrive late with older ids: the cursor only moves forward.
                latest = newer(latest, event.cursor)
                yield replace(event, cursor=latest)

    async def _backfill(self, session: Any, since: str) -> AsyncIterator[Event]:
        """Statuses after `since`, oldest first, via min_id paging (at most backfill_pages pages)."""
        from .net import get_json

        params = {"limit": "40", "local": "true" if self.local else "false"}
        for _ in range(self.backfill_pages):
            page = await get_json(
                session, self.timeline_url(), "mastodon timeline", params={**params, "min_id": since}
            )
            if not isinstance(page, list):
                raise BadURLError(f"mastodon: {self.timeline_url()} did not return a list of statuses")
            if not page:
                return
            for status in sorted(page, key=_id_order):
                event = status_event(status, self.instance)
                since = newer(since, event.cursor) or since
                yield event
            if len(page) < int(params["limit"]):
                return

    async def _live(self, session: Any) -> AsyncIterator[Event]:
        from .net import check_status, network_errors

        url, params = self.stream_url()
        headers = {"Accept": "text/event-stream"}
        async with (
            network_errors("mastodon streaming"),
            session.get(url, params=params, headers=headers) as response,
        ):
            await check_status(response, "mastodon streaming")
            if "text/event-stream" not in response.headers.get("Content-Type", ""):
                raise BadURLError(
                    f"mastodon: {response.url} is not a streaming endpoint (no text/event-stream)"
                )
            log.info("mastodon: streaming %s", response.url)
            parser = SSEParser()
            async for raw_line in response.content:
                message = parser.feed_line(raw_line.decode("utf-8", errors="replace").rstrip("\r\n"))
                if message is not None:
                    yield self.message_event(message)
        raise TransientError("mastodon: the server ended the stream")

    def message_event(self, message: SSEMessage) -> Event:
        """A new status (`update`), an edit (`status.update`), a deletion (`delete`: the status id),
        or nothing for the other events (notifications, filters)."""
        if message.event == "delete":
            return self.keys.deletion(message.data.strip(), self.instance)
        if message.event not in ("update", "status.update"):
            return Event()
        try:
            payload = orjson.loads(message.data)
        except orjson.JSONDecodeError as exc:
            return Event(malformed=f"{message.event} event is not JSON: {exc}")
        return status_event(payload, self.instance, edited=message.event == "status.update")


async def _chain(*streams: AsyncIterator[Event]) -> AsyncIterator[Event]:
    for stream in streams:
        async for event in stream:
            yield event


def _id_order(status: Any) -> tuple[int, str]:
    status_id = str(status.get("id", "")) if isinstance(status, dict) else ""
    return len(status_id), status_id
