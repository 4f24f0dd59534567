"""Run real workers as subprocesses, feed Kafka, and read what landed in the database."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import Engine

from infra.procs import free_port
from sentimon.schema import Post, ScoredPost
from sentimon.storage import posts, windows
from stream_processor.matcher import TopicMatcher
from stream_processor.sinks.redis_live import read_series
from stream_processor.windows import aggregate
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)


@dataclass
class Worker:
    proc: subprocess.Popen
    log: Path
    port: int

    def health(self) -> dict | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1.0).json()
        except (httpx.HTTPError, ValueError):
            return None

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2.0).text

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


# Topics and texts the worker tests share: each text matches one or more of the rules.
RULES = {"acme": '"acme air" OR #acmeair', "phone": "nimbus OR $NMBS", "any": "the OR a OR is"}
TEXTS = [
    "Terrible service from Acme Air, never again",
    "Really love my nimbus phone, it is the best",
    "Great flight with acme air today, thank you",
    "$NMBS is up after earnings",
    "a quiet day, nothing to report",
    "nimbus and acme air both down? awful",
]


def start_worker(
    env: dict[str, str],
    tmp: Path,
    name: str = "w",
    batch: int = 40,
    latency_ms: int = 100,
    extra: tuple[str, ...] = (),
) -> Worker:
    """`python -m stream_processor.worker` with SENTIMON_* pointing at this test's services."""
    port = free_port()
    log = tmp / f"{name}.log"
    cmd = [sys.executable, "-m", "stream_processor.worker", "--batch-size", str(batch),
           "--latency-ms", str(latency_ms), "--web-port", str(port), "--session-timeout", "8",
           "--rules-poll", "0.5", *extra]  # fmt: skip
    full_env = clean_env({**env, "SENTIMON_DATA_DIR": str(tmp / name), "SENTIMON_TORCH_THREADS": "1"})
    with log.open("ab") as fh:
        proc = subprocess.Popen(cmd, env=full_env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    worker = Worker(proc, log, port)
    try:
        wait_until(lambda: _up(worker), timeout=90, interval=0.2, message=f"worker {name} to serve /health")
    except AssertionError as exc:
        worker.stop()
        raise AssertionError(f"{exc}\n--- worker log ---\n{worker.logs()[-4000:]}") from None
    return worker


def _up(worker: Worker) -> bool:
    if worker.proc.poll() is not None:
        raise AssertionError(f"worker exited with {worker.proc.returncode}:\n{worker.logs()[-3000:]}")
    return worker.health() is not None


def post_json(i: int, text: str, minute: int = 0, source: str = "test") -> bytes:
    at = T0 + timedelta(minutes=minute, seconds=i % 60)
    return orjson.dumps({"source": source, "id": str(i), "text": text, "created_at": at.isoformat()})


def produce(bootstrap: str, topic: str, values: Iterable[bytes]) -> int:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=2 * 1024 * 1024
    )
    count = 0
    for value in values:
        key = _key(value)
        producer.send(topic, key=key, value=value)
        count += 1
    producer.flush(timeout=30)
    producer.close()
    return count


def _key(value: bytes) -> bytes | None:
    try:
        data = orjson.loads(value)
        return f"{data['source']}:{data['id']}".encode()
    except Exception:
        return None


def stored_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return posts.count_posts(conn)


def window_table(
    engine: Engine,
) -> dict[tuple[int, datetime], tuple[int, int, int, int, float, float, float]]:
    with engine.connect() as conn:
        rows = windows.get_windows(conn)
    return {(r.agg.topic_id, r.agg.window_start): _vals(r.agg) for r in rows}


def _vals(a: object) -> tuple[int, int, int, int, float, float, float]:
    return (a.n, a.n_neg, a.n_neu, a.n_pos, a.sum_neg, a.sum_neu, a.sum_pos)  # type: ignore[attr-defined]


def expected_windows(
    scored: list,
) -> dict[tuple[int, datetime], tuple[int, int, int, int, float, float, float]]:
    """What the window table must hold for these (distinct) scored posts."""
    return {k: _vals(w) for k, w in aggregate(scored).items()}


