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
