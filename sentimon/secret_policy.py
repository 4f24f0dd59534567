"""What counts as a usable secret or password: refused settings say which one and why, in one line."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import bcrypt

if TYPE_CHECKING:
    from sentimon.settings import Settings

PLACEHOLDER = "change-me"
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
MIN_SECRET_CHARS, MIN_SECRET_BITS = 32, 96  # signing keys and tokens: what machines type
MIN_PASSWORD_CHARS, MIN_PASSWORD_BITS = 12, 40  # what people type
COMMON = ("password", "change-me", "changeme", "sentimon", "qwerty", "123456", "letmein", "admin", "viewer")


def estimated_bits(text: str) -> float:
    """A crude guessing-entropy estimate: length times the Shannon entropy of its characters
    (repeats and small alphabets count for little; 'aaaa…' for nothing)."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return n * -sum(c / n * math.log2(c / n) for c in counts.values())


def secret_problem(value: str) -> str | None:
    """Why a machine secret (signing key, bearer token) is too weak, or None."""
    if not value:
        return "must not be empty"
    if value.strip().casefold() == PLACEHOLDER:
        return "is the placeholder; set a random value, e.g. from secrets.token_urlsafe(32)"
    if len(value) < MIN_SECRET_CHARS or estimated_bits(value) < MIN_SECRET_BITS:
        return f"too weak: use at least {MIN_SECRET_CHARS} random characters"
    return None


def password_problem(value: str) -> str | None:
    """Why a password is too weak, or None (a bcrypt hash is taken as chosen elsewhere)."""
    if value.startswith(BCRYPT_PREFIXES):
        return None
    if len(value.encode()) > 72:
        return "longer than 72 bytes (bcrypt would ignore the rest)"
    if len(value) < MIN_PASSWORD_CHARS:
        return f"too short: use at least {MIN_PASSWORD_CHARS} characters"
    lowered = value.casefold()
    if any(word in lowered for word in COMMON):
        return "too easy to guess: it contains a common word"
    if estimated_bits(value) < MIN_PASSWORD_BITS:
        return "too easy to guess: use more varied characters"
    return None


def same_password(a: str, b: str) -> bool:
    """Whether two configured passwords (each plain or a bcrypt hash) open with the same words."""
    if not a or not b:
        return False
    a_hash, b_hash = a.startswith(BCRYPT_PREFIXES), b.startswith(BCRYPT_PREFIXES)
    if not a_hash and not b_hash:
        return a == b
    if a_hash and b_hash:
        return a == b  # two salted hashes cannot be compared beyond identity
    plain, hashed = (b, a) if a_hash else (a, b)
    try:
        return bcrypt.checkpw(plain.encode()[:72], hashed.encode())
    except ValueError:
        return False


def secret_problems(s: Settings) -> list[str]:
    """Every reason these settings cannot start, one line each, naming the setting."""
    problems: list[str] = []
    admin, viewer = s.admin_password.get_secret_value(), s.viewer_password.get_secret_value()
    token = s.ingest_token.get_secret_value()
    if not token:  # an empty token would let anyone post: never, in any environment
        problems.append("SENTIMON_INGEST_TOKEN: must not be empty (it would let anyone post)")
    if s.auth_mode == "passwords" and same_password(admin, viewer):
        problems.append(
            "SENTIMON_VIEWER_PASSWORD: must differ from SENTIMON_ADMIN_PASSWORD "
            "(the viewer password would open admin)"
        )
    if s.auth_mode == "oidc":
        problems += _oidc_problems(s)
    if s.env != "production":
        return problems
    for name, value in (("ingest_token", token), ("secret_key", s.secret_key.get_secret_value())):
        problem = secret_problem(value)
        if problem and not (name == "ingest_token" and not value):
            problems.append(f"SENTIMON_{name.upper()}: {problem}")
    if s.auth_mode == "passwords":
        problems.append(
            "SENTIMON_AUTH_MODE: the two shared passwords are for development; in production use "
            "`accounts` (sentimon users add NAME --role admin) or `oidc`"
        )
    return problems


def _filled(value: object) -> bool:
    return bool(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def _oidc_problems(s: Settings) -> list[str]:
    missing = [
        f"SENTIMON_{name.upper()}"
        for name in ("oidc_client_id", "oidc_client_secret", "oidc_server_metadata_url", "oidc_redirect_uri")
        if not _filled(getattr(s, name))
    ]
    if missing:
        return [f"SENTIMON_AUTH_MODE: oidc needs {', '.join(missing)}"]
    if s.env == "production" and not str(s.oidc_redirect_uri).startswith("https://"):
        return ["SENTIMON_OIDC_REDIRECT_URI: must be an https:// address in production"]
    return []
