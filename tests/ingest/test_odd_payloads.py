"""The odd payloads real sources send (unvalidated records, removed posts, legacy feeds), source by source."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.bluesky import parse_jetstream
from ingest.edits import event_kind
from ingest.hackernews import SentItems, item_event
from ingest.mastodon import StatusKeys, status_event
from ingest.reddit import listing_events
from ingest.rss import parse_feed
from sentimon.schema import MAX_TEXT_CHARS
from tests.ingest.servers import DATA, load_json

LONG = "This goes on and on. " * 800  # 16,800 characters: over the schema's 10,000
HN_KINDS = frozenset({"story", "comment"})


def jetstream_odd() -> dict[str, Any]:
    """rkey → event of the odd Jetstream corpus."""
    lines = (DATA / "jetstream_odd.jsonl").read_text().splitlines()
    return {json.loads(line)["commit"]["rkey"]: parse_jetstream(line) for line in lines}


def test_jetstream_malformed_records_are_counted_and_the_cursor_moves_past_them():
    events = jetstream_odd()
    text_123, record_null = events["3ldkaaa0001"], events["3ldkaaa0002"]
    assert "text is int" in (text_123.malformed or "") and text_123.cursor == 1733011200100000
    assert "record is NoneType" in (record_null.malformed or "") and record_null.cursor == 1733011200200000
    bad_facets = events["3ldkaaa0014"].post
    assert bad_facets is not None and bad_facets.text == "Facets with nonsense ranges still post"


@pytest.mark.parametrize("rkey", ["3ldkaaa0003", "3ldkaaa0004", "3ldkaaa0005", "3ldkaaa0006", "3ldkaaa0013"])
def test_jetstream_untrustworthy_client_times_fall_back_to_the_server_time(rkey: str):
    event = jetstream_odd()[rkey]  # no time zone, year 0000, 2099, backdated 2009, a number
    assert event.post is not None and event.post.created_at == datetime.fromtimestamp(event.cursor / 1e6, UTC)
    assert "client_created_at" in event.post.metadata


def test_jetstream_language_tags_of_any_shape():
    events = jetstream_odd()
    long_tag = events["3ldkaaa0007"].post
    assert long_tag.lang == "en" and long_tag.metadata["langs"] == ["en-US-x-twain-style"]
    assert events["3ldkaaa0008"].post.lang == "en"  # "langs": "en", not ["e", "n"]
    assert events["3ldkaaa0013"].post.lang is None  # "langs": null


def test_jetstream_facets_give_full_links_mentions_and_tags():
    post = jetstream_odd()["3ldkaaa0009"].post
    assert (
        post.text
        == "Great write-up 🎉 https://example.com/posts/why-i-left-the-cloud via @carol.example.com #rustlang"
    )
    assert post.metadata["mentions"] == ["did:plc:carol0000000000000000000"]
    assert post.metadata["tags"] == ["rustlang"]


def test_jetstream_updates_and_deletes_are_events_with_the_post_key():
    events = jetstream_odd()
    update, delete = events["3ldkaaa0010"].post, events["3ldkaaa0011"].post
    assert (event_kind(update), update.metadata["version"]) == ("update", "bafyreiodd010cidq4z")
    assert update.text.startswith("Edited:")
    assert (
        event_kind(delete) == "delete"
        and delete.key == "bluesky:did:plc:eygmaihciaxprqvxpfvl6flk/3ldkaaa0011"
    )
    assert events["3ldkaaa0012"].post is None  # a repost record: another collection, never a post


def test_mastodon_quote_fallback_is_removed_edits_and_deletes_are_events():
    odd = load_json("mastodon_odd.json")
    quote = status_event(odd["quote"], "mastodon.example").post
    assert quote.text == "Strongly disagree with this take, the update made things worse."
    assert status_event(odd["link"], "mastodon.example").post.text.startswith(
        "Check https://example.com/a/very/long/path/to/a/page"
    )
    keys = StatusKeys()
    original = status_event(load_json("mastodon_statuses.json")[0], "mastodon.example")
    keys.remember(original)
    edit = status_event(odd["edit"], "mastodon.example", edited=True).post
    assert event_kind(edit) == "update" and edit.key == original.post.key
    assert edit.text == "The new release is great & fast! (Edit: except on Windows.)"
    gone = keys.deletion(odd["edit"]["id"], "mastodon.example").post
    assert event_kind(gone) == "delete" and gone.key == original.post.key
    assert keys.deletion("999", "mastodon.example").post is None  # never sent: nothing to delete


def test_reddit_markdown_removed_deleted_crossposts_and_missing_permalinks():
    events = {e.cursor: e for e in listing_events(load_json("reddit_odd.json"), since=0)}
    by_n = {round((c - 1733050000) / 60): e for c, e in events.items()}
    first = by_n[1].post
    assert first.text.startswith("Packaging: uv vs pip-tools & friends\n\nTried uv & pip-tools side by side.")
    assert "$ uv pip compile requirements.in\nResolved 42 packages in 180ms" in first.text  # code kept
    assert "**" not in first.text and "](" not in first.text
    assert by_n[2].filtered and by_n[3].filtered and by_n[7].filtered  # removed, deleted, removed comment
    assert by_n[4].repost and by_n[4].post is None  # a crosspost
    comment = by_n[5].post
    assert (comment.text, comment.author) == ("I love this & agree", None)  # "[deleted]" is nobody
    assert comment.url == "https://www.reddit.com/r/python/comments/1hodd01/_/lmodd05/"


def test_reddit_a_later_poll_sends_deletions_and_edits_of_earlier_things():
    listing = load_json("reddit_new.json")
    children = {c["data"]["name"]: c["data"] for c in listing["data"]["children"]}
    children["t3_1fd001x"].update(selftext="[deleted]", author="[deleted]", removed_by_category="deleted")
    children["t3_1fd004x"].update(
        selftext="I keep going back and forth. **Edit:** settled on yes.", edited=1725956000.5
    )
    later = listing_events(listing, since=1725955440.0 + 1)
    kinds = {e.post.id: event_kind(e.post) for e in later if e.post}
    assert kinds == {"t3_1fd001x": "delete", "t3_1fd002x": "delete", "t3_1fd004x": "update"}
    update = next(e.post for e in later if e.post and e.post.id == "t3_1fd004x")
    assert update.metadata["version"] == "1725956000.5" and update.text.endswith("Edit: settled on yes.")
    assert all(e.cursor is None for e in later if e.post)  # the cursor never moves back


def test_hacker_news_deleted_by_edit_entities_in_titles_and_later_changes():
    items = load_json("hn_odd.json")
    events = {int(k): item_event(int(k), v, HN_KINDS) for k, v in items.items()}
    assert events[41600001].post.text.startswith('Ask HN: Why is C++ & Rust interop still "hard"?')
    assert events[41600002].filtered and events[41600002].post is None  # text "[deleted]"
    sent = SentItems()
    sent.remember(41600003, events[41600003])
    edited = {**items["41600003"], "text": "cxx is fine, until it is not."}
    assert event_kind(sent.change(41600003, edited).post) == "update"
    assert sent.change(41600003, edited).post is None  # the same edit once
    gone = sent.change(41600003, {**edited, "text": "[deleted]"}).post
    assert event_kind(gone) == "delete" and gone.key == "hackernews:41600003"
    assert sent.change(41600001, items["41600001"]).post is None  # never sent: nothing to say


def test_feeds_resolve_relative_links_accept_description_only_and_say_when_undated():
    headers = {"date": "Sun, 01 Dec 2024 09:00:00 GMT"}
    events, _ = parse_feed(
        (DATA / "feed_odd.rss").read_bytes(), "https://shop.example.com/blog/feed.xml", headers, []
    )
    posts = {p.text.split("\n")[0]: p for p in (e.post for e in events)}
    assert not any(e.malformed for e in events)
    stocktake = posts["Stocktake results"]
    assert stocktake.url == "https://shop.example.com/blog/news/stocktake.html"
    assert stocktake.text.endswith("Fewer losses than last year, great work everyone.")  # content:encoded
    assert "time_source" not in stocktake.metadata
    hours = posts["Winter opening hours"]
    assert hours.url == "https://shop.example.com/news/winter-hours"
    assert (
        hours.created_at == datetime(2024, 12, 1, 8, 30, tzinfo=UTC)
        and hours.metadata["time_source"] == "feed"
    )
    note = posts["Just a quick note: the card reader is broken again, cash only today."]
    assert note.metadata["entry_id"].startswith("sha1:")


def test_feeds_without_any_date_take_the_http_date_and_say_so():
    body = (
        (DATA / "feed_odd.rss")
        .read_bytes()
        .replace(b"<lastBuildDate>Sun, 01 Dec 2024 08:30:00 GMT</lastBuildDate>", b"")
    )
    events, _ = parse_feed(
        body, "https://shop.example.com/feed.xml", {"date": "Sun, 01 Dec 2024 09:00:00 GMT"}, []
    )
    undated = [e.post for e in events if e.post.metadata.get("time_source")]
    assert {p.metadata["time_source"] for p in undated} == {"http"} and len(undated) == 2
    assert all(p.created_at == datetime(2024, 12, 1, 9, tzinfo=UTC) for p in undated)


def test_a_legacy_encoded_feed_without_a_charset_reads_right():
    events, _ = parse_feed((DATA / "feed_koi8.rss").read_bytes(), "https://news.example.ru/rss", {}, [])
    assert [e.post.text.split("\n")[0] for e in events] == [
        "Обновление 2: приложение снова падает при запуске",  # oldest first: the feed lists newest first
        "Обновление 1: приложение снова падает при запуске",
    ]


def test_json_feed_items_become_posts():
    headers = {"content-type": "application/feed+json", "date": "Sun, 01 Dec 2024 09:00:00 GMT"}
    events, seen = parse_feed(
        (DATA / "feed.json").read_bytes(), "https://app.example.org/feed.json", headers, []
    )
    posts = {p.metadata["entry_id"]: p for p in (e.post for e in events)}
    release = posts["rel-2.1"]
    assert release.text == "2.1 is out\n\nDark mode & a faster search. Finally!"
    assert release.url == "https://app.example.org/releases/2.1" and release.author == "Release Team"
    assert release.lang == "en" and release.created_at == datetime(2024, 11, 30, 10, tzinfo=UTC)
    assert posts["20"].created_at == datetime(2024, 11, 29, 8, tzinfo=UTC)
    assert len(seen) == 3


def _long_payloads() -> dict[str, Any]:
    status = copy.deepcopy(load_json("mastodon_statuses.json")[0])
    status["content"] = f"<p>{LONG}</p>"
    listing = copy.deepcopy(load_json("reddit_new.json"))
    listing["data"]["children"] = listing["data"]["children"][:1]
    listing["data"]["children"][0]["data"]["selftext"] = LONG
    record = json.loads((DATA / "jetstream_events.jsonl").read_text().splitlines()[0])
    record["commit"]["record"]["text"] = LONG
    story = {**load_json("hn_items.json")["41500006"], "text": LONG}
    feed = (
        (DATA / "feed.rss")
        .read_bytes()
        .replace(b"Faster sync, a <b>new</b> editor &amp; fewer crashes.", LONG.encode())
    )
    return {
        "bluesky": parse_jetstream(json.dumps(record)).post,
        "mastodon": status_event(status, "m.example").post,
        "reddit": listing_events(listing, 0)[0].post,
        "hackernews": item_event(41500006, story, HN_KINDS).post,
        "rss": next(
            e.post for e in parse_feed(feed, "http://h/feed.xml", {}, [])[0] if "on and on" in e.post.text
        ),
    }


def test_long_posts_are_truncated_with_a_flag_never_dropped_by_any_source():
    for source, post in _long_payloads().items():
        assert post is not None, source
        assert len(post.text) <= MAX_TEXT_CHARS and post.metadata["truncated"] is True, source
