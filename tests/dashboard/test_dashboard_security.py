"""Sign-in and hostile text in a real browser: throttling, server-side sign-out, named accounts,
markup and bidirectional text in names and posts, the audit page, refused settings at start."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Dashboard,
    free_port,
    go,
    settle,
    shot,
    sign_in,
    start_dashboard,
    stop,
)
from dashboard_seed import add_history, add_post
from playwright.sync_api import Browser, Page, expect
from test_dashboard_browser import unique

from dashboard.cli import child_env
from sentimon.storage import accounts, audit
from sentimon.storage.db import make_engine, migrate
from sentimon.storage.topics import create_topic
from tests.helpers import wait_until

pytestmark = pytest.mark.browser
MARKUP_NAME = "[lnk](javascript:alert(1)) **loud** :red[alarm] <a href='javascript:alert(2)'>h</a> <b>b</b>"
RLO, PDF = "\u202e", "\u202c"


def _submit(page: Page, name: str, password: str) -> None:
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def _own_server(tmp_path: Path, **env: str) -> tuple[subprocess.Popen, str, str]:
    db_url = f"sqlite:///{tmp_path / 'own.db'}"
    migrate(db_url)
    proc, url = start_dashboard(db_url, tmp_path, env)
    return proc, url, db_url


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[tuple[str, str]]:
    proc, url, db_url = _own_server(
        tmp_path,
        SENTIMON_LOGIN_MAX_FAILURES="3",
        SENTIMON_LOGIN_BASE_DELAY_S="3",
        SENTIMON_LOGIN_MAX_DELAY_S="3",
        SENTIMON_LOGIN_LOCKOUT_S="600",
    )
    yield url, db_url
    stop(proc)


def test_failed_sign_ins_are_slowed_then_locked_out_and_logged(
    page: Page, throttled: tuple[str, str]
) -> None:
    url, db_url = throttled
    page.goto(url)
    _submit(page, "mallory", "guess-1")
    expect(page.get_by_text("That name and password do not open the dashboard.")).to_be_visible()
    _submit(page, "mallory", ADMIN_PASSWORD)  # at once: the right password must wait too
    expect(
        page.get_by_text(re.compile(r"Too many failed sign-ins: wait [123] s before trying again"))
    ).to_be_visible()

    engine = make_engine(db_url)

    def logged() -> list[str]:
        with engine.connect() as conn:
            return [e.action for e in audit.list_entries(conn)][::-1]

    def counted(guess: str, failures: int) -> bool:  # try again until the wait is over
        if logged().count("sign_in_failed") < failures:
            _submit(page, "mallory", guess)
        return logged().count("sign_in_failed") >= failures

    wait_until(lambda: counted("guess-2", 2), timeout=20, interval=0.5, message="the delay to pass")
    wait_until(lambda: counted("guess-3", 3), timeout=20, interval=0.5, message="the delay to pass")
    expect(page.get_by_text(re.compile("locked for now|locked for 10 min"))).to_be_visible()
    _submit(page, "mallory", ADMIN_PASSWORD)
    expect(page.get_by_text("Too many failed sign-ins: locked for 10 min.")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    shot(page, "sign-in-locked")
    actions = logged()
    engine.dispose()
    assert actions.count("sign_in_failed") == 3 and "sign_in" not in actions
    assert actions[1] == "sign_in_throttled" and actions[-1] == "sign_in_locked"


def test_sign_out_holds_across_a_restart_and_on_another_replica(browser: Browser, tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"Tr1cky-Lantern-Moss", bcrypt.gensalt(rounds=4)).decode()
    proc, url, db_url = _own_server(tmp_path, SENTIMON_AUTH_MODE="accounts")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        accounts.add_user(conn, "Ana Lima", "admin", hashed)
    replica = None
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        _submit(page, "ana lima", "Tr1cky-Lantern-Moss")  # names are exact
        expect(page.get_by_text("do not open the dashboard")).to_be_visible()
        _submit(page, "Ana Lima", ADMIN_PASSWORD)  # shared passwords open nothing in accounts mode
        expect(page.get_by_text("do not open the dashboard")).to_be_visible()
        _submit(page, "Ana Lima", "Tr1cky-Lantern-Moss")
        expect(page.get_by_text("Signed in as Ana Lima (admin)")).to_be_visible()
        wait_until(lambda: any(c["name"] == "sentimon_session" for c in context.cookies()), 10)
        cookie = next(c for c in context.cookies() if c["name"] == "sentimon_session")["value"]

        stop(proc)  # a restart: the session is in the database, not in the process
        proc, url = start_dashboard(db_url, tmp_path, {"SENTIMON_AUTH_MODE": "accounts"})
        replica, replica_url = start_dashboard(db_url, tmp_path, {"SENTIMON_AUTH_MODE": "accounts"})
        for base in (url, replica_url):
            _with_cookie(browser, base, cookie, signed_in=True)
        page.goto(url)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        stop(proc)
        proc, url = start_dashboard(db_url, tmp_path, {"SENTIMON_AUTH_MODE": "accounts"})
        for base in (url, replica_url):  # restarted, and a replica that never saw the sign-out
            _with_cookie(browser, base, cookie, signed_in=False)
        context.close()
        with engine.connect() as conn:
            actions = [e.action for e in audit.list_entries(conn)]
        assert actions.count("sign_in") == 1 and "sign_out" in actions
    finally:
        stop(proc)
        if replica is not None:
            stop(replica)
        engine.dispose()


def _with_cookie(browser: Browser, base: str, cookie: str, *, signed_in: bool) -> None:
    context = browser.new_context()
    context.add_cookies([{"name": "sentimon_session", "value": cookie, "url": base}])
    page = context.new_page()
    page.goto(base)
    if signed_in:
        expect(page.get_by_text("Signed in as Ana Lima (admin)")).to_be_visible()
    else:
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        settle(page)
        expect(page.get_by_text("Signed in as")).to_have_count(0)
    context.close()


def test_markup_in_topic_names_is_shown_as_written(page: Page, dashboard: Dashboard) -> None:
    name = f"{MARKUP_NAME} {unique('m')}"
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, name, "markupword")
        other = create_topic(conn, unique("plain-other"), "otherword")
        add_history(conn, topic, 20, 5, (0.3, 0.4, 0.3))
        add_history(conn, other, 20, 5, (0.2, 0.4, 0.4))
        add_post(conn, "markupword is fine", (0.2, 0.5, 0.3), [topic])
    sign_in(page, dashboard.url)
    tile = page.locator(f".st-key-tile-{topic}").last
    expect(tile).to_contain_text(name)
    tile.get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name=f"Posts about {name}")).to_be_visible()
    box = page.get_by_label("Topics (pick several to compare)", exact=True)
    box.click()
    box.press_sequentially("plain-other")
    page.get_by_role("option").filter(has_text="plain-other").first.click()
    page.keyboard.press("Escape")
    legend = page.locator(".legend").filter(has_text=f"{name} negative").first  # Plotly's, as text
    expect(legend).to_be_visible()
    shot(page, "topic-detail-markup-names")
    assert page.locator("a[href^='javascript'], strong:has-text('loud')").count() == 0
    assert page.locator(".legend a, .legend b").count() == 0
    go(page, dashboard.url, "Topics")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    assert page.locator("a[href^='javascript']").count() == 0


def test_bidirectional_controls_in_posts_and_authors_cannot_reorder_what_is_shown(
    page: Page, dashboard: Dashboard
) -> None:
    word = unique("bidiword").replace("-", "")
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, word, word)
        add_post(
            conn, f"{word} open {RLO}exe.gnp{PDF} now", (0.9, 0.05, 0.05), [topic], author=f"{RLO}nimda{PDF}"
        )
    sign_in(page, dashboard.url)
    page.locator(f".st-key-tile-{topic}").get_by_role("link", name="Details").click()
    body = page.get_by_test_id("stText").filter(has_text=word).first
    expect(body).to_have_text(f"{word} open \ufffdexe.gnp\ufffd now")  # in logical order, marked
    expect(page.get_by_text("by \ufffdnimda\ufffd")).to_be_visible()
    shot(page, "topic-detail-bidi")
    text = page.get_by_test_id("stMain").inner_text()
    assert RLO not in text and PDF not in text
    with dashboard.engine.connect() as conn:  # the stored text stays as it came
        from sqlalchemy import select

        from sentimon.storage.tables import posts

        stored = conn.execute(select(posts.c.text).where(posts.c.text.like(f"{word}%"))).scalar_one()
    assert RLO in stored


def test_admins_see_the_audit_of_sign_ins_and_viewers_do_not(page: Page, dashboard: Dashboard) -> None:
    who = unique("auditor")
    sign_in(page, dashboard.url, name=who)
    go(page, dashboard.url, "Audit")
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    expect(table).to_contain_text(who)
    shot(page, "audit")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    sign_in(page, dashboard.url, VIEWER_PASSWORD, name=unique("viewer"))
    expect(page.get_by_role("link", name="Audit", exact=True)).to_have_count(0)


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"SENTIMON_VIEWER_PASSWORD": ADMIN_PASSWORD},
            "SENTIMON_VIEWER_PASSWORD: must differ from SENTIMON_ADMIN_PASSWORD",
        ),
        ({"SENTIMON_INGEST_TOKEN": ""}, "SENTIMON_INGEST_TOKEN: must not be empty"),
    ],
)
def test_the_dashboard_refuses_to_start_on_unusable_settings(
    page: Page, tmp_path: Path, env: dict[str, str], line: str
) -> None:
    port = free_port()
    clean = {k: v for k, v in child_env().items() if not k.startswith("SENTIMON_")}
    clean.update(
        SENTIMON_ENV="test",
        SENTIMON_DATABASE_URL=f"sqlite:///{tmp_path / 'refused.db'}",
        SENTIMON_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SENTIMON_VIEWER_PASSWORD=VIEWER_PASSWORD,
        SENTIMON_DASHBOARD_PORT=str(port),
    )
    clean.update(env)
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli"], env=clean, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 78
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"sentimon: refused: {line}")
    with pytest.raises(Exception, match="ERR_CONNECTION_REFUSED"):
        page.goto(f"http://127.0.0.1:{port}")


def test_downloads_need_a_live_session_and_answers_carry_security_headers(
    page: Page, browser: Browser, dashboard: Dashboard
) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, unique("download"), "downloadword")
        add_history(conn, topic, 20, 5, (0.3, 0.4, 0.3))
    sign_in(page, dashboard.url)
    page.locator(f".st-key-tile-{topic}").get_by_role("link", name="Details").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download series as CSV").click()
    link = download.value.url
    assert "/media/" in link and page.request.get(link).status == 200
    anonymous = browser.new_context()
    try:
        refused = anonymous.request.get(link)
        assert refused.status == 403 and "Sign in" in refused.text()
        import streamlit

        bundled = Path(streamlit.__file__).parent / "static" / "static" / "media"
        icons = next(bundled.glob("MaterialSymbols*"))  # the page's icon font, for everyone
        assert anonymous.request.get(f"{dashboard.url}/static/media/{icons.name}").status == 200
        front = anonymous.request.get(dashboard.url)
        assert front.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in front.headers["content-security-policy"]
        assert front.headers["x-content-type-options"] == "nosniff"
        planted = anonymous.request.post(
            f"{dashboard.url}/_sentimon/session", data="x", headers={"Origin": "https://evil.example"}
        )
        assert planted.status == 403 and not any(c["name"] == "sentimon_session" for c in anonymous.cookies())
    finally:
        anonymous.close()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.request.get(link).status == 403  # signed out: the link is dead, cookie or not
    assert violations == []  # the whole app runs under the policy


def test_with_oidc_the_login_offers_the_identity_provider_and_no_password(page: Page, tmp_path: Path) -> None:
    oidc = {
        "SENTIMON_AUTH_MODE": "oidc",
        "SENTIMON_OIDC_CLIENT_ID": "sentimon",
        "SENTIMON_OIDC_CLIENT_SECRET": "not-used-here",
        "SENTIMON_OIDC_SERVER_METADATA_URL": "https://idp.invalid/.well-known/openid-configuration",
        "SENTIMON_OIDC_REDIRECT_URI": "http://127.0.0.1/oauth2callback",
    }
    from dashboard.oidc import write_streamlit_secrets
    from sentimon.settings import Settings

    fields = {k.removeprefix("SENTIMON_").lower(): v for k, v in oidc.items()}
    secrets = write_streamlit_secrets(Settings(data_dir=tmp_path, **fields))  # what `sentimon dashboard` does
    db_url = f"sqlite:///{tmp_path / 'own.db'}"
    migrate(db_url)
    proc, url = start_dashboard(db_url, tmp_path, oidc, secrets)
    try:
        page.goto(f"{url}/topics")
        expect(page.get_by_text("Sign in with your organisation's account.")).to_be_visible()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_role("textbox", name="Password")).to_have_count(0)
        expect(page.get_by_role("link", name="Topics")).to_have_count(0)
    finally:
        stop(proc)
