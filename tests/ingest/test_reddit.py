"""Reddit OAuth polling against a local server (token endpoint + listings), into real Kafka."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ingest.base import AuthError, BadURLError
from ingest.edits import event_kind
from ingest.pipeline import make_pipeline
from ingest.reddit import RedditSource
from ingest.runner import Runner, RunOptions
from sentimon.retry import Backoff
from tests.ingest.servers import Reddit, load_json, serve
from tests.ingest.topics import read_topic

POSTS = ["t3_1fd001x", "t3_1fd003x", "t3_1fd004x"]  # t3_1fd002x was removed by a moderator
COMMENTS = ["t1_lm0001q", "t1_lm0003q"]
ROOT = Path(__file__).resolve().parents[2]


def run_reddit(
    fake: Reddit,
    sink: Any,
    max_posts: int,
    store: Any = None,
    secret: str = "app-secret",
    edits: bool = False,
) -> Any:
    async def main() -> Any:
        async with serve(fake.app()) as url:
            source = RedditSource(
                ["python", "r/rust"], "app-id", secret, poll_interval_s=0.05, auth_url=url, api_url=url
            )
            options = RunOptions(max_posts=max_posts, backoff=Backoff(0.05, 0.2), checkpoint_s=0)
            runner = Runner(source, sink, store, make_pipeline(forward_edits=edits), options)
            return await asyncio.wait_for(runner.run(), 20)

    return asyncio.run(main())


def ids(kafka_topics: Any) -> list[str]:
    return sorted(key.split(":", 1)[1] for key, _ in read_topic(kafka_topics.bootstrap, kafka_topics.raw))


def test_new_posts_and_comments_flow_into_kafka(kafka_producer, kafka_topics):
    fake = Reddit()
    stats = run_reddit(fake, kafka_producer(), max_posts=5)
    assert ids(kafka_topics) == sorted(POSTS + COMMENTS)
    assert (stats.malformed, stats.filtered) == (1, 2)  # no created_utc; a removed post, a deleted comment
    assert fake.token_requests == 1
    assert [name for _, name, _ in fake.listing_requests[:2]] == ["new", "comments"]


def test_429_is_retried_after_the_time_reddit_asks_for(kafka_producer, kafka_topics):
    fake = Reddit(rate_limited=1, retry_after="1")
    stats = run_reddit(fake, kafka_producer(), max_posts=5)
    (refused_at, _, status), (retried_at, _, retried_status) = fake.listing_requests[:2]
    assert (status, retried_status) == (429, 200)
    assert retried_at - refused_at >= 1.0
    assert stats.rate_limited == 1 and len(ids(kafka_topics)) == 5


def test_a_restart_resumes_from_the_newest_seen_time_without_duplicates(kafka_producer, kafka_topics, store):
    sink = kafka_producer()
    run_reddit(Reddit(), sink, max_posts=3, store=store)
    assert store.load().cursor["posts"] == 1725955200 + 4 * 60
    stats = run_reddit(Reddit(), sink, max_posts=2, store=store)
    assert stats.duplicates >= 1  # the post at exactly the cursor time comes again and is dropped
    assert ids(kafka_topics) == sorted(POSTS + COMMENTS)


def test_odd_listings_flow_into_kafka_as_plain_text_without_reposts_or_removed_posts(
    kafka_producer, kafka_topics
):
    empty = {"kind": "Listing", "data": {"children": []}}
    fake = Reddit(listings={"new": load_json("reddit_odd.json"), "comments": empty})
    stats = run_reddit(fake, kafka_producer(), max_posts=3)
    posts = {p.id: p for _, p in read_topic(kafka_topics.bootstrap, kafka_topics.raw)}
    assert sorted(posts) == ["t1_lmodd05", "t1_lmodd06", "t3_1hodd01"]
    assert (stats.reposts, stats.filtered) == (1, 2)  # a crosspost; a removed and a deleted post
    assert "**" not in posts["t3_1hodd01"].text and posts["t1_lmodd05"].author is None


def test_a_later_poll_sends_the_deletion_of_a_post_already_sent(kafka_producer, kafka_topics):
    later = load_json("reddit_new.json")
    for child in later["data"]["children"]:
        if child["data"].get("name") == "t3_1fd001x":
            child["data"].update(selftext="[deleted]", author="[deleted]", removed_by_category="deleted")
    fake = Reddit(later={"new": later})
    stats = run_reddit(fake, kafka_producer(), max_posts=5 + 1, edits=True)
    events = [(p.id, event_kind(p)) for _, p in read_topic(kafka_topics.bootstrap, kafka_topics.raw)]
    assert ("t3_1fd001x", None) in events and ("t3_1fd001x", "delete") in events
    assert stats.deletes == 1 and len(events) == 6  # t3_1fd002x, removed before it was sent: no event


def test_the_command_reads_another_api_base_into_kafka(kafka_topics, tmp_path):
    async def main() -> tuple[int | None, bytes]:
        async with serve(Reddit().app()) as url:
            clean = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
            env = {**clean, **kafka_topics.env(), "SENTIMON_DATA_DIR": str(tmp_path)}
            args = ["reddit", "python", "--api-base", url, "--auth-base", url, "--client-id", "app-id",
                    "--client-secret", "app-secret", "--poll", "0.05", "--max-posts", "5"]  # fmt: skip
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ingest", *args, cwd=ROOT, env=env, stderr=subprocess.PIPE
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            return subprocess.CompletedProcess(
                proc.args if hasattr(proc, "args") else [], proc.returncode or 0, out, err
            )

    result = asyncio.run(main())
    assert result.returncode == 0, result.stderr.decode()
    assert ids(kafka_topics) == sorted(POSTS + COMMENTS)


def test_bad_credentials_and_names_are_clear_errors():
    with pytest.raises(AuthError, match="client id or secret was refused"):
        run_reddit(Reddit(), [].append, max_posts=1, secret="wrong")
    with pytest.raises(BadURLError, match="invalid subreddit name"):
        RedditSource(["no spaces allowed"], "id", "secret")
    with pytest.raises(AuthError, match="client id and secret"):
        RedditSource(["python"], "", "")
