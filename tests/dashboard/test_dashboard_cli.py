"""`sentimon dashboard`: migrates the database, then serves Streamlit headless on the chosen port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, _healthy, free_port, stop
from sqlalchemy import inspect

from dashboard.cli import child_env, streamlit_command
from sentimon.storage.db import make_engine
from tests.helpers import wait_until


def test_streamlit_command_is_headless_on_the_given_port() -> None:
    cmd = streamlit_command(8765, "127.0.0.1")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("dashboard/server.py")
    options = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert options["--server.headless"] == "true"
    assert options["--server.port"] == "8765"
    assert options["--server.address"] == "127.0.0.1"
    assert options["--browser.gatherUsageStats"] == "false"
    assert str(ROOT) in child_env()["PYTHONPATH"].split(":")


@pytest.mark.slow
def test_dashboard_command_migrates_and_serves_on_loopback_only(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    port = free_port()
    env = {k: v for k, v in child_env().items() if not k.startswith("SENTIMON_")}
    env.update(
        SENTIMON_ENV="test", SENTIMON_DATABASE_URL=f"sqlite:///{db}", SENTIMON_DASHBOARD_PORT=str(port)
    )
    log = (tmp_path / "cli.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli"],  # no --address: loopback unless told otherwise
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(lambda: _healthy(f"http://127.0.0.1:{port}"), timeout=60, ignore=(OSError,))
        engine = make_engine(f"sqlite:///{db}")
        assert {"topics", "labels", "model_versions"} <= set(inspect(engine).get_table_names())
        engine.dispose()
    finally:
        stop(proc)
    printed = (tmp_path / "cli.log").read_bytes()
    assert b"dashboard on http://localhost:" in printed and b"(bound to 127.0.0.1)" in printed
    assert printed.count(b"http://") == 1, printed  # said once, not again by Streamlit's own banner
