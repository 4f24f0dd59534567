"""De-duplication, keyword and language pre-filters, backoff and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.pipeline import Deduper, IngestStats, KeywordFilter, lang_matches, make_pipeline
from sentimon.retry import Backoff, retry_after_seconds
from sentimon.schema import Post


def post(text: str = "hello", pid: str = "1", **extra: object) -> Post:
    return Post(source="t", id=pid, text=text, **extra)


def test_deduper_forgets_oldest_keys_beyond_capacity():
    deduper = Deduper(capacity=3)
    assert [deduper.check_and_add(k) for k in "abca"] == [False, False, False, True]
    deduper.add("d")
    deduper.add("e")  # evicts b, then c ("a" was refreshed)
    assert "b" not in deduper and "c" not in deduper and "a" in deduper
    assert len(deduper) == 3


def test_keyword_filter_matches_whole_words_hashtags_and_phrases_case_insensitively():
    f = KeywordFilter(["acme", "#launch", "customer service"])
    assert f.matches("I love ACME phones")
    assert f.matches("big day #Launch!")
    assert f.matches("Their Customer Service is slow")
    assert not f.matches("acmeville is a town")
    assert not f.matches("we launch tomorrow")  # the hashtag form was asked for
    assert not f.matches("customer of the service")


def test_empty_keyword_filter_keeps_everything():
    assert not KeywordFilter([" ", ""])
    assert KeywordFilter([]).matches("anything")


def test_language_filter_uses_primary_subtags_and_drops_unknown():
    en = frozenset({"en"})
    assert lang_matches(post(lang="en-US"), en)
    assert lang_matches(post(metadata={"langs": ["de", "en"]}), en)
    assert not lang_matches(post(lang="de"), en)
    assert not lang_matches(post(), en)
    assert lang_matches(post(), frozenset())


def test_pipeline_counts_why_posts_are_dropped():
    pipeline = make_pipeline(keywords=["battery"], langs=["en"])
    stats = IngestStats()
    admitted = [
        pipeline.admit(post("battery died", "1", lang="en"), stats),
        pipeline.admit(post("battery died", "1", lang="en"), stats),
        pipeline.admit(post("nice screen", "2", lang="en"), stats),
        pipeline.admit(post("Akku battery leer", "3", lang="de"), stats),
    ]
    assert admitted == [True, False, False, False]
    assert (stats.received, stats.duplicates, stats.filtered) == (4, 1, 2)


def test_pipeline_starts_with_the_keys_sent_before_a_restart():
    pipeline = make_pipeline(recent_keys=["t:1"])
    assert not pipeline.admit(post(pid="1"), IngestStats())


def test_backoff_grows_to_the_cap_and_resets():
    backoff = Backoff(initial_s=1, max_s=5, jitter=False)
    assert [backoff.next_delay() for _ in range(5)] == [1, 2, 4, 5, 5]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_backoff_jitter_stays_between_half_and_full_delay():
    backoff = Backoff(initial_s=2, max_s=2)
    assert all(1 <= backoff.next_delay() <= 2 for _ in range(50))


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2024, 9, 10, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7
    assert retry_after_seconds("Tue, 10 Sep 2024 12:00:30 GMT", now) == 30
    assert retry_after_seconds((now - timedelta(seconds=5)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 0
    assert retry_after_seconds("soon", now, default=12) == 12
    assert retry_after_seconds(None, now, default=3) == 3


def test_edits_and_deletions_are_counted_and_skipped_unless_forwarded():
    from ingest.edits import as_update, deletion

    original = post("the update is great", pid="9")
    events = [as_update(post("edited: it is bad", pid="9"), "v2"), deletion("t", "9")]
    held, stats = make_pipeline(keywords=["great"]), IngestStats()
    assert held.admit(original, stats)
    assert [held.admit(e, stats) for e in events + events] == [False] * 4
    assert (stats.edits_skipped, stats.duplicates, stats.filtered) == (2, 2, 0)  # each counted once
    sent, stats = make_pipeline(keywords=["great"], forward_edits=True), IngestStats()
    assert sent.admit(original, stats)
    assert [sent.admit(e, stats) for e in events + events] == [True, True, False, False]
    assert (stats.updates, stats.deletes, stats.duplicates) == (1, 1, 2)  # past the keyword filter, once
    assert not sent.admit(deletion("t", "never-sent"), stats) and stats.filtered == 1
