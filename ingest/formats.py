"""Line formats a file replay understands (JSONL, CSV with a column map, SemEval TSV), free of I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from sentimon.schema import Post, PostError
from sentimon.sentiment import LABELS

from .text import make_post

TWITTER_EPOCH_MS = 1288834974657
_SNOWFLAKE_MIN = 1 << 32  # ids above this carry a timestamp (Twitter snowflakes, late 2010 on)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
SEMEVAL_LABELS = frozenset(LABELS)


def parse_time(value: Any) -> datetime:
    """A timestamp from ISO 8601 or epoch seconds/milliseconds; naive times are taken as UTC."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        number = float(value)
        when = datetime.fromtimestamp(number / 1000 if number > 1e11 else number, UTC)
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise PostError(
                f"created_at: cannot read {value!r} as a time (use ISO 8601 or epoch seconds)"
            ) from None
    else:
        raise PostError(f"created_at: cannot read {value!r} as a time")
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_jsonl_line(line: str | bytes, fallback_id: str, source: str) -> Post:
    """One JSON object per line, shaped like a Post; a missing source or id is filled in."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise PostError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PostError(f"expected a JSON object, got {type(data).__name__}")
    data.setdefault("source", source)
    if data.get("id") in (None, ""):
        data["id"] = fallback_id
    if "created_at" in data and not isinstance(data["created_at"], str | type(None)):
        data["created_at"] = parse_time(data["created_at"])
    return make_post(data)


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which CSV column holds which Post field; only `text` is required."""

    text: str = "text"
    id: str | None = "id"
    author: str | None = "author"
    created_at: str | None = "created_at"
    lang: str | None = "lang"
    url: str | None = "url"

    def check_header(self, header: list[str]) -> None:
        """Fail before reading rows when the text column is missing, naming the columns there are."""
        if self.text not in header:
            raise ValueError(f"CSV has no column {self.text!r} for the text (columns: {', '.join(header)})")


def parse_csv_row(row: dict[str | None, str], columns: ColumnMap, fallback_id: str, source: str) -> Post:
    """One CSV row as a Post; columns not mapped go to metadata."""
    used = {
        c
        for c in (columns.text, columns.id, columns.author, columns.created_at, columns.lang, columns.url)
        if c
    }
    data: dict[str, Any] = {
        "source": source,
        "id": _cell(row, columns.id) or fallback_id,
        "text": _cell(row, columns.text) or "",
        "author": _cell(row, columns.author),
        "lang": _cell(row, columns.lang),
        "url": _cell(row, columns.url),
        "metadata": {k: v for k, v in row.items() if k not in used and k is not None and v not in (None, "")},
    }
    when = _cell(row, columns.created_at)
    if when:
        data["created_at"] = parse_time(when)
    return make_post(data)


def _cell(row: dict[str | None, str], column: str | None) -> str | None:
    if not column:
        return None
    value = row.get(column)
    return value.strip() if value and value.strip() else None


def parse_semeval_line(line: str, source: str = "semeval") -> Post:
    """`id<TAB>label<TAB>text` (subtask A) or `id<TAB>topic<TAB>label<TAB>text` (subtasks B/D)."""
    cells = line.rstrip("\r\n").split("\t")
    while cells and cells[-1] == "":
        cells.pop()
    topic: str | None = None
    if len(cells) == 3 or (len(cells) > 3 and cells[1].strip().lower() in SEMEVAL_LABELS):
        tweet_id, label, raw_text = cells[0], cells[1], "\t".join(cells[2:])  # a tab in the text is kept
    elif len(cells) >= 4:
        tweet_id, topic, label, raw_text = cells[0], cells[1], cells[2], "\t".join(cells[3:])
    else:
        raise PostError(f"expected 3 or 4 tab-separated columns, got {len(cells)}")
    label = label.strip().lower()
    if label not in SEMEVAL_LABELS | {"off topic"}:
        raise PostError(f"label {label!r} is not one of {', '.join(sorted(SEMEVAL_LABELS))} or 'off topic'")
    metadata: dict[str, Any] = {"label": label}
    if topic is not None:
        metadata["topic"] = topic
    data: dict[str, Any] = {"source": source, "id": tweet_id.strip(), "text": semeval_text(raw_text)}
    data["metadata"] = metadata
    when = snowflake_time(tweet_id.strip())
    if when is not None:
        data["created_at"] = when
    return make_post(data)


def semeval_text(raw: str) -> str:
    """Undo the distribution's JSON-style escapes (\\u2019, \\u002c) and its wrapping double quotes."""
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def snowflake_time(tweet_id: str) -> datetime | None:
    """The creation time a Twitter snowflake id encodes, or None for older or non-numeric ids."""
    if not tweet_id.isdigit() or int(tweet_id) < _SNOWFLAKE_MIN:
        return None
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def detect_format(filename: str) -> str:
    """jsonl, csv or semeval, from the file name."""
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".tsv", ".txt")):
        return "semeval"
    raise ValueError(f"cannot tell the format of {filename}: pass --format jsonl, csv or semeval")
