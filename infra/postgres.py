"""A private PostgreSQL cluster: initdb into a folder, run on its own loopback port, create databases."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from infra import tools
from infra.procs import Handle, ServiceError, ensure_port_free, spawn, stop, wait_ready

if TYPE_CHECKING:
    from sentimon.storage.db import PgConnInfo

START_TIMEOUT = 60.0
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes; the socket name itself is ".s.PGSQL.<port>"
# A throwaway dev/test server: durability traded for speed (a crashed process still loses nothing).
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "128MB",
    "max_connections": "200",
    "logging_collector": "off",
}


@dataclass(frozen=True)
class PgHandle(Handle):
    """A Postgres server; `url` is its maintenance database, `database_url(name)` any other."""

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def pg_handle(home: Path, port: int) -> PgHandle:
    home = Path(home).absolute()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return PgHandle(name="postgres", home=home, port=port, url=url, process="postgres")


def start_postgres(home: Path, port: int, *, timeout: float = START_TIMEOUT) -> PgHandle:
    """Start (initialising on first use) a cluster under home on port; return once it accepts connections."""
    handle = pg_handle(home, port)
    if handle.pid() is not None:
        wait_ready(handle, lambda: answers(handle), timeout)
        return handle
    ensure_port_free(handle)
    bindir = tools.pg_bindir()
    user = tools.postgres_user().pw_name if tools.is_root() else None
    data = _data_dir(handle.home, user)
    if not (data / "PG_VERSION").exists():
        _initdb(bindir, data, user)
    argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(port)]
    options = {**SERVER_OPTIONS, "unix_socket_directories": _socket_dir(data.parent, port)}
    for key, value in options.items():
        argv += ["-c", f"{key}={value}"]
    spawn(handle, argv, user=user, env=_pg_env(), cwd=data.parent)
    wait_ready(handle, lambda: answers(handle), timeout)
    return handle


def stop_postgres(handle: Handle, *, immediate: bool = False, timeout: float = 30.0) -> bool:
    """Fast shutdown (SIGINT: disconnect clients, checkpoint); immediate=True is a crash (SIGQUIT)."""
    return stop(handle, sig=signal.SIGQUIT if immediate else signal.SIGINT, timeout=timeout)


def create_database(handle: PgHandle, name: str) -> str:
    """Create database `name` unless it exists; return its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(**_conninfo(handle.port), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return handle.database_url(name)


def answers(handle: PgHandle) -> bool:
    import psycopg

    try:
        with psycopg.connect(**_conninfo(handle.port), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def _conninfo(port: int) -> PgConnInfo:
    return {"host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "postgres"}


def _initdb(bindir: Path, data: Path, user: str | None) -> None:
    argv = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        env=_pg_env(),
        cwd=data.parent,
    )
    if done.returncode != 0:
        raise ServiceError(f"initdb failed in {data}:\n{done.stdout}\n{done.stderr}")


def _data_dir(home: Path, user: str | None) -> Path:
    """The cluster folder: home/data, or, when the postgres user cannot reach home, a folder in the
    system temp dir that home/data links to (initdb and postgres refuse to run as root)."""
    link = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    if link.exists():
        return link.resolve()
    if link.is_symlink():  # its target in the temp dir was cleaned away: start afresh
        link.unlink()
    if user is None:
        return link
    _chown(home, user)
    if _reachable(home, user):
        link.mkdir()
        _chown(link, user)
        return link
    digest = hashlib.sha1(str(home).encode()).hexdigest()[:12]
    outside = Path(tempfile.gettempdir()) / f"sentimon-pg-{digest}"
    shutil.rmtree(outside, ignore_errors=True)
    (outside / "data").mkdir(parents=True)
    _chown(outside, user)
    _chown(outside / "data", user)
    link.symlink_to(outside / "data")
    return outside / "data"


def _reachable(folder: Path, user: str) -> bool:
    done = subprocess.run(
        ["test", "-w", str(folder), "-a", "-x", str(folder)],
        user=user,
        group=user,
        extra_groups=[],
        check=False,
    )
    return done.returncode == 0


def _chown(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    path.chmod(0o700)


def _socket_dir(folder: Path, port: int) -> str:
    """The unix socket lives in the cluster's folder, unless that path is too long for a socket."""
    return str(folder) if len(f"{folder}/.s.PGSQL.{port}") <= MAX_SOCKET_PATH else ""


def _pg_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
