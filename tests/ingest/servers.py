"""Local fake servers on 127.0.0.1 speaking each source's real protocol, fed recorded-style fixtures."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

DATA = Path(__file__).parent / "data"


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text())


@asynccontextmanager
async def serve(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """Run an aiohttp app on loopback (a free port unless given) in the current loop; yields its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def drop(request: web.Request) -> None:
    """Cut the TCP connection without a goodbye, as a crashing server or a network fault does."""
    if request.transport is not None:
        request.transport.close()


@dataclass
class Jetstream:
    """GET /subscribe (websocket): filters by wantedCollections and resumes from `cursor` like Jetstream."""

    lines: list[str] = field(
        default_factory=lambda: (DATA / "jetstream_events.jsonl").read_text().splitlines()
    )
    drop_after: list[int | None] = field(default_factory=list)  # per connection: messages before a drop
    connections: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/subscribe", self.subscribe)
        return app

    def selected(self, wanted: list[str], cursor: int | None) -> list[str]:
        out = []
        for line in self.lines:
            event = json.loads(line)
            time_us = event.get("time_us")
            if cursor is not None and (not isinstance(time_us, int) or time_us < cursor):
                continue
            collection = (event.get("commit") or {}).get("collection")
            if event.get("kind") == "commit" and wanted and collection not in wanted:
                continue
            out.append(line)
        return out

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        cursor = request.query.get("cursor")
        if cursor is not None and not cursor.isdigit():
            return web.Response(status=400, text="invalid cursor")
        number = len(self.connections)
        self.connections.append({**request.query, "cursor": int(cursor) if cursor else None})
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        limit = self.drop_after[number] if number < len(self.drop_after) else None
        for sent, line in enumerate(
            self.selected(request.query.getall("wantedCollections", []), self.connections[-1]["cursor"])
        ):
            if limit is not None and sent >= limit:
                drop(request)
                return ws
            await ws.send_str(line)
        async for message in ws:  # stay open, as the firehose does, until the client leaves
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        return ws


@dataclass
class Mastodon:
    """The streaming API (SSE with heartbeats) and the REST timelines, with bearer-token auth.

    `stream_plan[n]` lists the status indexes the n-th streaming connection sends before it drops
    (None after the last index: stay open). The REST timeline serves every status (min_id paging).
    """

    token: str = "tok-123"
    statuses: list[dict[str, Any]] = field(default_factory=lambda: load_json("mastodon_statuses.json"))
    stream_plan: list[tuple[list[int], bool]] = field(default_factory=list)  # (indexes, drop afterwards)
    stream_requests: list[dict[str, str]] = field(default_factory=list)
    timeline_requests: list[dict[str, str]] = field(default_factory=list)
    extra_frames: list[str] = field(default_factory=list)  # raw SSE frames sent first on each connection
    later_frames: list[str] = field(default_factory=list)  # raw SSE frames sent after the statuses

    def app(self) -> web.Application:
        app = web.Application()
        for path in ("public", "public/local", "hashtag", "hashtag/local"):
            app.router.add_get(f"/api/v1/streaming/{path}", self.stream)
        app.router.add_get("/api/v1/timelines/public", self.timeline)
        app.router.add_get("/api/v1/timelines/tag/{tag}", self.timeline)
        return app

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def stream(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "The access token is invalid"}, status=401)
        if request.path.startswith("/api/v1/streaming/hashtag") and not request.query.get("tag"):
            return web.json_response({"error": "No tag for stream provided"}, status=400)
        number = len(self.stream_requests)
        self.stream_requests.append(dict(request.query))
        indexes, then_drop = self.stream_plan[number] if number < len(self.stream_plan) else ([], False)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        await response.write(b":)\n")
        for frame in self.extra_frames:
            await response.write(frame.encode())
        for index in indexes:
            data = json.dumps(self.statuses[index])
            await response.write(f"event: update\ndata: {data}\n\n".encode())
            await response.write(b":thump\n")
        for frame in self.later_frames:
            await response.write(frame.encode())
        if then_drop:
            drop(request)
            return response
        while True:  # heartbeats until the client goes away
            await asyncio.sleep(0.2)
            await response.write(b":thump\n")

    async def timeline(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "The access token is invalid"}, status=401)
        self.timeline_requests.append(dict(request.query))
        min_id = int(request.query.get("min_id", "0"))
        limit = int(request.query.get("limit", "20"))
        newer = sorted((s for s in self.statuses if int(s["id"]) > min_id), key=lambda s: int(s["id"]))
        return web.json_response(list(reversed(newer[:limit])))  # Mastodon lists newest first


