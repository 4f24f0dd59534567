"""Find the external programs the stack runs, with install hints when one is missing."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
MIN_JAVA = 17
JAVA_INSTALL = "apt-get install -y openjdk-17-jre-headless"


class MissingTool(RuntimeError):
    """A program the stack needs is not installed; the message says how to install it."""

    def __init__(self, what: str, install: str) -> None:
        super().__init__(f"{what} not found. Install it with: {install}")
        self.install = install


def java() -> str:
    """Path of a Java >= 17 runtime (the Kafka 4 broker refuses older ones)."""
    path = shutil.which("java")
    if not path:
        raise MissingTool("java (Java 17+)", JAVA_INSTALL)
    out = subprocess.run([path, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    if match and int(match.group(1)) < MIN_JAVA:
        raise MissingTool(f"java {MIN_JAVA}+ (found {match.group(0)})", JAVA_INSTALL)
    return path


def mvn() -> str:
    """Path of Maven, needed once to fetch the Kafka jars."""
    path = shutil.which("mvn")
    if not path:
        raise MissingTool("mvn (Apache Maven)", "apt-get install -y maven")
    return path


def redis_server() -> str:
    """Path of redis-server."""
    path = shutil.which("redis-server")
    if not path:
        raise MissingTool("redis-server", "apt-get install -y redis-server")
    return path


def pg_bindir() -> Path:
    """Folder holding initdb and postgres: on PATH, else the newest Debian install."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(Path("/").glob(PG_BIN_GLOB.lstrip("/")), key=_major_version)
    for bindir in reversed(found):
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise MissingTool("PostgreSQL server binaries (initdb, postgres)", "apt-get install -y postgresql")


def _major_version(bindir: Path) -> int:
    name = bindir.parent.name
    return int(name) if name.isdigit() else 0


def is_root() -> bool:
    return os.geteuid() == 0


def postgres_user() -> pwd.struct_passwd:
    """The system user that runs Postgres when we are root (initdb and postgres refuse root)."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise MissingTool("the 'postgres' system user", "apt-get install -y postgresql") from None
