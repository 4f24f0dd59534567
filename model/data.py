"""Corpus loaders: SemEval TSV, CSV/JSONL ``text,label``, plain text lines; default data locations."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from model.text import undo_semeval_escapes
from sentimon.sentiment import LABELS

_ALIASES = {
    "neg": 0,
    "negative": 0,
    "-1": 0,
    "neu": 1,
    "neutral": 1,
    "0": 1,
    "objective": 1,
    "pos": 2,
    "positive": 2,
    "1": 2,
    "+1": 2,
}
FORMATS = ("semeval", "csv", "jsonl")

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEMEVAL_DIR = "semeval2017-task4/subtask_a"
BENCHMARK_FILE = "twitter-2016test-A.tsv"  # the validation benchmark: never trained on
VAL_FILES = ("twitter-2016dev-A.tsv", "twitter-2016devtest-A.tsv")  # early stopping + calibration
TRAIN_FILES = (
    "twitter-2013train-A.tsv",
    "twitter-2013dev-A.tsv",
    "twitter-2013test-A.tsv",
    "twitter-2014test-A.tsv",
    "twitter-2014sarcasm-A.tsv",
    "twitter-2015train-A.tsv",
    "twitter-2015test-A.tsv",
    "twitter-2016train-A.tsv",
)

Labelled = tuple[list[str], list[int]]


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file and line."""


def label_id(raw: str, where: str) -> int:
    key = str(raw).strip().lower()
    if key not in _ALIASES:
        raise DataError(f"{where}: unknown label {raw!r} (expected one of {', '.join(LABELS)})")
    return _ALIASES[key]


def tab_lines(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[str, list[str], str]]:
    """(where, leading fields, text) of each ``<fields…><TAB>text[<TAB>]`` line of a SemEval file,
    escapes and wrapping quotes undone; blank lines skipped, a line too short is a DataError."""
    shape = "<TAB>".join((*fields, "text"))
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) <= len(fields):
                if line.strip():
                    raise DataError(f"{path}:{n}: expected {shape}")
                continue
            k = len(fields)
            yield f"{path}:{n}", parts[:k], undo_semeval_escapes("\t".join(parts[k:]))


def semeval_lines(path: Path) -> Iterator[tuple[str, str, str, str]]:
    """(where, id, raw label, text) of each task 4A line (``id<TAB>label<TAB>text``)."""
    for where, (post_id, label), text in tab_lines(path, ("id", "label")):
        yield where, post_id, label, text


def read_semeval(path: Path) -> Labelled:
    """SemEval task 4A file → (texts, label ids)."""
    texts, labels = [], []
    for where, _, label, text in semeval_lines(path):
        labels.append(label_id(label, where))
        texts.append(text)
    return texts, labels


def read_csv(path: Path) -> Labelled:
    texts, labels = [], []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise DataError(f"{path}: CSV needs a header with columns text,label")
        for n, row in enumerate(reader, 2):
            labels.append(label_id(row["label"], f"{path}:{n}"))
            texts.append(row["text"] or "")
    return texts, labels


def read_jsonl(path: Path) -> Labelled:
    texts, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                texts.append(str(row["text"]))
                labels.append(label_id(row["label"], f"{path}:{n}"))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"{path}:{n}: expected a JSON object with text and label ({exc})") from exc
    return texts, labels


def guess_format(path: Path) -> str:
    """csv for .csv, jsonl for .jsonl/.json/.ndjson, semeval for .tsv/.txt."""
    suffix = Path(path).suffix.lower()
    for fmt, suffixes in (
        ("csv", (".csv",)),
        ("jsonl", (".jsonl", ".json", ".ndjson")),
        ("semeval", (".tsv", ".txt")),
    ):
        if suffix in suffixes:
            return fmt
    raise DataError(f"{path}: cannot tell the format from the name; pass --format ({', '.join(FORMATS)})")


def read_labelled(path: Path, fmt: str = "semeval") -> Labelled:
    """Read one labelled file, or every file of that format in a folder (sorted, deterministic)."""
    readers = {"semeval": read_semeval, "csv": read_csv, "jsonl": read_jsonl}
    if fmt not in readers:
        raise DataError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    texts: list[str] = []
    labels: list[int] = []
    for f in files:
        t, y = readers[fmt](f)
        texts += t
        labels += y
    return texts, labels


def iter_lines(path: Path) -> Iterator[str]:
    """Non-empty lines of a text file, or of every ``*.txt`` file in a folder."""
    path = Path(path)
    files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.strip():
                    yield line.strip()


def semeval_split(data_dir: Path, which: str, exclude: Sequence[str] = ()) -> Labelled:
    """The named default split (train / val / benchmark) of the SemEval subtask A files, less the
    files named in ``exclude`` (held out for out-of-sample statistics)."""
    names = {"train": TRAIN_FILES, "val": VAL_FILES, "benchmark": (BENCHMARK_FILE,)}[which]
    unknown = sorted(set(exclude) - set(names))
    if unknown:
        raise DataError(f"no {which} file is named {', '.join(unknown)}")
    names = tuple(n for n in names if n not in exclude)
    texts: list[str] = []
    labels: list[int] = []
    for name in names:
        t, y = read_semeval(Path(data_dir) / SEMEVAL_DIR / name)
        texts += t
        labels += y
    return texts, labels


def pretrain_texts(data_dir: Path, forum: bool = False) -> list[str]:
    """Unlabelled tweets + sentiment140 texts + SemEval training texts (never the benchmark), and with
    ``forum`` the unlabelled forum comments too (the monitor reads Reddit and Hacker News as well)."""
    data_dir = Path(data_dir)
    texts = list(iter_lines(data_dir / "unlabeled-tweets"))
    texts += list(iter_lines(data_dir / "sentiment140-sample"))
    texts += semeval_split(data_dir, "train")[0]
    if forum:
        texts += list(iter_lines(data_dir / "unlabeled-forum"))
    return texts


def distant_texts(data_dir: Path) -> Labelled:
    """Sentiment140 tweets labelled by their stripped emoticons (negative / positive only)."""
    base = Path(data_dir) / "sentiment140-sample"
    neg = list(iter_lines(base / "negative.txt"))
    pos = list(iter_lines(base / "positive.txt"))
    return neg + pos, [0] * len(neg) + [2] * len(pos)
