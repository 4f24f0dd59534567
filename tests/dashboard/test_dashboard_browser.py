"""The dashboard in a real browser: sign-in, live numbers, topics, alerts, labelling, read-only viewers."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from conftest import VIEWER_PASSWORD, Dashboard, go, pick, shot, sign_in
from conftest import tile as topic_tile
from dashboard_seed import add_alert, add_history, add_post, add_window, model_folder
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dashboard.cli import child_env
from sentimon.settings import Settings
from sentimon.storage import alerts as alert_store
from sentimon.storage.models import get_version, live_version, pending_requests, promote, register_version
from sentimon.storage.tables import labels
from sentimon.storage.topics import create_topic, get_topic_by_name
from tests.helpers import wait_until

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
PAGES = ["Overview", "Topic detail", "Topics", "Alerts", "Labelling", "Models"]
HOSTILE = (
    'zorblax <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> '
    "[click](https://evil.example/x) ![pixel](https://evil.example/p.png) **loud** :red[alarm] $x^2$"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def no_errors(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_unauthenticated_visitors_see_only_the_login(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/topics")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Topics")).to_have_count(0)
    page.get_by_role("textbox", name="Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That name and password do not open the dashboard.")).to_be_visible()
    expect(page.get_by_role("heading", name="Overview")).to_have_count(0)
    shot(page, "login")
    page.get_by_role("textbox", name="Password").fill(VIEWER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signed in, the deep link lands where it pointed.
    expect(page.get_by_role("heading", name="Topics", level=1)).to_be_visible()
    expect(page.get_by_text("(viewer)")).to_be_visible()


def test_a_reload_keeps_the_sign_in_until_sign_out(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard.url, name="reloader")
    go(page, dashboard.url, "Topics")
    wait_until(lambda: any(c["name"] == "sentimon_session" for c in page.context.cookies()), 15)
    page.reload()
    expect(page.get_by_text("Signed in as reloader")).to_be_visible()
    expect(page.get_by_role("heading", name="Topics", level=1)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "sentimon_session")
    assert cookie["sameSite"] == "Strict" and cookie["expires"] > 0  # kept across browser restarts
    assert cookie["httpOnly"]  # set by the server: no script on the page can read it
    assert "sentimon_session" not in page.evaluate("document.cookie")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()  # at once: the cookie may still be there, but it was signed out
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    wait_until(lambda: all(c["name"] != "sentimon_session" for c in page.context.cookies()), 10)
    # A forged cookie opens nothing.
    page.context.add_cookies(
        [
            {
                "name": "sentimon_session",
                "value": "eyJuYW1lIjoieCIsInJvbGUiOiJhZG1pbiJ9.x.y",
                "url": dashboard.url,
            }
        ]
    )
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # The cookie is handed over by the supported st.html, not the deprecated components.v1.html.
    assert "components.v1.html" not in dashboard.log.read_text(errors="replace")


def test_the_overview_answers_at_its_own_address(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard.url, name="linker")
    wait_until(lambda: any(c["name"] == "sentimon_session" for c in page.context.cookies()), 15)
    page.goto(f"{dashboard.url}/overview")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)


def test_every_page_loads_without_errors(page: Page, dashboard: Dashboard) -> None:
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, unique("smoke"), "smoke")
        add_history(conn, topic, 90, 25, (0.3, 0.4, 0.3))
        add_post(
            conn, "smoke test post about the product", (0.6, 0.3, 0.1), [topic], url="https://example.com/1"
        )
        add_alert(conn, topic, state="firing", severity="major")
    sign_in(page, dashboard.url)
    expect(page.locator(f".st-key-tile-{topic}")).to_be_visible()  # caches refresh within seconds
    for name in PAGES:
        go(page, dashboard.url, name)
        no_errors(page)
        shot(page, f"page-{name.lower().replace(' ', '-')}")


def test_overview_numbers_follow_the_posts_without_reloading(page: Page, dashboard: Dashboard) -> None:
    name = unique("live")
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, name, "live")
        # The last 10 minutes (all inside the 15-minute "now" even if a minute turns) and a baseline.
        add_history(conn, topic, 10, 10, (0.2, 0.5, 0.3))
        add_history(conn, topic, 60, 10, (0.2, 0.5, 0.3), first=20)
    sign_in(page, dashboard.url)
    tile = topic_tile(page, topic)
    expect(tile).to_contain_text(name)
    expect(tile).to_contain_text("Volume (15 min): 100")
    expect(tile).to_contain_text("20%")
    expect(tile).to_contain_text("as usual (24 h)")
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    with dashboard.engine.begin() as conn:
        add_window(conn, topic, datetime.now(UTC), 60, (0.9, 0.05, 0.05))
    expect(tile).to_contain_text("Volume (15 min): 160", timeout=15_000)
    expect(tile).to_contain_text("46%")  # (100 x 0.2 + 60 x 0.9) / 160
    expect(tile).to_contain_text("+26 pts vs 24 h")
    assert page.evaluate("window.__same_page") is True
    shot(page, "overview-live")


def test_topic_detail_shows_series_terms_posts_comparison_and_csv(page: Page, dashboard: Dashboard) -> None:
    name, other = unique("detail"), unique("detail-other")
    now = datetime.now(UTC)
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, name, "detail")
        second = create_topic(conn, other, "other")
        add_history(conn, topic, 30, 10, (0.25, 0.5, 0.25))
        add_history(conn, second, 30, 5, (0.1, 0.5, 0.4))
        for i in range(4):
            add_post(
                conn,
                f"detail checkout outage number {i}",
                (0.9, 0.07, 0.03),
                [topic],
                url="https://example.com/o",
            )
            add_post(
                conn,
                f"detail checkout fine {i}",
                (0.6, 0.3, 0.1),
                [topic],
                created_at=now - timedelta(days=2),
            )
        add_post(conn, "detail checkout is lovely", (0.02, 0.08, 0.9), [topic])
    sign_in(page, dashboard.url)
    page.locator(f".st-key-tile-{topic}").get_by_role("link", name="Details").click()
    expect(page.locator(".st-key-detail_chart[data-stale='false'] .js-plotly-plot")).to_be_visible()
    expect(page.locator(".st-key-detail_terms")).to_contain_text("outage")
    expect(page.get_by_test_id("stText").filter(has_text="detail checkout is lovely")).to_be_visible()
    expect(page.get_by_role("link", name="source: test").first).to_have_attribute(
        "href", "https://example.com/o"
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Download series as CSV").click()
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0] == "bucket_start,topic,volume,negative,neutral,positive,negative_low,negative_high,method"
    assert len(rows) > 1 and all(f",{name}," in r for r in rows[1:])
    page.get_by_test_id("stButtonGroup").get_by_text("Last hour").click()
    pick(page, "Topics (pick several to compare)", other)
    page.keyboard.press("Escape")
    expect(page.locator(".st-key-detail_chart[data-stale='false']")).to_contain_text(f"{other} negative")
    shot(page, "topic-detail-compare")


def test_admin_creates_a_topic_and_sees_what_it_matches(page: Page, dashboard: Dashboard) -> None:
    word = unique("quxbrand").replace("-", "")
    with dashboard.engine.begin() as conn:
        for text in (f"I love {word}", f"{word} is down again", f"{word} hiring now", "nothing to see"):
            add_post(conn, text, (0.3, 0.4, 0.3), [])
    sign_in(page, dashboard.url)
    go(page, dashboard.url, "Topics")
    name_box = page.get_by_role("textbox", name="Name")
    rule_box = page.get_by_role("textbox", name="Rule")
    name_box.fill(word.capitalize())
    rule_box.fill(f'"{word} is')
    rule_box.press("Enter")
    expect(page.get_by_text("Rule problem: this quote is never closed")).to_be_visible()
    expect(page.get_by_role("button", name="Create topic")).to_be_disabled()
    rule_box.fill(f"{word} -hiring")
    rule_box.press("Enter")
    expect(page.get_by_text(re.compile(r"Valid rule: matches 2 of the last \d+ posts"))).to_be_visible()
    preview = page.locator(".st-key-new_preview")
    expect(preview).to_contain_text(f"{word} is down again")
    expect(preview).not_to_contain_text("hiring")
    shot(page, "topics-create")
    page.get_by_role("button", name="Create topic").click()
    expect(page.get_by_text(f"Topic “{word.capitalize()}” created.")).to_be_visible()
    with dashboard.engine.connect() as conn:
        stored = get_topic_by_name(conn, word.capitalize())
    assert stored is not None and stored.rule == f"{word} -hiring" and stored.alert_config["enabled"] is True
    go(page, dashboard.url, "Overview")
    expect(page.get_by_role("heading", name=word.capitalize(), level=4)).to_be_visible()


def test_admin_edits_pauses_and_deletes_a_topic(page: Page, dashboard: Dashboard) -> None:
    name = unique("editme")
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, name, "editme")
    sign_in(page, dashboard.url)
    go(page, dashboard.url, "Topics")
    page.get_by_role("tab", name="Edit a topic").click()
    pick(page, "Topic", name)
    rule_box = page.locator(f".st-key-edit_rule_{topic} input")
    rule_box.fill("(editme OR spam")
    rule_box.press("Enter")
    expect(page.get_by_text("Rule problem: this '(' is never closed")).to_be_visible()
    expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
    rule_box.fill("editme -spam")
    rule_box.press("Enter")
    page.get_by_text("Alert settings").last.click()
    page.locator(f".st-key-edit_{topic}_al_rise input").fill("15")
    page.locator(f".st-key-edit_{topic}_al_extra textarea").fill('{"confirm_windows": 0}')
    page.locator(f".st-key-edit_{topic}_al_extra textarea").blur()
    expect(page.get_by_text("confirm_windows must be at least 1")).to_be_visible()
    page.locator(f".st-key-edit_{topic}_al_extra textarea").fill('{"confirm_windows": 3}')
    page.locator(f".st-key-edit_{topic}_al_extra textarea").blur()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text(f"Topic “{name}” saved.")).to_be_visible()
    with dashboard.engine.connect() as conn:
        saved = get_topic_by_name(conn, name)
    assert saved is not None and saved.rule == "editme -spam"
    assert saved.alert_config["min_rise"] == 0.15 and saved.alert_config["confirm_windows"] == 3
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    with dashboard.engine.connect() as conn:
        assert get_topic_by_name(conn, name).active is False  # type: ignore[union-attr]
    page.get_by_role("button", name="Delete…").click()
    page.get_by_role("button", name=f"Delete “{name}” for good").click()
    expect(page.get_by_text(f"Topic “{name}” deleted.")).to_be_visible()
    no_errors(page)
    with dashboard.engine.connect() as conn:
        assert get_topic_by_name(conn, name) is None


def test_admin_acknowledges_then_resolves_an_alert(page: Page, dashboard: Dashboard) -> None:
    name = unique("alerting")
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, name, "alerting")
        alert_id = add_alert(conn, topic, state="firing")
    sign_in(page, dashboard.url, name="Ana")
    go(page, dashboard.url, "Alerts")
    card = page.locator(f".st-key-alert-{alert_id}")
    expect(card).to_contain_text(name)
    expect(card).to_contain_text(f"{name}: negative share 70% vs 20% usual (+50 pts, 40 posts/min)")
    expect(card).to_contain_text("Terms driving it: outage (strong)")
    card.get_by_text("Posts behind it").click()
    expect(card.get_by_test_id("stText")).to_have_text("the outage again, awful")
    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_contain_text("acknowledged by Ana")
    with dashboard.engine.connect() as conn:
        stored = alert_store.get_alert(conn, alert_id)
    assert stored is not None and stored.state == "acknowledged" and stored.acked_by == "Ana"
    shot(page, "alerts-acknowledged")
    card.get_by_role("button", name="Resolve").click()
    page.get_by_role("tab", name="Past").click()
    expect(card).to_contain_text("resolved by Ana")  # the card moved from the Open tab to Past
    expect(card.get_by_role("button")).to_have_count(0)
    with dashboard.engine.connect() as conn:
        stored = alert_store.get_alert(conn, alert_id)
    assert stored is not None and stored.state == "resolved" and stored.resolved_by == "Ana"


def test_admin_labels_posts_with_buttons_and_keys(page: Page, dashboard: Dashboard) -> None:
    name = unique("labels")
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, name, "labels")
        for i in range(3):
            add_post(conn, f"{name} post number {i}", (0.34, 0.33, 0.33), [topic])
    sign_in(page, dashboard.url, name="Bo")
    go(page, dashboard.url, "Labelling")
    pick(page, "Queue", name)
    current = page.locator(".st-key-label_current")
    first = _current_text(current, name)
    page.get_by_role("button", name="Negative").click()
    second = _next_text(current, name, first)
    page.keyboard.press("2")
    third = _next_text(current, name, second)
    page.keyboard.press("s")
    expect(page.get_by_text("Nothing left to label here.")).to_be_visible()
    shot(page, "labelling")
    page.get_by_role("button", name="Bring back 1 skipped").click()
    expect(current).to_contain_text(third)
    with dashboard.engine.connect() as conn:
        rows = conn.execute(select(labels.c.text, labels.c.label, labels.c.labelled_by)).all()
    mine = {(r.text, r.label) for r in rows if r.labelled_by == "Bo"}
    assert mine == {(first, "negative"), (second, "neutral")}
    assert third not in {r.text for r in rows}
    expect(page.locator(".st-key-label_people")).to_contain_text("Bo")


def _current_text(current, name: str) -> str:  # type: ignore[no-untyped-def]
    expect(current).to_contain_text(name)
    return re.search(rf"{re.escape(name)} post number \d", current.inner_text()).group(0)  # type: ignore[union-attr]


def _next_text(current, name: str, before: str) -> str:  # type: ignore[no-untyped-def]
    expect(current).not_to_contain_text(before)
    return _current_text(current, name)


def test_the_models_page_shows_the_shipped_default_serving_when_nothing_is_promoted(
    page: Page, dashboard: Dashboard
) -> None:
    with dashboard.engine.connect() as conn:
        assert live_version(conn) is None  # the promotion test below runs later
    card = orjson.loads((ROOT / "model" / "default" / "card.json").read_bytes())
    served = card["metrics"]["benchmark-int8"]
    sign_in(page, dashboard.url, name="Newcomer")
    go(page, dashboard.url, "Models")
    expect(page.get_by_role("heading", name="Serving now")).to_be_visible()
    expect(page.get_by_text(card["version"])).to_be_visible()
    expect(page.get_by_text("the shipped default (nothing promoted)")).to_be_visible()
    expect(page.get_by_text("No model has been promoted yet")).to_have_count(0)  # said once, above
    metrics = page.get_by_test_id("stMetricValue")  # the serving card's three come first
    for i, key in enumerate(("avgrec", "f1pn", "acc")):  # by place: two may agree to three decimals
        expect(metrics.nth(i)).to_have_text(f"{served[key]:.3f}")
    expect(page.get_by_text("Confusion on benchmark, int8 as served")).to_be_visible()
    expect(page.get_by_role("cell", name=str(served["confusion"][0][0]), exact=True)).to_be_visible()
    expect(page.get_by_text("Training curves")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Speed \(cpu int8"))).to_be_visible()
    no_errors(page)


def test_admin_promotes_rolls_back_and_requests_retraining(
    page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    with dashboard.engine.begin() as conn:
        register_version(conn, "v-old", str(model_folder(tmp_path / "old", "v-old")), {"avg_recall": 0.61})
        promote(conn, "v-old")
        register_version(conn, "v-new", str(model_folder(tmp_path / "new", "v-new")), {"avg_recall": 0.66})
        register_version(conn, "v-broken", str(tmp_path / "missing"), {"avg_recall": 0.9})
    sign_in(page, dashboard.url, name="Dee")
    # Versions written behind the dashboard's back show once its 10 s cache of them expires.
    wait_until(lambda: _visible_on(page, dashboard.url, "Models", "Live model: v-old"), 30)
    _make_live(page, "v-broken")
    expect(page.get_by_text(re.compile(r"Not done: .*missing: no such model folder"))).to_be_visible()
    _make_live(page, "v-new")
    expect(page.get_by_text("v-new is live (was v-old)")).to_be_visible()
    expect(page.get_by_text("Live model: v-new")).to_be_visible()
    page.get_by_role("button", name="Roll back").click()
    expect(page.get_by_text("rolled back: v-old is live again, v-new rejected")).to_be_visible()
    page.get_by_role("textbox", name="Note (optional)").fill("launch labels are in")
    page.get_by_role("button", name="Request retraining now").click()
    expect(page.get_by_text(re.compile(r"Requested \(request-"))).to_be_visible()
    shot(page, "models")
    with dashboard.engine.connect() as conn:
        assert live_version(conn).version == "v-old"  # type: ignore[union-attr]
        assert get_version(conn, "v-new").status == "rejected"  # type: ignore[union-attr]
        (request,) = pending_requests(conn)
    assert request.metrics["requested_by"] == "Dee" and request.note == "launch labels are in"


def _visible_on(page: Page, url: str, where: str, text: str) -> bool:
    """Open `where` afresh (by way of another page, so it runs again) and look for `text`."""
    go(page, url, "Topics" if where != "Topics" else "Alerts")
    go(page, url, where)
    return page.get_by_text(text).is_visible()


def _make_live(page: Page, version: str) -> None:
    pick(page, "Version to make live", version)
    page.get_by_role("button", name="Make live").click()


def test_viewers_can_read_but_not_change_anything(page: Page, dashboard: Dashboard) -> None:
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, unique("readonly"), "readonly")
        add_alert(conn, topic, state="firing")
        add_post(conn, "readonly post to label", (0.34, 0.33, 0.33), [topic])
    sign_in(page, dashboard.url, VIEWER_PASSWORD, name="Viewer")
    go(page, dashboard.url, "Topics")
    expect(page.get_by_text("Read-only: sign in as an admin to add or change topics.")).to_be_visible()
    expect(page.get_by_role("button", name="Create topic")).to_have_count(0)
    shot(page, "topics-viewer")
    go(page, dashboard.url, "Alerts")
    expect(page.get_by_text("Read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    go(page, dashboard.url, "Labelling")
    expect(page.get_by_role("button", name="Negative")).to_have_count(0)
    go(page, dashboard.url, "Models")
    expect(page.get_by_role("button", name="Request retraining now")).to_have_count(0)


def test_post_text_is_shown_literally_never_as_html(page: Page, dashboard: Dashboard) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    author = "<b>mallory</b> www.evil.example"
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, unique("hostile"), "zorblax")
        add_post(conn, HOSTILE, (0.97, 0.02, 0.01), [topic], url="javascript:alert(1)", author=author)
    sign_in(page, dashboard.url)
    page.locator(f".st-key-tile-{topic}").get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name="Topic detail", level=1)).to_be_visible()
    body = page.get_by_test_id("stText").filter(has_text="zorblax").first
    expect(body).to_have_text(HOSTILE)  # every character as written: no markup, no markdown
    expect(page.get_by_text("by <b>mallory</b>")).to_be_visible()
    shot(page, "topic-detail-hostile")
    _nothing_rendered(page)
    go(page, dashboard.url, "Topics")  # the rule preview shows post text in a table
    rule_box = page.get_by_role("textbox", name="Rule")
    rule_box.fill("zorblax")
    rule_box.press("Enter")
    # Shown as written (an invisible word joiner after "https:" keeps it from becoming a link).
    expect(page.locator(".st-key-new_preview")).to_contain_text(re.compile(r"\[click\]\(https:\u2060?//evil"))
    _nothing_rendered(page)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def _nothing_rendered(page: Page) -> None:
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href*='evil.example'], img[src*='evil.example']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("strong:has-text('loud'), .katex").count() == 0


@pytest.mark.slow
def test_overview_follows_posts_through_the_embedded_runner(
    page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    """The real path: `sentimon run --replay` scores posts into the database the dashboard reads."""
    model = Settings().resolved_model_path  # the shipped default, or SENTIMON_MODEL_PATH
    if not (model / "config.json").is_file():
        pytest.skip(f"no model at {model} yet")
    word = unique("flumox").replace("-", "")
    with dashboard.engine.begin() as conn:
        topic = create_topic(conn, word, word)
    now = datetime.now(UTC).isoformat()
    replay = tmp_path / "posts.jsonl"
    with replay.open("wb") as fh:
        for i in range(30):
            mood = "awful and broken" if i % 2 else "great, thanks"
            post = {"source": "replay", "id": f"{word}-{i}", "created_at": now, "text": f"{word} is {mood}"}
            fh.write(orjson.dumps(post) + b"\n")
    sign_in(page, dashboard.url)
    tile = topic_tile(page, topic)
    expect(tile).to_contain_text("Volume (15 min): 0")
    env = {k: v for k, v in child_env().items() if not k.startswith("SENTIMON_")}
    env.update(
        SENTIMON_ENV="test", SENTIMON_DATABASE_URL=str(dashboard.engine.url), SENTIMON_MODEL_PATH=str(model)
    )
    run = subprocess.run(
        [sys.executable, "-m", "stream_processor.cli", "run", "--replay", str(replay), "--no-dashboard",
         "--speed", "0", "--until-n", "30"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    expect(tile).to_contain_text("Volume (15 min): 30", timeout=20_000)
    shot(page, "overview-embedded-runner")
