"""Migrations go up and down cleanly on SQLite and on the real Postgres, and match the tables."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

from sentimon.storage.db import current_revision, downgrade, make_engine, migrate
from sentimon.storage.tables import metadata


def _table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _up_down_up(url: str) -> None:
    migrate(url)
    assert _table_names(url) == set(metadata.tables)
    assert current_revision(url) is not None
    migrate(url)  # idempotent
    downgrade(url, "base")
    assert _table_names(url) == set()
    assert current_revision(url) is None
    migrate(url)
    assert _table_names(url) == set(metadata.tables)


def test_migrations_up_down_on_sqlite(tmp_path: Path) -> None:
    _up_down_up(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.integration
def test_migrations_up_down_on_postgres(pg_url: str) -> None:
    _up_down_up(pg_url)


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    """No table change without a migration: autogenerate finds nothing to do after upgrade."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'a.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_windows_stored_before_per_class_correction_terms_read_as_before(tmp_path: Path) -> None:
    """0006 gives old windows their one correction bound for every class, so their interval is the
    one they had."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url, "0005_edits")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO topics (id, name, rule, alert_config) VALUES (1, 't', 't', '{}')"))
            sums = "n, n_neg, n_neu, n_pos, sum_neg, sum_neu, sum_pos, acc_cv, pacc_cv"
            values = "5, 1, 2, 2, 1.0, 2.0, 2.0, 0.25, 0.5"
            into = f"INSERT INTO topic_windows (topic_id, window_start, {sums})"
            conn.execute(text(f"{into} VALUES (1, '2026-12-01', {values})"))
        migrate(url)
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT acc_cv_neu, acc_cv_pos, pacc_cv_neu, pacc_cv_pos FROM topic_windows")
            )
            assert tuple(row.one()) == (0.25, 0.25, 0.5, 0.5)
    finally:
        engine.dispose()
