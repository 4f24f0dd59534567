"""Queries on model_versions: the registry of trained models, which one is live, retraining requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from sentimon.schema import as_utc
from sentimon.storage.db import record, utc
from sentimon.storage.tables import model_versions

# A version's life: candidate → live → retired, or candidate → rejected.
# Retraining requests from the dashboard are rows too: requested → running → done (or failed).
STATUSES = ("candidate", "live", "retired", "rejected", "requested", "running", "done", "failed")
REQUEST_PREFIX = "request-"


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A registered model (or a retraining request) and what we know about it."""

    version: str
    path: str
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    created_at: datetime | None = None
    promoted_at: datetime | None = None

    @property
    def is_request(self) -> bool:
        return self.version.startswith(REQUEST_PREFIX)


def register_version(
    conn: Connection,
    version: str,
    path: str,
    metrics: dict[str, Any] | None = None,
    note: str | None = None,
    status: str = "candidate",
) -> None:
    """Record a newly trained model with its evaluation metrics."""
    _check_status(status)
    conn.execute(
        insert(model_versions).values(
            version=version,
            path=path,
            status=status,
            metrics=metrics or {},
            note=note,
            created_at=datetime.now(UTC),
        )
    )


def get_version(conn: Connection, version: str) -> ModelVersion | None:
    row = conn.execute(select(model_versions).where(model_versions.c.version == version)).first()
    return _row_to_version(row) if row else None


def list_versions(conn: Connection, limit: int = 100, include_requests: bool = False) -> list[ModelVersion]:
    """Registered models, newest first; retraining requests only when asked for."""
    query = select(model_versions).order_by(model_versions.c.created_at.desc()).limit(limit)
    if not include_requests:
        query = query.where(~model_versions.c.version.startswith(REQUEST_PREFIX))
    return [_row_to_version(r) for r in conn.execute(query)]


def live_version(conn: Connection) -> ModelVersion | None:
    """The model workers should serve (the most recently promoted live one)."""
    query = (
        select(model_versions)
        .where(model_versions.c.status == "live")
        .order_by(model_versions.c.promoted_at.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return _row_to_version(row) if row else None


def promote(conn: Connection, version: str) -> None:
    """Make `version` the live model; the one live before it retires."""
    if get_version(conn, version) is None:
        raise ValueError(f"no model version {version!r}")
    conn.execute(
        update(model_versions)
        .where(model_versions.c.status == "live", model_versions.c.version != version)
        .values(status="retired")
    )
    conn.execute(
        update(model_versions)
        .where(model_versions.c.version == version)
        .values(status="live", promoted_at=datetime.now(UTC))
    )


def set_status(conn: Connection, version: str, status: str, note: str | None = None) -> None:
    _check_status(status)
    values: dict[str, Any] = {"status": status}
    if note is not None:
        values["note"] = note
    conn.execute(update(model_versions).where(model_versions.c.version == version).values(**values))


def previous_live(conn: Connection) -> ModelVersion | None:
    """The version that was live before the current one (what a rollback returns to)."""
    query = (
        select(model_versions)
        .where(model_versions.c.status == "retired", model_versions.c.promoted_at.is_not(None))
        .order_by(model_versions.c.promoted_at.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return _row_to_version(row) if row else None


def add_note(conn: Connection, version: str, text: str) -> None:
    """Append a line to a version's note (e.g. a worker that refused to load it)."""
    current = conn.execute(select(model_versions.c.note).where(model_versions.c.version == version)).scalar()
    note = f"{current}\n{text}" if current else text
    conn.execute(update(model_versions).where(model_versions.c.version == version).values(note=note[-4000:]))


def last_retrain_at(conn: Connection, kind: str = "retrain") -> datetime | None:
    """When the newest version made by the retrain job was registered (promoted or not)."""
    for version in list_versions(conn, limit=200):
        if version.metrics.get("kind") == kind:
            return version.created_at
    return None


def request_retrain(conn: Connection, requested_by: str, note: str = "") -> str:
    """Ask for a retraining run; the retrain job picks up pending requests. Returns the request id."""
    now = datetime.now(UTC)
    request_id = f"{REQUEST_PREFIX}{now:%Y%m%dT%H%M%S.%f}"
    conn.execute(
        insert(model_versions).values(
            version=request_id,
            path="",
            status="requested",
            metrics={"requested_by": requested_by},
            note=note or None,
            created_at=now,
        )
    )
    return request_id


def pending_requests(conn: Connection) -> list[ModelVersion]:
    """Retraining requests not yet handled, oldest first."""
    query = (
        select(model_versions)
        .where(model_versions.c.status == "requested")
        .order_by(model_versions.c.created_at.asc())
    )
    return [_row_to_version(r) for r in conn.execute(query)]


def claim_request(conn: Connection, request_id: str) -> bool:
    """Move a request from requested to running; False when another retrain job took it first."""
    query = (
        update(model_versions)
        .where(model_versions.c.version == request_id, model_versions.c.status == "requested")
        .values(status="running")
    )
    return (conn.execute(query).rowcount or 0) == 1


def retrain_history(conn: Connection, limit: int = 50) -> list[ModelVersion]:
    """Retraining requests and their outcomes, newest first."""
    query = (
        select(model_versions)
        .where(model_versions.c.version.startswith(REQUEST_PREFIX))
        .order_by(model_versions.c.created_at.desc())
        .limit(limit)
    )
    return [_row_to_version(r) for r in conn.execute(query)]


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")


def _row_to_version(row: Any) -> ModelVersion:
    return record(
        ModelVersion, row, metrics=dict(row.metrics or {}), created_at=as_utc(row.created_at),
        promoted_at=utc(row.promoted_at),
    )  # fmt: skip
