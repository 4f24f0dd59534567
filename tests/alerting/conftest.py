"""Fixtures for the alerting tests: a migrated database (SQLite, and the real Postgres when available)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sentimon.storage import topics
from sentimon.storage.db import make_engine, migrate


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'alerts.db'}"
    else:
        try:
            url = request.getfixturevalue("pg_url")
        except pytest.FixtureLookupError:
            pytest.skip("the real-Postgres fixture pg_url is not available")
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def topic_id(engine: Engine) -> int:
    with engine.begin() as conn:
        return topics.create_topic(conn, f"acme-{uuid.uuid4().hex[:8]}", "acme", alert_config={})
