"""Bluesky via Jetstream: `app.bsky.feed.post` creates over a websocket, resumed by `time_us`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from sentimon.schema import Post, PostError

from .base import BadURLError, Event, StreamIdle, TransientError

log = logging.getLogger(__name__)
DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST_COLLECTION = "app.bsky.feed.post"


def parse_jetstream(raw: str | bytes) -> Event:
    """One Jetstream message as an Event: a post for text-bearing creates, else only a cursor step."""
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Event(malformed=f"not JSON: {exc}")
    if not isinstance(message, dict) or not isinstance(message.get("time_us"), int):
        return Event(malformed="not a Jetstream event (no integer time_us)")
    cursor = message["time_us"]
    commit = message.get("commit")
    if message.get("kind") != "commit" or not isinstance(commit, dict):
        return Event(cursor=cursor)
    if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
        return Event(cursor=cursor)
    try:
        post = _post_from_commit(message["did"], commit, cursor)
    except (KeyError, TypeError) as exc:
        return Event(malformed=f"commit without {exc}", cursor=cursor)
    except PostError as exc:
        return Event(malformed=exc.reason, cursor=cursor)
    if post is None:
        return Event(cursor=cursor, filtered=True)
    return Event(post=post, cursor=cursor)


def _post_from_commit(did: str, commit: dict[str, Any], time_us: int) -> Post | None:
    record = commit["record"]
    text = record.get("text") or ""
    if not text.strip():
        return None  # image-only posts carry no text to classify
    rkey = commit["rkey"]
    langs = [str(lang) for lang in record.get("langs") or []]
    metadata: dict[str, Any] = {"langs": langs, "cid": commit.get("cid"), "is_reply": "reply" in record}
    return Post.from_dict(
        {
            "source": "bluesky",
            "id": f"{did}/{rkey}",
            "text": text,
            "author": did,
            "created_at": record.get("createdAt") or datetime.fromtimestamp(time_us / 1e6, UTC),
            "url": f"https://bsky.app/profile/{did}/post/{rkey}",
            "lang": langs[0] if langs else None,
            "metadata": metadata,
        }
    )


def subscribe_url(base_url: str, cursor: int | None, wanted_dids: tuple[str, ...] = ()) -> str:
    params: list[tuple[str, str]] = [("wantedCollections", POST_COLLECTION)]
    params += [("wantedDids", did) for did in wanted_dids]
    if cursor is not None:
        params.append(("cursor", str(cursor)))
    joiner = "&" if "?" in base_url else "?"
    return f"{base_url}{joiner}{urlencode(params)}"


class JetstreamSource:
    """Streams new Bluesky posts. On reconnect the cursor is rewound a little: overlap is deduped."""

    finite = False

    def __init__(
        self,
        url: str = DEFAULT_URL,
        wanted_dids: tuple[str, ...] = (),
        rewind_s: float = 3.0,
        idle_timeout_s: float = 60.0,
        open_timeout_s: float = 10.0,
    ):
        if not url.startswith(("ws://", "wss://")):
            raise BadURLError(f"Jetstream URL must start with ws:// or wss://, got {url!r}")
        self.url = url
        self.wanted_dids = wanted_dids
        self.rewind_us = int(rewind_s * 1_000_000)
        self.idle_timeout_s = idle_timeout_s
        self.open_timeout_s = open_timeout_s
        self.name = "bluesky"

    async def stream(self, cursor: Any) -> AsyncIterator[Event]:
        import websockets
        from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

        start = int(cursor) - self.rewind_us if isinstance(cursor, int) else None
        url = subscribe_url(self.url, start, self.wanted_dids)
        try:
            async with websockets.connect(
                url, open_timeout=self.open_timeout_s, max_size=2**21, ping_interval=20, ping_timeout=20
            ) as ws:
                log.info("bluesky: connected to %s (cursor %s)", self.url, start)
                while True:
                    raw = await _recv(ws, self.idle_timeout_s)
                    yield parse_jetstream(raw)
        except InvalidURI as exc:
            raise BadURLError(f"bluesky: invalid Jetstream URL {self.url}: {exc}") from None
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (400, 404):
                raise BadURLError(
                    f"bluesky: {self.url} answered HTTP {status}: not a Jetstream endpoint"
                ) from None
            raise TransientError(f"bluesky: handshake refused with HTTP {status}") from None
        except WebSocketException as exc:
            raise TransientError(f"bluesky: connection lost ({type(exc).__name__}: {exc})") from None
        except OSError as exc:
            raise TransientError(f"bluesky: network error with {self.url}: {exc}") from None


async def _recv(ws: Any, timeout: float) -> str | bytes:
    import asyncio

    try:
        return await asyncio.wait_for(ws.recv(), timeout)
    except TimeoutError:
        raise StreamIdle(f"bluesky: no event for {timeout:g}s") from None
