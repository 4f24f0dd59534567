"""Where ingest hands posts: the `PostProducer` contract of the Kafka producer and the embedded queue."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, runtime_checkable

from sentimon.schema import Post


class ProducerError(RuntimeError):
    """The producer cannot take posts (Kafka down, buffer full for too long)."""


class ProducerUnavailable(ProducerError):
    """The producer could not reach its destination at all."""


class ProducerBlocked(ProducerError):
    """The in-flight buffer stayed full past the timeout: Kafka is slow or down."""


@runtime_checkable
class PostProducer(Protocol):
    """Takes posts; `send` returns a future that completes once the post is safely stored."""

    def send(self, post: Post) -> Future[None]: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


class AckingProducer:
    """Marker base: `send` already returns a delivery future (the Kafka producer)."""


def done_future(exc: BaseException | None = None) -> Future[None]:
    future: Future[None] = Future()
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
    return future


class CallableProducer:
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


def as_producer(target: Any) -> PostProducer:
    """The given producer as is when it already acknowledges; otherwise wrapped as a CallableProducer."""
    if isinstance(target, AckingProducer | CallableProducer):
        # The marker base declares no `send`; its subclasses (the Kafka producer) define one.
        return target  # type: ignore[return-value]
    if callable(target) or callable(getattr(target, "send", None)):
        return CallableProducer(target)
    raise TypeError(f"a post producer needs send(post) or to be callable, got {type(target).__name__}")
