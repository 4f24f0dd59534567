"""Hot swap of the classifier in a running worker: notice a promoted model, load it beside the old one
in a background thread, switch between batches, refuse a broken one and keep serving the old."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream_processor.classifier import INFERENCE_BATCH, PostClassifier, Prediction

log = logging.getLogger(__name__)
DEFAULT_POLL_S = 5.0


@dataclass(frozen=True)
class LiveModel:
    """What the registry says workers should serve."""

    version: str
    path: str


Lookup = Callable[[], LiveModel | None]
Loader = Callable[[str], PostClassifier]


@dataclass
class ModelHolder:
    """Owns the classifier in use and at most one loaded successor.

    ``check()`` (the background thread, or a test) loads a newly promoted model while batches keep
    running on the old one; ``current()``, called once per batch, swaps the successor in. A batch
    therefore runs entirely on one model, and nothing is dropped or scored twice by a switch."""

    initial: PostClassifier
    lookup: Lookup
    loader: Loader
    poll_s: float = DEFAULT_POLL_S
    on_swap: list[Callable[[str, str], None]] = field(default_factory=list)
    on_refuse: list[Callable[[str, str], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._current = self.initial
        self._pending: PostClassifier | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.refused: dict[str, tuple[Any, str]] = {}  # version → (file stamp, reason)

    @property
    def version(self) -> str:
        return str(self._current.version)

    def peek(self) -> PostClassifier:
        """The model in use, without swapping (for health pages)."""
        return self._current

    def current(self) -> PostClassifier:
        """The model for the next batch: a loaded successor replaces the old one here, and only here."""
        with self._lock:
            pending, self._pending = self._pending, None
            if pending is None:
                return self._current
            old, self._current = self._current, pending
        log.info("model swapped between batches: %s → %s", old.version, pending.version)
        for callback in self.on_swap:
            _safe(callback, str(old.version), str(pending.version))
        return pending

    def check(self) -> str:
        """One look at the registry; returns what happened (for logs and tests)."""
        try:
            live = self.lookup()
        except Exception as exc:  # the database may be away: keep serving what we have
            log.debug("could not read the live model version: %s", exc)
            return "lookup failed"
        with self._lock:
            target = self._pending or self._current
            if live is None or live.version == str(self._current.version):
                self._pending = None  # e.g. a promotion undone before the swap happened
                return "up to date"
            if live.version == str(target.version):
                return "already loaded"
        stamp = _stamp(live.path)
        if live.version in self.refused and self.refused[live.version][0] == stamp:
            return "refused before"
        return self._load(live, stamp)

    def _load(self, live: LiveModel, stamp: Any) -> str:
        log.info("loading model %s from %s beside %s", live.version, live.path, self.version)
        try:
            model = self.loader(live.path)
            if str(model.version) != live.version:
                raise ValueError(f"{live.path} holds {model.version}, the registry says {live.version}")
        except Exception as exc:  # ModelError above all: a broken model must never replace a working one
            reason = f"{type(exc).__name__}: {exc}"
            self.refused[live.version] = (stamp, reason)
            log.error("refused model %s, keeping %s: %s", live.version, self.version, reason)
            for callback in self.on_refuse:
                _safe(callback, live.version, reason)
            return "refused"
        with self._lock:
            self._pending = model
        return "loaded"

    def wake(self) -> None:
        """Check now (a Redis message said a model was promoted)."""
        self._wake.set()

    def start(self) -> ModelHolder:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="model-hotswap", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            if not self.stopping.is_set():
                self.check()


class SwappingClassifier:
    """The classifier the processor holds: each ``classify`` call (one per batch) takes the holder's
    current model once, and ``version`` then names the model that scored this thread's last batch."""

    def __init__(self, holder: ModelHolder) -> None:
        self.holder = holder
        self._local = threading.local()

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        model = self.holder.current()
        self._local.model = model
        return model.classify(texts)

    @property
    def version(self) -> str:
        model = getattr(self._local, "model", None) or self.holder.peek()
        return str(model.version)

    @property
    def quantification(self) -> dict | None:
        """The correction statistics of the model that scored this thread's last batch."""
        model = getattr(self._local, "model", None) or self.holder.peek()
        return getattr(model, "quantification", None)


def _stamp(path: str) -> Any:
    """Sizes and mtimes of a model folder's files: a refused model is retried once its files change."""
    folder = Path(path)
    try:
        return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()))
    except OSError:
        return None


