"""Samples the running pipeline every half second: rows stored, consumer lag, worker memory and CPU."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.pipeline.workers import WorkerProc


@dataclass(frozen=True, slots=True)
class Sample:
    t: float
    stored: int
    lag: int | None
    rss_mb: tuple[float, ...]
    cpu_s: tuple[float, ...]


class Sampler(threading.Thread):
    """Keeps `samples` until stopped; a failed probe records None/0 instead of ending the run."""

    def __init__(
        self,
        stored: Callable[[], int],
        lag: Callable[[], int | None],
        workers: Sequence[WorkerProc],
        every_s: float = 0.5,
    ):
        super().__init__(name="bench-sampler", daemon=True)
        self.stored_fn, self.lag_fn, self.workers, self.every_s = stored, lag, workers, every_s
        self.samples: list[Sample] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append(self.take())
            self._halt.wait(self.every_s)

    def take(self) -> Sample:
        try:
            stored = self.stored_fn()
        except Exception:
            stored = self.samples[-1].stored if self.samples else 0
        try:
            lag = self.lag_fn()
        except Exception:
            lag = None
        return Sample(
            time.time(),
            stored,
            lag,
            tuple(w.rss_mb() for w in self.workers),
            tuple(w.cpu_s() for w in self.workers),
        )

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self.samples.append(self.take())

    @property
    def latest(self) -> Sample | None:
        return self.samples[-1] if self.samples else None


class GroupLag:
    """Messages in `topic` not yet committed by `group` (end offsets minus committed offsets)."""

    def __init__(self, bootstrap: str, topic: str, group: str):
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        self.group = group
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="sentimon-bench-lag")
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="sentimon-bench-lag")
        parts = self.consumer.partitions_for_topic(topic) or set()
        self.partitions = [TopicPartition(topic, p) for p in sorted(parts)]

    def __call__(self) -> int:
        ends = self.consumer.end_offsets(self.partitions)
        committed: dict[Any, Any] = self.admin.list_group_offsets(self.group).get(self.group, {})
        done = {tp: max(0, meta.offset) for tp, meta in committed.items()}
        return sum(max(0, end - done.get(tp, 0)) for tp, end in ends.items())

    def close(self) -> None:
        self.admin.close()
        self.consumer.close()
