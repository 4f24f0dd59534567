"""The dashboard on the real stack: Postgres for the truth, the Redis live view for the overview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import go, pick, shot, sign_in, start_dashboard, stop
from conftest import tile as topic_tile
from dashboard_seed import add_alert, add_history, add_post, minute
from playwright.sync_api import Page, expect
from sqlalchemy import select

from sentimon.storage import alerts as alert_store
from sentimon.storage.db import make_engine, migrate
from sentimon.storage.tables import labels
from sentimon.storage.topics import create_topic
from stream_processor.sinks.base import Batch
from stream_processor.sinks.redis_live import RedisLiveView
from stream_processor.windows import WindowState

pytestmark = pytest.mark.browser


def live_window(topic_id: int, start: datetime, n: int, neg: float) -> WindowState:
    """A live window as a model whose labels need no correction would leave it."""
    rest = (1 - neg) / 2
    counts = (round(n * neg), n - round(n * neg) - round(n * rest), round(n * rest))
    return WindowState(
        topic_id, minute(start), n, *counts, n * neg, n * rest, n * rest,
        acc_neg=counts[0], acc_neu=counts[1], acc_pos=counts[2], acc_sq=counts[0],
    )  # fmt: skip


def test_dashboard_on_postgres_with_the_redis_live_view(
    page: Page, pg_url: str, redis_db: str, tmp_path: Path
) -> None:
    migrate(pg_url)
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        topic = create_topic(conn, "Initech", "initech")
        add_history(conn, topic, 60, 10, (0.2, 0.5, 0.3), first=20)  # the baseline, in Postgres only
        alert_id = add_alert(conn, topic, state="firing", explanation={"summary": "initech outage"})
        add_post(conn, "initech is down again, awful", (0.8, 0.15, 0.05), [topic])
        add_post(conn, "initech maybe ok", (0.35, 0.35, 0.3), [topic])
    view = RedisLiveView.from_url(redis_db)
    now = datetime.now(UTC)
    view.add(Batch(windows=[live_window(topic, now - timedelta(minutes=m), 10, 0.2) for m in range(1, 6)]))
    view.flush()
    proc, url = start_dashboard(pg_url, tmp_path, {"SENTIMON_REDIS_URL": redis_db})
    try:
        sign_in(page, url, name="Cy")
        tile = topic_tile(page, topic)
        expect(page.get_by_text("live from Redis")).to_be_visible()
        expect(tile).to_contain_text("Volume (15 min): 50")
        view.add(Batch(windows=[live_window(topic, now, 30, 0.9)]))
        view.flush()
        expect(tile).to_contain_text("Volume (15 min): 80", timeout=15_000)
        expect(tile).to_contain_text("+26 pts vs 24 h")  # (50 x 0.2 + 30 x 0.9) / 80 = 46% vs 20%
        shot(page, "fullstack-overview")

        go(page, url, "Alerts")
        page.locator(f".st-key-alert-{alert_id}").get_by_role("button", name="Acknowledge").click()
        expect(page.locator(f".st-key-alert-{alert_id}")).to_contain_text("acknowledged by Cy")
        with engine.connect() as conn:
            acked = alert_store.get_alert(conn, alert_id)
        assert acked is not None and acked.acked_by == "Cy"

        go(page, url, "Topic detail")
        expect(page.get_by_test_id("stText").filter(has_text="initech is down again")).to_be_visible()
        expect(page.locator(".st-key-detail_chart[data-stale='false'] .js-plotly-plot")).to_be_visible()

        go(page, url, "Labelling")
        pick(page, "Queue", "Initech")
        expect(page.locator(".st-key-label_current")).to_contain_text("initech maybe ok")
        page.get_by_role("button", name="Positive").click()
        expect(page.locator(".st-key-label_current")).to_contain_text("initech is down again")
        with engine.connect() as conn:
            stored = conn.execute(select(labels.c.text, labels.c.label, labels.c.labelled_by)).all()
        assert [tuple(r) for r in stored] == [("initech maybe ok", "positive", "Cy")]
    finally:
        stop(proc)
        engine.dispose()
