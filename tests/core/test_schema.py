"""The Post schema: good posts pass, hostile ones fail with a reason that names the problem."""

from datetime import UTC, datetime

import orjson
import pytest

from sentimon.schema import MAX_TEXT_CHARS, Post, PostError, WindowAggregate


def _msg(**fields: object) -> bytes:
    base: dict[str, object] = {"source": "bluesky", "id": "abc", "text": "I love this phone"}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"x": value}
    return value


def _deep_msg(depth: int) -> bytes:
    """An unknown field nested `depth` levels deep, written by hand: encoders refuse to go that deep."""
    return _msg()[:-1] + b', "n": ' + b'{"x": ' * depth + b"1" + b"}" * depth + b"}"


def test_a_good_post_round_trips_through_json() -> None:
    post = Post.from_json(_msg(created_at="2024-05-01T10:00:00+02:00", author="ann", lang="en"))
    assert post.created_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert post.key == "bluesky:abc"
    assert Post.from_json(post.to_json()) == post


def test_unknown_fields_are_kept_in_metadata() -> None:
    post = Post.from_json(_msg(likes=3, metadata={"x": 1}))
    assert post.metadata == {"x": 1, "likes": 3}


def test_numeric_ids_become_text() -> None:
    assert Post.from_json(_msg(id=12345)).id == "12345"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json at all", "not JSON"),
        (b"\xff\xfe\x00garbage", "not valid UTF-8"),
        (b"[1, 2]", "expected a JSON object"),
        (b"null", "expected a JSON object"),
        (_msg(text=""), "text: String should have at least 1 character"),
        (_msg(text="   "), "text: String should have at least 1 character"),
        (_msg(text="x" * (MAX_TEXT_CHARS + 1)), "text: String should have at most"),
        (_msg(text="a\u0000b"), "text: Value error, contains NUL bytes"),
        (_msg(text=42), "text: Input should be a valid string"),
        (_msg(source=...), "source: Field required"),
        (_msg(id=...), "id: Field required"),
        (_msg(source="Robert'); DROP TABLE posts;--"), "source: String should match pattern"),
        (_msg(created_at="2024-05-01T10:00:00"), "created_at: Value error, timestamp needs a time zone"),
        (_msg(created_at="yesterday"), "created_at: Input should be a valid datetime"),
        (b"{" + b'"text": "' + b"a" * 300_000 + b'"}', "over the 262144 byte limit"),
        (_msg(created_at="9999-12-31T23:59:59-14:00"), "created_at: Value error, timestamp is out of range"),
        (_msg(created_at="1970-01-01T00:00:00Z"), "created_at: Value error, timestamp must lie between"),
        (_msg(created_at="2999-01-01T00:00:00Z"), "created_at: Value error, timestamp must lie between"),
        (_msg(metadata=5, likes=3), "metadata must be a JSON object"),
        (_deep_msg(1000), "metadata: Value error, is nested deeper than 32 levels"),
        (_deep_msg(300), "metadata: Value error, is nested deeper than 32 levels"),
        (_msg(blob=["x" * 1000] * 100), "over the 65536 byte limit"),
        (_msg(note="a\u0000b"), "metadata: Value error, contains NUL bytes"),
    ],
)
def test_bad_messages_fail_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(PostError) as err:
        Post.from_json(raw)
    assert reason in err.value.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"big": 10**30}, "cannot be encoded as JSON"),
        ({"keys": {1: 2}}, "keys must be strings"),
        ({"odd": {1, 2}}, "holds a set"),
        ({"text": "lone \ud800"}, "text:"),
    ],
)
def test_decoded_posts_from_adapters_fail_with_a_reason(data: dict, reason: str) -> None:
    with pytest.raises(PostError) as err:
        Post.from_dict({"source": "rss", "id": "1", "text": "hi", **data})
    assert reason in err.value.reason


def test_metadata_within_the_bounds_is_kept() -> None:
    assert Post.from_json(_msg(nested=nested(31))).metadata == {"nested": nested(31)}


def test_hostile_text_is_kept_verbatim_not_interpreted() -> None:
    text = "<script>alert(1)</script> '; DROP TABLE posts; -- 🙂 مرحبا"
    assert Post.from_json(_msg(text=text)).text == text


def test_window_pcc_shares_come_from_summed_probabilities() -> None:
    w = WindowAggregate(
        topic_id=1, window_start=datetime.now(UTC), n=4, sum_neg=1.0, sum_neu=2.0, sum_pos=1.0
    )
    assert w.estimate("pcc").shares == pytest.approx((0.25, 0.5, 0.25))
    empty = WindowAggregate(topic_id=1, window_start=datetime.now(UTC)).estimate()
    assert empty.n == 0 and empty.too_few
