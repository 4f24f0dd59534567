"""The model registry queries: register, promote (one live at a time), retraining requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sentimon.storage import models
from sentimon.storage.db import make_engine, migrate


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'models.db'}"
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_promote_keeps_exactly_one_live_version(engine: Engine) -> None:
    with engine.begin() as conn:
        models.register_version(conn, "v1", "model/v1", {"avg_recall": 0.61})
        models.register_version(conn, "v2", "model/v2", {"avg_recall": 0.64})
        assert models.live_version(conn) is None
        models.promote(conn, "v1")
        models.promote(conn, "v2")
        live = models.live_version(conn)
        statuses = {v.version: v.status for v in models.list_versions(conn)}
    assert live is not None and live.version == "v2" and live.promoted_at is not None
    assert statuses == {"v1": "retired", "v2": "live"}
    assert live.metrics == {"avg_recall": 0.64}


def test_promote_refuses_unknown_versions_and_statuses(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="no model version"):
        models.promote(conn, "nope")
    with engine.begin() as conn, pytest.raises(ValueError, match="status must be one of"):
        models.register_version(conn, "v9", "p", status="shiny")


def test_retrain_requests_are_kept_apart_from_versions(engine: Engine) -> None:
    with engine.begin() as conn:
        models.register_version(conn, "v1", "model/v1")
        request = models.request_retrain(conn, "ana", "after the launch labels")
        assert [r.version for r in models.pending_requests(conn)] == [request]
        assert [v.version for v in models.list_versions(conn)] == ["v1"]
        models.set_status(conn, request, "done", note="produced v2")
        assert models.pending_requests(conn) == []
        history = models.retrain_history(conn)
    assert [(h.version, h.status, h.note) for h in history] == [(request, "done", "produced v2")]
    assert history[0].is_request and history[0].metrics == {"requested_by": "ana"}
