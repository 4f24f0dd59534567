"""OIDC: the [auth] secrets Streamlit reads are written from the settings; claims map to roles."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from dashboard.cli import streamlit_command
from dashboard.oidc import auth_section, identity, role_from_claims, session_id, write_streamlit_secrets
from sentimon.settings import Settings

OIDC = {
    "auth_mode": "oidc",
    "oidc_client_id": "sentimon-dashboard",
    "oidc_client_secret": 'p"q\\r',  # quotes and backslashes must survive the TOML
    "oidc_server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    "oidc_redirect_uri": "https://sentimon.example/oauth2callback",
    "oidc_admin_values": ["sentimon-admins"],
    "oidc_viewer_values": ["staff"],
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("SENTIMON_"):
            monkeypatch.delenv(name)


def test_the_secrets_file_holds_the_auth_section_streamlit_expects(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, secret_key="k" * 8 + "ey-material-that-is-long-enough", **OIDC)
    path = write_streamlit_secrets(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth["client_id"] == "sentimon-dashboard" and auth["client_secret"] == 'p"q\\r'
    assert auth["server_metadata_url"] == OIDC["oidc_server_metadata_url"]
    assert auth["redirect_uri"] == OIDC["oidc_redirect_uri"]
    assert len(auth["cookie_secret"]) == 64 and s.secret_key.get_secret_value() not in auth["cookie_secret"]
    rotated = Settings(data_dir=tmp_path, secret_key="another-key-material-that-is-long", **OIDC)
    assert auth_section(rotated)["cookie_secret"] != auth["cookie_secret"]  # rotating the key signs out
    cmd = streamlit_command(8501, "127.0.0.1", path)
    assert cmd[cmd.index("--secrets.files") + 1] == str(path)


def test_oidc_without_its_provider_settings_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SENTIMON_OIDC_CLIENT_ID"):
        Settings(auth_mode="oidc")


def test_a_claim_gives_the_role_admin_first() -> None:
    roles = Settings(**OIDC).oidc_claim_roles
    nobody = lambda name: None  # noqa: E731
    assert role_from_claims({"groups": ["staff", "sentimon-admins"]}, "groups", roles, nobody) == "admin"
    assert role_from_claims({"groups": "staff"}, "groups", roles, nobody) == "viewer"
    assert role_from_claims({"groups": ["other"], "email": "x@e.example"}, "groups", roles, nobody) is None
    assert role_from_claims({"roles": ["sentimon-admins"]}, "groups", roles, nobody) is None


def test_without_a_matching_claim_the_users_table_decides() -> None:
    table = {"ana@e.example": "admin"}
    claims = {"email": "ana@e.example", "groups": []}
    assert role_from_claims(claims, "groups", {}, table.get) == "admin"
    assert role_from_claims({"email": "bo@e.example"}, "groups", {}, table.get) is None
    assert role_from_claims({}, "groups", {}, table.get) is None
    unverified = {"email": "ana@e.example", "email_verified": False}
    assert role_from_claims(unverified, "groups", {}, table.get) is None


def test_identity_and_session_come_from_the_claims() -> None:
    assert identity({"email": " ana@e.example ", "name": "Ana"}) == "ana@e.example"
    assert identity({"preferred_username": "ana", "sub": "123"}) == "ana"
    assert identity({"sub": "123"}) == "123" and identity({}) is None
    first = {"iss": "https://idp", "sub": "1", "iat": 100, "nonce": "a"}
    assert session_id(first) == session_id(dict(first))
    assert session_id(first) != session_id({**first, "iat": 200})  # signing in again is a new session


def test_the_dashboard_command_writes_the_secrets_and_points_streamlit_at_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dashboard import cli
    from sentimon.settings import get_settings

    env = {
        f"SENTIMON_{k.upper()}": v if isinstance(v, str) else __import__("json").dumps(v)
        for k, v in OIDC.items()
    }
    for name, value in {**env, "SENTIMON_DATA_DIR": str(tmp_path), "SENTIMON_SECRET_KEY": "s" * 40}.items():
        monkeypatch.setenv(name, value)
    started: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execve", lambda path, cmd, env: started.append(cmd))
    monkeypatch.setattr(cli.os, "chdir", lambda path: None)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["--no-migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    cmd = started[0]
    secrets = Path(cmd[cmd.index("--secrets.files") + 1])
    assert secrets == (tmp_path / "streamlit" / "secrets.toml").resolve()
    assert tomllib.loads(secrets.read_text())["auth"]["client_id"] == "sentimon-dashboard"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
