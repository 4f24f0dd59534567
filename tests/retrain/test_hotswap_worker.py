"""Hot swap in the real Faust worker (Kafka, Postgres, Redis), and the embedded runner's start-up model."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer

from sentimon.storage import models
from sentimon.storage.db import make_engine, migrate
from tests.helpers import wait_until
from tests.retrain.streams import TEXTS, Stream, runs
from tests.retrain.tiny import BASE, SLANG, texts, write_labels_csv
from tests.stream_processor.worker_helpers import post_json, start_worker

pytestmark = pytest.mark.slow


class Trickle(threading.Thread):
    """Produces one post every `pace_s` seconds to the raw topic until stopped."""

    def __init__(self, bootstrap: str, topic: str, pace_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
        self.topic, self.pace_s, self.sent = topic, pace_s, 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.pace_s):
            i = self.sent
            value = post_json(i, f"{TEXTS[i % len(TEXTS)]} #{i}", minute=i % 3)
            self.producer.send(self.topic, key=f"test:{i}".encode(), value=value)
            self.sent = i + 1
        self.producer.flush(timeout=30)
        self.producer.close()


def test_running_faust_worker_switches_to_a_promoted_model_without_losing_a_post(
    service_env, kafka_topics, sentimon_env, invoke, base_model: Path, base_data: Path, tmp_path: Path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(base_model)}
    sentimon_env(env["SENTIMON_DATABASE_URL"], env["SENTIMON_REDIS_URL"])
    migrate(env["SENTIMON_DATABASE_URL"])
    engine = make_engine(env["SENTIMON_DATABASE_URL"])
    stream = Stream(engine, None)  # only for its read helpers
    invoke("labels", "import", write_labels_csv(tmp_path / "l.csv", texts(90, SLANG, 7) + texts(30, BASE, 8)))
    worker = start_worker(env, tmp_path, batch=20, latency_ms=50)
    trickle = Trickle(kafka_topics.bootstrap, kafka_topics.raw)
    try:
        old = worker.health()["model_version"]
        trickle.start()
        wait_until(lambda: stream.stored() >= 40, timeout=60, message="the worker to score posts")
        assert "promoted" in invoke("retrain", "--base-data", base_data, "--threads", "1").output
        with engine.connect() as conn:
            new = models.live_version(conn).version
        wait_until(lambda: stream.has_version(new), timeout=60, message=f"posts scored by {new}")
        wait_until(lambda: worker.health()["model_version"] == new, timeout=10, message="/health to name it")
        trickle.halt.set()
        trickle.join(timeout=30)
        wait_until(lambda: stream.stored() == trickle.sent, timeout=60, message="every produced post stored")
        metrics = httpx.get(f"http://127.0.0.1:{worker.port}/metrics", timeout=5).text
    finally:
        trickle.halt.set()
        worker.stop()
    rows = stream.rows()
    assert old != new and len(rows) == trickle.sent
    assert {r.post_id for r in rows} == {str(i) for i in range(trickle.sent)}
    assert runs([r.model_version for r in rows]) == [old, new]
    assert f"sentimon_posts_scored_total {float(trickle.sent)}" in metrics
    engine.dispose()


def test_embedded_runner_starts_with_the_registry_live_model(
    sentimon_env, invoke, base_model: Path, trained_base: Path, tmp_path: Path
) -> None:
    import shutil
    import signal

    import orjson

    from model.registry import update_card
    from sentimon.settings import get_settings
    from stream_processor.embedded.app import EmbeddedOptions, run_embedded
    from stream_processor.options import ProcessOptions

    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    sentimon_env(url)
    invoke("models", "list")  # migrates
    other = Path(shutil.copytree(trained_base, tmp_path / "other"))
    update_card(other, version="tiny-other")  # same weights, another registered version
    engine = make_engine(url)
    with engine.begin() as conn:
        models.register_version(conn, "tiny-other", str(other))
        models.promote(conn, "tiny-other")
    replay = tmp_path / "replay.jsonl"
    replay.write_bytes(b"\n".join(orjson.dumps(orjson.loads(post_json(i, TEXTS[i]))) for i in range(30)))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        options = EmbeddedOptions(replay=replay, speed=0.0)
        summary = run_embedded(get_settings(), ProcessOptions(batch_size=8, latency_s=0.05), options)
    finally:  # run_embedded installs its own Ctrl-C handling; give pytest its own back
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert summary.inserted == 30
    assert {r.model_version for r in Stream(engine, None).rows()} == {"tiny-other"}
    engine.dispose()
