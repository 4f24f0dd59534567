"""Accounts, sessions, throttle counters and the audit log in the database (SQLite and Postgres)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from sentimon.storage import accounts, audit
from sentimon.storage.db import make_engine, migrate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'acc.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_users_have_one_role_and_unique_names(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "  Ana   Lima ", "admin", "$2b$hash")
        accounts.add_user(conn, "bo", "viewer", None)
        assert accounts.get_user(conn, "Ana Lima") == accounts.get_user(conn, "Ana  Lima")
        assert [(a.name, a.role) for a in accounts.list_users(conn)] == [
            ("Ana Lima", "admin"),
            ("bo", "viewer"),
        ]
    with engine.begin() as conn, pytest.raises(IntegrityError):
        accounts.add_user(conn, "bo", "admin", None)
    with engine.begin() as conn, pytest.raises(ValueError, match="role"):
        accounts.add_user(conn, "cy", "root", None)


def test_a_session_lives_until_it_expires_or_is_revoked(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "ana", "admin", "$2b$hash")
        accounts.create_session(conn, "d1", "ana", "admin", NOW + timedelta(hours=1))
        accounts.create_session(conn, "d2", "ana", "admin", NOW + timedelta(hours=1))
        accounts.create_session(conn, "dev", "self-named", "viewer", NOW + timedelta(hours=1))
    with engine.connect() as conn:
        assert accounts.session_user(conn, "d1", NOW) == ("ana", "admin")
        assert accounts.session_user(conn, "dev", NOW) == ("self-named", "viewer")
        assert accounts.session_user(conn, "d1", NOW + timedelta(hours=2)) is None
        assert accounts.session_user(conn, "nope", NOW) is None
    with engine.begin() as conn:
        assert accounts.revoke_session(conn, "d1", NOW)
        assert not accounts.revoke_session(conn, "d1", NOW)
    with engine.connect() as conn:
        assert accounts.session_user(conn, "d1", NOW) is None and accounts.session_known(conn, "d1")
        assert accounts.session_user(conn, "d2", NOW) == ("ana", "admin")
    with engine.begin() as conn:  # housekeeping drops only sessions that ended before the cut
        assert accounts.forget_sessions(conn, NOW + timedelta(minutes=30)) == 0
        assert accounts.forget_sessions(conn, NOW + timedelta(hours=2)) == 3
        assert not accounts.session_known(conn, "d1")


def test_a_role_change_applies_to_open_sessions_and_password_or_removal_ends_them(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "ana", "viewer", "$2b$hash")
        accounts.create_session(conn, "d1", "ana", "admin", NOW + timedelta(hours=1))
    with engine.connect() as conn:
        assert accounts.session_user(conn, "d1", NOW) == ("ana", "viewer")  # the table's role wins
    with engine.begin() as conn:
        assert accounts.set_password(conn, "ana", "$2b$new", NOW)
        accounts.create_session(conn, "d2", "ana", "viewer", NOW + timedelta(hours=1))
    with engine.connect() as conn:
        assert accounts.session_user(conn, "d1", NOW) is None
        assert accounts.session_user(conn, "d2", NOW) == ("ana", "viewer")
    with engine.begin() as conn:
        assert accounts.remove_user(conn, "ana", NOW) and not accounts.remove_user(conn, "ana", NOW)
    with engine.connect() as conn:
        assert accounts.session_user(conn, "d2", NOW) is None


def test_throttle_counters_are_kept_and_cleared(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.put_attempts(conn, "name:ana", accounts.Attempts(1, NOW))
        accounts.put_attempts(conn, "name:ana", accounts.Attempts(2, NOW, NOW + timedelta(minutes=5)))
        accounts.put_attempts(conn, "client:1.2.3.4", accounts.Attempts(1, NOW))
    with engine.begin() as conn:
        found = accounts.get_attempts(conn, ["name:ana", "client:1.2.3.4", "name:bo"])
        assert found["name:ana"] == accounts.Attempts(2, NOW, NOW + timedelta(minutes=5))
        assert set(found) == {"name:ana", "client:1.2.3.4"}
        accounts.clear_attempts(conn, "name:ana")
        assert set(accounts.get_attempts(conn, ["name:ana", "client:1.2.3.4"])) == {"client:1.2.3.4"}


def test_the_audit_log_keeps_who_what_when_newest_first(engine: Engine) -> None:
    with engine.begin() as conn:
        audit.record(conn, "ana", "sign_in", role="admin", client="10.0.0.1", at=NOW)
        audit.record(conn, "ana", "topic_create", role="admin", target=7, detail={"name": "acme"}, at=NOW)
        audit.record(conn, "mallory", "sign_in_failed", detail={"failures": 1})
    with engine.connect() as conn:
        entries = audit.list_entries(conn)
        assert [e.action for e in entries] == ["sign_in_failed", "topic_create", "sign_in"]
        assert entries[1].target == "7" and entries[1].detail == {"name": "acme"}
        assert entries[2].client == "10.0.0.1" and entries[2].at == NOW
        assert [e.actor for e in audit.list_entries(conn, actions=("sign_in_failed",))] == ["mallory"]


def test_users_command_adds_lists_changes_and_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentimon.cli import app
    from sentimon.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SENTIMON_DATABASE_URL", url)
    get_settings.cache_clear()
    run = CliRunner().invoke
    try:
        weak = run(app, ["users", "add", "ana", "--role", "admin", "--password-stdin"], input="short\n")
        assert weak.exit_code == 2 and "password refused: too short" in weak.output
        added = run(
            app, ["users", "add", "ana", "--role", "admin", "--password-stdin"], input="Tr1cky-Lantern\n"
        )
        assert added.exit_code == 0, added.output
        again = run(
            app, ["users", "add", "ana", "--role", "viewer", "--password-stdin"], input="Tr1cky-Lantern\n"
        )
        assert again.exit_code == 1 and "already" in again.output
        assert run(app, ["users", "add", "[bold]x[/]", "--role", "viewer", "--no-password"]).exit_code == 0
        listed = run(app, ["users", "list"]).output
        assert "ana" in listed and "admin" in listed and "[bold]x[/]" in listed and "OIDC only" in listed
        assert (
            run(app, ["users", "passwd", "ana", "--password-stdin"], input="N3w-Quiet-Harbour\n").exit_code
            == 0
        )
        assert run(app, ["users", "rm", "ana"]).exit_code == 0
        assert run(app, ["users", "rm", "ana"]).exit_code == 1
        engine = make_engine(url)
        with engine.connect() as conn:
            assert [a.name for a in accounts.list_users(conn)] == ["[bold]x[/]"]
            logged = [(e.action, e.target) for e in audit.list_entries(conn)]
        engine.dispose()
        assert logged[0] == ("user_remove", "ana") and ("user_password", "ana") in logged
        assert all(e.startswith("user_") for e, _ in logged)
    finally:
        get_settings.cache_clear()
