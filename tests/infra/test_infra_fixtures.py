"""The service fixtures give each test isolated real resources, and fault tests restartable servers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.kafka.broker import topic_partitions
from infra.postgres import PgHandle, start_postgres, stop_postgres
from infra.procs import Handle
from infra.redis_server import start_redis, stop_redis
from sentimon.storage.db import PgConnInfo
from tests.fixtures.services import KafkaTopics
from tests.helpers import wait_until


def test_pg_url_is_a_fresh_empty_database_of_its_own(pg_url: str, pg_url_base: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        assert sa.inspect(conn).get_table_names() == []
        conn.execute(sa.text("CREATE TABLE t (x int)"))
        name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
    engine.dispose()
    assert name.startswith("t_") and name not in ("postgres", "sentimon")
    assert not pg_url_base.rstrip("/").endswith(name)


def test_kafka_topics_are_unique_and_created_with_partitions(kafka_topics: KafkaTopics) -> None:
    names = [kafka_topics.raw, kafka_topics.scored, kafka_topics.dlq, kafka_topics.alerts]
    assert topic_partitions(kafka_topics.bootstrap, names) == {
        kafka_topics.raw: 4,
        kafka_topics.scored: 4,
        kafka_topics.dlq: 1,
        kafka_topics.alerts: 1,
    }
    extra = kafka_topics.create("extra", partitions=2)
    assert topic_partitions(kafka_topics.bootstrap, [extra]) == {extra: 2}
    assert kafka_topics.env()["SENTIMON_TOPIC_RAW"] == kafka_topics.raw
    assert "posts.raw" not in names


def test_redis_db_is_empty_and_never_db_zero(redis_db: str) -> None:
    import redis

    assert not redis_db.endswith("/0")
    with redis.Redis.from_url(redis_db) as client:
        assert client.dbsize() == 0
        client.set("k", "v")
        assert client.get("k") == b"v"


def test_private_postgres_restarts_with_its_data(private_postgres: Callable[[], PgHandle]) -> None:
    import psycopg

    pg = private_postgres()
    conninfo: PgConnInfo = {"host": "127.0.0.1", "port": pg.port, "user": "postgres", "dbname": "postgres"}
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    assert stop_postgres(pg, immediate=True)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(**conninfo, connect_timeout=2)
    start_postgres(pg.home, pg.port)
    with psycopg.connect(**conninfo) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone() == (7,)


def test_private_redis_stops_and_restarts(private_redis: Callable[[], Handle]) -> None:
    import redis

    server = private_redis()
    client = redis.Redis.from_url(server.url, socket_timeout=2)
    assert client.ping()
    assert stop_redis(server)
    with pytest.raises(redis.ConnectionError):
        client.ping()
    start_redis(server.home, server.port)
    assert wait_until(client.ping, timeout=10, ignore=(redis.ConnectionError,))
    client.close()


def test_service_fixtures_mark_tests_as_integration(request: pytest.FixtureRequest, redis_db: str) -> None:
    assert request.node.get_closest_marker("integration") is not None
