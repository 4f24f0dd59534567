"""Reddit OAuth polling against a local server (token endpoint + listings), into real Kafka."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ingest.backoff import Backoff
from ingest.base import AuthError, BadURLError
from ingest.reddit import RedditSource
from ingest.runner import Runner, RunOptions
from tests.ingest.servers import Reddit, serve
from tests.ingest.topics import read_topic

POSTS = ["t3_1fd001x", "t3_1fd002x", "t3_1fd003x", "t3_1fd004x"]
COMMENTS = ["t1_lm0001q", "t1_lm0003q"]


def run_reddit(fake: Reddit, sink: Any, max_posts: int, store: Any = None, secret: str = "app-secret") -> Any:
    async def main() -> Any:
        async with serve(fake.app()) as url:
            source = RedditSource(
                ["python", "r/rust"], "app-id", secret, poll_interval_s=0.05, auth_url=url, api_url=url
            )
            options = RunOptions(max_posts=max_posts, backoff=Backoff(0.05, 0.2), checkpoint_s=0)
            return await asyncio.wait_for(Runner(source, sink, store, options=options).run(), 20)

    return asyncio.run(main())


def ids(kafka_topics: Any) -> list[str]:
    return sorted(key.split(":", 1)[1] for key, _ in read_topic(kafka_topics.bootstrap, kafka_topics.raw))


def test_new_posts_and_comments_flow_into_kafka(kafka_sink, kafka_topics):
    fake = Reddit()
    stats = run_reddit(fake, kafka_sink(), max_posts=6)
    assert ids(kafka_topics) == sorted(POSTS + COMMENTS)
    assert (stats.malformed, stats.filtered) == (1, 1)  # a child without created_utc; a deleted comment
    assert fake.token_requests == 1
    assert [name for _, name, _ in fake.listing_requests[:2]] == ["new", "comments"]


def test_429_is_retried_after_the_time_reddit_asks_for(kafka_sink, kafka_topics):
    fake = Reddit(rate_limited=1, retry_after="1")
    stats = run_reddit(fake, kafka_sink(), max_posts=6)
    (refused_at, _, status), (retried_at, _, retried_status) = fake.listing_requests[:2]
    assert (status, retried_status) == (429, 200)
    assert retried_at - refused_at >= 1.0
    assert stats.rate_limited == 1 and len(ids(kafka_topics)) == 6


def test_a_restart_resumes_from_the_newest_seen_time_without_duplicates(kafka_sink, kafka_topics, store):
    sink = kafka_sink()
    run_reddit(Reddit(), sink, max_posts=3, store=store)
    assert store.load().cursor["posts"] == 1725955200 + 3 * 60
    stats = run_reddit(Reddit(), sink, max_posts=3, store=store)
    assert stats.duplicates >= 1  # the post at exactly the cursor time comes again and is dropped
    assert ids(kafka_topics) == sorted(POSTS + COMMENTS)


def test_bad_credentials_and_names_are_clear_errors():
    with pytest.raises(AuthError, match="client id or secret was refused"):
        run_reddit(Reddit(), [].append, max_posts=1, secret="wrong")
    with pytest.raises(BadURLError, match="invalid subreddit name"):
        RedditSource(["no spaces allowed"], "id", "secret")
    with pytest.raises(AuthError, match="client id and secret"):
        RedditSource(["python"], "", "")
