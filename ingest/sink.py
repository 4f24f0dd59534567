"""Where posts go: the `Sink` contract shared by the Kafka producer and the embedded in-process queue."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, runtime_checkable

from sentimon.schema import Post


class SinkError(RuntimeError):
    """The sink cannot take posts (Kafka down, buffer full for too long)."""


class SinkUnavailable(SinkError):
    """The sink could not be reached at all."""


class SinkBlocked(SinkError):
    """The in-flight buffer stayed full past the timeout: Kafka is slow or down."""


@runtime_checkable
class Sink(Protocol):
    """Takes posts; `send` returns a future that completes once the post is safely stored."""

    def send(self, post: Post) -> Future[None]: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


class AckingSink:
    """Marker base: `send` already returns a delivery future (the Kafka producer)."""


def done_future(exc: BaseException | None = None) -> Future[None]:
    future: Future[None] = Future()
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
    return future


class CallableSink:
    """Adapts a plain callable or any object with `send(post)` (e.g. the embedded queue's put).

    The call itself is the acknowledgement: when it returns, the post is handed over.
    """

    def __init__(self, target: Callable[[Post], Any] | Any):
        self._call: Callable[[Post], Any] = target if callable(target) else target.send
        self._target = target

    def send(self, post: Post) -> Future[None]:
        result = self._call(post)
        return result if isinstance(result, Future) else done_future()

    def flush(self, timeout: float | None = None) -> None:
        flush = getattr(self._target, "flush", None)
        if callable(flush):
            flush()

    def close(self, timeout: float | None = None) -> None:
        return None


def as_sink(target: Any) -> Sink:
    """The given sink as is when it already acknowledges; otherwise wrapped as a CallableSink."""
    if isinstance(target, AckingSink | CallableSink):
        return target  # type: ignore[return-value]
    if callable(target) or callable(getattr(target, "send", None)):
        return CallableSink(target)
    raise TypeError(f"a sink needs send(post) or to be callable, got {type(target).__name__}")
