"""The `Post` schema that crosses every boundary, and the types derived from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sentimon.quantify import DEFAULT_METHOD, QUANT_SUMS, Estimate, estimate

MAX_TEXT_CHARS = 10_000
MAX_MESSAGE_BYTES = 256 * 1024
MAX_METADATA_DEPTH = 32
MAX_METADATA_BYTES = 64 * 1024
EARLIEST_POST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_POST_AHEAD = timedelta(days=1)
_ID_PATTERN = r"^[^\x00-\x1f]{1,256}$"
# An edit or deletion at the source travels as a Post with the original's key and metadata.event.
EVENT, UPDATE, DELETE = "event", "update", "delete"


class PostError(ValueError):
    """A message that cannot become a Post; `reason` is what goes to the dead-letter topic."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Post(BaseModel):
    """One social-media post, normalised by an ingest adapter."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, frozen=True)

    source: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$")
    id: str = Field(pattern=_ID_PATTERN)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    author: str | None = Field(default=None, max_length=256)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    url: str | None = Field(default=None, max_length=2048)
    lang: str | None = Field(default=None, max_length=16)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _unknown_fields_to_metadata(cls, data: Any) -> Any:
        """Keep fields we do not know in `metadata` instead of dropping or refusing them."""
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields)
        extra = {k: v for k, v in data.items() if k not in known}
        if not extra:
            return data
        kept = {k: v for k, v in data.items() if k in known}
        if not isinstance(kept.get("metadata") or {}, dict):
            raise ValueError("metadata must be a JSON object")
        metadata = dict(kept.get("metadata") or {})
        metadata.update(extra)
        kept["metadata"] = metadata
        return kept

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("text", "author", "url", "lang")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None:
            _storable_text(value)
        return value

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamp needs a time zone (e.g. 2024-01-01T12:00:00Z)")
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("timestamp is out of range") from None
        latest = datetime.now(UTC) + LATEST_POST_AHEAD
        if not EARLIEST_POST <= value <= latest:
            raise ValueError(f"timestamp must lie between {EARLIEST_POST:%Y-%m-%d} and a day from now")
        return value

    @field_validator("metadata")
    @classmethod
    def _storable_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        """What Postgres and every encoder can hold: bounded depth and size, JSON types, no NUL."""
        _check_tree(value)
        try:
            size = len(orjson.dumps(value))
        except orjson.JSONEncodeError as exc:
            raise ValueError(f"cannot be encoded as JSON: {exc}") from None
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"is {size} bytes as JSON, over the {MAX_METADATA_BYTES} byte limit")
        return value

    @property
    def key(self) -> str:
        """The Kafka key and dedupe key: one post per (source, id)."""
        return f"{self.source}:{self.id}"

    @property
    def event(self) -> str | None:
        """'update' (the post as it is now), 'delete', or None for a new post."""
        kind = self.metadata.get(EVENT)
        return kind if kind in (UPDATE, DELETE) else None

    @property
    def version(self) -> str | None:
        """The source's version of this text (an edit's `metadata.version`), if it says one."""
        version = self.metadata.get("version")
        return None if version is None else str(version)[:128]

    @property
    def event_key(self) -> str:
        """The key of this message's effect: a post, one version of its text, or its deletion."""
        kind = self.event
        if kind is None:
            return self.key
        return f"{self.key}#{kind}" + (f":{self.version}" if kind == UPDATE else "")

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Post:
        """Parse and validate one message, raising PostError with a reason a person can act on."""
        if isinstance(raw, bytes):
            if len(raw) > MAX_MESSAGE_BYTES:
                raise PostError(f"message is {len(raw)} bytes, over the {MAX_MESSAGE_BYTES} byte limit")
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PostError(f"not valid UTF-8 at byte {exc.start}") from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise PostError(f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise PostError(f"expected a JSON object, got {type(data).__name__}")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Post:
        """Validate one decoded message; every failure, whatever raised it, becomes a PostError."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PostError(describe_validation_error(exc)) from None
        except Exception as exc:  # a hostile message must never escape as a crash
            raise PostError(f"invalid post: {type(exc).__name__}: {exc}"[:500]) from None


def _storable_text(value: str) -> None:
    if "\x00" in value:
        raise ValueError("contains NUL bytes")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains unpaired surrogates (not valid UTF-8)") from None


def _check_tree(value: Any) -> None:
    """Walk nested metadata without recursion: depth bound, JSON types only, storable strings."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
            for key in node:
                if not isinstance(key, str):
                    raise ValueError(f"has a key of type {type(key).__name__}; keys must be strings")
                _storable_text(key)
        elif isinstance(node, list | tuple):
            children = list(node)
        else:
            if isinstance(node, str):
                _storable_text(node)
            elif node is not None and not isinstance(node, bool | int | float):
                raise ValueError(f"holds a {type(node).__name__}, not a JSON value")
            continue
        if depth > MAX_METADATA_DEPTH:
            raise ValueError(f"is nested deeper than {MAX_METADATA_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the field: 'text: String should have at least 1 character'."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "post"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ScoredPost:
    """A post with the classifier's verdict and the topics it matched."""

    post: Post
    label: str
    probs: tuple[float, float, float]
    model_version: str
    topics: list[int] = field(default_factory=list)
    # What the post adds to each of sentimon.quantify.QUANT_SUMS (its model's correction); empty
    # when it matched no topic, since only topic windows add these up.
    quant: tuple[float, ...] = ()

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "post": self.post.model_dump(mode="json"),
                "label": self.label,
                "probs": list(self.probs),
                "model_version": self.model_version,
                "topics": self.topics,
            }
        )


