"""Reddit: new posts and comments of chosen subreddits, polled with OAuth app credentials."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sentimon.schema import Post, PostError

from .base import AuthError, BadURLError, Event
from .edits import as_update, deletion
from .text import make_post, markdown_to_text, plain

log = logging.getLogger(__name__)
AUTH_URL = "https://www.reddit.com"
API_URL = "https://oauth.reddit.com"
_SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}$")
_GONE = frozenset({"[removed]", "[deleted]"})
LISTINGS = {"posts": "new", "comments": "comments"}


def is_gone(kind: str, data: dict[str, Any]) -> bool:
    """Deleted by its author or removed by a moderator (or Reddit's filters)."""
    body = (data.get("selftext") if kind == "t3" else data.get("body")) or ""
    return body.strip() in _GONE or bool(data.get("removed_by_category"))


def thing_url(kind: str, data: dict[str, Any]) -> str | None:
    """The permalink, or one built from the ids when the listing has none."""
    if data.get("permalink"):
        return f"https://www.reddit.com{data['permalink']}"
    sub, thing_id = data.get("subreddit"), data.get("id")
    if not sub or not thing_id:
        return None
    if kind == "t3":
        return f"https://www.reddit.com/r/{sub}/comments/{thing_id}/"
    link = str(data.get("link_id") or "").removeprefix("t3_")
    return f"https://www.reddit.com/r/{sub}/comments/{link}/_/{thing_id}/" if link else None


def thing_to_post(thing: dict[str, Any]) -> Post | None:
    """A listing child (t3 link or t1 comment) as a Post; None for removed, deleted or empty ones.

    Reddit bodies are Markdown (`selftext`, `body`), titles plain text that may hold entities."""
    kind, data = thing["kind"], thing["data"]
    if kind not in ("t3", "t1") or is_gone(kind, data):
        return None
    if kind == "t3":
        title, body = plain(data["title"]), markdown_to_text(data.get("selftext"))
        text = f"{title}\n\n{body}" if body else title
    else:
        text = markdown_to_text(data.get("body"))
    if not text.strip():
        return None
    author = data.get("author")
    return make_post(
        {
            "source": "reddit",
            "id": data["name"],
            "text": text,
            "author": None if author in _GONE else author,
            "created_at": datetime.fromtimestamp(float(data["created_utc"]), UTC),
            "url": thing_url(kind, data),
            "metadata": {
                "subreddit": data.get("subreddit"),
                "kind": "post" if kind == "t3" else "comment",
                "score": data.get("score"),
                "link_id": data.get("link_id"),
            },
        }
    )


def thing_event(thing: dict[str, Any], created: float, seen: bool) -> Event | None:
    """A listing child as an Event. One `seen` on an earlier poll (at or before the cursor) only
    matters when it changed since: deleted or removed (a delete event), or edited (an update);
    None when it did not."""
    data = thing["data"]
    if thing.get("kind") == "t3" and data.get("crosspost_parent"):
        return Event(cursor=created, repost=True)
    if not seen:
        post = thing_to_post(thing)
        return Event(post=post, cursor=created) if post else Event(cursor=created, filtered=True)
    if is_gone(thing["kind"], data):
        return Event(post=deletion("reddit", data["name"], datetime.now(UTC)))
    edited = data.get("edited")
    if isinstance(edited, int | float) and not isinstance(edited, bool) and edited > 0:
        post = thing_to_post(thing)
        return Event(post=as_update(post, edited)) if post else None
    return None


def listing_events(listing: Any, since: float, edits: bool = True) -> list[Event]:
    """New things of a listing, oldest first, each with its created_utc as cursor; with `edits`,
    also the deletions and edits of things older than `since`."""
    children = listing.get("data", {}).get("children") if isinstance(listing, dict) else None
    if not isinstance(children, list):
        return [Event(malformed="not a Reddit listing (no data.children)")]
    events: list[tuple[float, Event]] = []
    for thing in children:
        try:
            created = float(thing["data"]["created_utc"])
        except (KeyError, TypeError, ValueError):
            events.append((since, Event(malformed="listing child without data.created_utc")))
            continue
        if created < since and not edits:
            continue
        event: Event | None
        try:
            event = thing_event(thing, created, seen=created < since)
        except PostError as exc:
            event = Event(malformed=exc.reason, cursor=created)
        except (KeyError, TypeError) as exc:
            event = Event(malformed=f"listing child without {exc}", cursor=created)
        if event is not None:
            events.append((created, event))
    events.sort(key=lambda pair: pair[0])
    return [event for _, event in events]


def check_subreddits(names: list[str]) -> list[str]:
    cleaned = [n.removeprefix("r/").strip() for n in names if n.strip()]
    bad = [n for n in cleaned if not _SUBREDDIT.match(n)]
    if not cleaned or bad:
        raise BadURLError(f"reddit: invalid subreddit name(s): {', '.join(bad) or '(none given)'}")
    return cleaned


@dataclass(slots=True)
class _Token:
    value: str
    expires_at: float


class RedditSource:
    """Polls /r/a+b/new and /r/a+b/comments; the cursor is the newest created_utc per listing."""

    finite = False

    def __init__(
        self,
        subreddits: list[str],
        client_id: str,
        client_secret: str,
        user_agent: str = "sentimon-ingest/0.1",
        kinds: tuple[str, ...] = ("posts", "comments"),
        poll_interval_s: float = 10.0,
        auth_url: str = AUTH_URL,
        api_url: str = API_URL,
    ):
        if not client_id or not client_secret:
            raise AuthError("reddit: set the app's client id and secret (--client-id/--client-secret)")
        self.subreddits = check_subreddits(subreddits)
        self.client_id, self.client_secret = client_id, client_secret
        self.user_agent = user_agent
        self.kinds = tuple(k for k in kinds if k in LISTINGS) or ("posts",)
        self.poll_interval_s = poll_interval_s
        self.auth_url, self.api_url = auth_url.rstrip("/"), api_url.rstrip("/")
        self.name = "reddit:" + "+".join(self.subreddits)
        self._token: _Token | None = None

    async def stream(self, cursor: Any) -> AsyncIterator[Event]:
        from .net import network_errors, new_session

        position: dict[str, float] = dict(cursor) if isinstance(cursor, dict) else {}
        async with new_session(headers={"User-Agent": self.user_agent}) as session:
            while True:
                for kind in self.kinds:
                    async with network_errors(f"reddit {kind}"):
                        listing = await self._get_listing(session, kind)
                    for event in listing_events(listing, position.get(kind, 0.0)):
                        if event.cursor is not None:
                            position[kind] = max(position.get(kind, 0.0), float(event.cursor))
                        yield replace(event, cursor=dict(position))
                await asyncio.sleep(self.poll_interval_s)

    async def _get_listing(self, session: Any, kind: str) -> Any:
        from .net import check_status

        url = f"{self.api_url}/r/{'+'.join(self.subreddits)}/{LISTINGS[kind]}"
        for attempt in range(2):
            token = await self._access_token(session)
            headers = {"Authorization": f"bearer {token}"}
            async with session.get(
                url, params={"limit": "100", "raw_json": "1"}, headers=headers
            ) as response:
                if response.status == 401 and attempt == 0:
                    self._token = None  # expired early: fetch a new one once
                    continue
                await check_status(response, f"reddit {kind}")
                await _respect_rate_limit(response.headers)
                return await response.json(content_type=None)
        raise AuthError("reddit: the API refused a fresh access token")

    async def _access_token(self, session: Any) -> str:
        """An app-only OAuth token (client credentials grant), renewed a minute before it expires."""
        import aiohttp

        from .net import check_status

        if self._token and self._token.expires_at - 60 > time.monotonic():
            return self._token.value
        auth = aiohttp.BasicAuth(self.client_id, self.client_secret)
        url = f"{self.auth_url}/api/v1/access_token"
        async with session.post(url, data={"grant_type": "client_credentials"}, auth=auth) as response:
            if response.status == 401:
                raise AuthError(
                    "reddit: the client id or secret was refused (HTTP 401); check the app credentials"
                )
            await check_status(response, "reddit token")
            body = await response.json(content_type=None)
        if not isinstance(body, dict) or "access_token" not in body:
            reason = body.get("error") if isinstance(body, dict) else body
            raise AuthError(f"reddit: no access token granted ({reason}); check the app type and credentials")
        self._token = _Token(body["access_token"], time.monotonic() + float(body.get("expires_in", 3600)))
        return self._token.value


async def _respect_rate_limit(headers: Any) -> None:
    """Reddit says how many requests remain and when the window resets; wait out an empty budget."""
    try:
        remaining = float(headers.get("X-Ratelimit-Remaining", "1"))
        reset = float(headers.get("X-Ratelimit-Reset", "0"))
    except ValueError:
        return
    if remaining < 1 and reset > 0:
        log.warning("reddit: rate limit reached, waiting %.0fs", reset)
        await asyncio.sleep(reset)
