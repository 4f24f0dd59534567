"""`sentimon report shares`: corrected per-topic shares from stored windows, on SQLite and Postgres."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from model.quantstats import fit_correction
from sentimon.quantify import Correction
from sentimon.report import share_report
from sentimon.storage import topics
from stream_processor.batch import RawMessage
from stream_processor.pipeline import Processor
from stream_processor.rulebook import RuleBook
from stream_processor.sinks.sql import SqlStore
from tests.stream_processor.fakes import WordClassifier
from tests.stream_processor.worker_helpers import ROOT, T0, clean_env, post_json

# WordClassifier's labels: "awful" → negative, "love" → positive, anything else → neutral. Its
# statistics say it finds only half the negatives (the rest it calls neutral), so a topic whose
# posts it labels 30% negative is really 60% negative.
MATRIX = np.array([[0.5, 0.0, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])


class HalfBlind(WordClassifier):
    version = "half-blind-1"
    quantification = None


def _stats() -> dict:
    labels = np.repeat([0, 1, 2], 100)
    preds = np.array([0] * 50 + [1] * 50 + [1] * 100 + [2] * 100)
    probs = np.eye(3)[preds] * 0.8 + 0.2 / 3
    return fit_correction(probs, preds, labels)


def _store(engine: Engine) -> int:
    with engine.begin() as conn:
        topic = topics.create_topic(conn, "Acme", "acme")
        topics.create_topic(conn, "Quiet", "zebra")
    clf = HalfBlind()
    clf.quantification = _stats()
    rules = RuleBook(engine)
    rules.refresh()
    processor = Processor(clf, SqlStore(engine), matcher=rules.matcher)
    texts = ["acme is awful"] * 30 + ["acme flight at noon"] * 50 + ["love acme"] * 20
    batch = [RawMessage(post_json(i, f"{t} {i}", minute=i % 5), f"t/0/{i}") for i, t in enumerate(texts)]
    processor.commit(processor.compute(batch)[0])
    return topic


def test_report_corrects_each_topic_on_sqlite_and_postgres(engine: Engine) -> None:
    _store(engine)
    assert Correction.from_stats(_stats()).acc_inv[0][0] == pytest.approx(2.0)
    with engine.connect() as conn:
        acc = {r.topic: r for r in share_report(conn, method="acc")}
        cc = {r.topic: r for r in share_report(conn, ["acme"], method="cc")}
        span = share_report(conn, ["Acme"], since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert acc["Acme"].estimate.n == 100 and acc["Acme"].estimate.negative == pytest.approx(0.6)
    assert acc["Acme"].estimate.negative_low < 0.6 < acc["Acme"].estimate.negative_high
    assert acc["Acme"].model_versions == {"half-blind-1": 100}
    assert cc["Acme"].estimate.negative == pytest.approx(0.3)
    assert acc["Quiet"].estimate.n == 0 and acc["Quiet"].estimate.too_few
    assert span[0].estimate.n == 40  # minutes 2 and 3 only


def test_report_cli_prints_one_json_array(tmp_path: Path) -> None:
    from sentimon.storage.db import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'r.db'}"
    migrate(url)
    _store(make_engine(url))
    env = clean_env({"SENTIMON_DATABASE_URL": url})
    cmd = [sys.executable, "-m", "sentimon", "report", "shares", "--topic", "Acme", "--json"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    [row] = json.loads(out.stdout)
    assert {
        "topic",
        "n",
        "negative",
        "neutral",
        "positive",
        "negative_low",
        "negative_high",
        "method",
    } <= set(row)
    assert row["topic"] == "Acme" and row["method"] == "acc" and row["negative"] == pytest.approx(0.6)
    bad = subprocess.run([*cmd[:5], "--topic", "nope"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "no topic named 'nope'" in bad.stderr
