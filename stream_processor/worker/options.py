"""Worker knobs that are not in Settings (they tune one process, mostly for tests and operations)."""

from __future__ import annotations

from dataclasses import dataclass, field

from stream_processor.timers import Periodic


@dataclass
class WorkerOptions:
    batch_size: int = 256
    latency_s: float = 0.2
    web_port: int = 9108
    session_timeout_s: float = 30.0
    rules_poll_s: float = 2.0
    commit_interval_s: float = 0.5
    stall_after_s: float = 60.0
    stop_timeout_s: float = 10.0
    heal_every_s: float = 2.0
    periodic: list[Periodic] = field(default_factory=list)