@dataclass(slots=True)
class WindowAggregate:
    """Per-topic totals for one 1-minute window: counts per class, summed probabilities and the
    corrected sums of sentimon.quantify.QUANT_SUMS. Every field after window_start is a plain sum,
    so windows (and spans of them) add up field by field."""

    topic_id: int
    window_start: datetime
    n: int = 0
    n_neg: int = 0
    n_neu: int = 0
    n_pos: int = 0
    sum_neg: float = 0.0
    sum_neu: float = 0.0
    sum_pos: float = 0.0
    sq_neg: float = 0.0
    acc_neg: float = 0.0
    acc_neu: float = 0.0
    acc_pos: float = 0.0
    acc_sq: float = 0.0
    acc_cv: float = 0.0
    pacc_neg: float = 0.0
    pacc_neu: float = 0.0
    pacc_pos: float = 0.0
    pacc_sq: float = 0.0
    pacc_cv: float = 0.0
    acc_cv_neu: float = 0.0
    acc_cv_pos: float = 0.0
    pacc_cv_neu: float = 0.0
    pacc_cv_pos: float = 0.0

    def estimate(self, method: str | None = None) -> Estimate:
        """The topic's class shares in this window (or span), corrected: the number people see."""
        return estimate(self, method or DEFAULT_METHOD)

    @classmethod
    def from_sums(cls, topic_id: int, start: datetime, sums: Mapping[Any, Any]) -> Self:
        """A window from named sums (a stored row, a sum query, a JSON object); a missing or NULL
        one counts as zero."""
        window = cls(topic_id, as_utc(start))
        for name in WINDOW_SUMS:
            setattr(window, name, type(getattr(window, name))(sums.get(name) or 0))
        return window

    def add(self, other: WindowAggregate) -> None:
        """Add another window's sums into this one."""
        for name in WINDOW_SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


COUNT_FIELDS = ("n", "n_neg", "n_neu", "n_pos", "sum_neg", "sum_neu", "sum_pos")
WINDOW_SUMS = (*COUNT_FIELDS, *QUANT_SUMS)  # every additive column of a window, in table order


def total(
    windows: Iterable[WindowAggregate], topic_id: int = 0, start: datetime | None = None
) -> WindowAggregate:
    """The sums of several windows as one aggregate (a span, or several topics)."""
    out = WindowAggregate(topic_id, start or EPOCH)
    for w in windows:
        out.add(w)
    return out


# ---- window and bucket arithmetic: stored windows, dashboard roll-ups and the alert clock -------
# Integer arithmetic on timedeltas only (no float timestamps), aligned to the Unix epoch, so that
# every part of Sentimon puts a moment in the same window to the microsecond.

WINDOW = timedelta(minutes=1)  # every stored window is one minute
CURRENT = timedelta(minutes=15)  # "now" wherever a share is shown: the overview's tiles, the console
BUCKETS = {"1m": WINDOW, "5m": 5 * WINDOW, "1h": timedelta(hours=1), "1d": timedelta(days=1)}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def as_utc(ts: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (what SQLite hands back)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def bucket_size(bucket: str | timedelta) -> timedelta:
    """The length of a roll-up bucket named 1m, 5m, 1h or 1d (a timedelta passes through)."""
    if isinstance(bucket, timedelta):
        return bucket
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    return BUCKETS[bucket]


def window_start(ts: datetime, size: str | timedelta = WINDOW) -> datetime:
    """The start of the window (or roll-up bucket) holding `ts`, in UTC; days start at 00:00 UTC."""
    step = bucket_size(size)
    return EPOCH + ((as_utc(ts) - EPOCH) // step) * step


def minute_index(ts: datetime) -> int:
    """The window holding `ts` as a whole number of minutes since the epoch (the alert clock's unit)."""
    return (as_utc(ts) - EPOCH) // WINDOW


def minute_start(index: int) -> datetime:
    """The start of the window with this minute index."""
    return EPOCH + index * WINDOW


def last_closed_window(now: datetime, newest: datetime, grace: timedelta) -> datetime:
    """The start of the newest window closed by `now`: [t, t + 1 min) closes once the clock reaches
    t + 1 min + `grace`, and the clock is held back to the end of the `newest` window (event time)."""
    clock = min(as_utc(now), window_start(newest) + WINDOW)
    return window_start(clock - grace) - WINDOW


def rollup(windows: Iterable[WindowAggregate], bucket: str | timedelta) -> list[WindowAggregate]:
    """Minute windows summed into buckets of `bucket` per topic, by topic then time (inputs untouched)."""
    size = bucket_size(bucket)
    out: dict[tuple[int, datetime], WindowAggregate] = {}
    for w in windows:
        key = (w.topic_id, window_start(w.window_start, size))
        out.setdefault(key, WindowAggregate(*key)).add(w)
    return [out[k] for k in sorted(out)]
