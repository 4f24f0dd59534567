"""The embedded runner: replay files and the demo through the real model into SQLite, stop conditions,
periodic callbacks, rule reloads, the dashboard beside it, and the same aggregates as the Kafka path."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import orjson
import pytest

from infra.procs import free_port
from sentimon.schema import Post
from sentimon.settings import Settings
from sentimon.storage import dead_letters, posts, topics
from sentimon.storage.db import make_engine, migrate
from stream_processor.batch import RawMessage
from stream_processor.embedded.app import EmbeddedOptions, run_embedded
from stream_processor.embedded.demo import DEMO_TOPICS
from stream_processor.embedded.runner import END, EmbeddedRunner, take
from stream_processor.options import ProcessOptions
from stream_processor.pipeline import Processor
from stream_processor.rulebook import RuleBook
from stream_processor.sinks.memory import MemoryLiveView
from stream_processor.sinks.sql import SqlStore
from tests.helpers import wait_until
from tests.stream_processor.worker_helpers import (
    PROB_TOL,
    ROOT,
    assert_aggregates_exact,
    assert_same_verdicts,
    assert_verdicts_match_model,
    clean_env,
    post_json,
    produce,
    start_worker,
    stored_count,
    window_table,
)

RULES = {"acme": '"acme air" OR #acmeair -hiring', "phone": "nimbus OR $NMBS"}
TEXTS = ["Terrible service from Acme Air", "Really love my nimbus phone", "#AcmeAir is hiring", "a quiet day"]
BAD_LINES = [b"not json at all", b'{"source": "t", "id": "x", "text": ""}', b'{"id": 5}']


def _file(tmp: Path, count: int) -> tuple[Path, list[bytes]]:
    good = [post_json(i, f"{TEXTS[i % len(TEXTS)]} {i}", minute=i % 3) for i in range(count)]
    lines = [*good[:10], *BAD_LINES, *good[10:], good[3], good[4]]
    path = tmp / "posts.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, good


def _db(tmp: Path, name: str = "emb") -> str:
    url = f"sqlite:///{tmp / name / 'sentimon.db'}"
    migrate(url)
    with make_engine(url).begin() as conn:
        for topic, rule in RULES.items():
            topics.create_topic(conn, topic, rule)
    return url


def test_replay_gives_exact_counts_and_stores_dead_letters(
    classifier, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, good = _file(tmp_path, 80)
    url = _db(tmp_path)
    settings = Settings(database_url=url, data_dir=tmp_path / "emb")
    summary = run_embedded(settings, ProcessOptions(batch_size=16, latency_s=0.05),
                           EmbeddedOptions(replay=path, speed=0), classifier)  # fmt: skip
    assert summary.source_done and summary.received == len(good) + len(BAD_LINES) + 2
    assert (summary.inserted, summary.dead) == (len(good), len(BAD_LINES))
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dead letter")]
    assert any(m.endswith("(posts.jsonl:11)") for m in said), said  # the file line, as ingest says it
    engine = make_engine(url)
    stored = assert_aggregates_exact(engine)
    assert {sp.post.key for sp in stored} == {Post.from_json(m).key for m in good}
    with engine.connect() as conn:
        rules = {t.id: t.rule for t in topics.list_topics(conn)}
    assert_verdicts_match_model(classifier, stored, rules)
    with engine.connect() as conn:
        reasons = [d.reason for d in dead_letters.recent_dead_letters(conn)]
        assert len(reasons) == 3 and any(r.startswith("not JSON") for r in reasons)
        assert posts.get_post(conn, "test", "2").topic_ids == ()  # "#AcmeAir is hiring" is excluded


def _runner(classifier, url: str, options: ProcessOptions) -> tuple[EmbeddedRunner, queue.Queue]:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    q: queue.Queue = queue.Queue()
    processor = Processor(classifier, SqlStore(engine), [MemoryLiveView()])
    return EmbeddedRunner(processor, RuleBook(engine), q, options), q


def test_until_n_stops_after_that_many_messages(classifier, tmp_path: Path) -> None:
    runner, q = _runner(classifier, _db(tmp_path), ProcessOptions(batch_size=5, latency_s=0.01, until_n=10))
    for i in range(30):
        q.put(RawMessage(post_json(i, "acme air")))
    summary = runner.run()
    assert summary.received == 10 and q.qsize() == 20


def test_seconds_bound_ends_an_idle_run(classifier, tmp_path: Path) -> None:
    runner, _ = _runner(classifier, _db(tmp_path), ProcessOptions(seconds=0.5))
    assert runner.run().received == 0


def test_periodic_callbacks_run_and_rule_changes_apply_between_batches(classifier, tmp_path: Path) -> None:
    url = _db(tmp_path)
    calls: list[int] = []
    runner, q = _runner(classifier, url, ProcessOptions(batch_size=5, latency_s=0.01, rules_poll_s=0.05,
                                                    periodic=[(0.05, lambda: calls.append(1))]))  # fmt: skip
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        q.put(RawMessage(post_json(1, "the bus is late")))
        engine = make_engine(url)
        wait_until(lambda: stored_count(engine) == 1, timeout=10)
        with engine.begin() as conn:
            topics.create_topic(conn, "bus", "bus AND late")
            fingerprint = str(topics.rules_fingerprint(conn))
        wait_until(lambda: runner.health.rules_fingerprint == fingerprint, timeout=10)
        q.put(RawMessage(post_json(2, "the bus is late")))
        wait_until(lambda: stored_count(engine) == 2, timeout=10)
        with engine.connect() as conn:
            assert posts.get_post(conn, "test", "1").topic_ids == ()
            assert len(posts.get_post(conn, "test", "2").topic_ids) == 1
        wait_until(lambda: len(calls) >= 2, timeout=10)
    finally:
        runner.stop_event.set()
        thread.join(timeout=10)


def test_a_database_away_at_start_is_waited_for_and_a_stop_ends_the_wait(classifier) -> None:  # type: ignore[no-untyped-def]
    """The first rule load is protected like every later one: the runner waits (degraded) instead of
    dying, and a stop while it waits ends the run without a traceback."""
    away = make_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none", connect_args={"connect_timeout": 1}
    )
    processor = Processor(classifier, SqlStore(away), [MemoryLiveView()])
    q: queue.Queue = queue.Queue()
    q.put(RawMessage(post_json(1, "acme air")))
    runner = EmbeddedRunner(processor, RuleBook(away), q, ProcessOptions(batch_size=5, latency_s=0.01))
    done: list = []
    thread = threading.Thread(target=lambda: done.append(runner.run()))
    thread.start()
    try:
        wait_until(lambda: not runner.health.db_ok, timeout=20, message="the runner to see the database away")
        assert thread.is_alive() and q.qsize() == 1  # waiting, nothing taken
    finally:
        runner.stop_event.set()
        thread.join(timeout=20)
    assert not thread.is_alive() and done and done[0].received == 0


def test_take_bounds_batches_by_size_and_latency() -> None:
    q: queue.Queue = queue.Queue()
    for i in range(7):
        q.put(RawMessage(bytes([i])))
    q.put(END)
    assert len(take(q, 5, 1.0)) == 5
    rest = take(q, 5, 0.01)
    assert len(rest) == 3 and rest[-1] is END
    assert take(q, 5, 0.01, idle_s=0.01) == []


def test_demo_seeds_topics_and_scores_posts(classifier, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    settings = Settings(database_url=url, data_dir=tmp_path)
    summary = run_embedded(settings, ProcessOptions(batch_size=64, latency_s=0.05, seconds=2.0),
                           EmbeddedOptions(speed=20), classifier)  # fmt: skip
    engine = make_engine(url)
    with engine.connect() as conn:
        assert {t.name for t in topics.list_topics(conn)} == set(DEMO_TOPICS)
        assert posts.count_posts(conn, "demo") == summary.inserted > 20
    assert window_table(engine)


@pytest.mark.slow
def test_cli_run_serves_the_dashboard_beside_it(model_path, tmp_path: Path) -> None:
    if not (ROOT / "dashboard" / "cli.py").exists():
        pytest.skip("the dashboard is not in this checkout")
    port = free_port()
    env = clean_env({"SENTIMON_DATA_DIR": str(tmp_path), "SENTIMON_MODEL_PATH": str(model_path),
                     "SENTIMON_DASHBOARD_PORT": str(port)})  # fmt: skip
    cmd = [sys.executable, "-m", "stream_processor.cli", "run", "--seconds", "120", "--speed", "5"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        health = f"http://127.0.0.1:{port}/_stcore/health"
        up = lambda: httpx.get(health, timeout=1).status_code == 200  # noqa: E731
        wait_until(up, timeout=90, ignore=(httpx.HTTPError,), message="the dashboard to answer")
        engine = make_engine(f"sqlite:///{tmp_path / 'sentimon.db'}")
        wait_until(
            lambda: stored_count(engine) > 0, timeout=30, message="demo posts stored", ignore=(Exception,)
        )
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)


@pytest.mark.slow
def test_embedded_runner_matches_the_kafka_path(
    service_env, kafka_topics, model_path, classifier, tmp_path: Path
) -> None:
    path, good = _file(tmp_path, 120)
    emb_url = _db(tmp_path)
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    migrate(env["SENTIMON_DATABASE_URL"])
    pg = make_engine(env["SENTIMON_DATABASE_URL"])
    with pg.begin() as conn:
        for topic, rule in RULES.items():
            topics.create_topic(conn, topic, rule)
    cmd = [sys.executable, "-m", "stream_processor.cli", "run", "--replay", str(path), "--speed", "0",
           "--no-dashboard", "--batch-size", "32"]  # fmt: skip
    embedded = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, env=clean_env(
        {"SENTIMON_DATABASE_URL": emb_url, "SENTIMON_MODEL_PATH": str(model_path)}))  # fmt: skip
    worker = start_worker(env, tmp_path)
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, path.read_bytes().splitlines())
        wait_until(lambda: stored_count(pg) == len(good), timeout=60, message="the Kafka path to finish")
        _, err = embedded.communicate(timeout=120)
        assert embedded.returncode == 0, err.decode()[-2000:]
        emb = make_engine(emb_url)
        assert_same_verdicts(assert_aggregates_exact(emb), assert_aggregates_exact(pg), classifier)
        a, b = window_table(emb), window_table(pg)
        assert a.keys() == b.keys() and all(a[k][0] == b[k][0] for k in a)  # same windows, same volumes
        for k in a:
            assert all(abs(x - y) <= PROB_TOL * a[k][0] for x, y in zip(a[k][4:], b[k][4:], strict=True))
        with make_engine(emb_url).connect() as a, pg.connect() as b:
            assert dead_letters.count_dead_letters(a) == dead_letters.count_dead_letters(b) == len(BAD_LINES)
    finally:
        worker.stop()
        if embedded.poll() is None:
            embedded.kill()
        pg.dispose()


def test_replay_file_keeps_bad_lines_raw(tmp_path: Path) -> None:
    from stream_processor.embedded.sources import replay_items

    path = tmp_path / "f.jsonl"
    one = b'{"source": "a", "id": "1", "text": "x", "created_at": "2024-01-01T00:00:00Z"}'
    two = b'{"source": "a", "id": "2", "text": "y", "created_at": "2024-01-01T00:00:30Z"}'
    path.write_bytes(one + b"\n\nbroken\n" + two + b"\n")
    items = list(replay_items(path))
    assert [due for due, _, _ in items] == [0.0, None, 30.0]
    assert [where for _, _, where in items] == ["f.jsonl:1", "f.jsonl:3", "f.jsonl:4"]  # file lines
    assert items[1][1] == b"broken" and orjson.loads(items[2][1])["id"] == "2"


def test_status_line_off_a_terminal_is_one_unwrapped_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from stream_processor.embedded.app import print_status
    from stream_processor.metrics import Health
    from stream_processor.sinks.base import Batch
    from stream_processor.windows import WindowState

    url = f"sqlite:///{tmp_path / 'status.db'}"
    migrate(url)
    engine = make_engine(url)
    names = ["Nimbus / Phone", "Acme Air / Support", "Globex / Checkout"]
    with engine.begin() as conn:
        ids = [topics.create_topic(conn, name, name.split()[0].lower()) for name in names]
    view = MemoryLiveView()
    at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    view.add(Batch(windows=[WindowState(i, at, n=3, n_neg=1, n_neu=1, n_pos=1) for i in ids]))
    view.flush()
    print_status(view, Health(processed=9), engine)
    engine.dispose()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and all(name in lines[0] for name in names), lines


def test_status_line_shows_the_quarter_hour_the_overview_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fifteen one-minute windows of 8 posts each: 120 posts together, enough to tell; one alone is not;
    a window older than the quarter hour is left out."""
    from datetime import UTC, datetime, timedelta

    from stream_processor.embedded.app import print_status
    from stream_processor.metrics import Health
    from stream_processor.sinks.base import Batch
    from stream_processor.windows import WindowState

    url = f"sqlite:///{tmp_path / 'status.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        topic = topics.create_topic(conn, "Acme Air", "acme")
    view = MemoryLiveView()
    at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    minutes = [at - timedelta(minutes=m) for m in range(16)]
    view.add(Batch(windows=[WindowState(topic, m, n=8, n_neg=4, n_neu=2, n_pos=2) for m in minutes]))
    view.flush()
    print_status(view, Health(processed=128), engine)
    engine.dispose()
    line = capsys.readouterr().err.strip()
    assert "Acme Air: 120 posts in 15 min" in line and "negative (" in line, line
    assert "too few" not in line
