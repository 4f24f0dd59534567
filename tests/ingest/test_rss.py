"""RSS/Atom polling with ETag/Last-Modified against a local feed server, into real Kafka."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from infra.procs import free_port
from ingest.base import BadURLError, SourceError
from ingest.rss import RssSource
from ingest.runner import Runner, RunOptions
from tests.ingest.servers import DATA, Feeds, serve
from tests.ingest.topics import read_topic

NEW_ITEM = b"""<item><title>Version 3.1: the sync bug is back</title>
<link>https://blog.example.com/2024/09/v31</link><guid>post-1050</guid>
<pubDate>Wed, 11 Sep 2024 09:00:00 +0000</pubDate><description>Users are furious.</description></item>"""


def titles(kafka_topics: Any) -> list[str]:
    return sorted(p.text.split("\n")[0] for _, p in read_topic(kafka_topics.bootstrap, kafka_topics.raw))


@pytest.mark.parametrize("etags", [True, False], ids=["etag", "last-modified"])
def test_feeds_flow_into_kafka_and_only_new_entries_follow(kafka_producer, kafka_topics, etags: bool):
    fake = Feeds(etags=etags)

    async def main() -> Any:
        async with serve(fake.app()) as url:
            source = RssSource([f"{url}/feed.xml", f"{url}/atom.xml"], poll_interval_s=0.05)
            runner = Runner(source, kafka_producer(), options=RunOptions(max_posts=6, checkpoint_s=0))
            task = asyncio.create_task(runner.run())
            await asyncio.wait_for(fake.wait_for("/feed.xml", 304, count=2), 10)  # unchanged: not re-sent
            fake.bodies["/feed.xml"] = (
                (DATA / "feed.rss").read_bytes().replace(b"<item>", NEW_ITEM + b"<item>", 1)
            )
            fake.version += 1
            return await asyncio.wait_for(task, 10)

    stats = asyncio.run(main())
    assert titles(kafka_topics) == sorted([
        "Hello world", "Outage report for September 2", "Version 3.0 is out", "1.4.1", "1.4.2: hotfix",
        "Version 3.1: the sync bug is back",
    ])  # fmt: skip
    assert stats.duplicates == 0
    assert fake.log.count(("/feed.xml", 200)) == 2


def test_a_restart_asks_conditionally_and_resends_nothing(kafka_producer, kafka_topics, store):
    sink = kafka_producer()
    port = free_port()  # the same feed URL before and after the restart

    async def run(fake: Feeds, max_posts: int | None) -> Any:
        async with serve(fake.app(), port) as url:
            stop = asyncio.Event()
            source = RssSource([f"{url}/feed.xml"], poll_interval_s=0.05)
            runner = Runner(
                source, sink, store, options=RunOptions(max_posts=max_posts, checkpoint_s=0), stop=stop
            )
            task = asyncio.create_task(runner.run())
            if max_posts is None:
                await asyncio.wait_for(fake.wait_for("/feed.xml", 304), 10)
                stop.set()
            return await asyncio.wait_for(task, 10)

    assert asyncio.run(run(Feeds(), max_posts=3)).sent == 3
    restarted = Feeds()
    assert asyncio.run(run(restarted, max_posts=None)).sent == 0
    assert restarted.log[0] == ("/feed.xml", 304)  # the saved ETag was sent
    assert len(titles(kafka_topics)) == 3


def test_a_feed_unreachable_at_start_stops_with_a_clear_message():
    nobody = RssSource([f"http://127.0.0.1:{free_port()}/feed.xml"], poll_interval_s=0.05)
    with pytest.raises(
        SourceError, match=r"cannot reach the feed at start: rss http://127.0.0.1:\d+/feed.xml"
    ):
        asyncio.run(
            asyncio.wait_for(Runner(nobody, [].append, options=RunOptions(fail_fast=False)).run(), 10)
        )


def test_json_legacy_encoded_and_hand_written_feeds_flow_into_kafka(kafka_producer, kafka_topics):
    names = {"/feed.json": "feed.json", "/koi8.xml": "feed_koi8.rss", "/odd.xml": "feed_odd.rss"}
    fake = Feeds(bodies={path: (DATA / name).read_bytes() for path, name in names.items()})

    async def main() -> tuple[Any, str]:
        async with serve(fake.app()) as url:
            source = RssSource([f"{url}{path}" for path in names], poll_interval_s=0.05)
            runner = Runner(source, kafka_producer(), options=RunOptions(max_posts=8))
            return await asyncio.wait_for(runner.run(), 10), url

    stats, url = asyncio.run(main())
    posts = {p.text.split("\n")[0]: p for _, p in read_topic(kafka_topics.bootstrap, kafka_topics.raw)}
    assert stats.sent == 8 and stats.malformed == 0
    assert "2.1 is out" in posts and "Обновление 1: приложение снова падает при запуске" in posts
    assert posts["Winter opening hours"].url == f"{url}/news/winter-hours"  # resolved against the feed URL


@pytest.mark.parametrize(
    ("path", "reason"), [("/missing.xml", "HTTP 404"), ("/page.html", "not an RSS, Atom or JSON feed")]
)
def test_a_feed_that_never_worked_is_a_clear_error(path: str, reason: str):
    async def main() -> None:
        async with serve(Feeds().app()) as url:
            await asyncio.wait_for(Runner(RssSource([f"{url}{path}"]), [].append).run(), 10)

    with pytest.raises(BadURLError, match=reason):
        asyncio.run(main())
