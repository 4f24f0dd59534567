"""`sentimon stack up` → real Kafka (kafka-python and aiokafka), Postgres and Redis answer → `stack down`."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra import stack
from infra.procs import free_port, port_in_use
from sentimon.settings import Settings, get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def stack_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A stack in its own temp folder on free ports, so it never meets a developer's running stack."""
    root = Path(tempfile.mkdtemp(prefix="sentimon-stacktest-"))
    root.chmod(0o755)
    env = {
        "SENTIMON_STACK_DIR": str(root / "stack"),
        "SENTIMON_STACK_KAFKA_PORT": str(free_port()),
        "SENTIMON_STACK_KAFKA_CONTROLLER_PORT": str(free_port()),
        "SENTIMON_STACK_POSTGRES_PORT": str(free_port()),
        "SENTIMON_STACK_REDIS_PORT": str(free_port()),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = Settings()
    yield settings
    stack.down(settings)
    get_settings.cache_clear()
    shutil.rmtree(root, ignore_errors=True)


def test_stack_up_serves_kafka_postgres_redis_then_down_stops_them(stack_settings: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(stack.app, ["up"])
    assert result.exit_code == 0, result.output
    env = stack.env_for_stack(stack_settings)
    assert env["SENTIMON_DATABASE_URL"] in result.output

    status = runner.invoke(stack.app, ["status"])
    assert status.exit_code == 0, status.output
    assert [row.state for row in stack.status(stack_settings)] == ["up", "up", "up"]

    _check_topics(env["SENTIMON_KAFKA_BOOTSTRAP"], stack_settings)
    _round_trip_kafka_python(env["SENTIMON_KAFKA_BOOTSTRAP"], stack_settings.topic_raw)
    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever loop an earlier fixture left running
        pool.submit(
            asyncio.run, _round_trip_aiokafka(env["SENTIMON_KAFKA_BOOTSTRAP"], stack_settings.topic_scored)
        ).result()
    _round_trip_postgres(env["SENTIMON_DATABASE_URL"])
    _round_trip_redis(env["SENTIMON_REDIS_URL"])

    pids = [row.pid for row in stack.status(stack_settings)]
    again = runner.invoke(stack.app, ["up"])
    assert again.exit_code == 0, again.output
    assert [row.pid for row in stack.status(stack_settings)] == pids, "up must not restart running services"

    down = runner.invoke(stack.app, ["down"])
    assert down.exit_code == 0, down.output
    assert [row.state for row in stack.status(stack_settings)] == ["down", "down", "down"]
    assert runner.invoke(stack.app, ["status"]).exit_code == 1
    ports = [
        stack_settings.stack_kafka_port,
        stack_settings.stack_postgres_port,
        stack_settings.stack_redis_port,
    ]
    assert not any(port_in_use(port) for port in ports)


def _check_topics(bootstrap: str, settings: Settings) -> None:
    from infra.kafka.broker import topic_partitions

    assert topic_partitions(bootstrap, stack.stack_topics(settings)) == {
        settings.topic_raw: settings.partitions,
        settings.topic_scored: settings.partitions,
        settings.topic_dlq: 1,
        settings.topic_alerts: 1,
    }


def _round_trip_kafka_python(bootstrap: str, topic: str) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    payload = uuid.uuid4().bytes
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(topic, key=b"test:1", value=payload).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4().hex}",
        auto_offset_reset="earliest", consumer_timeout_ms=30000,
    )  # fmt: skip
    found = next((m.value for m in consumer if m.value == payload), None)  # gives up after 30 s of silence
    consumer.close()
    assert found == payload


async def _round_trip_aiokafka(bootstrap: str, topic: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    payload = uuid.uuid4().bytes
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=b"test:2", value=payload)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert message.value == payload
    assert message.key == b"test:2"


def _round_trip_postgres(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (id int PRIMARY KEY, note text)"))
        conn.execute(sa.text("INSERT INTO probe VALUES (1, 'hello')"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT note FROM probe WHERE id = 1")).scalar_one() == "hello"
        assert conn.execute(sa.text("SELECT current_database()")).scalar_one() == "sentimon"
    engine.dispose()


def _round_trip_redis(url: str) -> None:
    import redis

    with redis.Redis.from_url(url) as client:
        client.set("probe", "hello")
        assert client.get("probe") == b"hello"


def test_stack_up_without_java_says_how_to_install_it(
    stack_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(stack.app, ["up"])
    assert result.exit_code == 1
    assert "apt-get install -y openjdk-17-jre-headless" in result.output
    assert [row.state for row in stack.status(stack_settings)] == ["down", "down", "down"]
