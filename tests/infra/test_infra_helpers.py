"""wait_until, process control and missing-tool errors behave as the rest of the suite relies on."""

from __future__ import annotations

import itertools
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from infra import tools
from infra.procs import Handle, ServiceError, ensure_port_free, spawn, stop, wait_ready
from tests.helpers import wait_until


def test_wait_until_returns_the_first_truthy_value() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "done", timeout=5, interval=0.01) == "done"


def test_wait_until_fails_with_the_message_after_the_deadline() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0\.1s waiting for the moon"):
        wait_until(lambda: False, timeout=0.1, interval=0.01, message="the moon")


def test_wait_until_treats_ignored_errors_as_not_yet_and_chains_the_last() -> None:
    def refuse() -> bool:
        raise ConnectionRefusedError("nobody home")

    with pytest.raises(AssertionError) as info:
        wait_until(refuse, timeout=0.1, interval=0.01, ignore=(ConnectionRefusedError,))
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
    with pytest.raises(ValueError):
        wait_until(lambda: int("x"), timeout=0.1)


def test_a_server_that_dies_at_start_up_fails_fast_with_its_log(tmp_path: Path) -> None:
    handle = Handle(name="dummy", home=tmp_path, port=1, url="-", process="sh")
    spawn(handle, ["sh", "-c", "echo config is broken; exit 3"])
    with pytest.raises(ServiceError, match=r"exited during start-up(.|\n)*config is broken"):
        wait_ready(handle, lambda: False, timeout=10)


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    handle = Handle(name="dummy", home=tmp_path, port=1, url="-", process="sleep")
    spawn(handle, ["sleep", "60"])
    with pytest.raises(ServiceError, match=re.escape("did not answer on 127.0.0.1:1 within 0s")):
        wait_ready(handle, lambda: False, timeout=0.3)
    assert stop(handle, timeout=5)
    assert handle.pid() is None and not handle.pidfile.exists()
    assert not stop(handle), "stopping a stopped server is a no-op"


def test_a_taken_port_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        handle = Handle(name="redis", home=tmp_path, port=sock.getsockname()[1], url="-", process="x")
        with pytest.raises(ServiceError, match="is taken by another program"):
            ensure_port_free(handle)


@pytest.mark.parametrize(
    ("finder", "install"),
    [
        (tools.java, "apt-get install -y openjdk-17-jre-headless"),
        (tools.mvn, "apt-get install -y maven"),
        (tools.redis_server, "apt-get install -y redis-server"),
    ],
)
def test_missing_programs_name_their_install_command(
    finder: Callable[[], str], install: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(tools.MissingTool, match=install):
        finder()


def test_missing_postgres_names_its_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(tools, "PG_BIN_GLOB", str(tmp_path / "nowhere/*/bin"))
    with pytest.raises(tools.MissingTool, match="apt-get install -y postgresql"):
        tools.pg_bindir()


def test_a_java_older_than_17_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    with pytest.raises(tools.MissingTool, match="java 17"):
        tools.java()
