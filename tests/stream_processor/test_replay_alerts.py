"""A replay at --speed 0 is judged on event time: every window in order, the last one included."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from sentimon.storage import alerts, topics
from sentimon.storage.db import make_engine, migrate
from stream_processor.alerting.detector import KIND
from tests.stream_processor.worker_helpers import ROOT, clean_env

START = datetime(2025, 3, 2, 8, 0, tzinfo=UTC)  # long ago: the wall clock must not matter
MINUTES, SPIKE = 50, range(38, 46)
TEXTS = {
    "negative": ["Acme Air lost my bag again, terrible service", "Acme Air is awful, worst airline ever"],
    "neutral": ["Acme Air flight 212 boards at gate 4", "Reading about Acme Air's new route"],
    "positive": ["Love flying Acme Air, great crew!", "Acme Air upgraded me, thank you so much"],
}


def _replay_file(path: Path) -> None:
    rng, lines, i = random.Random(5), [], 0
    for minute in range(MINUTES):
        neg = 0.8 if minute in SPIKE else 0.15
        for second in range(0, 60, 1):
            mood = "negative" if rng.random() < neg else rng.choice(("neutral", "positive"))
            at = START + timedelta(minutes=minute, seconds=second)
            text = f"{rng.choice(TEXTS[mood])} #{i}"
            lines.append(
                orjson.dumps({"source": "replay", "id": str(i), "text": text, "created_at": at.isoformat()})
            )
            i += 1
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_a_fast_replay_judges_every_window_and_fires_on_the_spike(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    migrate(url)
    with make_engine(url).begin() as conn:
        topic_id = topics.create_topic(conn, "Acme Air", '"acme air"')
    path = tmp_path / "day.jsonl"
    _replay_file(path)
    env = clean_env({"SENTIMON_DATABASE_URL": url, "SENTIMON_DATA_DIR": str(tmp_path / "var")})
    cmd = [sys.executable, "-m", "sentimon", "run", "--replay", str(path), "--speed", "0", "--no-dashboard"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    engine = make_engine(url)
    with engine.connect() as conn:
        found = alerts.list_alerts(conn, topic_id=topic_id)
        state = alerts.load_detector_state(conn, topic_id, KIND)
    fired = [a for a in found if a.fired_at is not None]
    assert len(fired) == 1, found
    onset = START + timedelta(minutes=SPIKE.start)
    assert onset <= fired[0].window_start <= onset + timedelta(minutes=3)
    assert state is not None and state[1] == START + timedelta(minutes=MINUTES - 1)  # the last window too
