"""The bench posts: the demo's topic mix interleaved with real tweet texts, stamped when sent (no I/O)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from stream_processor.embedded.demo import DEMO_TOPICS, DemoScenario

SOURCE = "bench"
WARMUP_SOURCE = "warmup"
# The demo's three brands plus two broad rules, so many posts match more than one topic.
BENCH_TOPICS: dict[str, str] = {
    **DEMO_TOPICS,
    "Weekend": "weekend OR friday OR saturday OR sunday",
    "Phones": "phone OR iphone OR android OR samsung",
}


def make_posts(
    n: int, run_id: str, filler: Sequence[str], demo_share: float = 0.5, source: str = SOURCE, seed: int = 11
) -> list[dict[str, Any]]:
    """n post dicts with unique ids: `demo_share` from the demo scenario (brands, moods, a spike),
    the rest from `filler` (real tweets when present: longer, varied texts that cost the model more)."""
    rng = random.Random(seed)
    demo = DemoScenario(rate=1000.0, spike_start=0.0, seed=seed).arrivals(run_id)
    posts: list[dict[str, Any]] = []
    for i, (_, fields) in zip(range(n), demo, strict=False):
        if filler and rng.random() >= demo_share:
            fields["text"] = filler[rng.randrange(len(filler))]
        fields["source"], fields["id"] = source, f"{run_id}-{i}"
        posts.append(fields)
    return posts


def encode(post: dict[str, Any], sent: float) -> bytes:
    """The wire form of a post stamped with its send time (epoch seconds): created_at for the windows,
    `bench_sent` (an unknown field, so it lands in metadata) for the ingest-to-aggregate latency."""
    when = datetime.fromtimestamp(sent, UTC).isoformat()
    return orjson.dumps({**post, "created_at": when, "bench_sent": sent})


def key(post: dict[str, Any]) -> bytes:
    """The Kafka key the ingest producer uses ("source:id")."""
    return f"{post['source']}:{post['id']}".encode()


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    return [items[start : start + size] for start in range(0, len(items), size)]
