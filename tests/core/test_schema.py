"""The Post schema: good posts pass, hostile ones fail with a reason that names the problem."""

from datetime import UTC, datetime

import orjson
import pytest

from sentimon.schema import MAX_TEXT_CHARS, Post, PostError, WindowAggregate


def _msg(**fields: object) -> bytes:
    base: dict[str, object] = {"source": "bluesky", "id": "abc", "text": "I love this phone"}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


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
    ],
)
def test_bad_messages_fail_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(PostError) as err:
        Post.from_json(raw)
    assert reason in err.value.reason


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
