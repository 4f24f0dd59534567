"""The bench's own corner of the real stack: a fresh database, Kafka topics and a leased Redis database."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from bench.pipeline.workload import BENCH_TOPICS
from sentimon.settings import Settings

LEASE_KEY = "sentimon:test-db-lease:{db}"  # the test fixtures' lease convention: they skip leased numbers
LEASE_SECONDS = 3600


@dataclass
class BenchEnv:
    """Where one bench run writes: nothing here touches the stack's own database, topics or live view."""

    run_id: str
    bootstrap: str
    server_url: str  # the Postgres server (any database), for CREATE/DROP DATABASE
    db_url: str
    redis_url: str
    partitions: int
    topic_ids: dict[str, int] = field(default_factory=dict)

    @property
    def raw(self) -> str:
        return f"bench-{self.run_id}.raw"

    @property
    def broker_topic(self) -> str:
        return f"bench-{self.run_id}.broker"

    @property
    def group(self) -> str:
        return f"bench-{self.run_id}"

    def kafka_topics(self) -> dict[str, int]:
        names = ("raw", "scored", "broker")
        return {
            **{f"bench-{self.run_id}.{n}": self.partitions for n in names},
            f"bench-{self.run_id}.dlq": 1,
            f"bench-{self.run_id}.alerts": 1,
        }

    def worker_env(self) -> dict[str, str]:
        """SENTIMON_* variables that point a worker at this run's services."""
        return {
            "SENTIMON_KAFKA_BOOTSTRAP": self.bootstrap,
            "SENTIMON_DATABASE_URL": self.db_url,
            "SENTIMON_REDIS_URL": self.redis_url,
            "SENTIMON_TOPIC_RAW": self.raw,
            "SENTIMON_TOPIC_SCORED": f"bench-{self.run_id}.scored",
            "SENTIMON_TOPIC_DLQ": f"bench-{self.run_id}.dlq",
            "SENTIMON_TOPIC_ALERTS": f"bench-{self.run_id}.alerts",
            "SENTIMON_CONSUMER_GROUP": self.group,
            "SENTIMON_PARTITIONS": str(self.partitions),
        }


def service_urls(settings: Settings, start_stack: bool, say: Callable[[str], None]) -> dict[str, str]:
    """Kafka, Postgres and Redis: the configured ones, else the local stack (started when asked)."""
    configured = {
        "SENTIMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SENTIMON_DATABASE_URL": settings.database_url,
        "SENTIMON_REDIS_URL": settings.redis_url,
    }
    if all(configured.values()) and str(configured["SENTIMON_DATABASE_URL"]).startswith("postgresql"):
        return {k: str(v) for k, v in configured.items()}
    from infra import stack

    if any(s.state != "up" for s in stack.status(settings)):
        if not start_stack:
            raise SystemExit("the local stack is not up: run `sentimon stack up` (or drop --no-start-stack)")
        stack.up(settings, say=say)
    return stack.env_for_stack(settings)


def prepare(settings: Settings, run_id: str, urls: dict[str, str]) -> BenchEnv:
    """Create this run's database (migrated, with the bench topics), Kafka topics and Redis lease."""
    from infra.kafka.broker import ensure_topics
    from sentimon.storage import topics
    from sentimon.storage.db import make_engine, migrate

    server = urls["SENTIMON_DATABASE_URL"]
    db_name = f"sentimon_bench_{run_id}"
    _pg_admin(server, f'CREATE DATABASE "{db_name}"')
    db_url = _with_database(server, db_name)
    env = BenchEnv(
        run_id,
        urls["SENTIMON_KAFKA_BOOTSTRAP"],
        server,
        db_url,
        _lease_redis(urls["SENTIMON_REDIS_URL"], run_id),
        settings.partitions,
    )
    migrate(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        env.topic_ids = {name: topics.create_topic(conn, name, rule) for name, rule in BENCH_TOPICS.items()}
    engine.dispose()
    ensure_topics(env.bootstrap, env.kafka_topics())
    return env


def cleanup(env: BenchEnv) -> None:
    """Drop the run's database and topics, flush and release its Redis database (best effort)."""
    import contextlib

    import redis

    from infra.kafka.broker import delete_topics

    with contextlib.suppress(Exception):
        delete_topics(env.bootstrap, env.kafka_topics())
    with contextlib.suppress(Exception):
        _pg_admin(env.server_url, f'DROP DATABASE IF EXISTS "sentimon_bench_{env.run_id}" WITH (FORCE)')
    with contextlib.suppress(Exception), redis.Redis.from_url(env.redis_url) as client:
        client.flushdb()
        db = int(urlsplit(env.redis_url).path.strip("/") or 0)
        with redis.Redis.from_url(_redis_db(env.redis_url, 0)) as admin:
            admin.delete(LEASE_KEY.format(db=db))


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _pg_admin(url: str, statement: str) -> None:
    """Run a statement outside a transaction on the server's maintenance database."""
    import psycopg

    from sentimon.storage.db import pg_conninfo

    with psycopg.connect(**pg_conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def _redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def _lease_redis(url: str, run_id: str) -> str:
    """A Redis database number nobody else uses (the live view keys of topic 1, 2… would collide)."""
    import redis

    with redis.Redis.from_url(_redis_db(url, 0)) as client:
        count = int(client.config_get("databases").get("databases", 16))
        owner = f"bench-{run_id}@{socket.gethostname()}:{os.getpid()}"
        for db in range(count - 1, 0, -1):
            if client.set(LEASE_KEY.format(db=db), owner, nx=True, ex=LEASE_SECONDS):
                leased = _redis_db(url, db)
                with redis.Redis.from_url(leased) as mine:
                    mine.flushdb()
                return leased
    raise SystemExit(f"every Redis database on {url} is leased")
