"""The audit log: who signed in, failed, signed out or changed what, and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from sentimon.schema import as_utc
from sentimon.storage.tables import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    target: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    client: str | None = None


def record(
    conn: Connection,
    actor: str,
    action: str,
    *,
    role: str | None = None,
    target: object = None,
    detail: dict[str, Any] | None = None,
    client: str | None = None,
    at: datetime | None = None,
) -> None:
    """One line of the log, in the caller's transaction (so a write and its entry commit together)."""
    values: dict[str, Any] = {
        "actor": actor[:64],
        "role": role,
        "action": action[:32],
        "target": None if target is None else str(target),
        "detail": detail or {},
        "client": (client or "")[:64] or None,
    }
    if at is not None:
        values["at"] = at
    conn.execute(insert(audit_log).values(**values))


def list_entries(conn: Connection, limit: int = 200, actions: tuple[str, ...] = ()) -> list[AuditEntry]:
    """The newest entries first, optionally only some actions."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if actions:
        query = query.where(audit_log.c.action.in_(actions))
    return [
        AuditEntry(r.id, as_utc(r.at), r.actor, r.role, r.action, r.target, dict(r.detail or {}), r.client)
        for r in conn.execute(query)
    ]
