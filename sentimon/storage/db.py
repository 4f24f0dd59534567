"""Engines and migrations: one way to connect and one way to bring a database to the schema."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, create_engine, event

from sentimon.schema import as_utc

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine tuned per backend: WAL and foreign keys on SQLite, pre-ping on servers."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (idempotent)."""
    if url.startswith("sqlite"):
        make_engine(url).dispose()  # creates the folder of a SQLite file
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def utc(value: datetime | None) -> datetime | None:
    """Timestamps as aware UTC: SQLite hands back naive datetimes, and everything we store is UTC."""
    return None if value is None else as_utc(value)


class PgConnInfo(TypedDict, total=False):
    """psycopg.connect's keyword arguments for one server and database."""

    host: str
    port: int
    user: str
    password: str
    dbname: str


def pg_conninfo(url: str, database: str | None = None) -> PgConnInfo:
    """psycopg keyword arguments for a SQLAlchemy Postgres URL (optionally another database), for the
    few statements that must run outside SQLAlchemy, such as CREATE/DROP DATABASE."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    info: PgConnInfo = {"host": u.host or "127.0.0.1", "port": u.port or 5432}
    if u.username is not None:
        info["user"] = u.username
    if u.password is not None:
        info["password"] = u.password
    info["dbname"] = database or u.database or "postgres"
    return info


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT just wrote."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the insert reported no primary key")
    return int(key[0])


def record(kind: type[R], row: Any, **values: Any) -> R:
    """A dataclass from a row: each field from the column of its name, unless given in `values`
    (where a column needs converting); fields with no such column keep their defaults."""
    columns = row._mapping
    names = [f.name for f in dataclasses.fields(kind) if f.name not in values and f.name in columns]
    return kind(**{name: columns[name] for name in names}, **values)


def topic_id_tuple(value: Any) -> tuple[int, ...]:
    """A stored JSON list of topic ids (or NULL) as a tuple of ints."""
    return tuple(int(t) for t in (value or []))
