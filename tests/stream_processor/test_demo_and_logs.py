"""The demo scenario's scripted spike, and log lines that name topic, partition, offset and post."""

from __future__ import annotations

import io
import itertools
import logging

import orjson

from stream_processor.embedded.demo import DEMO_TOPICS, DemoScenario
from stream_processor.logs import JsonFormatter, message_fields
from stream_processor.matcher import TopicMatcher

NEGATIVE_CUES = ("awful", "disgusting", "furious", "worst", "terrible", "disaster", "broken", "never again",
                 "hate", "horrible", "frustrated", "disappointed", "failed", "ruined", "waste")  # fmt: skip


def _minute_stats(scenario: DemoScenario, start: float, matcher: TopicMatcher) -> tuple[int, float]:
    acme = list(DEMO_TOPICS).index("Acme Air") + 1
    window = [
        p for t, p in itertools.takewhile(lambda tp: tp[0] < start + 60, scenario.arrivals("r")) if t >= start
    ]
    texts = [p["text"] for p in window if acme in matcher.match(p["text"])]
    negative = sum(any(c in t.lower() for c in NEGATIVE_CUES) for t in texts)
    return len(texts), negative / max(1, len(texts))


def test_the_spike_raises_acme_air_volume_and_negativity() -> None:
    scenario = DemoScenario(rate=10, spike_start=120, spike_length=120)
    matcher = TopicMatcher.from_rules({i + 1: r for i, r in enumerate(DEMO_TOPICS.values())})
    assert not matcher.errors
    calm_n, calm_neg = _minute_stats(scenario, 0, matcher)
    spike_n, spike_neg = _minute_stats(scenario, 150, matcher)
    assert spike_n > 2.5 * calm_n
    assert spike_neg > calm_neg + 0.3


def test_every_demo_topic_gets_posts_and_ids_are_unique() -> None:
    posts = [p for _, p in itertools.islice(DemoScenario().arrivals("r"), 600)]
    matcher = TopicMatcher.from_rules({i + 1: r for i, r in enumerate(DEMO_TOPICS.values())})
    assert {t for p in posts for t in matcher.match(p["text"])} == {1, 2, 3}
    assert len({p["id"] for p in posts}) == 600


def test_json_log_lines_carry_message_coordinates() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.sp.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("dead letter: %s", "not JSON", extra=message_fields("posts.raw/3/1041", "bsky:abc"))
    line = orjson.loads(stream.getvalue())
    assert line["msg"] == "dead letter: not JSON" and line["level"] == "warning"
    assert (line["topic"], line["partition"], line["offset"], line["post_id"]) == (
        "posts.raw",
        3,
        1041,
        "bsky:abc",
    )
