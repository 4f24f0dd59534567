"""Bluesky Jetstream against a local websocket server replaying recorded-style events, into real Kafka."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from infra.procs import free_port
from ingest.base import BadURLError, SourceError
from ingest.bluesky import JetstreamSource
from ingest.edits import event_kind
from ingest.pipeline import make_pipeline
from ingest.runner import Runner, RunOptions
from sentimon.retry import Backoff
from tests.ingest.servers import DATA, Jetstream, serve
from tests.ingest.topics import read_topic

ALL_POSTS = 6  # text-bearing creates in jetstream_events.jsonl
ENGLISH = {"3l3qo2vuowo2b", "3l3qo2wddda2e", "3l3qo2wfffa2g", "3l3qo2wiiia2j"}


def run_jetstream(
    fake: Jetstream, sink: Any, store: Any = None, max_posts: int = ALL_POSTS, **kw: Any
) -> Any:
    langs, edits = kw.pop("langs", ()), kw.pop("edits", False)

    async def main() -> Any:
        async with serve(fake.app()) as url:
            source = JetstreamSource(url.replace("http", "ws") + "/subscribe", **kw)
            options = RunOptions(max_posts=max_posts, backoff=Backoff(0.05, 0.2), checkpoint_s=0)
            runner = Runner(source, sink, store, make_pipeline(langs=langs, forward_edits=edits), options)
            return await asyncio.wait_for(runner.run(), 20)

    return asyncio.run(main())


def rkeys(kafka_topics: Any) -> list[str]:
    return sorted(key.rsplit("/", 1)[1] for key, _ in read_topic(kafka_topics.bootstrap, kafka_topics.raw))


def test_english_posts_flow_into_kafka_and_malformed_events_are_counted(kafka_producer, kafka_topics):
    fake = Jetstream()
    stats = run_jetstream(fake, kafka_producer(), max_posts=len(ENGLISH), langs=["en"])
    assert set(rkeys(kafka_topics)) == ENGLISH and len(rkeys(kafka_topics)) == 4
    assert (stats.sent, stats.malformed, stats.filtered) == (4, 2, 4)  # de, ja, image-only; a deletion
    assert stats.edits_skipped == 0  # that deletion is of a post never sent: not an edit to report
    assert fake.connections[0]["wantedCollections"] == "app.bsky.feed.post"


def test_reconnects_after_the_server_drops_and_sends_each_post_once(kafka_producer, kafka_topics):
    fake = Jetstream(drop_after=[4])
    stats = run_jetstream(fake, kafka_producer())
    assert len(fake.connections) == 2 and stats.reconnects == 1
    assert fake.connections[1]["cursor"] == 1725911162550001 - 3_000_000  # rewound a little
    assert len(rkeys(kafka_topics)) == ALL_POSTS and stats.duplicates >= 2


def test_a_restart_resumes_from_the_saved_cursor_without_duplicates(kafka_producer, kafka_topics, store):
    sink = kafka_producer()
    first = run_jetstream(Jetstream(), sink, store, max_posts=2)
    assert first.sent == 2 and store.load().cursor == 1725911162481234
    fake = Jetstream()
    second = run_jetstream(fake, sink, store, max_posts=ALL_POSTS - 2)
    assert fake.connections[0]["cursor"] == 1725911162481234 - 3_000_000
    assert second.duplicates == 2  # replayed overlap dropped thanks to the saved keys
    assert len(rkeys(kafka_topics)) == ALL_POSTS


def test_malformed_records_neither_stop_the_stream_nor_a_restart(kafka_producer, kafka_topics, store):
    odd = (DATA / "jetstream_odd.jsonl").read_text().splitlines()  # "text": 123 and "record": null first
    first = run_jetstream(Jetstream(lines=odd), kafka_producer(), store, max_posts=3, edits=True)
    assert first.malformed == 2 and store.load().cursor == 1733011200500000  # moved past them
    again = Jetstream(lines=odd)
    second = run_jetstream(again, kafka_producer(), store, max_posts=10, edits=True)
    assert again.connections[0]["cursor"] == 1733011200500000 - 3_000_000
    assert (second.updates, second.deletes, second.duplicates) == (1, 1, 3)
    records = read_topic(kafka_topics.bootstrap, kafka_topics.raw)
    kinds = sorted(str(event_kind(p)) for _, p in records)
    assert len({k for k, _ in records}) == 11 and kinds == ["None"] * 11 + ["delete", "update"]


def test_bad_urls_are_clear_errors():
    with pytest.raises(BadURLError, match="ws:// or wss://"):
        JetstreamSource("https://jetstream.example/subscribe")

    async def wrong_path() -> None:
        async with serve(Jetstream().app()) as url:
            runner = Runner(JetstreamSource(url.replace("http", "ws") + "/nope"), [].append)
            await asyncio.wait_for(runner.run(), 10)

    with pytest.raises(BadURLError, match="HTTP 404: not a Jetstream endpoint"):
        asyncio.run(wrong_path())
    nobody = Runner(JetstreamSource(f"ws://127.0.0.1:{free_port()}/subscribe"), [].append)
    with pytest.raises(SourceError, match="cannot start: bluesky: network error with ws:"):
        asyncio.run(asyncio.wait_for(nobody.run(), 10))
