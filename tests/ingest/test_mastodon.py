"""Mastodon streaming (SSE) and timeline backfill against a local server, into real Kafka."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from ingest.base import AuthError, BadURLError
from ingest.edits import event_kind
from ingest.mastodon import MastodonSource
from ingest.pipeline import make_pipeline
from ingest.runner import Runner, RunOptions
from sentimon.retry import Backoff
from tests.ingest.servers import Feeds, Mastodon, load_json, serve
from tests.ingest.topics import read_topic

ALL = [0, 1, 2, 3, 4, 5]  # status 3 is a boost: 5 posts


def run_mastodon(
    fake: Mastodon, sink: Any, max_posts: int, store: Any = None, token: str = "tok-123", edits: bool = False
) -> Any:
    async def main() -> Any:
        async with serve(fake.app()) as url:
            source = MastodonSource(url, token=token, hashtag="#python", idle_timeout_s=5)
            options = RunOptions(max_posts=max_posts, backoff=Backoff(0.05, 0.2), checkpoint_s=0)
            runner = Runner(source, sink, store, make_pipeline(forward_edits=edits), options)
            return await asyncio.wait_for(runner.run(), 20)

    return asyncio.run(main())


def keys(kafka_topics: Any) -> list[str]:
    return [key for key, _ in read_topic(kafka_topics.bootstrap, kafka_topics.raw)]


def test_hashtag_stream_flows_into_kafka_skipping_boosts_and_bad_frames(kafka_producer, kafka_topics):
    fake = Mastodon(stream_plan=[(ALL, False)])
    fake.extra_frames = ["event: update\ndata: {not json\n\n", 'event: update\ndata: {"content": "x"}\n\n',
                         "event: delete\ndata: 113100000000001000\n\n"]  # fmt: skip
    stats = run_mastodon(fake, kafka_producer(), max_posts=5)
    statuses = fake.statuses
    assert sorted(keys(kafka_topics)) == sorted(f"mastodon:{statuses[i]['uri']}" for i in (0, 1, 2, 4, 5))
    assert (stats.sent, stats.malformed, stats.reposts) == (5, 2, 1)
    assert fake.stream_requests == [{"tag": "python"}]
    posts = dict(read_topic(kafka_topics.bootstrap, kafka_topics.raw))
    assert (
        posts[f"mastodon:{statuses[1]['uri']}"].text
        == "Upgrading broke my build.\nAgain. Not happy.\n\nRolling back."
    )


def edit_frames() -> list[str]:
    odd = load_json("mastodon_odd.json")
    edit = f"event: status.update\ndata: {json.dumps(odd['edit'])}\n\n"
    return [edit, f"event: delete\ndata: {odd['edit']['id']}\n\n", "event: delete\ndata: 42\n\n"]


def test_edits_and_deletions_reach_kafka_under_the_post_key_when_forwarded(kafka_producer, kafka_topics):
    fake = Mastodon(stream_plan=[([0, 1], False)], later_frames=edit_frames())
    stats = run_mastodon(fake, kafka_producer(), max_posts=4, edits=True)
    records = read_topic(kafka_topics.bootstrap, kafka_topics.raw)
    first = f"mastodon:{fake.statuses[0]['uri']}"
    assert [(k, event_kind(p)) for k, p in records if k == first] == [
        (first, None),
        (first, "update"),
        (first, "delete"),
    ]
    assert (stats.updates, stats.deletes) == (1, 1)  # the delete of a status never sent is not sent


def test_edits_and_deletions_are_counted_not_sent_by_default(kafka_producer, kafka_topics):
    fake = Mastodon(stream_plan=[([0, 1, 2], False)], later_frames=edit_frames())
    fake.later_frames.append(f"event: update\ndata: {json.dumps(fake.statuses[4])}\n\n")
    stats = run_mastodon(fake, kafka_producer(), max_posts=4)
    assert stats.edits_skipped == 2 and len(keys(kafka_topics)) == 4


def test_after_a_drop_missed_statuses_are_fetched_by_since_id(kafka_producer, kafka_topics):
    fake = Mastodon(stream_plan=[([0, 1], True), ([4, 5], False)])
    stats = run_mastodon(fake, kafka_producer(), max_posts=5)
    assert stats.reconnects == 1
    assert fake.timeline_requests[0]["min_id"] == fake.statuses[1]["id"]
    assert len(keys(kafka_topics)) == 5 and len(set(keys(kafka_topics))) == 5


def test_a_restart_backfills_from_the_saved_cursor_once(kafka_producer, kafka_topics, store):
    sink = kafka_producer()
    first = Mastodon(stream_plan=[([0, 1, 2], False)])
    run_mastodon(first, sink, max_posts=2, store=store)
    assert store.load().cursor == first.statuses[1]["id"]
    second = Mastodon(stream_plan=[([4, 5], False)])
    stats = run_mastodon(second, sink, max_posts=3, store=store)
    assert second.timeline_requests[0]["min_id"] == first.statuses[1]["id"]
    assert stats.duplicates == 0 and len(keys(kafka_topics)) == 5 and len(set(keys(kafka_topics))) == 5


def test_a_wrong_token_or_url_is_a_clear_error():
    with pytest.raises(AuthError, match=r"HTTP 401 .*access token is invalid.*check the credentials"):
        run_mastodon(Mastodon(), [].append, max_posts=1, token="wrong")

    async def not_mastodon() -> None:
        async with serve(Feeds().app()) as url:
            await asyncio.wait_for(Runner(MastodonSource(url, hashtag="x"), [].append).run(), 10)

    with pytest.raises(BadURLError, match="HTTP 404"):
        asyncio.run(not_mastodon())
    with pytest.raises(BadURLError, match="must look like https://"):
        MastodonSource("mastodon.social")
