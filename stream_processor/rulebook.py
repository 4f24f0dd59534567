"""Keeps the topic matcher in step with the topics table, by polling a cheap fingerprint."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from sentimon.storage import topics
from stream_processor.matcher import TopicMatcher

log = logging.getLogger(__name__)


class RuleBook:
    """The active topics' compiled rules; `refresh()` reloads them when any topic changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fingerprint: tuple[int, str] | None = None
        self.matcher = TopicMatcher()

    def refresh(self) -> bool:
        """Reload if the topics changed since the last call; True when a new matcher was built."""
        with self.engine.connect() as conn:
            fingerprint = topics.rules_fingerprint(conn)
            if fingerprint == self.fingerprint:
                return False
            active = topics.list_topics(conn, active_only=True)
        matcher = TopicMatcher.from_rules({t.id: t.rule for t in active})
        for topic_id, error in matcher.errors.items():
            log.warning("topic %s has a rule that does not parse, skipped: %s", topic_id, error)
        self.matcher, self.fingerprint = matcher, fingerprint
        log.info(
            "topic rules loaded",
            extra={"topics": len(matcher.topic_ids), "patterns": matcher.pattern_count},
        )
        return True
