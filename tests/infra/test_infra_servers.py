"""Server helpers: Kafka jars cached from Maven, topics grown, Postgres run as its own user anywhere."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from infra import tools
from infra.kafka import jars
from infra.kafka.broker import delete_topics, ensure_topics, topic_partitions
from infra.postgres import create_database, start_postgres, stop_postgres
from infra.procs import free_port


def test_the_pom_pins_a_kafka_4_release() -> None:
    major, minor, patch = jars.kafka_version().split(".")
    assert major == "4" and minor.isdigit() and patch.isdigit()


@pytest.mark.integration
def test_kafka_jars_are_fetched_once_then_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    libs = jars.ensure_jars(say=lambda _: None)
    version = jars.kafka_version()
    assert (libs / f"kafka_2.13-{version}.jar").is_file()
    assert any(libs.glob("log4j-slf4j-impl-*.jar")), "the broker needs an slf4j binding to log"

    def no_maven() -> str:
        raise AssertionError("mvn must not run when the jars are cached")

    monkeypatch.setattr(tools, "mvn", no_maven)
    assert jars.ensure_jars(say=lambda _: None) == libs


def test_ensure_topics_creates_then_grows_partitions_and_is_idempotent(kafka_bootstrap: str) -> None:
    name = f"t-grow-{uuid.uuid4().hex[:8]}"
    try:
        ensure_topics(kafka_bootstrap, {name: 1})
        assert topic_partitions(kafka_bootstrap, [name]) == {name: 1}
        ensure_topics(kafka_bootstrap, {name: 3})
        ensure_topics(kafka_bootstrap, {name: 3})
        assert topic_partitions(kafka_bootstrap, [name]) == {name: 3}
    finally:
        delete_topics(kafka_bootstrap, [name])


@pytest.mark.integration
def test_postgres_starts_in_a_folder_its_user_cannot_reach(tmp_path: Path) -> None:
    if not tools.is_root():
        pytest.skip("only root runs Postgres as the postgres user")
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    home = hidden / "pg"
    pg = start_postgres(home, free_port())
    outside = (home / "data").resolve()
    try:
        assert (home / "data").is_symlink() and not outside.is_relative_to(hidden)
        url = create_database(pg, "probe")
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar_one() == "postgres"
        engine.dispose()
    finally:
        stop_postgres(pg)
        shutil.rmtree(outside.parent, ignore_errors=True)
