"""Production sign-in through an identity provider: Streamlit's [auth] secrets and claims → roles."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dashboard.auth import Role
from sentimon.settings import Settings

NAME_CLAIMS = ("email", "preferred_username", "name", "sub")


def auth_section(s: Settings) -> dict[str, str]:
    """The [auth] table of Streamlit's secrets for st.login() with the default provider. The
    cookie secret is derived from SENTIMON_SECRET_KEY, so rotating that key signs everyone out."""
    secret = s.oidc_client_secret.get_secret_value() if s.oidc_client_secret else ""
    cookie = hmac.new(s.secret_key.get_secret_value().encode(), b"streamlit-auth-cookie", hashlib.sha256)
    return {
        "redirect_uri": s.oidc_redirect_uri or "",
        "cookie_secret": cookie.hexdigest(),
        "client_id": s.oidc_client_id or "",
        "client_secret": secret,
        "server_metadata_url": s.oidc_server_metadata_url or "",
    }


def secrets_toml(section: Mapping[str, str]) -> str:
    """The secrets file's text (JSON string literals are valid TOML basic strings)."""
    return "[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in section.items())


def write_streamlit_secrets(s: Settings) -> Path:
    """Write the secrets file Streamlit reads (owner-only) under data_dir and return its path."""
    folder = s.data_dir / "streamlit"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets_toml(auth_section(s)))
    path.chmod(0o600)
    return path.resolve()


def identity(claims: Mapping[str, Any]) -> str | None:
    """The name labels and alert actions record: the e-mail, else the username, name or subject."""
    for key in NAME_CLAIMS:
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:64]
    return None


def session_id(claims: Mapping[str, Any]) -> str:
    """What tells one sign-in at the provider from the next: subject, issue time and nonce."""
    parts = (claims.get("iss"), claims.get("sub"), claims.get("iat"), claims.get("nonce"))
    return "oidc:" + json.dumps([str(p) if p is not None else None for p in parts])


def role_from_claims(
    claims: Mapping[str, Any],
    role_claim: str,
    claim_roles: Mapping[str, str],
    account_role: Callable[[str], Role | None],
) -> Role | None:
    """The role the provider's claims give (admin wins), else the users table's role for the
    identity, else None (signed in at the provider, but no access here)."""
    value = claims.get(role_claim)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles = {claim_roles.get(str(v)) for v in values}
    if "admin" in roles:
        return "admin"
    if "viewer" in roles:
        return "viewer"
    name = identity(claims)
    if not name or (name == claims.get("email") and claims.get("email_verified") is False):
        return None  # an unverified e-mail address names nobody in the users table
    return account_role(name)
