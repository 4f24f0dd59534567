"""An HTTP endpoint (aiohttp) taking one post or a batch as JSON; answers 202 once Kafka has them."""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from sentimon.schema import Post, PostError

from .pipeline import Deduper, IngestStats
from .post_producer import PostProducer, ProducerError, as_producer
from .text import make_post

log = logging.getLogger(__name__)
MiB = 1024 * 1024


@dataclass(slots=True)
class EndpointConfig:
    token: str
    max_body_bytes: int = 4 * MiB
    max_batch: int = 1_000
    ack_timeout_s: float = 30.0
    default_source: str = "http"
    stats: IngestStats = field(default_factory=IngestStats)


class BadRequest(Exception):
    def __init__(self, status: int, reason: str, problems: list[dict[str, Any]] | None = None):
        super().__init__(reason)
        self.status, self.reason, self.problems = status, reason, problems


def parse_batch(body: bytes, config: EndpointConfig) -> list[Post]:
    """One post, a JSON array of posts, or {"posts": [...]}; all valid or none taken (422 names each).

    A text over the schema's limit is truncated (metadata `truncated: true`), not refused."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            400, f"body is not valid UTF-8 (byte {exc.start}: {exc.reason}); send UTF-8 JSON"
        ) from None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(400, f"body is not JSON: {exc}") from None
    items = data.get("posts") if isinstance(data, dict) and "posts" in data else data
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list):
        raise BadRequest(400, 'expected a post object, a JSON array of posts, or {"posts": [...]}')
    if not items:
        raise BadRequest(400, "the batch is empty")
    if len(items) > config.max_batch:
        raise BadRequest(413, f"batch of {len(items)} posts is over the limit of {config.max_batch}")
    posts, problems = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append({"index": index, "reason": f"expected an object, got {type(item).__name__}"})
            continue
        try:
            posts.append(make_post({"source": config.default_source, **item}))
        except PostError as exc:
            problems.append({"index": index, "reason": exc.reason})
    if problems:
        raise BadRequest(
            422, f"{len(problems)} of {len(items)} posts are invalid; none were accepted", problems
        )
    return posts


def authorized(header: str | None, token: str) -> bool:
    """A bearer header carrying the token; an empty token opens nothing (never a silent open door)."""
    if not token:
        return False
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _error(
    status: int,
    reason: str,
    problems: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"error": reason}
    if problems:
        body["problems"] = problems
    return web.json_response(body, status=status, headers=headers or None)


_SINK: web.AppKey[PostProducer] = web.AppKey("sink")
_CONFIG = web.AppKey("config", EndpointConfig)
_DEDUPER = web.AppKey("deduper", Deduper)


def make_app(sink: Any, config: EndpointConfig) -> web.Application:
    """The endpoint: POST /v1/posts, GET /healthz, GET /v1/stats."""
    app = web.Application(client_max_size=config.max_body_bytes)
    app[_SINK], app[_CONFIG], app[_DEDUPER] = as_producer(sink), config, Deduper(capacity=100_000)
    app.router.add_post("/v1/posts", post_posts)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/stats", stats)
    return app


async def post_posts(request: web.Request) -> web.Response:
    """Validate, dedupe and produce; 202 only once the sink acknowledged every new post."""
    config, deduper = request.app[_CONFIG], request.app[_DEDUPER]
    refused = _check_request(request, config)
    if refused is not None:
        return refused
    try:
        posts = parse_batch(await request.read(), config)
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"body is over the limit of {config.max_body_bytes} bytes")
    except BadRequest as exc:
        config.stats.malformed += len(exc.problems) if exc.problems else 1
        return _error(exc.status, exc.reason, exc.problems)
    fresh = _fresh(posts, deduper)
    config.stats.received += len(posts)
    config.stats.duplicates += len(posts) - len(fresh)
    try:
        await _deliver(request.app[_SINK], fresh, config.ack_timeout_s)
    except (ProducerError, TimeoutError) as exc:
        log.error("http: %d posts not stored: %s", len(fresh), str(exc) or "timed out")
        reason = str(exc) or "Kafka did not acknowledge in time"
        return _error(503, f"posts not stored, retry later: {reason}", headers={"Retry-After": "5"})
    for post in fresh:
        deduper.add(post.key)  # only once stored, so a retried batch is not dropped as a duplicate
    config.stats.sent += len(fresh)
    return web.json_response({"accepted": len(fresh), "duplicates": len(posts) - len(fresh)}, status=202)


def _check_request(request: web.Request, config: EndpointConfig) -> web.Response | None:
    """401/415/413 before reading the body; None when the request may go on."""
    if not authorized(request.headers.get("Authorization"), config.token):
        challenge = {"WWW-Authenticate": 'Bearer realm="sentimon"'}
        return _error(401, "missing or wrong bearer token", headers=challenge)
    if request.content_type != "application/json":
        return _error(415, f"Content-Type must be application/json, got {request.content_type or 'none'}")
    if (request.content_length or 0) > config.max_body_bytes:
        return _error(413, f"body of {request.content_length} bytes is over {config.max_body_bytes}")
    return None


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def stats(request: web.Request) -> web.Response:
    config = request.app[_CONFIG]
    if not authorized(request.headers.get("Authorization"), config.token):
        return _error(401, "missing or wrong bearer token")
    return web.json_response(config.stats.as_dict())


def _fresh(posts: list[Post], deduper: Deduper) -> list[Post]:
    """Posts not stored recently, once each (a batch may repeat a post)."""
    seen: set[str] = set()
    fresh = []
    for post in posts:
        if post.key not in deduper and post.key not in seen:
            seen.add(post.key)
            fresh.append(post)
    return fresh


async def _deliver(sink: PostProducer, posts: list[Post], timeout: float) -> None:
    """Hand the posts to the sink (in a thread: it may block for back-pressure) and await every ack."""
    if not posts:
        return
    futures = await asyncio.to_thread(lambda: [sink.send(post) for post in posts])
    await asyncio.wait_for(asyncio.gather(*(asyncio.wrap_future(f) for f in futures)), timeout)


async def serve(
    sink: Any, config: EndpointConfig, host: str, port: int, stop: asyncio.Event | None = None
) -> None:
    """Run the endpoint until `stop` is set (by default: until SIGINT or SIGTERM)."""
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    runner = web.AppRunner(make_app(sink, config), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("http: accepting posts on http://%s:%d/v1/posts", host, port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
