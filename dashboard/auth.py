"""Who may do what: bcrypt-hashed passwords and roles, signed session tokens, checked without I/O."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

import bcrypt
from itsdangerous import BadData, URLSafeTimedSerializer

from sentimon.secret_policy import BCRYPT_PREFIXES
from sentimon.settings import Settings

Role = Literal["viewer", "admin"]
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything longer; refuse instead of silently truncating
ADMIN_ACTIONS = frozenset({"edit_topics", "alert_actions", "label", "models", "audit"})
SESSION_MAX_AGE_S = 12 * 3600  # a browser stays signed in this long after signing in


@dataclass(frozen=True, slots=True)
class Credentials:
    """Only the hashes are kept; a role whose password is empty cannot sign in."""

    admin_hash: bytes | None
    viewer_hash: bytes | None


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role

    def can(self, action: str) -> bool:
        """Viewers read; admins also edit topics, act on alerts, label and manage models."""
        return self.role == "admin" or action not in ADMIN_ACTIONS


def to_hash(secret: str, rounds: int = 12) -> bytes | None:
    """A bcrypt hash of a configured password, or the configured value when it already is one."""
    if not secret:
        return None
    if secret.startswith(BCRYPT_PREFIXES):
        return secret.encode()
    raw = secret.encode()
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ValueError(f"passwords are limited to {MAX_PASSWORD_BYTES} bytes (bcrypt)")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=rounds))


def credentials_from(admin_password: str, viewer_password: str, rounds: int = 12) -> Credentials:
    return Credentials(to_hash(admin_password, rounds), to_hash(viewer_password, rounds))


def as_role(value: str | None) -> Role | None:
    """A role read from storage as a Role; None for anything that is not one."""
    if value == "admin":
        return "admin"
    return "viewer" if value == "viewer" else None


def role_for(password: str, creds: Credentials) -> Role | None:
    """The role a password opens, admin first; None when it opens nothing."""
    raw = password.encode()
    if not raw or len(raw) > MAX_PASSWORD_BYTES:
        return None
    if creds.admin_hash and _matches(raw, creds.admin_hash):
        return "admin"
    if creds.viewer_hash and _matches(raw, creds.viewer_hash):
        return "viewer"
    return None


def _matches(raw: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(raw, hashed)
    except ValueError:  # a malformed hash in the settings matches nothing
        return False


def sign_in(name: str, password: str, creds: Credentials) -> User | None:
    """A signed-in user, named as they asked (defaulting to their role), or None."""
    role = role_for(password, creds)
    if role is None:
        return None
    clean = " ".join(name.split())[:64] or role
    return User(name=clean, role=role)


def check_password(password: str, hashed: str | None) -> bool:
    """Whether a password opens a stored bcrypt hash (an empty hash opens nothing)."""
    raw = password.encode()
    if not hashed or not raw or len(raw) > MAX_PASSWORD_BYTES:
        return False
    return _matches(raw, hashed.encode())


def new_session_id() -> str:
    """A fresh random session id; the browser keeps it (signed), the database only its digest."""
    return secrets.token_urlsafe(32)


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def session_key_for(s: Settings) -> str:
    """What session tokens are signed with: the secret key and both shared passwords, so changing
    any of them signs every browser out."""
    parts = (s.secret_key, s.admin_password, s.viewer_password)
    return "\0".join(secret.get_secret_value() for secret in parts)


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt="sentimon-dashboard-session")


def session_token(session_id: str, key: str) -> str:
    """A signed, dated token carrying a session id, for the browser to keep across reloads. `key`
    should change whenever the secret or a shared password does, so old tokens stop opening."""
    return _serializer(key).dumps({"sid": session_id})


def session_from_token(token: str, key: str, max_age_s: int = SESSION_MAX_AGE_S) -> str | None:
    """The session id a token carries, or None when it is forged, expired, signed with another key
    or odd. Whether that session is still live is the database's answer (signin.user_for_token)."""
    try:
        data = _serializer(key).loads(token, max_age=max_age_s)
    except BadData:
        return None
    sid = data.get("sid") if isinstance(data, dict) else None
    return sid if isinstance(sid, str) and sid else None
