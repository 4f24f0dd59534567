"""Screenshots of every page on the embedded default (`sentimon run`) with the demo scenario running."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, _healthy, free_port, go, shot, sign_in
from playwright.sync_api import Page, expect

from dashboard.cli import child_env
from sentimon.settings import Settings
from tests.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PAGES = ["Overview", "Topic detail", "Topics", "Alerts", "Labelling", "Models"]


def test_every_page_on_the_embedded_demo(page: Page, tmp_path: Path) -> None:
    model = Settings().resolved_model_path  # the shipped default, or SENTIMON_MODEL_PATH
    if not (model / "config.json").is_file():
        pytest.skip(f"no model at {model} yet")
    port = free_port()
    env = {k: v for k, v in child_env().items() if not k.startswith("SENTIMON_")}
    env.update(
        SENTIMON_ENV="test", SENTIMON_DATA_DIR=str(tmp_path), SENTIMON_DASHBOARD_PORT=str(port),
        SENTIMON_ADMIN_PASSWORD=ADMIN_PASSWORD, SENTIMON_VIEWER_PASSWORD=VIEWER_PASSWORD,
        SENTIMON_MODEL_PATH=str(model),
    )  # fmt: skip
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "stream_processor.cli", "run", "--seconds", "300"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: proc.poll() is None and _healthy(url), timeout=120, ignore=(OSError,),
                   message="the demo's dashboard")  # fmt: skip
        sign_in(page, url)
        tiles = page.locator("[class*='st-key-tile-']")
        expect(tiles.first).to_contain_text(re.compile(r"Volume \(15 min\): [1-9]"), timeout=60_000)
        for name in PAGES:
            go(page, url, name)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            shot(page, f"demo-{name.lower().replace(' ', '-')}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
