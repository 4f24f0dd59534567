"""Each source's payloads (recorded-style fixtures) turned into Posts, skips and cursor steps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ingest.bluesky import parse_jetstream, subscribe_url
from ingest.edits import event_kind
from ingest.hackernews import item_event
from ingest.mastodon import newer, status_event
from ingest.reddit import listing_events
from ingest.rss import parse_feed
from tests.ingest.servers import DATA, load_json


def test_jetstream_events_become_posts_cursor_steps_or_malformed():
    events = [parse_jetstream(line) for line in (DATA / "jetstream_events.jsonl").read_text().splitlines()]
    posts = [e.post for e in events if e.post and not event_kind(e.post)]
    assert [p.metadata["langs"][0] for p in posts] == ["en", "de", "en-US", "en", "ja", "en"]
    first = posts[0]
    assert first.key == "bluesky:did:plc:eygmaihciaxprqvxpfvl6flk/3l3qo2vuowo2b"
    assert first.url == "https://bsky.app/profile/did:plc:eygmaihciaxprqvxpfvl6flk/post/3l3qo2vuowo2b"
    assert first.created_at == datetime(2024, 9, 9, 19, 46, 2, 102000, tzinfo=UTC)
    assert posts[2].metadata["is_reply"] is True
    assert sum(1 for e in events if e.malformed) == 2  # no rkey; time_us not a number
    assert [e.post.key for e in events if e.post and event_kind(e.post) == "delete"] == [
        "bluesky:did:plc:z72i7hdynmk6r22z27h6tvur/3l3qnzzyyyy2c"
    ]
    assert sum(1 for e in events if e.filtered) == 1  # an image-only post
    assert all(e.cursor for e in events if not e.malformed or "rkey" in e.malformed)
    assert events[-1].cursor == 1725911163200000


def test_jetstream_subscribe_url_asks_for_posts_from_the_cursor():
    url = subscribe_url("ws://h/subscribe", 123, ("did:plc:x",))
    assert url == "ws://h/subscribe?wantedCollections=app.bsky.feed.post&wantedDids=did%3Aplc%3Ax&cursor=123"


def test_mastodon_statuses_to_posts_skip_boosts_and_keep_spoilers():
    statuses = load_json("mastodon_statuses.json")
    events = [status_event(s, "mastodon.example") for s in statuses]
    texts = [e.post.text if e.post else None for e in events]
    assert texts[0] == "The new #python release is great & fast!"
    assert texts[1] == "Upgrading broke my build.\nAgain. Not happy.\n\nRolling back."
    assert texts[2] == "Film spoilers\n\nPlot details inside"
    assert texts[3] is None and events[3].repost  # a boost
    assert events[1].post.id == statuses[1]["uri"] and events[1].post.author == "bob@fosstodon.org"
    assert events[4].post.lang == "de"
    assert [e.cursor for e in events] == [s["id"] for s in statuses]
    assert status_event({"content": "no id"}, "x").malformed


def test_mastodon_ids_compare_as_numbers():
    assert newer("999", "1000") == "1000"
    assert newer(None, "5") == "5"


def test_reddit_listing_is_read_oldest_first_from_the_cursor():
    events = listing_events(load_json("reddit_new.json"), since=0)
    posts = [e.post for e in events if e.post]
    assert [p.id for p in posts] == ["t3_1fd001x", "t3_1fd003x", "t3_1fd004x"]  # 1fd002x was removed
    assert posts[0].text == "Packaging is still painful\n\nWhy are there five tools for this?"
    assert posts[0].url == "https://www.reddit.com/r/python/comments/1fd001x/post_1/"
    assert posts[1].metadata["subreddit"] == "rust"
    assert sum(e.malformed is not None for e in events) == 1
    later = listing_events(load_json("reddit_comments.json"), since=1725955200 + 60)
    assert [e.post.id for e in later if e.post] == ["t1_lm0003q"]
    assert [e.filtered for e in later] == [True, False]  # "[deleted]" comment, then the new one


def test_hacker_news_items():
    items = load_json("hn_items.json")
    kinds = frozenset({"story", "comment"})
    events = {int(k): item_event(int(k), v, kinds) for k, v in items.items()}
    assert events[41500001].post.text == "Show HN: A tiny sentiment monitor"
    assert events[41500001].post.metadata["link"] == "https://example.com/monitor"
    assert events[41500002].post.text == "This is really neat. I'd love a self-hosted version.\n\nGreat job!"
    assert events[41500003].post is None and not events[41500003].filtered  # a job: not asked for
    assert events[41500004].filtered and events[41500005].filtered  # deleted, dead
    assert events[41500006].post.text.startswith("Ask HN: How do you handle huge CSVs?\n\nI tried")
    assert events[41500007].malformed  # no time
    assert events[41500008].post is None and events[41500008].cursor == 41500008
    assert item_event(5, {"id": 6}, kinds).malformed


def test_rss_and_atom_entries_only_new_ones():
    rss = (DATA / "feed.rss").read_bytes()
    events, seen = parse_feed(rss, "http://h/feed.xml", {}, [])
    posts = [e.post for e in events]
    assert [p.text.split("\n")[0] for p in posts] == [
        "Hello world",
        "Outage report for September 2",
        "Version 3.0 is out",
    ]
    assert posts[2].text == "Version 3.0 is out\n\nFaster sync, a new editor & fewer crashes."
    assert posts[2].lang == "en-us" and posts[2].created_at == datetime(2024, 9, 10, 9, tzinfo=UTC)
    assert seen == ["post-1001", "post-1042", "https://blog.example.com/2024/09/v3"]
    again, _ = parse_feed(rss, "http://h/feed.xml", {}, seen)
    assert again == []
    atom, _ = parse_feed((DATA / "feed.atom").read_bytes(), "http://h/atom.xml", {}, [])
    assert [e.post.author for e in atom] == [None, "Release Bot"]
    assert atom[1].post.text == "1.4.2: hotfix\n\nFixes the login loop that annoyed everyone."


def test_same_entry_in_two_feeds_gets_two_keys():
    rss = (DATA / "feed.rss").read_bytes()
    a, _ = parse_feed(rss, "http://a/feed", {}, [])
    b, _ = parse_feed(rss, "http://b/feed", {}, [])
    assert {e.post.key for e in a}.isdisjoint({e.post.key for e in b})
    assert json.loads(a[0].post.to_json())["metadata"]["entry_id"] == "post-1001"
