"""The demo's scripted spike alerts within its first five minutes (its history is the baseline)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from sentimon.storage import alerts, topics
from sentimon.storage.db import make_engine, migrate
from stream_processor.embedded.app import DEMO_HISTORY_MINUTES
from stream_processor.embedded.demo import DEMO_TOPICS, DemoScenario
from stream_processor.embedded.sources import demo_items
from tests.stream_processor.worker_helpers import ROOT, clean_env

FIRST = timedelta(minutes=5)


def _first_minutes_as_replay(path: Path, shift: timedelta) -> datetime:
    """The demo's history and its first minutes, dated as `sentimon run` would date them, all moved
    `shift` into the past (so that the wall clock has closed every window); returns the start."""
    lines = []
    start = datetime.now(UTC)
    for due, fields in demo_items(DemoScenario(), history_minutes=DEMO_HISTORY_MINUTES):
        assert isinstance(fields, dict)
        if due is not None and due > FIRST.total_seconds():
            break
        when = (
            start + timedelta(seconds=due)
            if due is not None
            else datetime.fromisoformat(fields["created_at"])
        )
        lines.append(orjson.dumps({**fields, "created_at": (when - shift).isoformat()}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return start - shift


def test_the_demo_spike_alerts_within_five_minutes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate(url)
    with make_engine(url).begin() as conn:
        ids = {name: topics.create_topic(conn, name, rule) for name, rule in DEMO_TOPICS.items()}
    path = tmp_path / "demo.jsonl"
    start = _first_minutes_as_replay(path, FIRST + timedelta(minutes=2))
    env = clean_env({"SENTIMON_DATABASE_URL": url, "SENTIMON_DATA_DIR": str(tmp_path / "var")})
    cmd = [sys.executable, "-m", "sentimon", "run", "--replay", str(path), "--speed", "0", "--no-dashboard"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=480)
    assert done.returncode == 0, done.stderr[-3000:]
    with make_engine(url).connect() as conn:
        found = alerts.list_alerts(conn, topic_id=ids["Acme Air"])
        others = [
            a for name, i in ids.items() if name != "Acme Air" for a in alerts.list_alerts(conn, topic_id=i)
        ]
    fired = [a for a in found if a.fired_at is not None]
    assert fired, "the scripted Acme Air spike raised no alert"
    assert fired[0].window_start < start + FIRST - timedelta(minutes=1)  # judged before minute five ends
    assert not [a for a in others if a.fired_at is not None]
