"""The options of one `sentimon ingest <source>` run, typed, built once by the CLI and passed inward."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, frozen=True)
class IngestOptions:
    """Options every `sentimon ingest <source>` command shares, typed (built by cli_common)."""

    keywords: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    max_posts: int | None = None
    from_start: bool = False
    cursor_name: str | None = None
    dry_run: bool = False
    bootstrap: str | None = None
    topic: str | None = None
    kafka_timeout_s: float = 15.0
    metrics_port: int | None = None  # serve Prometheus /metrics here while running
    edits: bool = True  # send edits and deletions at the source as events (see edits.py)
    verbose: bool = False  # log every reconnect and skipped payload
