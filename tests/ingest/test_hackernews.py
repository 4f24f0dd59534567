"""Hacker News polling (maxitem + items) against a local Firebase-style server, into real Kafka."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ingest.base import BadURLError
from ingest.edits import event_kind
from ingest.hackernews import HackerNewsSource
from ingest.pipeline import make_pipeline
from ingest.runner import Runner, RunOptions
from sentimon.retry import Backoff
from tests.ingest.servers import Feeds, HackerNews, load_json, serve
from tests.ingest.topics import read_topic

POSTS = ["41500001", "41500002", "41500006", "41500009", "41500010"]


def run_hn(
    fake: HackerNews, sink: Any, max_posts: int, store: Any = None, backfill: int = 10, **kw: Any
) -> Any:
    async def main() -> Any:
        async with serve(fake.app()) as url:
            source = HackerNewsSource(
                f"{url}/v0", poll_interval_s=0.05, backfill=backfill, missing_retry_s=0.05
            )
            options = RunOptions(max_posts=max_posts, backoff=Backoff(0.05, 0.2), checkpoint_s=0)
            runner = Runner(source, sink, store, make_pipeline(**kw), options)
            return await asyncio.wait_for(runner.run(), 20)

    return asyncio.run(main())


def ids(kafka_topics: Any) -> list[str]:
    return sorted(post.id for _, post in read_topic(kafka_topics.bootstrap, kafka_topics.raw))


def test_new_stories_and_comments_flow_into_kafka(kafka_producer, kafka_topics):
    stats = run_hn(HackerNews(), kafka_producer(), max_posts=5)
    assert ids(kafka_topics) == POSTS
    assert (stats.malformed, stats.filtered) == (1, 2)  # no time; deleted and dead


def test_keywords_filter_before_kafka(kafka_producer, kafka_topics):
    stats = run_hn(HackerNews(), kafka_producer(), max_posts=2, keywords=["DuckDB", "self-hosted"])
    assert ids(kafka_topics) == ["41500002", "41500009"]
    assert stats.filtered == 2 + 2  # deleted/dead, then two posts without the keywords


def test_server_errors_are_retried_and_each_item_sent_once(kafka_producer, kafka_topics):
    fake = HackerNews(fail_requests={3, 4})
    stats = run_hn(fake, kafka_producer(), max_posts=5)
    assert stats.reconnects >= 1
    assert ids(kafka_topics) == POSTS


def test_a_restart_continues_after_the_last_item_handled(kafka_producer, kafka_topics, store):
    sink = kafka_producer()
    run_hn(HackerNews(), sink, max_posts=2, store=store)
    assert store.load().cursor == 41500002
    fake = HackerNews()
    run_hn(fake, sink, max_posts=3, store=store, backfill=0)
    fetched = [int(p.split("/")[-1].split(".")[0]) for p in fake.requests if "/item/" in p]
    assert min(fetched) == 41500003  # neither re-read nor skipped
    assert ids(kafka_topics) == POSTS


def test_odd_items_flow_into_kafka_decoded_and_without_deleted_by_edit(kafka_producer, kafka_topics):
    fake = HackerNews(items=load_json("hn_odd.json"), max_item=41600004)
    stats = run_hn(fake, kafka_producer(), max_posts=2, backfill=4)
    posts = {p.id: p for _, p in read_topic(kafka_topics.bootstrap, kafka_topics.raw)}
    assert sorted(posts) == ["41600001", "41600003"] and stats.filtered == 1  # the "[deleted]" edit
    assert posts["41600001"].text.startswith('Ask HN: Why is C++ & Rust interop still "hard"?')


def test_edits_and_deletions_seen_on_a_later_poll_reach_kafka(kafka_producer, kafka_topics):
    fake = HackerNews()
    fake.changes = {
        "41500002": {**fake.items["41500002"], "text": "[deleted]"},
        "41500009": {**fake.items["41500009"], "text": "DuckDB was excellent, until it crashed."},
        "41500001": {**fake.items["41500001"], "score": 99},  # a new score only: no event
    }
    stats = run_hn(fake, kafka_producer(), max_posts=5 + 2, forward_edits=True)
    events = [(p.id, event_kind(p)) for _, p in read_topic(kafka_topics.bootstrap, kafka_topics.raw)]
    assert sorted(e for e in events if e[1]) == [("41500002", "delete"), ("41500009", "update")]
    assert (stats.updates, stats.deletes, len(events)) == (1, 1, 7)


def test_a_url_that_is_not_the_api_is_a_clear_error():
    async def main() -> None:
        async with serve(Feeds().app()) as url:
            await asyncio.wait_for(Runner(HackerNewsSource(f"{url}/v0"), [].append).run(), 10)

    with pytest.raises(BadURLError, match=r"HTTP 404.*check the URL"):
        asyncio.run(main())
