"""Prometheus /metrics for a running ingest command: the source's counters and Kafka's acknowledgements.

Read at scrape time from the same dataclasses the status line prints, so the two never disagree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .pipeline import IngestStats

SOURCE_HELP = {
    "received": "Payloads the source delivered",
    "sent": "Posts handed to the sink",
    "duplicates": "Posts dropped as already seen",
    "filtered": "Posts dropped by --keyword/--lang",
    "malformed": "Payloads that were not a valid post",
    "reposts": "Reposts, boosts and crossposts (counted, not sent)",
    "updates": "Edits at the source sent as update events",
    "deletes": "Deletions at the source sent as delete events",
    "edits_skipped": "Edits and deletions not forwarded (no --edits)",
    "reconnects": "Reconnects to the source",
    "rate_limited": "Times the source asked us to slow down",
}
KAFKA_COUNTERS = {
    "sent": ("kafka_acked", "Posts Kafka acknowledged"),
    "failed": ("kafka_failed", "Posts Kafka did not take"),
    "bytes": ("kafka_bytes", "Bytes of acknowledged posts"),
    "blocked": ("kafka_blocked", "Times a send gave up on a full in-flight buffer"),
}
KAFKA_GAUGES = {
    "in_flight": ("kafka_in_flight", "Posts sent, not yet acknowledged"),
    "in_flight_bytes": ("kafka_in_flight_bytes", "Bytes sent, not yet acknowledged"),
}


class IngestCollector:
    """One ingest process's figures, labelled by source."""

    def __init__(self, source: str, stats: IngestStats, sink: Any):
        self.source, self.stats, self.sink = source, stats, sink

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        for name, value in self.stats.as_dict().items():
            yield self._family(CounterMetricFamily, name, SOURCE_HELP.get(name, name), value)
        metrics = getattr(self.sink, "metrics", None)  # absent with --dry-run
        if metrics is None:
            return
        figures = metrics.as_dict()
        for kind, table in ((CounterMetricFamily, KAFKA_COUNTERS), (GaugeMetricFamily, KAFKA_GAUGES)):
            for field, (name, help_text) in table.items():
                yield self._family(kind, name, help_text, figures[field])

    def _family(self, kind: type, name: str, help_text: str, value: float) -> Any:
        family = kind(f"sentimon_ingest_{name}", help_text, labels=["source"])
        family.add_metric([self.source], value)
        return family


@contextmanager
def exported(port: int | None, source: str, stats: IngestStats, sink: Any) -> Iterator[None]:
    """Serve /metrics on `port` (all interfaces, for a Prometheus scraper) while the block runs."""
    if not port:
        yield
        return
    registry = CollectorRegistry()
    registry.register(IngestCollector(source, stats, sink))
    server, thread = start_http_server(port, addr="0.0.0.0", registry=registry)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
