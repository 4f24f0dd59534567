"""`sentimon report shares`: per-topic class shares over a span, corrected, with their 90% interval.

Answered from the stored window sums (any span, fast) for cc, pcc, acc and pacc; `emq` re-weights
each stored post's probabilities, so it reads the posts of the span instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from sentimon.quantify import ALL_METHODS, DEFAULT_METHOD, Z90, Estimate, emq, estimate
from sentimon.storage import topics as topic_store
from sentimon.storage import windows
from sentimon.storage.tables import posts

EVER = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class ShareRow:
    topic: str
    topic_id: int
    estimate: Estimate
    model_versions: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "topic_id": self.topic_id, **self.estimate.to_dict(),
                "model_versions": self.model_versions}  # fmt: skip


def share_report(
    conn: Connection, names: list[str] | None = None, since: datetime | None = None,
    until: datetime | None = None, method: str = DEFAULT_METHOD, prior: list[float] | None = None,
) -> list[ShareRow]:  # fmt: skip
    """One row per topic (all, or those named), over [since, until) of post time (default: all)."""
    if method not in ALL_METHODS:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(ALL_METHODS)}")
    chosen = _topics(conn, names)
    start, end = since or EVER[0], until or EVER[1]
    sums = windows.totals(conn, start, end, [t.id for t in chosen])
    versions = model_versions(conn, start, end)
    rows = []
    for t in chosen:
        agg = sums.get(t.id)
        if method == "emq":
            est = _emq_estimate(conn, t.id, start, end, prior or [1 / 3] * 3)
        else:
            est = estimate(agg, method) if agg is not None else Estimate(method, 0, 0.0, 0.0, 0.0, 0.0, 1.0)
        rows.append(ShareRow(t.name, t.id, est, versions))
    return rows


def _topics(conn: Connection, names: list[str] | None) -> list[topic_store.Topic]:
    everyone = topic_store.list_topics(conn)
    if not names:
        return everyone
    by_name = {t.name.casefold(): t for t in everyone}
    missing = [n for n in names if n.casefold() not in by_name]
    if missing:
        raise LookupError(f"no topic named {', '.join(repr(m) for m in missing)}")
    return [by_name[n.casefold()] for n in names]


def model_versions(conn: Connection, start: datetime, end: datetime) -> dict[str, int]:
    """Posts per model version over the span (every topic shares the live model of its time)."""
    query = (
        select(posts.c.model_version, func.count())
        .where(posts.c.created_at >= start, posts.c.created_at < end, posts.c.deleted_at.is_(None))
        .group_by(posts.c.model_version)
    )
    return {str(v): int(n) for v, n in conn.execute(query)}


def _emq_estimate(
    conn: Connection, topic_id: int, start: datetime, end: datetime, prior: list[float]
) -> Estimate:
    query = select(posts.c.p_neg, posts.c.p_neu, posts.c.p_pos, posts.c.topic_ids).where(
        posts.c.created_at >= start, posts.c.created_at < end, posts.c.deleted_at.is_(None)
    )
    probs = [(r.p_neg, r.p_neu, r.p_pos) for r in conn.execute(query) if topic_id in (r.topic_ids or [])]
    if not probs:
        return Estimate("emq", 0, 0.0, 0.0, 0.0, 0.0, 1.0)
    neg, neu, pos = emq(probs, prior)
    # EMQ has no closed-form interval here: the binomial one of its sample size, a lower bound.
    se = (neg * (1 - neg) / len(probs)) ** 0.5
    half = Z90 * se
    return Estimate("emq", len(probs), neg, neu, pos, max(0.0, neg - half), min(1.0, neg + half), se)


def model_prior(model_path: Path) -> list[float] | None:
    """The class mix the served model's correction statistics came from (EMQ's starting prior)."""
    try:
        config = json.loads((Path(model_path) / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    stats = config.get("quantification") or {}
    return stats.get("prior")