def _safe(callback: Callable[..., object], *args: object) -> None:
    try:
        callback(*args)
    except Exception:
        log.exception("hot-swap callback %s failed", getattr(callback, "__name__", callback))


@dataclass
class HotSwap:
    """What a runner needs: the classifier to hand its processor, the holder, and a way to stop."""

    holder: ModelHolder
    classifier: SwappingClassifier
    listener: threading.Thread | None = None

    def follow(self, health: Any) -> None:
        """Keep a runner's health record (model_version, notes) in step with swaps and refusals."""
        self.holder.on_swap.append(lambda _old, new: setattr(health, "model_version", new))
        self.holder.on_refuse.append(
            lambda version, why: health.notes.append(f"refused model {version}: {why}")
        )

    def stop(self) -> None:
        self.holder.stop()


def start_hot_swap(
    settings: Any, engine: Any, initial: PostClassifier | None = None, poll_s: float | None = None
) -> HotSwap:
    """Serve the registry's live model (else ``initial``, else settings.model_path), poll
    model_versions every few seconds, and wake on Redis messages when Redis is configured."""
    from model.inference import load

    threads = getattr(settings, "torch_threads", None)

    def loader(path: str) -> PostClassifier:
        return load(path, threads=threads, batch_size=INFERENCE_BATCH)

    lookup = _db_lookup(engine)
    record = _db_recorder(engine)
    poll = poll_s or float(getattr(settings, "model_poll_s", DEFAULT_POLL_S))
    refused: dict[str, tuple[Any, str]] = {}
    model = initial or _first_model(lookup, loader, record, settings, refused)
    holder = ModelHolder(model, lookup, loader, poll, on_refuse=[record])
    holder.refused.update(refused)
    holder.check()  # a promotion that happened while we were loading is picked up at once
    listener = _redis_listener(settings.redis_url, holder) if getattr(settings, "redis_url", None) else None
    holder.start()
    return HotSwap(holder, SwappingClassifier(holder), listener)


def _first_model(
    lookup: Lookup,
    loader: Loader,
    record: Callable[[str, str], None],
    settings: Any,
    refused: dict[str, tuple[Any, str]],
) -> PostClassifier:
    """The registry's live model, else the configured one (a live model that does not load is refused)."""
    try:
        live = lookup()
    except Exception as exc:
        log.warning("could not read the live model version, starting from the configured model: %s", exc)
        live = None
    if live is not None:
        try:
            return loader(live.path)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.error(
                "live model %s does not load, starting from the configured model: %s", live.version, reason
            )
            refused[live.version] = (_stamp(live.path), reason)
            record(live.version, reason)
    from stream_processor.classifier import load_classifier

    return load_classifier(settings.model_path)


def _db_lookup(engine: Any) -> Lookup:
    def lookup() -> LiveModel | None:
        from sentimon.storage import models

        with engine.connect() as conn:
            live = models.live_version(conn)
        return LiveModel(live.version, live.path) if live else None

    return lookup


def _db_recorder(engine: Any) -> Callable[[str, str], None]:
    where = f"{socket.gethostname()}:{os.getpid()}"

    def record(version: str, reason: str) -> None:
        from sentimon.storage import models

        with engine.begin() as conn:
            models.add_note(conn, version, f"refused by worker {where}: {reason}"[:1000])

    return record


def _redis_listener(redis_url: str, holder: ModelHolder) -> threading.Thread:
    """Subscribe to the model channel; every message wakes the holder (the database stays the truth)."""

    def listen() -> None:
        import redis

        from sentimon.storage.redis_keys import MODEL_CHANNEL

        delay = 1.0
        while not holder.stopping.is_set():
            try:
                with redis.Redis.from_url(redis_url, socket_connect_timeout=5) as client:
                    pubsub = client.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(MODEL_CHANNEL)
                    holder.wake()  # catch a promotion published while we were not listening
                    delay = 1.0
                    while not holder.stopping.is_set():
                        if pubsub.get_message(timeout=1.0):
                            holder.wake()
            except redis.RedisError as exc:
                log.debug("model channel unavailable, retrying in %.0fs: %s", delay, exc)
                holder.stopping.wait(delay)
                delay = min(delay * 2, 30.0)

    thread = threading.Thread(target=listen, name="model-channel", daemon=True)
    thread.start()
    return thread
