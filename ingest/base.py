"""The adapter contract: what a source yields, and the errors that steer reconnects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from sentimon.schema import Post


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a source: a post, a malformed payload, a repost, or only a new position.

    A repost (boost, reblog, crosspost) is not a new opinion: it is counted, never sent.

    `cursor` is the JSON-able position *after* this event (None: unchanged). The runner
    persists it once every earlier post has been acknowledged, so a restart resumes here.
    """

    post: Post | None = None
    cursor: Any = None
    malformed: str | None = None
    filtered: bool = False
    repost: bool = False


class Source(Protocol):
    """A source of posts. `stream` is called again with the latest cursor after each reconnect."""

    name: str
    finite: bool

    def stream(self, cursor: Any) -> AsyncIterator[Event]: ...


class SourceError(Exception):
    """A problem a person must fix (bad credentials, bad URL): retrying will not help."""


class AuthError(SourceError):
    """The source refused our credentials."""


class BadURLError(SourceError):
    """The URL does not lead to the expected service."""


class TransientError(Exception):
    """A dropped connection or a server hiccup: reconnect after a backoff."""


class RateLimited(TransientError):
    """The source asked us to slow down; wait `retry_after` seconds before the next request."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class StreamIdle(TransientError):
    """Connected, but nothing arrived for too long: reconnect (not a sign of misconfiguration)."""
