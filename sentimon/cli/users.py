"""`sentimon users`: named dashboard accounts with a role, their passwords kept only as bcrypt hashes."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import bcrypt
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine

from dashboard.safe import cli_text
from sentimon.secret_policy import password_problem
from sentimon.settings import get_settings

app = typer.Typer(
    help="Dashboard accounts (auth_mode accounts, or OIDC identities' roles).", no_args_is_help=True
)
console = Console()
ROLE_HELP = "admin (edit topics, act on alerts, label, manage models, read the audit) or viewer (read)"


def _engine() -> Engine:
    from sentimon.storage.db import make_engine, migrate

    url = get_settings().db_url
    migrate(url)
    return make_engine(url)


def cli_actor() -> str:
    """Who the audit log names for a command-line change: the operating-system user."""
    return f"cli:{getpass.getuser()}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _hash(password: str) -> str:
    problem = password_problem(password)
    if problem:
        console.print(cli_text(f"password refused: {problem}", "red"))
        raise typer.Exit(2)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def _role(role: str) -> str:
    if role not in ("admin", "viewer"):
        raise typer.BadParameter("admin or viewer", param_hint="--role")
    return role


@app.command("add")
def users_add(
    name: str,
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    no_password: bool = typer.Option(False, "--no-password", help="Only signs in through OIDC."),
) -> None:
    """Add a user; asks for the password (twice) unless --password-stdin or --no-password."""
    from sqlalchemy.exc import IntegrityError

    from sentimon.storage import accounts, audit

    hashed = None if no_password else _hash(_read_password(password_stdin))
    clean = accounts.clean_name(name)
    try:
        with _engine().begin() as conn:
            accounts.add_user(conn, clean, _role(role), hashed)
            audit.record(conn, cli_actor(), "user_add", target=clean, detail={"role": role})
    except IntegrityError:
        console.print(cli_text(f"there is already a user called {clean}", "red"))
        raise typer.Exit(1) from None
    console.print(cli_text(f"user {clean} added ({role})", "green"))


@app.command("list")
def users_list() -> None:
    """List users and their roles."""
    from sentimon.storage import accounts

    with _engine().connect() as conn:
        rows = accounts.list_users(conn)
    table = Table("name", "role", "password", "since")
    for a in rows:
        since = a.created_at.strftime("%Y-%m-%d") if a.created_at else ""
        table.add_row(cli_text(a.name), a.role, "set" if a.password_hash else "OIDC only", since)
    console.print(table)


@app.command("rm")
def users_rm(name: str) -> None:
    """Remove a user; their sessions end at once."""
    from sentimon.storage import accounts

    _change_user(name, accounts.remove_user, "user_remove", "user {name} removed")


@app.command("passwd")
def users_passwd(
    name: str,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Set a user's password; their sessions end at once."""
    from sentimon.storage import accounts

    hashed = _hash(_read_password(password_stdin))
    _change_user(
        name,
        lambda conn, name, now: accounts.set_password(conn, name, hashed, now),
        "user_password",
        "password of {name} changed; their sessions ended",
    )


def _change_user(
    name: str, change: Callable[[Connection, str, datetime], bool], action: str, done_text: str
) -> None:
    """Apply ``change`` to one user and audit it in the same transaction; exit 1 when no such user."""
    from sentimon.storage import accounts, audit

    with _engine().begin() as conn:
        done = change(conn, name, datetime.now(UTC))
        if done:
            audit.record(conn, cli_actor(), action, target=accounts.clean_name(name))
    if not done:
        console.print(cli_text(f"no user called {accounts.clean_name(name)}", "red"))
        raise typer.Exit(1)
    console.print(cli_text(done_text.format(name=accounts.clean_name(name))))