def assert_windows_equal(got: dict, want: dict, tol: float = 1e-4) -> None:
    assert set(got) == set(want), (
        f"windows differ: missing {set(want) - set(got)}, extra {set(got) - set(want)}"
    )
    for key, values in want.items():
        assert got[key][:4] == values[:4], f"counts of {key}: got {got[key][:4]}, want {values[:4]}"
        for g, w in zip(got[key][4:], values[4:], strict=True):
            assert abs(g - w) < tol, f"probability sums of {key}: got {got[key][4:]}, want {values[4:]}"


def stored_posts(engine: Engine) -> list[ScoredPost]:
    """Every stored post with the verdict the worker recorded for it."""
    with engine.connect() as conn:
        rows = posts.recent_posts(conn, limit=1_000_000)
    return [
        ScoredPost(Post(source=r.source, id=r.post_id, text=r.text, created_at=r.created_at), r.label,
                   (r.p_neg, r.p_neu, r.p_pos), r.model_version, list(r.topic_ids))
        for r in rows
    ]  # fmt: skip


def assert_aggregates_exact(engine: Engine) -> list[ScoredPost]:
    """The window table equals the aggregation of the stored posts: no post lost, none counted twice."""
    stored = stored_posts(engine)
    assert_windows_equal(window_table(engine), expected_windows(stored), tol=1e-6)
    return stored


def assert_verdicts_match_model(classifier, stored: list[ScoredPost], rules: dict[int, str]) -> None:  # type: ignore[no-untyped-def]
    """Stored verdicts are the model's and stored topics the rules'. The shipped model quantizes
    activations per batch (int8), so probabilities may move by a few thousandths with the batch a post
    was in; a label may differ only where the model's own decision is that close."""
    matcher = TopicMatcher.from_rules(rules)
    preds = classifier.classify([sp.post.text for sp in stored])
    decision = classifier.calibration.get("decision", [0.0, 0.0, 0.0])
    for sp, (label, probs) in zip(stored, preds, strict=True):
        assert sp.topics == matcher.match(sp.post.text), sp.post.text
        assert max(abs(a - b) for a, b in zip(sp.probs, probs, strict=True)) < PROB_TOL, (sp, probs)
        if sp.label != label:
            assert _margin(probs, decision) < LABEL_MARGIN, f"{sp.post.text!r}: {sp.label} vs {label} {probs}"


PROB_TOL = 0.03
LABEL_MARGIN = 0.15


def _margin(probs: tuple[float, float, float], decision: list[float]) -> float:
    scores = sorted((math.log(max(p, 1e-12)) + d for p, d in zip(probs, decision, strict=True)), reverse=True)
    return scores[0] - scores[1]


def assert_same_verdicts(a: list[ScoredPost], b: list[ScoredPost], classifier) -> None:  # type: ignore[no-untyped-def]
    """Two paths stored the same posts with the same topics and (up to batch-dependent noise) verdicts."""
    by_key = {sp.post.key: sp for sp in b}
    assert sorted(by_key) == sorted(sp.post.key for sp in a)
    decision = classifier.calibration.get("decision", [0.0, 0.0, 0.0])
    for sp in a:
        other = by_key[sp.post.key]
        assert sp.topics == other.topics and sp.post.created_at == other.post.created_at
        assert max(abs(x - y) for x, y in zip(sp.probs, other.probs, strict=True)) < PROB_TOL
        if sp.label != other.label:
            assert _margin(sp.probs, decision) < LABEL_MARGIN


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 30) -> list:
    """All records of a topic once at least `expect` are there."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=500)  # fmt: skip
    records: list = []

    def enough() -> bool:
        records.extend(consumer)
        return len(records) >= expect

    try:
        wait_until(enough, timeout=timeout, interval=0.1, message=f"{expect} records on {topic}")
    finally:
        consumer.close()
    return records


def rewind_group(bootstrap: str, topic: str, group: str) -> None:
    """Set the group's committed offsets of every partition back to 0 (the group must be empty)."""
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in parts})
    finally:
        consumer.close()


def live_equals_db(engine: Engine, client: Any) -> bool:
    """Every window of every topic in the Redis series holds the count the database holds."""
    with engine.connect() as conn:
        stored = windows.get_windows(conn)
    want: dict[int, dict] = {}
    for row in stored:
        want.setdefault(row.agg.topic_id, {})[row.agg.window_start] = row.agg.n
    return all({w.window_start: w.n for w in read_series(client, t)} == series for t, series in want.items())


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any SENTIMON_* setting, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}, **extra}
