"""Every Redis key and channel name, built in one place."""

from __future__ import annotations

PREFIX = "sentimon"

UPDATES_CHANNEL = f"{PREFIX}:updates"
ALERTS_CHANNEL = f"{PREFIX}:alerts"
MODEL_CHANNEL = f"{PREFIX}:model"


def topic_latest(topic_id: int) -> str:
    """Hash: the newest window aggregate of one topic."""
    return f"{PREFIX}:topic:{topic_id}:latest"


def topic_series(topic_id: int) -> str:
    """Sorted set of recent window aggregates (score = window start, epoch seconds)."""
    return f"{PREFIX}:topic:{topic_id}:series"


def live_filled() -> str:
    """String: the run id of the Redis server the live view was last refilled on (gone after a flush)."""
    return f"{PREFIX}:live:filled"


def live_model() -> str:
    """String: the version of the model that workers should serve."""
    return f"{PREFIX}:model:live"