@dataclass
class Reddit:
    """OAuth token endpoint (client credentials, HTTP basic) and the subreddit listings."""

    client_id: str = "app-id"
    client_secret: str = "app-secret"
    listings: dict[str, Any] = field(
        default_factory=lambda: {
            "new": load_json("reddit_new.json"),
            "comments": load_json("reddit_comments.json"),
        }
    )
    later: dict[str, Any] = field(default_factory=dict)  # what a listing shows once it was served once
    rate_limited: int = 0  # answer this many listing requests with 429 first
    retry_after: str = "1"
    token_requests: int = 0
    listing_requests: list[tuple[float, str, int]] = field(default_factory=list)  # (time, listing, status)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v1/access_token", self.token)
        app.router.add_get("/r/{subs}/{listing}", self.listing)
        return app

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"})
        return web.json_response(
            {"access_token": "reddit-token", "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    async def listing(self, request: web.Request) -> web.Response:
        loop_time = asyncio.get_running_loop().time()
        name = request.match_info["listing"]
        if request.headers.get("Authorization", "").lower() != "bearer reddit-token":
            self.listing_requests.append((loop_time, name, 401))
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        if self.rate_limited > 0:
            self.rate_limited -= 1
            self.listing_requests.append((loop_time, name, 429))
            return web.json_response(
                {"message": "Too Many Requests", "error": 429},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        self.listing_requests.append((loop_time, name, 200))
        if name not in self.listings:
            return web.json_response({"message": "Not Found", "error": 404}, status=404)
        headers = {"X-Ratelimit-Used": "1", "X-Ratelimit-Remaining": "99.0", "X-Ratelimit-Reset": "300"}
        served = sum(1 for _, n, status in self.listing_requests if n == name and status == 200)
        listing = self.later[name] if served > 1 and name in self.later else self.listings[name]
        return web.json_response(listing, headers=headers)


@dataclass
class HackerNews:
    """The Firebase-style API: /v0/maxitem.json and /v0/item/<id>.json (null for unknown ids)."""

    items: dict[str, Any] = field(default_factory=lambda: load_json("hn_items.json"))
    max_item: int = 41500010
    fail_requests: set[int] = field(
        default_factory=set
    )  # request numbers answered by dropping the connection
    requests: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)  # items that change after the first updates.json
    updates_served: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v0/updates.json", self.updates)
        app.router.add_get("/v0/maxitem.json", self.maxitem)
        app.router.add_get("/v0/item/{id}.json", self.item)
        return app

    def _fails(self, request: web.Request) -> bool:
        self.requests.append(request.path)
        return len(self.requests) in self.fail_requests

    async def maxitem(self, request: web.Request) -> web.Response:
        if self._fails(request):
            return web.json_response({"error": "internal error"}, status=500)
        return web.json_response(self.max_item)

    async def updates(self, request: web.Request) -> web.Response:
        """Recently changed items: none at first, then `changes` (applied to the items)."""
        self.updates_served += 1
        if self.updates_served == 2:
            self.items.update(self.changes)
        changed = [int(i) for i in self.changes] if self.updates_served >= 2 else []
        return web.json_response({"items": changed, "profiles": []})

    async def item(self, request: web.Request) -> web.Response:
        if self._fails(request):
            return web.json_response({"error": "internal error"}, status=500)
        return web.json_response(self.items.get(request.match_info["id"]))


@dataclass
class Feeds:
    """Feeds with ETag/Last-Modified (304 when unchanged), a missing one and an HTML page."""

    bodies: dict[str, bytes] = field(
        default_factory=lambda: {
            "/feed.xml": (DATA / "feed.rss").read_bytes(),
            "/atom.xml": (DATA / "feed.atom").read_bytes(),
        }
    )
    version: int = 1
    etags: bool = True  # False: only Last-Modified, as many simple servers do
    log: list[tuple[str, int]] = field(default_factory=list)  # (path, status)
    answers: asyncio.Queue[tuple[str, int]] | None = None  # the same, to await in tests

    def app(self) -> web.Application:
        self.answers = asyncio.Queue()
        app = web.Application()
        app.router.add_get("/page.html", self.page)
        app.router.add_get("/{name}", self.feed)
        return app

    def _answer(self, path: str, status: int) -> None:
        self.log.append((path, status))
        if self.answers is not None:
            self.answers.put_nowait((path, status))

    async def wait_for(self, path: str, status: int, count: int = 1) -> None:
        """Wait until the server has given `count` more answers of this status for this path."""
        assert self.answers is not None
        while count > 0:
            if await self.answers.get() == (path, status):
                count -= 1

    async def feed(self, request: web.Request) -> web.Response:
        body = self.bodies.get(request.path)
        if body is None:
            self._answer(request.path, 404)
            return web.Response(status=404, text="Not Found")
        etag = f'"v{self.version}-{len(body)}"'
        modified = f"Tue, 10 Sep 2024 12:{self.version:02d}:00 GMT"
        validators = {"ETag": etag, "Last-Modified": modified} if self.etags else {"Last-Modified": modified}
        if_none_match, if_modified = (
            request.headers.get("If-None-Match"),
            request.headers.get("If-Modified-Since"),
        )
        if if_none_match == etag or (if_none_match is None and if_modified == modified):
            self._answer(request.path, 304)
            return web.Response(status=304, headers=validators)
        self._answer(request.path, 200)
        content_type = "application/atom+xml" if b"<feed" in body[:200] else "application/rss+xml"
        if body.lstrip().startswith(b"{"):
            content_type = "application/feed+json"
        return web.Response(body=body, headers={**validators, "Content-Type": content_type})

    async def page(self, request: web.Request) -> web.Response:
        self._answer(request.path, 200)
        return web.Response(
            text="<html><body><h1>Welcome</h1><p>Not a feed.</p></body></html>", content_type="text/html"
        )
