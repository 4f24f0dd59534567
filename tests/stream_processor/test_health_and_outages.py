"""What a stage that keeps failing costs in log lines, and what /health says about it."""

from __future__ import annotations

import logging

import pytest

from stream_processor.logs import RepeatFilter
from stream_processor.metrics import Health
from stream_processor.outage import Outage


def test_an_outage_logs_once_when_it_starts_then_a_summary_then_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = Outage("commit", summary_every_s=3600)
    with caplog.at_level(logging.INFO, logger="stream_processor.outage"):
        for _ in range(2000):
            outage.failed(ConnectionError("refused"))
        assert len(caplog.records) == 1 and outage.attempts == 2000
        outage._next_summary = 0.0  # the summary interval has passed
        outage.failed(ConnectionError("refused"))
        outage.recovered()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and "still" in lines[1] and "2001 attempts" in lines[1]
    assert "works again" in lines[2] and not outage.active


def test_repeated_library_warnings_are_held_back_and_counted() -> None:
    keep = RepeatFilter(every_s=3600)

    def record(name: str, msg: str, level: int = logging.WARNING) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, ("x",), None)

    passed = [keep.filter(record("aiokafka.conn", "Unable connect to %s")) for _ in range(500)]
    assert passed.count(True) == 1
    assert keep.filter(record("aiokafka.conn", "another message %s"))
    assert all(keep.filter(record("stream_processor.embedded.runner", "dead letter: %s")) for _ in range(5))
    assert all(keep.filter(record("aiokafka.conn", "Unable connect to %s", logging.INFO)) for _ in range(5))
    keep.every_s = 0.0
    again = record("aiokafka.conn", "Unable connect to %s")
    assert keep.filter(again) and "499 more like it" in again.getMessage()


def test_health_goes_stalled_with_the_stage_that_retries_once_a_batch_waits_too_long() -> None:
    health = Health(stall_after_s=30)
    health.taken()
    assert health.status == "ok" and health.as_dict()["retrying"] == []
    health.stage("commit").failed(TimeoutError("database unavailable"))
    health._unacked[0] -= 31  # taken 31 s ago
    body = health.as_dict()
    assert body["status"] == "stalled" and not health.ok and body["oldest_unacked_s"] >= 31
    assert body["retrying"][0]["stage"] == "commit" and "database unavailable" in body["reason"]
    health.stage("commit").recovered()
    health.acked()
    assert health.status == "ok" and health.oldest_unacked_s() == 0.0


def test_health_goes_stalled_when_posts_wait_and_no_batch_completes() -> None:
    health = Health(stall_after_s=30)
    health.started_at -= 31
    assert health.status == "ok"  # idle with nothing to do is fine
    health.lag = 12
    assert health.status == "stalled" and "lag 12" in health.as_dict()["reason"]
    health.last_batch_at = health.started_at + 30
    assert health.status == "ok"
