"""Browser-test harness: a real Streamlit server on a test database, driven by Debian's Chromium."""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from dashboard.cli import child_env, streamlit_command
from sentimon.storage.db import make_engine, migrate
from tests.helpers import wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
ADMIN_PASSWORD = "admin-test-pw"
VIEWER_PASSWORD = "viewer-test-pw"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Dashboard:
    url: str
    engine: Engine
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
        return reply.status == 200


def start_dashboard(
    db_url: str, folder: Path, extra_env: dict[str, str] | None = None, secrets_file: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """Streamlit on a free port against `db_url`; our SENTIMON_* settings only, nothing inherited."""
    port = free_port()
    env = {k: v for k, v in child_env().items() if not k.startswith("SENTIMON_")}
    env.update(
        SENTIMON_ENV="test",
        SENTIMON_DATABASE_URL=db_url,
        SENTIMON_DATA_DIR=str(folder),
        SENTIMON_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SENTIMON_VIEWER_PASSWORD=VIEWER_PASSWORD,
        # Every browser is 127.0.0.1 here: no throttling on the shared server (its own tests have it).
        SENTIMON_LOGIN_BASE_DELAY_S="0",
        SENTIMON_LOGIN_MAX_FAILURES="1000",
        SENTIMON_LOGIN_MAX_FAILURES_PER_CLIENT="1000",
    )
    env.update(extra_env or {})
    log = (folder / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        streamlit_command(port, "127.0.0.1", secrets_file),
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: proc.poll() is None and _healthy(url),
            timeout=60,
            ignore=(OSError,),
            message=f"streamlit to serve {url} (log: {log.name})",
        )
    except AssertionError:
        proc.kill()
        raise
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """One server for the browser tests, on a SQLite file they seed through the storage tables."""
    folder = tmp_path_factory.mktemp("dashboard")
    db_url = f"sqlite:///{folder / 'dashboard.db'}"
    migrate(db_url)
    engine = make_engine(db_url)
    proc, url = start_dashboard(db_url, folder)
    yield Dashboard(url, engine, folder / "streamlit.log")
    stop(proc)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium per test module: sync Playwright holds an event loop open, which must not outlive
    the browser tests (later tests call asyncio.run)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a page run on this 2-core machine can take a few seconds
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page: Page, name: str) -> Path:
    """Save the whole page as a test artifact (Streamlit scrolls inside its main area, so the
    viewport is stretched to that area's height for the shot)."""
    from playwright.sync_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    settle(page)
    size = page.viewport_size
    assert size is not None, "the page fixture sets a viewport"
    height = page.evaluate("document.querySelector('[data-testid=stMain]')?.scrollHeight ?? 0")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 5000)})
    settle(page)  # a live fragment may have started a run meanwhile
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)  # charts still loading show a skeleton
    page.screenshot(path=str(path), animations="disabled")
    page.set_viewport_size(size)
    return path


def settle(page: Page) -> None:
    """Wait until the app has finished its current run (no half-updated, faded elements)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def tile(page: Page, topic_id: int) -> Locator:
    """A topic's Overview tile. While the live fragment reruns, Streamlit briefly keeps the stale tile
    beside the new one (same key); the newest is the last."""
    return page.locator(f".st-key-tile-{topic_id}").last


def sign_in(page: Page, base_url: str, password: str = ADMIN_PASSWORD, name: str = "tester") -> None:
    from playwright.sync_api import expect

    page.goto(base_url)
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def go(page: Page, base_url: str, path: str) -> None:
    """Open a page through the sidebar (a fresh URL would start a new, signed-out session).

    A click that lands while the current page is still rerunning can be dropped by the app; when
    the page has not changed after a while, the link is clicked again (three tries in all)."""
    from playwright.sync_api import expect

    heading = page.get_by_role("heading", name=path, level=1)
    for attempt in range(3):
        page.get_by_role("link", name=path, exact=True).click()
        try:
            expect(heading).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    settle(page)


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a select box by typing it (long option lists are virtualised).

    A rerun of the page (a cache expiring, a fragment refreshing) can replace the open list
    under the click; then the list is opened again, up to three times.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        box = page.get_by_label(label, exact=True)
        box.click()
        box.press_sequentially(option)
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=7000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
