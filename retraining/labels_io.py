"""Read human labels from CSV / JSONL / SemEval TSV files and write them back out (label import/export)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from model.data import FORMATS, DataError, guess_format, label_id, semeval_lines
from sentimon.sentiment import LABELS

IMPORT_SOURCE = "import"  # the source of labelled texts that name none
EXPORT_FIELDS = ("source", "post_id", "text", "label", "labelled_by", "origin", "created_at", "used_by_model")


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One labelled text from a file: which post (source, post_id), the text, the label name."""

    source: str
    post_id: str
    text: str
    label: str

    def as_tuple(self) -> tuple[str, str, str, str]:
        return (self.source, self.post_id, self.text, self.label)


def text_id(text: str) -> str:
    """A stable post id for a labelled text that came without one."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _row(text: str, raw_label: object, where: str, source: object = None, post_id: object = None) -> LabelRow:
    text = str(text or "").strip()
    if not text:
        raise DataError(f"{where}: empty text")
    label = LABELS[label_id(str(raw_label), where)]
    pid = str(post_id).strip() if post_id not in (None, "") else text_id(text)
    src = str(source).strip() if source not in (None, "") else IMPORT_SOURCE
    return LabelRow(src[:32], pid[:256], text, label)


def read_csv_labels(path: Path) -> Iterator[LabelRow]:
    """Header with text,label (and optionally source, post_id or id)."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise DataError(f"{path}: CSV needs a header with columns text,label")
        for n, rec in enumerate(reader, 2):
            yield _row(
                rec["text"],
                rec["label"],
                f"{path}:{n}",
                rec.get("source"),
                rec.get("post_id") or rec.get("id"),
            )


def read_jsonl_labels(path: Path) -> Iterator[LabelRow]:
    """One object per line with text and label (and optionally source, post_id or id)."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                rec = json.loads(line)
                text, label = rec["text"], rec["label"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"{where}: expected a JSON object with text and label ({exc})") from exc
            yield _row(text, label, where, rec.get("source"), rec.get("post_id", rec.get("id")))


def read_semeval_labels(path: Path, source: str = "semeval") -> Iterator[LabelRow]:
    """``id<TAB>label<TAB>text`` lines (SemEval 2017 task 4A); the tweet id becomes the post id."""
    for where, tweet_id, label, text in semeval_lines(path):
        yield _row(text.strip(), label, where, source, tweet_id)


def read_label_file(path: Path, fmt: str | None = None) -> list[LabelRow]:
    """All rows of a label file; a bad line stops the import with its file:line and reason."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    fmt = fmt or guess_format(path)
    readers = {"csv": read_csv_labels, "jsonl": read_jsonl_labels, "semeval": read_semeval_labels}
    if fmt not in readers:
        raise DataError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    return list(readers[fmt](path))


def export_record(label: object) -> dict:
    """A stored label (sentimon.storage.labels.Label) as a flat JSON-ready dict."""
    out = {name: getattr(label, name) for name in EXPORT_FIELDS}
    created = out["created_at"]
    out["created_at"] = created.isoformat() if created is not None else None
    return out


def write_labels(records: Iterable[dict], fh: TextIO, fmt: str = "jsonl") -> int:
    """Write export records as JSONL or CSV to an open text file; returns how many."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(fh, fieldnames=list(EXPORT_FIELDS))
        writer.writeheader()
        for rec in records:
            writer.writerow(rec)
            count += 1
        return count
    for rec in records:
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        count += 1
    return count
