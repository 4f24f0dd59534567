"""Test data for the alert cycle: window aggregates and posts written straight into the tables."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert

from sentimon.storage.tables import posts, topic_windows


def add_windows(
    engine: Engine, topic_id: int, start: datetime, shares: list[float], n: int = 100, seed: int = 3
) -> None:
    """One window per minute from `start` with the given negative shares (plus a little noise); the
    corrected sums are those of a model without correction (identity), so every estimate agrees."""
    rng = random.Random(seed)
    rows = []
    for i, share in enumerate(shares):
        observed = min(max(share + rng.gauss(0, 0.02), 0.0), 1.0)
        neg = round(observed * n)
        counts = {"n": n, "n_neg": neg, "n_neu": n - neg, "n_pos": 0}
        sums = {"sum_neg": observed * n, "sum_neu": (1 - observed) * n, "sum_pos": 0.0}
        acc = {"acc_neg": neg, "acc_neu": n - neg, "acc_pos": 0.0, "acc_sq": neg, "acc_cv": 0.0}
        pacc = {"pacc_neg": observed * n, "pacc_neu": (1 - observed) * n, "pacc_pos": 0.0}
        squares = {"sq_neg": observed**2 * n, "pacc_sq": observed**2 * n, "pacc_cv": 0.0}
        when = start + timedelta(minutes=i)
        rows.append({"topic_id": topic_id, "window_start": when, **counts, **sums, **acc, **pacc, **squares})
    with engine.begin() as conn:
        conn.execute(insert(topic_windows), rows)


def add_posts(engine: Engine, topic_id: int, at: datetime, texts: list[str], p_neg: float, tag: str) -> None:
    """Posts of one topic created at `at` (a second apart), all with the same negative probability."""
    label = "negative" if p_neg >= 0.5 else "neutral"
    probs = {"p_neg": p_neg, "p_neu": 1 - p_neg, "p_pos": 0.0}
    fixed = {"source": "test", "label": label, "model_version": "test", "topic_ids": [topic_id], "meta": {}}
    rows = [
        {**fixed, **probs, "post_id": f"{tag}-{i}", "text": text, "created_at": at + timedelta(seconds=i)}
        for i, text in enumerate(texts)
    ]
    with engine.begin() as conn:
        conn.execute(insert(posts), rows)
