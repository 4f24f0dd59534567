"""The batch step: bad messages become dead letters with reasons, the rest is classified once and matched."""

import orjson

from sentimon.schema import Post
from stream_processor.batch import RawMessage, process_batch
from stream_processor.matcher import TopicMatcher
from tests.stream_processor.fakes import WordClassifier


def _raw(pid: str, text: str, origin: str | None = None) -> RawMessage:
    return RawMessage(Post(source="t", id=pid, text=text).to_json(), origin)


def test_valid_posts_are_classified_in_one_call_and_matched() -> None:
    clf = WordClassifier()
    matcher = TopicMatcher.from_rules({1: "acme", 2: "#nimbus"})
    result = process_batch(
        [_raw("1", "acme is down"), _raw("2", "love #nimbus"), _raw("3", "nothing")], clf, matcher
    )
    assert clf.calls == [3]
    assert [(s.post.id, s.label, s.topics) for s in result.scored] == [
        ("1", "negative", [1]),
        ("2", "positive", [2]),
        ("3", "neutral", []),
    ]
    assert all(s.model_version == "fake-1" for s in result.scored)


def test_bad_messages_become_dead_letters_with_reasons_and_raw_bytes() -> None:
    bad = [
        RawMessage(b"not json", "raw/0/1"),
        RawMessage(orjson.dumps({"source": "t", "id": 1, "text": ""}), "raw/0/2"),
        RawMessage(orjson.dumps({"source": "t", "id": 2, "text": 5}), "raw/0/3"),
        RawMessage(b"\xff\xfe", "raw/0/4"),
        RawMessage(None, "raw/0/5"),
        RawMessage(orjson.dumps({"source": "t", "id": 3, "text": "a\x00b"}), "raw/0/6"),
    ]
    result = process_batch([*bad, _raw("9", "fine")], WordClassifier(), TopicMatcher())
    assert [s.post.id for s in result.scored] == ["9"]
    reasons = [d.reason for d in result.dead]
    assert reasons[0].startswith("not JSON")
    assert "text" in reasons[1] and "text" in reasons[2]
    assert "UTF-8" in reasons[3]
    assert reasons[4] == "empty message"
    assert "NUL" in reasons[5]
    assert result.dead[0].raw == b"not json" and result.dead[3].origin == "raw/0/4"


def test_repeats_inside_a_batch_are_dropped_before_classifying() -> None:
    clf = WordClassifier()
    result = process_batch([_raw("1", "a"), _raw("1", "a"), _raw("2", "b")], clf, TopicMatcher())
    assert clf.calls == [2] and result.duplicates == 1
    assert result.origins == {"t:1": None, "t:2": None}


def test_an_all_bad_batch_never_calls_the_classifier() -> None:
    clf = WordClassifier()
    result = process_batch([RawMessage(b"{")], clf, TopicMatcher())
    assert clf.calls == [] and len(result.dead) == 1


def test_posts_dated_in_the_future_are_refused_past_ones_kept() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    far = Post(source="t", id="f", text="x", created_at=now + timedelta(days=3)).to_json()
    skewed = Post(source="t", id="s", text="x", created_at=now + timedelta(minutes=2)).to_json()
    old = Post(source="t", id="o", text="x", created_at=now - timedelta(days=400)).to_json()
    from stream_processor.batch import validate

    valid, dead, _ = validate([RawMessage(far, "raw/0/1"), RawMessage(skewed), RawMessage(old)], now=now)
    assert [p.id for p, _ in valid] == ["s", "o"]
    assert "in the future" in dead[0].reason and dead[0].post_key == "t:f"
