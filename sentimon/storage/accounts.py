"""Queries on named users, their server-side sign-in sessions and sign-in throttling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from sentimon.schema import as_utc
from sentimon.storage.db import utc
from sentimon.storage.tables import auth_sessions, login_throttle, users

ROLES = ("admin", "viewer")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str
    password_hash: str | None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Attempts:
    """Recent failed sign-ins under one key (a name or a client)."""

    failures: int
    last_failure_at: datetime
    locked_until: datetime | None = None


def clean_name(name: str) -> str:
    """Names as stored: inner whitespace collapsed, at most 64 characters."""
    return " ".join(name.split())[:64]


# ---- users -------------------------------------------------------------------------------------


def add_user(conn: Connection, name: str, role: str, password_hash: str | None) -> None:
    """A new user (IntegrityError if the name is taken)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    conn.execute(insert(users).values(name=clean_name(name), role=role, password_hash=password_hash))


def get_user(conn: Connection, name: str) -> Account | None:
    row = conn.execute(select(users).where(users.c.name == clean_name(name))).first()
    return _account(row) if row else None


def list_users(conn: Connection) -> list[Account]:
    return [_account(r) for r in conn.execute(select(users).order_by(users.c.name))]


def set_password(conn: Connection, name: str, password_hash: str, now: datetime) -> bool:
    """Change a user's password and end their sessions; False when there is no such user."""
    done = conn.execute(
        update(users)
        .where(users.c.name == clean_name(name))
        .values(password_hash=password_hash, updated_at=now)
    ).rowcount
    revoke_user_sessions(conn, name, now)
    return bool(done)


def remove_user(conn: Connection, name: str, now: datetime) -> bool:
    """Delete a user and end their sessions; False when there is no such user."""
    revoke_user_sessions(conn, name, now)
    return bool(conn.execute(delete(users).where(users.c.name == clean_name(name))).rowcount)


def _account(row: Any) -> Account:
    return Account(row.name, row.role, row.password_hash, as_utc(row.created_at))


# ---- sessions ----------------------------------------------------------------------------------


def create_session(conn: Connection, digest: str, name: str, role: str, expires_at: datetime) -> None:
    conn.execute(insert(auth_sessions).values(id=digest, user_name=name, role=role, expires_at=expires_at))


def session_user(conn: Connection, digest: str, now: datetime) -> tuple[str, str] | None:
    """(name, role) of a live session: not revoked, not expired, and (for named users) the user
    still exists, with the role they have now."""
    row = conn.execute(
        select(auth_sessions.c.user_name, auth_sessions.c.role, auth_sessions.c.expires_at, users.c.role)
        .select_from(auth_sessions.outerjoin(users, users.c.name == auth_sessions.c.user_name))
        .where(auth_sessions.c.id == digest, auth_sessions.c.revoked_at.is_(None))
    ).first()
    if row is None or as_utc(row[2]) <= now:
        return None
    return row[0], row[3] or row[1]


def session_known(conn: Connection, digest: str) -> bool:
    """Whether a session was ever opened under this digest (live, expired or revoked)."""
    return conn.execute(select(auth_sessions.c.id).where(auth_sessions.c.id == digest)).first() is not None


def revoke_session(conn: Connection, digest: str, now: datetime) -> bool:
    query = update(auth_sessions).where(auth_sessions.c.id == digest, auth_sessions.c.revoked_at.is_(None))
    return bool(conn.execute(query.values(revoked_at=now)).rowcount)


def revoke_user_sessions(conn: Connection, name: str, now: datetime) -> int:
    query = update(auth_sessions).where(
        auth_sessions.c.user_name == clean_name(name), auth_sessions.c.revoked_at.is_(None)
    )
    return int(conn.execute(query.values(revoked_at=now)).rowcount)


def forget_sessions(conn: Connection, before: datetime) -> int:
    """Drop sessions that expired before `before` (housekeeping at each sign-in)."""
    return int(conn.execute(delete(auth_sessions).where(auth_sessions.c.expires_at < before)).rowcount)


# ---- throttling --------------------------------------------------------------------------------


def get_attempts(conn: Connection, keys: list[str]) -> dict[str, Attempts]:
    rows = conn.execute(select(login_throttle).where(login_throttle.c.key.in_(keys)))
    return {r.key: Attempts(r.failures, as_utc(r.last_failure_at), utc(r.locked_until)) for r in rows}


def put_attempts(conn: Connection, key: str, attempts: Attempts) -> None:
    conn.execute(delete(login_throttle).where(login_throttle.c.key == key))
    conn.execute(
        insert(login_throttle).values(
            key=key,
            failures=attempts.failures,
            last_failure_at=attempts.last_failure_at,
            locked_until=attempts.locked_until,
        )
    )


def clear_attempts(conn: Connection, key: str) -> None:
    conn.execute(delete(login_throttle).where(login_throttle.c.key == key))
