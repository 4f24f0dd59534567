"""Replays a file (JSONL, CSV, SemEval TSV) as a source: resumable by byte offset, optionally paced."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sentimon.schema import Post, PostError

from .base import BadURLError, Event
from .formats import ColumnMap, detect_format, parse_csv_row, parse_jsonl_line, parse_semeval_line

ProgressFn = Callable[[int, int], None]


@dataclass(slots=True)
class Pacer:
    """Spaces posts as their timestamps were, `speed` times faster; gaps are capped at max_gap_s."""

    speed: float
    max_gap_s: float = 60.0
    _previous: datetime | None = None

    def delay_for(self, created_at: datetime) -> float:
        if self.speed <= 0:
            return 0.0
        previous, self._previous = self._previous, created_at
        if previous is None:
            return 0.0
        gap = (created_at - previous).total_seconds() / self.speed
        return min(max(gap, 0.0), self.max_gap_s)


class FileSource:
    """Reads one file line by line; the cursor is the byte offset after the last line handed over."""

    finite = True

    def __init__(
        self,
        path: Path,
        fmt: str | None = None,
        columns: ColumnMap | None = None,
        source_name: str | None = None,
        speed: float = 0.0,
        max_gap_s: float = 60.0,
        progress: ProgressFn | None = None,
    ):
        self.path = Path(path)
        if not self.path.is_file():
            raise BadURLError(f"no such file: {self.path}")
        self.format = fmt or detect_format(self.path.name)
        if self.format not in ("jsonl", "csv", "semeval"):
            raise BadURLError(f"unknown format {self.format!r}: use jsonl, csv or semeval")
        self.columns = columns or ColumnMap()
        self.post_source = source_name or ("semeval" if self.format == "semeval" else "file")
        self.name = f"file:{self.path.name}"
        self.pacer = Pacer(speed, max_gap_s)
        self.progress = progress
        self.total_bytes = self.path.stat().st_size

    def resume_offset(self, cursor: Any) -> int:
        """Where to start: the saved offset if it still belongs to this file, else the beginning."""
        if not isinstance(cursor, dict):
            return 0
        stat = self.path.stat()
        same_file = cursor.get("inode") == stat.st_ino and int(cursor.get("offset", 0)) <= stat.st_size
        return int(cursor["offset"]) if same_file else 0

    async def stream(self, cursor: Any) -> AsyncIterator[Event]:
        offset = self.resume_offset(cursor)
        inode = self.path.stat().st_ino
        loop_yield_every = 256
        for count, (line_no, end, parsed) in enumerate(self._records(offset)):
            position = {"offset": end, "line": line_no, "inode": inode, "path": str(self.path)}
            if isinstance(parsed, PostError):
                yield Event(malformed=f"{self.path.name} line {line_no}: {parsed.reason}", cursor=position)
                continue
            delay = self.pacer.delay_for(parsed.created_at)
            if delay > 0:
                await asyncio.sleep(delay)
            elif count % loop_yield_every == 0:
                await asyncio.sleep(0)
            if self.progress:
                self.progress(end, self.total_bytes)
            yield Event(post=parsed, cursor=position)

    def _records(self, offset: int) -> Iterator[tuple[int, int, Post | PostError]]:
        """(line number, byte offset after the record, post or the reason it is malformed)."""
        with self.path.open("rb") as handle:
            if self.format == "csv":
                yield from self._csv_records(handle, offset)
                return
            line_no = self._skip_to(handle, offset)
            end = offset
            for raw in handle:
                line_no += 1
                end += len(raw)
                if not raw.strip():
                    continue
                yield line_no, end, self._parse_line(raw, line_no)

    def _parse_line(self, raw: bytes, line_no: int) -> Post | PostError:
        fallback_id = f"{self.path.stem}-{line_no}"
        try:
            if self.format == "jsonl":
                return parse_jsonl_line(raw, fallback_id, self.post_source)
            return parse_semeval_line(raw.decode("utf-8"), self.post_source)
        except PostError as exc:
            return exc
        except UnicodeDecodeError as exc:
            return PostError(f"not valid UTF-8 at byte {exc.start}")

    def _csv_records(
        self, handle: io.BufferedReader, offset: int
    ) -> Iterator[tuple[int, int, Post | PostError]]:
        counter = _ByteCounter(handle)
        header = next(csv.reader([counter.next_line()]), None)
        if not header:
            return
        self.columns.check_header(header)
        if offset > counter.position:
            counter.line_no += self._skip_to(handle, offset - counter.position)
            counter.position = offset
        reader = csv.DictReader(counter, fieldnames=header)
        for row in reader:
            line_no = counter.line_no
            fallback_id = f"{self.path.stem}-{counter.position}"
            try:
                post: Post | PostError = parse_csv_row(row, self.columns, fallback_id, self.post_source)
            except PostError as exc:
                post = exc
            yield line_no, counter.position, post

    @staticmethod
    def _skip_to(handle: io.BufferedReader, offset: int) -> int:
        """Seek to `offset`, counting the lines before it (cheap compared with parsing them)."""
        if offset <= 0:
            return 0
        lines = 0
        remaining = offset
        while remaining > 0:
            chunk = handle.read(min(remaining, 1 << 20))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            remaining -= len(chunk)
        return lines


class _ByteCounter:
    """Feeds decoded lines to the csv module while keeping the exact byte offset consumed."""

    def __init__(self, handle: io.BufferedReader):
        self.handle = handle
        self.position = 0
        self.line_no = 0

    def next_line(self) -> str:
        raw = self.handle.readline()
        self.position += len(raw)
        self.line_no += 1
        return raw.decode("utf-8", errors="replace")

    def __iter__(self) -> _ByteCounter:
        return self

    def __next__(self) -> str:
        line = self.next_line()
        if not line:
            raise StopIteration
        return line
