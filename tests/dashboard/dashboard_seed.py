"""Test data for the dashboard: topics, scored posts, windows and alerts written through the tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from sentimon.storage import windows
from sentimon.storage.tables import alerts, posts

_ids = count(1)


def minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def add_post(
    conn: Connection,
    text: str,
    probs: tuple[float, float, float],
    topic_ids: list[int],
    *,
    created_at: datetime | None = None,
    source: str = "test",
    url: str | None = None,
    author: str | None = "someone",
) -> int:
    """A scored post; the label is the most probable class."""
    label = ("negative", "neutral", "positive")[max(range(3), key=lambda i: probs[i])]
    result = conn.execute(
        insert(posts).values(
            source=source,
            post_id=f"p{next(_ids)}-{datetime.now(UTC).timestamp()}",
            text=text,
            author=author,
            url=url,
            created_at=created_at or datetime.now(UTC),
            label=label,
            p_neg=probs[0],
            p_neu=probs[1],
            p_pos=probs[2],
            model_version="test-1",
            topic_ids=topic_ids,
            meta={},
        )
    )
    return int(result.inserted_primary_key[0])


def add_window(
    conn: Connection, topic_id: int, start: datetime, n: int, shares: tuple[float, float, float]
) -> None:
    """Add `n` posts with the given mean shares to a topic's 1-minute window (creating it if needed),
    through the real increment query, as scored by a model whose labels need no correction."""
    counts = [round(n * s) for s in shares]
    sums = [n * s for s in shares]
    increment = {
        "topic_id": topic_id, "window_start": minute(start), "n": n,
        "n_neg": counts[0], "n_neu": counts[1], "n_pos": counts[2],
        "sum_neg": sums[0], "sum_neu": sums[1], "sum_pos": sums[2], "sq_neg": n * shares[0] ** 2,
        "acc_neg": counts[0], "acc_neu": counts[1], "acc_pos": counts[2], "acc_sq": counts[0],
        "pacc_neg": sums[0], "pacc_neu": sums[1], "pacc_pos": sums[2], "pacc_sq": n * shares[0] ** 2,
    }  # fmt: skip
    windows.add_increments(conn, [increment])


def add_history(
    conn: Connection, topic_id: int, minutes: int, n: int, shares: tuple[float, float, float], first: int = 1
) -> None:
    """A steady past: one window per minute from `first` to `minutes` minutes ago."""
    now = minute(datetime.now(UTC))
    for back in range(first, minutes + 1):
        add_window(conn, topic_id, now - timedelta(minutes=back), n, shares)


def add_alert(conn: Connection, topic_id: int, **values: Any) -> int:
    now = datetime.now(UTC)
    row = {
        "kind": "negative_spike",
        "state": "open",
        "severity": "high",
        "window_start": minute(now),
        "opened_at": now,
        "fired_at": now,
        "share_now": 0.7,
        "baseline": 0.2,
        "volume": 40,
        "explanation": {
            "share_now": 0.7,
            "baseline": 0.2,
            "volume": 40,
            "terms": [{"term": "outage", "z": 4.2, "spike": 6.1, "baseline": 0.3}],
            "posts": [
                {"id": 1, "text": "the outage again, awful", "p_neg": 0.93, "url": "https://example.com/p/1"}
            ],
        },
    }
    row.update(values)
    result = conn.execute(insert(alerts).values(topic_id=topic_id, **row))
    return int(result.inserted_primary_key[0])


def model_folder(folder: Path, version: str) -> Path:
    """A folder that passes the registry's checks (files, hashes, format); its weights are not real."""
    from model.registry import FORMAT, sha256

    folder.mkdir(parents=True)
    (folder / "weights.pt").write_bytes(b"not real weights")
    (folder / "vocab.json").write_text("{}")
    (folder / "config.json").write_text(json.dumps({"format": FORMAT, "task": "clf"}))
    files = {name: sha256(folder / name) for name in ("weights.pt", "vocab.json", "config.json")}
    (folder / "card.json").write_text(json.dumps({"version": version, "files": files}))
    return folder
