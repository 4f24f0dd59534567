"""The batch step: validate raw messages, classify the valid ones in one call, match topics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from sentimon.schema import DELETE, Post, PostError, ScoredPost
from sentimon.sentiment import LABELS
from stream_processor.classifier import PostClassifier, checked, correction_of
from stream_processor.matcher import TopicMatcher

DLQ_RAW_LIMIT = 256 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as it came off the queue; `origin` is "topic/partition/offset" when known."""

    value: bytes | None
    origin: str | None = None
    key: bytes | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that could not become a post, with the reason a person needs to fix it."""

    reason: str
    raw: bytes
    origin: str | None = None
    post_key: str | None = None
    key: bytes | None = None


def dead_letter_reason(what: str, exc: BaseException) -> str:
    """'what: ExceptionType: message', one line, bounded, with nothing a text column refuses (NUL)."""
    text = " ".join(str(exc).split()).replace("\x00", "")
    return f"{what}: {type(exc).__name__}: {text}"[:500]


def guess_key(raw: bytes) -> str | None:
    """Best-effort "source:id" of an invalid message, so its log line can still name the post."""
    try:
        data = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError):
        return None
    if isinstance(data, dict) and "id" in data:
        return f"{str(data.get('source'))[:32]}:{str(data['id'])[:256]}"
    return None


@dataclass(frozen=True, slots=True)
class Deletion:
    """A post deleted at the source: taken out of its windows once, never scored (its text is a
    placeholder)."""

    post: Post

    def to_json(self) -> bytes:
        """What posts.scored carries for it: the scored posts' envelope with the post alone (its
        metadata.event says "delete"), so a consumer reads every record one way."""
        return orjson.dumps({"post": self.post.model_dump(mode="json")})


@dataclass(slots=True)
class BatchResult:
    """What one batch produced: scored posts and edits (deduplicated by their effect's key,
    `Post.event_key`), deletions and dead letters. `origins`, `raws` and `encoded` are keyed the same."""

    scored: list[ScoredPost] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    origins: dict[str, str | None] = field(default_factory=dict)
    duplicates: int = 0
    received: int = 0
    raws: dict[str, bytes] = field(default_factory=dict)
    encoded: dict[str, bytes] = field(default_factory=dict)
    deletes: list[Deletion] = field(default_factory=list)


def validate(
    messages: Sequence[RawMessage], now: datetime | None = None
) -> tuple[list[tuple[Post, str | None]], list[DeadLetter], int]:
    """Posts that parsed (first copy of each key wins), dead letters, and how many in-batch repeats.

    A post dated well in the future is refused: it would open windows that stay "latest" for years.
    """
    latest = (now or datetime.now(UTC)) + MAX_CLOCK_SKEW
    posts: list[tuple[Post, str | None]] = []
    dead: list[DeadLetter] = []
    seen: set[str] = set()
    repeats = 0
    for message in messages:
        if not message.value:
            dead.append(DeadLetter("empty message", b"", message.origin, None, message.key))
            continue
        try:
            post = Post.from_json(message.value)
        except PostError as exc:
            raw = message.value[:DLQ_RAW_LIMIT]
            dead.append(DeadLetter(exc.reason, raw, message.origin, guess_key(message.value), message.key))
            continue
        if post.created_at > latest:
            reason = f"created_at {post.created_at.isoformat()} is more than {MAX_CLOCK_SKEW} in the future"
            dead.append(
                DeadLetter(reason, message.value[:DLQ_RAW_LIMIT], message.origin, post.key, message.key)
            )
            continue
        if post.event_key in seen:
            repeats += 1
            continue
        seen.add(post.event_key)
        posts.append((post, message.origin))
    return posts, dead, repeats


def score(posts: Sequence[Post], classifier: PostClassifier, matcher: TopicMatcher) -> list[ScoredPost]:
    """Classify all texts in one call and attach the matching topics."""
    if not posts:
        return []
    predictions = checked(classifier.classify([p.text for p in posts]), len(posts))
    version = str(classifier.version)
    correction = correction_of(classifier)
    out = []
    for post, (label, probs) in zip(posts, predictions, strict=True):
        topics = matcher.match(post.text)
        quant = correction.contribution(LABELS.index(label), probs) if topics else ()
        out.append(ScoredPost(post, label, probs, version, topics, quant))
    return out


def process_batch(
    messages: Sequence[RawMessage], classifier: PostClassifier, matcher: TopicMatcher
) -> BatchResult:
    """validate → classify once → match (deletions are not classified); no I/O, so the Faust worker and
    the embedded runner share it."""
    valid, dead, repeats = validate(messages)
    scored = score([p for p, _ in valid if p.event != DELETE], classifier, matcher)
    deletes = [Deletion(p) for p, _ in valid if p.event == DELETE]
    origins = {p.event_key: origin for p, origin in valid}
    by_origin = {m.origin: m.value for m in messages if m.origin and m.value}
    raws = {key: by_origin[origin] for key, origin in origins.items() if origin in by_origin}
    return BatchResult(scored, dead, origins, repeats, len(messages), raws, deletes=deletes)
