"""Bluesky via Jetstream: `app.bsky.feed.post` creates over a websocket, resumed by `time_us`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson

from sentimon.schema import Post, PostError

from .base import BadURLError, Event, StreamIdle, TransientError
from .edits import as_update, deletion
from .text import facet_text, make_post

log = logging.getLogger(__name__)
DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST_COLLECTION = "app.bsky.feed.post"
MAX_LANG_CHARS = 16  # the schema's limit on Post.lang; longer tags stay whole in metadata.langs
# A client's createdAt is trusted when it is near the time the relay saw the record; otherwise
# (clock wrong, backdated import, year 0000, no time zone) the server's time_us is used instead.
MAX_AHEAD = timedelta(minutes=5)
MAX_BEHIND = timedelta(days=1)


def parse_jetstream(raw: str | bytes) -> Event:
    """One Jetstream message as an Event: a post, an edit or deletion, a malformed record, or only a
    cursor step. Whatever a record holds, the cursor moves past it: the relay does not validate."""
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
    if commit.get("collection") != POST_COLLECTION:
        return Event(cursor=cursor)
    try:
        post = _from_commit(message.get("did"), commit, cursor)
    except _Malformed as exc:
        return Event(malformed=str(exc), cursor=cursor)
    except PostError as exc:
        return Event(malformed=exc.reason, cursor=cursor)
    if post is None:
        return Event(cursor=cursor, filtered=True)
    return Event(post=post, cursor=cursor)


class _Malformed(ValueError):
    """A commit whose fields do not have the types the lexicon gives them."""


def _from_commit(did: Any, commit: dict[str, Any], time_us: int) -> Post | None:
    operation, rkey = commit.get("operation"), commit.get("rkey")
    if not isinstance(did, str) or not isinstance(rkey, str) or not rkey:
        raise _Malformed(f"{operation or 'commit'} without a did and rkey")
    server_time = datetime.fromtimestamp(time_us / 1e6, UTC)
    if operation == "delete":
        return deletion("bluesky", f"{did}/{rkey}", server_time, rev=commit.get("rev"))
    if operation not in ("create", "update"):
        return None
    record = commit.get("record")
    if not isinstance(record, dict):
        raise _Malformed(f"{operation} {did}/{rkey}: record is {type(record).__name__}, not an object")
    post = _post_from_record(did, rkey, record, commit.get("cid"), server_time)
    if post is None or operation == "create":
        return post
    return as_update(post, commit.get("cid") or commit.get("rev"))


def _post_from_record(
    did: str, rkey: str, record: dict[str, Any], cid: Any, server_time: datetime
) -> Post | None:
    text = record.get("text", "")
    if not isinstance(text, str):
        raise _Malformed(f"{did}/{rkey}: text is {type(text).__name__}, not a string")
    if not text.strip():
        return None  # image-only posts carry no text to classify
    text, found = facet_text(text, record.get("facets"))
    langs = _langs(record.get("langs"))
    created, trusted = _created_at(record.get("createdAt"), server_time)
    metadata: dict[str, Any] = {"langs": langs, "cid": cid, "is_reply": "reply" in record, **found}
    if isinstance(record.get("tags"), list):
        metadata["tags"] = [*found.get("tags", []), *(str(t) for t in record["tags"][:8])]
    if not trusted:
        metadata["client_created_at"] = str(record.get("createdAt"))[:64]
    return make_post(
        {
            "source": "bluesky",
            "id": f"{did}/{rkey}",
            "text": text,
            "author": did,
            "created_at": created,
            "url": f"https://bsky.app/profile/{did}/post/{rkey}",
            "lang": next((lang for lang in _short_langs(langs)), None),
            "metadata": metadata,
        }
    )


def _langs(value: Any) -> list[str]:
    """The declared languages: a list of tags, though some clients send one bare string."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [lang.strip() for lang in value if isinstance(lang, str) and lang.strip()][:8]


def _short_langs(langs: list[str]) -> list[str]:
    """Each tag as it fits Post.lang: whole when short enough, else its primary subtag."""
    short = [lang if len(lang) <= MAX_LANG_CHARS else lang.split("-")[0] for lang in langs]
    return [lang for lang in short if len(lang) <= MAX_LANG_CHARS]


def _created_at(value: Any, server_time: datetime) -> tuple[datetime, bool]:
    """The client's createdAt when it is a zoned time near the server's, else the server's time."""
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return server_time, False
    if not server_time - MAX_BEHIND <= when <= server_time + MAX_AHEAD:
        return server_time, False
    return when, True


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
