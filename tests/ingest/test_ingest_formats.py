"""HTML to text, the SSE parser, and the file formats (JSONL, CSV, SemEval TSV)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.formats import (
    ColumnMap,
    detect_format,
    parse_csv_row,
    parse_jsonl_line,
    parse_semeval_line,
    parse_time,
    semeval_text,
    snowflake_time,
)
from ingest.sse import SSEParser
from ingest.text import html_to_text
from sentimon.schema import PostError


def test_html_to_text_keeps_paragraphs_and_decodes_entities():
    html = '<p>New <a href="https://x/tags/py">#<span>py</span></a> &amp; fast!</p><p>Line<br>two</p>'
    assert html_to_text(html) == "New #py & fast!\n\nLine\ntwo"
    assert html_to_text("<script>alert(1)</script>ok") == "ok"
    assert html_to_text(None) == ""
    assert html_to_text("plain") == "plain"


def test_sse_parser_skips_heartbeats_and_joins_data_lines():
    parser = SSEParser()
    lines = [
        ":)",
        "event: update",
        'data: {"a":',
        "data: 1}",
        "",
        ":thump",
        "",
        "event: delete",
        "data: 42",
        "",
    ]
    messages = [m for m in (parser.feed_line(line) for line in lines) if m]
    assert [(m.event, m.data) for m in messages] == [("update", '{"a":\n1}'), ("delete", "42")]


def test_parse_time_reads_iso_and_epoch_and_assumes_utc():
    assert parse_time("2024-01-01T12:00:00Z") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert parse_time("2024-01-01 12:00:00") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert parse_time(1704110400) == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert parse_time("1704110400000") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    with pytest.raises(PostError, match="created_at"):
        parse_time("yesterday")


def test_jsonl_line_fills_source_and_id_and_keeps_unknown_fields():
    post = parse_jsonl_line(b'{"text": "hi", "likes": 3, "created_at": 1704110400}', "posts-7", "file")
    assert (post.source, post.id, post.metadata) == ("file", "posts-7", {"likes": 3})
    with pytest.raises(PostError, match="not JSON"):
        parse_jsonl_line("{oops", "x", "file")
    with pytest.raises(PostError, match="text"):
        parse_jsonl_line('{"text": ""}', "x", "file")


def test_csv_row_follows_the_column_map():
    columns = ColumnMap(text="body", id="tweet_id", author="user", created_at="when")
    row = {
        "tweet_id": "9",
        "body": "so slow today",
        "user": "ann",
        "when": "2024-05-01T10:00:00+02:00",
        "mood": "x",
    }
    post = parse_csv_row(row, columns, "f-1", "csv")
    assert (post.id, post.text, post.author) == ("9", "so slow today", "ann")
    assert post.created_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert post.metadata == {"mood": "x"}
    with pytest.raises(ValueError, match="no column 'body'"):
        columns.check_header(["id", "text"])


def test_semeval_lines_of_both_subtasks():
    a = parse_semeval_line('264183816548130816\tpositive\t"Gas hit $3.39!!!! I\\u2019m going\\u002c yay"\t\n')
    assert a.text == "Gas hit $3.39!!!! I\u2019m going, yay"
    assert a.metadata == {"label": "positive"}
    assert a.created_at.year == 2012  # from the snowflake id
    bd = parse_semeval_line("522712800595300352\taaron rodgers\tneutral\tI just cut a clip\n")
    assert bd.metadata == {"label": "neutral", "topic": "aaron rodgers"}
    tabbed = parse_semeval_line("619950566786113536\tneutral\tcanada responded\tto walker\n")
    assert tabbed.text == "canada responded\tto walker" and tabbed.metadata == {"label": "neutral"}
    with pytest.raises(PostError, match="label"):
        parse_semeval_line("1\tmaybe\ttext")
    with pytest.raises(PostError, match="columns"):
        parse_semeval_line("just text")


def test_semeval_text_joins_surrogate_pairs_and_unquotes():
    assert semeval_text('"say ""hi"" \\ud83d\\ude00"') == 'say "hi" \U0001f600'
    assert snowflake_time("12345") is None


def test_detect_format_by_extension():
    assert [detect_format(n) for n in ("a.jsonl", "b.CSV", "twitter-2016test-A.tsv")] == [
        "jsonl",
        "csv",
        "semeval",
    ]
    with pytest.raises(ValueError, match="--format"):
        detect_format("data.parquet")
