"""The ingest /metrics page reads the live counters at scrape time; without Kafka it shows no Kafka lines."""

from __future__ import annotations

import httpx
import pytest

from infra.procs import free_port
from ingest.metrics import exported
from ingest.pipeline import IngestStats
from ingest.post_producer import CallableProducer


def test_the_page_follows_the_counters_and_closes_with_the_block() -> None:
    stats, port = IngestStats(), free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with exported(port, "file", stats, CallableProducer(lambda post: None)):
        stats.received, stats.duplicates = 5, 2
        page = httpx.get(url).text
        assert 'sentimon_ingest_received_total{source="file"} 5.0' in page
        assert 'sentimon_ingest_duplicates_total{source="file"} 2.0' in page
        assert "kafka" not in page  # --dry-run: no producer, so nothing claims Kafka acked anything
        stats.received = 9
        assert 'sentimon_ingest_received_total{source="file"} 9.0' in httpx.get(url).text
    with pytest.raises(httpx.TransportError):  # the server does not outlive its command
        httpx.get(url, timeout=2)
