"""The processor's knobs in one typed place, built from Settings at the entry points."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sentimon.retry import Policy
from sentimon.settings import Settings
from stream_processor.timers import Periodic

# Waits between tries of a stage that fails for every message (the model, the database, Kafka):
# doubling, capped at 5 s so that a service that is back is used within seconds.
SLOW_START = Policy(initial_s=0.5, max_s=5.0)
QUICK_START = Policy(initial_s=0.2, max_s=5.0)


def _setting(name: str) -> Any:
    """A setting's default, so the processor's defaults are the ones Settings documents."""
    return Settings.model_fields[name].default


@dataclass
class ProcessOptions:
    """How one process drives the processing step (the Faust worker or the embedded runner)."""

    batch_size: int = _setting("batch_size")
    latency_s: float = _setting("batch_latency_ms") / 1000
    rules_poll_s: float = 2.0
    rules_retry: Policy = SLOW_START
    classify_retry: Policy = SLOW_START
    commit_retry: Policy = QUICK_START
    produce_retry: Policy = QUICK_START  # the Faust worker's produce to Kafka
    periodic: list[Periodic] = field(default_factory=list)
    # The Faust worker only.
    web_port: int = _setting("metrics_port")
    session_timeout_s: float = 30.0
    commit_interval_s: float = 0.5
    stall_after_s: float = 60.0
    stop_timeout_s: float = 10.0
    heal_every_s: float = 2.0
    # The embedded runner only: stop after this many messages or seconds.
    until_n: int | None = None
    seconds: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ProcessOptions:
        """Settings first, then what a command line says (None: not given)."""
        base = cls(
            batch_size=settings.batch_size,
            latency_s=settings.batch_latency_ms / 1000,
            web_port=settings.metrics_port,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})
