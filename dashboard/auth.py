"""Who may do what: bcrypt-hashed passwords for the viewer and admin roles, checked without I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import bcrypt

Role = Literal["viewer", "admin"]
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything longer; refuse instead of silently truncating
ADMIN_ACTIONS = frozenset({"edit_topics", "alert_actions", "label", "models"})


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
