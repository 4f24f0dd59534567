"""Scheduled retraining on real Postgres: the dashboard's request is handled, then a run falls due."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from retraining.retrain import Outcome, RetrainOptions
from retraining.schedule import run_scheduled
from sentimon.settings import get_settings
from sentimon.storage import labels, models
from sentimon.storage.db import make_engine
from tests.helpers import wait_until
from tests.retrain.tiny import BASE, SLANG, texts, write_labels_csv

pytestmark = pytest.mark.slow


def test_requests_and_due_runs_are_picked_up_by_the_scheduled_loop(
    pg_url, sentimon_env, invoke, base_data: Path, tmp_path: Path
) -> None:
    sentimon_env(pg_url)
    invoke("labels", "import", write_labels_csv(tmp_path / "l.csv", texts(90, SLANG, 7) + texts(30, BASE, 8)))
    assert "0 retraining request(s) handled" in invoke("retrain", "--pending").output
    engine = make_engine(pg_url)
    with engine.begin() as conn:  # exactly what the dashboard's "Request retraining now" button does
        request = models.request_retrain(conn, "ana", "new slang this week")
    options = RetrainOptions(min_new_labels=10, base_data=base_data, threads=1)
    outcomes: list[Outcome] = []
    stop = threading.Event()
    loop = threading.Thread(
        target=run_scheduled,
        args=(get_settings(), options, 3600.0, engine, stop),
        kwargs={"poll_s": 0.2, "say": lambda _m: None, "on_outcome": outcomes.append},
        daemon=True,
    )
    loop.start()
    try:
        wait_until(lambda: outcomes, timeout=180, message="the request to be handled")
        first = outcomes[0]
        assert _status(engine, request) == "done"
        assert first.status == "promoted"
        with engine.begin() as conn:  # fewer new labels than --min-new-labels: not due
            for i, (text, label) in enumerate(texts(6, SLANG, 20)):
                labels.add_label(conn, "bsky", f"late{i}", text, label, "bo")
        with engine.begin() as conn:
            for i, (text, label) in enumerate(texts(6, SLANG, 21)):
                labels.add_label(conn, "bsky", f"later{i}", text, label, "bo")
        wait_until(lambda: len(outcomes) == 2, timeout=180, message="a scheduled run once 12 labels wait")
    finally:
        stop.set()
        loop.join(timeout=60)
    with engine.connect() as conn:
        history = models.retrain_history(conn)
        live = models.live_version(conn)
        waiting = labels.waiting_count(conn)
        last = models.last_retrain_at(conn)
    assert [(h.version, h.status) for h in history] == [(request, "done")]
    assert history[0].note.startswith(f"promoted: {first.version}")
    assert outcomes[1].status in ("promoted", "kept") and outcomes[1].parent == first.version
    assert live.version == (outcomes[1].version if outcomes[1].status == "promoted" else first.version)
    assert waiting == 0 and last is not None and len(outcomes) == 2  # not run again within the hour
    engine.dispose()


def _status(engine, request: str) -> str | None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        found = models.get_version(conn, request)
    return found.status if found else None
