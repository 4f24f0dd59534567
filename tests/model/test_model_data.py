"""Loaders for SemEval TSV, CSV and JSONL labelled files."""

from __future__ import annotations

import json

import pytest

from model.data import DataError, read_labelled


def test_semeval_tsv_is_unescaped(tmp_path):
    f = tmp_path / "a.tsv"
    f.write_text('1\tpositive\tI\\u2019m "ok"\\u002c really\t\n2\tneutral\t"quoted \\""""x\\"""""\n\n')
    texts, labels = read_labelled(f, "semeval")
    assert texts == ['I’m "ok", really', 'quoted "x"']
    assert labels == [2, 1]


def test_csv_and_jsonl(tmp_path):
    c = tmp_path / "a.csv"
    c.write_text('text,label\n"hi, there",positive\nmeh,neutral\nugh,negative\n')
    assert read_labelled(c, "csv") == (["hi, there", "meh", "ugh"], [2, 1, 0])
    j = tmp_path / "a.jsonl"
    j.write_text("\n".join(json.dumps({"text": t, "label": y}) for t, y in [("a", "neg"), ("b", "pos")]))
    assert read_labelled(j, "jsonl") == (["a", "b"], [0, 2])


def test_folder_reads_every_file_in_order(tmp_path):
    (tmp_path / "b.tsv").write_text("2\tnegative\tsecond\n")
    (tmp_path / "a.tsv").write_text("1\tpositive\tfirst\n")
    assert read_labelled(tmp_path, "semeval") == (["first", "second"], [2, 0])


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("bad.tsv", "1\tmaybe\ttext\n", "semeval"),
        ("bad.tsv", "just one column\n", "semeval"),
        ("bad.csv", "body,label\nx,positive\n", "csv"),
        ("bad.jsonl", "{not json}\n", "jsonl"),
    ],
)
def test_malformed_files_raise_a_clear_error(tmp_path, name, content, fmt):
    f = tmp_path / name
    f.write_text(content)
    with pytest.raises(DataError, match=name):
        read_labelled(f, fmt)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(DataError, match="no such"):
        read_labelled(tmp_path / "nope.tsv")
    with pytest.raises(DataError, match="unknown format"):
        read_labelled(tmp_path, "xml")
