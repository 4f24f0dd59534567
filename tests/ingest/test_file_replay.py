"""`sentimon ingest file`: JSONL, CSV and SemEval replays, resume, pacing and clear failures."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from infra.procs import free_port
from ingest.files import FileSource
from ingest.runner import Runner, RunOptions
from sentimon.schema import Post
from tests.ingest.topics import read_topic

ROOT = Path(__file__).resolve().parents[2]


def ingest(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m ingest …` (what `sentimon ingest …` runs) in a clean environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def write_jsonl(path: Path, first: int, count: int) -> None:
    start = datetime(2024, 9, 10, 12, tzinfo=UTC)
    with path.open("a") as handle:
        for i in range(first, first + count):
            when = (start + timedelta(seconds=i)).isoformat()
            row = {"source": "replay", "id": str(i), "text": f"post {i}: the update is great",
                   "created_at": when, "author": f"user{i % 7}"}  # fmt: skip
            handle.write(json.dumps(row) + "\n")


def test_jsonl_file_flows_into_posts_raw_and_a_rerun_resumes(kafka_topics, tmp_path):
    data = tmp_path / "posts.jsonl"
    write_jsonl(data, 0, 40)
    with data.open("a") as handle:
        handle.write('{"source": "replay", "id": "bad", "text": ""}\nnot json at all\n')
        handle.write(
            json.dumps({"source": "replay", "id": "3", "text": "post 3: the update is great"}) + "\n"
        )
    env = {**kafka_topics.env(), "SENTIMON_DATA_DIR": str(tmp_path / "var")}

    first = ingest("file", str(data), env=env)
    assert first.returncode == 0, first.stderr
    assert "sent=40" in first.stderr and "malformed=2" in first.stderr and "duplicates=1" in first.stderr
    records = read_topic(kafka_topics.bootstrap, kafka_topics.raw)
    assert sorted(int(p.id) for _, p in records) == list(range(40))
    assert {k for k, _ in records} == {f"replay:{i}" for i in range(40)}

    write_jsonl(data, 40, 10)  # the file grows; a rerun sends only the new lines
    second = ingest("file", str(data), env=env)
    assert second.returncode == 0, second.stderr
    assert "sent=10" in second.stderr
    assert sorted(int(p.id) for _, p in read_topic(kafka_topics.bootstrap, kafka_topics.raw)) == list(
        range(50)
    )


def test_csv_columns_are_mapped_by_flags(tmp_path):
    data = tmp_path / "export.csv"
    data.write_text(
        "tweet_id,body,user,posted,likes\n"
        '11,"Great, fast delivery",ann,2024-09-10T10:00:00Z,4\n'
        '12,"Two lines,\nstill one post",bob,1725962460,0\n'
        "13,,carl,2024-09-10T10:02:00Z,1\n"
    )
    result = ingest("file", str(data), "--dry-run", "--text-col", "body", "--id-col", "tweet_id",
                    "--author-col", "user", "--time-col", "posted", "--source", "export",
                    env={"SENTIMON_DATA_DIR": str(tmp_path / "var")})  # fmt: skip
    assert result.returncode == 0, result.stderr
    got = [Post.from_json(line) for line in result.stdout.splitlines()]
    assert [(p.key, p.text, p.author) for p in got] == [
        ("export:11", "Great, fast delivery", "ann"),
        ("export:12", "Two lines,\nstill one post", "bob"),
    ]
    assert got[0].metadata == {"likes": "4"} and got[1].created_at == datetime(2024, 9, 10, 10, 1, tzinfo=UTC)
    assert "malformed=1" in result.stderr  # row 13 has no text


def test_semeval_tsv_keeps_gold_labels_and_topics(tmp_path):
    data = tmp_path / "twitter-2016test-BD.tsv"
    data.write_text(
        "522712800595300352\taaron rodgers\tneutral\tI just cut a clip of Aaron Rodgers\t\n"
        '523065089977757696\taaron rodgers\tnegative\t"@Espngreeny I\\u2019m a Fins fan, sad"\n'
    )
    result = ingest("file", str(data), "--dry-run", env={"SENTIMON_DATA_DIR": str(tmp_path / "var")})
    got = [Post.from_json(line) for line in result.stdout.splitlines()]
    assert [(p.source, p.metadata["label"], p.metadata["topic"]) for p in got] == [
        ("semeval", "neutral", "aaron rodgers"),
        ("semeval", "negative", "aaron rodgers"),
    ]
    assert got[1].text == "@Espngreeny I\u2019m a Fins fan, sad"


def test_speed_replays_at_the_original_pace_sped_up(tmp_path):
    data = tmp_path / "paced.jsonl"
    write_jsonl(data, 0, 5)  # one second apart

    def replay(speed: float) -> float:
        got: list[Post] = []
        started = time.monotonic()
        asyncio.run(Runner(FileSource(data, speed=speed), got.append, options=RunOptions()).run())
        assert len(got) == 5
        return time.monotonic() - started

    assert 0.95 <= replay(4.0) < 3.0  # 4 gaps of 1 s at 4x
    assert replay(0) < 0.5


def test_no_kafka_configured_or_reachable_is_a_clear_error(tmp_path):
    data = tmp_path / "posts.jsonl"
    write_jsonl(data, 0, 3)
    env = {"SENTIMON_DATA_DIR": str(tmp_path / "var")}
    result = ingest("file", str(data), env=env)
    assert result.returncode == 2 and "no Kafka configured" in result.stderr
    port = free_port()
    started = time.monotonic()
    down = ingest(
        "--kafka-timeout",
        "2",
        "file",
        str(data),
        env={**env, "SENTIMON_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}"},
    )
    assert down.returncode == 2 and f"cannot reach Kafka at 127.0.0.1:{port}" in " ".join(down.stderr.split())
    assert time.monotonic() - started < 10
    missing = ingest("file", str(tmp_path / "nope.jsonl"), "--dry-run", env=env)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_a_dry_run_never_moves_the_cursor(kafka_topics, tmp_path):
    data = tmp_path / "posts.jsonl"
    write_jsonl(data, 0, 5)
    env = {**kafka_topics.env(), "SENTIMON_DATA_DIR": str(tmp_path / "var")}
    dry = ingest("file", str(data), "--dry-run", env=env)
    assert dry.returncode == 0 and len(dry.stdout.splitlines()) == 5
    assert not list((tmp_path / "var").rglob("*.json"))  # no cursor written
    real = ingest("file", str(data), env=env)
    assert real.returncode == 0 and "sent=5" in real.stderr, real.stderr
    cursor = next((tmp_path / "var").rglob("*.json")).read_bytes()
    again = ingest("file", str(data), "--dry-run", "--from-start", env=env)
    assert len(again.stdout.splitlines()) == 5  # from the start, as asked, but only for this dry run
    assert next((tmp_path / "var").rglob("*.json")).read_bytes() == cursor


def test_a_long_text_in_a_file_is_truncated_not_refused(tmp_path):
    data = tmp_path / "long.jsonl"
    data.write_text(json.dumps({"id": "1", "text": "long " * 3000}) + "\n")
    result = ingest("file", str(data), "--dry-run", env={"SENTIMON_DATA_DIR": str(tmp_path / "var")})
    (post,) = [Post.from_json(line) for line in result.stdout.splitlines()]
    assert post.metadata["truncated"] is True and post.metadata["text_chars"] == len("long " * 3000) - 1
