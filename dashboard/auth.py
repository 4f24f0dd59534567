"""Who may do what: bcrypt-hashed passwords for the viewer and admin roles, checked without I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import bcrypt
from itsdangerous import BadData, URLSafeTimedSerializer

Role = Literal["viewer", "admin"]
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything longer; refuse instead of silently truncating
ADMIN_ACTIONS = frozenset({"edit_topics", "alert_actions", "label", "models"})
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


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt="sentimon-dashboard-session")


def session_token(user: User, key: str) -> str:
    """A signed, dated token naming the user, for the browser to keep across reloads. `key` should
    change whenever the secret or a password does, so that old tokens stop opening the dashboard."""
    return _serializer(key).dumps({"name": user.name, "role": user.role})


def user_from_token(token: str, key: str, max_age_s: int = SESSION_MAX_AGE_S) -> User | None:
    """The user a token names, or None when it is forged, expired, signed with another key or odd."""
    try:
        data = _serializer(key).loads(token, max_age=max_age_s)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("role") not in ("viewer", "admin"):
        return None
    name = data.get("name")
    clean = " ".join(name.split())[:64] if isinstance(name, str) else ""
    return User(name=clean or data["role"], role=data["role"])
