"""Shared HTTP client plumbing for the polling and streaming sources (aiohttp)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from sentimon.retry import retry_after_seconds

from .base import AuthError, BadURLError, RateLimited, SourceError, TransientError

USER_AGENT = "sentimon-ingest/0.1 (+https://github.com/sentimon)"


def new_session(
    connect_timeout_s: float = 10.0,
    read_timeout_s: float | None = 30.0,
    headers: dict[str, str] | None = None,
) -> aiohttp.ClientSession:
    """A session with bounded connect/read timeouts (a silent server must not hang us forever)."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s)
    return aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT, **(headers or {})})


async def check_status(response: aiohttp.ClientResponse, what: str) -> None:
    """Turn an HTTP error status into the error that tells the runner (and the person) what to do."""
    status = response.status
    if status < 400:
        return
    snippet = (await response.text(errors="replace"))[:200].strip()
    detail = f"{what}: HTTP {status} {response.reason or ''} from {response.url}" + (
        f": {snippet}" if snippet else ""
    )
    if status == 429 or (status == 503 and "Retry-After" in response.headers):
        raise RateLimited(detail, retry_after_seconds(response.headers.get("Retry-After")))
    if status in (401, 403):
        raise AuthError(detail + " (check the credentials or token)")
    if status in (404, 405, 410):
        raise BadURLError(detail + " (check the URL)")
    if status >= 500 or status == 408:
        raise TransientError(detail)
    raise SourceError(detail)


@asynccontextmanager
async def network_errors(what: str) -> AsyncIterator[None]:
    """Map aiohttp failures to TransientError (reconnect) and malformed URLs to BadURLError."""
    try:
        yield
    except aiohttp.InvalidURL as exc:
        raise BadURLError(f"{what}: invalid URL {exc}") from None
    except aiohttp.ClientConnectorError as exc:
        raise TransientError(f"{what}: cannot connect to {exc.host}:{exc.port}: {exc.os_error}") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{what}: {type(exc).__name__} {exc}") from None


async def get_json(session: aiohttp.ClientSession, url: str, what: str, **kwargs: Any) -> Any:
    """GET a JSON document; error statuses become the errors check_status names."""
    async with network_errors(what), session.get(url, **kwargs) as response:
        await check_status(response, what)
        try:
            return await response.json(content_type=None)
        except ValueError as exc:
            raise BadURLError(f"{what}: {url} did not return JSON ({exc})") from None
