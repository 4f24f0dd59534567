"""What a person sees while a source runs, all on one rich console: a file's progress bar, a stream's
live status line (or, off a terminal, a summary every 30 s), the log lines above them, a last line."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.status import Status
from rich.text import Text


class Display(Protocol):
    """Told the counters every `every_s` seconds while a source runs, and once when it stops."""

    every_s: float

    def update(self, stats: Any, producer: dict[str, Any]) -> None: ...

    def finish(self, stats: Any, producer: dict[str, Any]) -> None: ...


def summary(stats: Any, producer: dict[str, Any]) -> str:
    """Every counter of the source, then what Kafka acknowledged."""
    line = " ".join(f"{k}={v}" for k, v in stats.as_dict().items())
    if producer:
        line += f" | kafka acked={producer['sent']} failed={producer['failed']} bytes={producer['bytes']}"
    return line


def headline(stats: Any, seconds: float) -> str:
    """The few counters that say how it goes: sent, the rate, and what was held back."""
    rate = stats.sent / seconds if seconds > 0 else 0.0
    held = [f"{n:,} {what}" for what, n in (("filtered", stats.filtered), ("duplicates", stats.duplicates),
            ("malformed", stats.malformed), ("reconnects", stats.reconnects)) if n]  # fmt: skip
    return " · ".join([f"{stats.sent:,} sent", f"{rate:,.1f}/s", *held])


class ConsoleLogHandler(logging.Handler):
    """Log lines through the one console, so they print above a live bar instead of through it."""

    def __init__(self, console: Console):
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        self.console.print(Text(self.format(record)), soft_wrap=True, highlight=False)


class FileProgress:
    """A bar over the file's bytes with the posts sent and their rate; it ends at 100%."""

    every_s = 0.25

    def __init__(self, console: Console, name: str, total_bytes: int):
        self.console = console
        self.started = time.monotonic()
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.bar.add_task(name, total=max(total_bytes, 1), counts="")
        self.bar.start()

    def read_to(self, done: int, total: int) -> None:
        """FileSource's progress callback: bytes read so far."""
        self.bar.update(self.task, completed=done, total=max(total, 1))

    def update(self, stats: Any, producer: dict[str, Any]) -> None:
        self.bar.update(self.task, counts=headline(stats, time.monotonic() - self.started))

    def finish(self, stats: Any, producer: dict[str, Any]) -> None:
        total = self.bar.tasks[0].total
        self.bar.update(self.task, completed=total, counts=headline(stats, time.monotonic() - self.started))
        self.bar.stop()
        self.console.print(f"[dim]{summary(stats, producer)}[/]", soft_wrap=True)


class StreamStatus:
    """A stream's live status line on a terminal; off one (logs, containers) a summary line every 30 s."""

    def __init__(self, console: Console, name: str):
        self.console, self.name = console, name
        self.started = time.monotonic()
        self.live = console.is_terminal
        self.every_s = 1.0 if self.live else 30.0
        self.status: Status | None = console.status(f"{name}: starting") if self.live else None
        if self.status is not None:
            self.status.start()

    def update(self, stats: Any, producer: dict[str, Any]) -> None:
        line = f"{self.name}: {headline(stats, time.monotonic() - self.started)}"
        if self.status is not None:
            self.status.update(line)
        else:
            self.console.print(f"[dim]{summary(stats, producer)}[/]", soft_wrap=True)

    def finish(self, stats: Any, producer: dict[str, Any]) -> None:
        if self.status is not None:
            self.status.stop()
        self.console.print(f"[dim]{summary(stats, producer)}[/]", soft_wrap=True)
