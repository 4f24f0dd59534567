"""Label store and model registry additions for retraining, on SQLite and real Postgres; label export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sentimon.storage import labels, models
from sentimon.storage.db import make_engine, migrate


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'r.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    migrate(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def test_import_is_idempotent_and_a_changed_label_waits_again(engine: Engine) -> None:
    rows = [
        ("bsky", "1", "so good", "positive"),
        ("bsky", "2", "meh", "neutral"),
        ("bsky", "1", "so good", "negative"),
    ]
    with engine.begin() as conn:
        assert labels.import_labels(conn, rows, "ana") == (2, 0, 0)  # a repeated post: its last line counts
        labels.mark_used(conn, "v1")
        assert labels.import_labels(conn, rows, "ana") == (0, 0, 2)
        assert labels.waiting_count(conn) == 0
        assert labels.import_labels(conn, [("bsky", "2", "meh", "negative")], "ana") == (0, 1, 0)
        assert labels.waiting_count(conn) == 1
        assert labels.import_labels(conn, [("bsky", "2", "meh", "negative")], "bo") == (1, 0, 0)
        with pytest.raises(ValueError, match="label must be one of"):
            labels.import_labels(conn, [("bsky", "3", "x", "angry")], "ana")


def test_training_uses_the_newest_label_of_each_post_whoever_gave_it(engine: Engine) -> None:
    with engine.begin() as conn:
        labels.add_label(conn, "bsky", "1", "hmm", "neutral", "ana")
        labels.add_label(conn, "bsky", "1", "hmm", "negative", "bo")
        labels.add_label(conn, "bsky", "2", "yay", "positive", "ana")
        latest = labels.latest_per_post(labels.all_labels(conn))
    assert sorted((r.post_id, r.label, r.labelled_by) for r in latest) == [
        ("1", "negative", "bo"),
        ("2", "positive", "ana"),
    ]


def test_requests_are_claimed_once_and_rollback_finds_the_previous_live(engine: Engine) -> None:
    with engine.begin() as conn:
        request = models.request_retrain(conn, "ana")
        assert models.claim_request(conn, request) and not models.claim_request(conn, request)
        assert models.get_version(conn, request).status == "running" and models.pending_requests(conn) == []
        for v in ("v1", "v2", "v3"):
            models.register_version(conn, v, f"/m/{v}")
        assert models.previous_live(conn) is None
        models.promote(conn, "v1")
        models.promote(conn, "v2")
        assert models.previous_live(conn).version == "v1"
        models.promote(conn, "v3")
        assert models.previous_live(conn).version == "v2"
        models.add_note(conn, "v3", "refused by worker a:1")
        models.add_note(conn, "v3", "refused by worker b:2")
        assert models.get_version(conn, "v3").note == "refused by worker a:1\nrefused by worker b:2"


def test_labels_export_as_jsonl_and_csv_and_import_back(sentimon_env, invoke, tmp_path: Path) -> None:
    sentimon_env(f"sqlite:///{tmp_path / 'x.db'}")
    src = tmp_path / "in.jsonl"
    given = [("good one", "positive"), ("bad one", "neg"), ("a, b", "neutral")]
    src.write_text(
        "".join(json.dumps({"text": t, "label": y, "id": i}) + "\n" for i, (t, y) in enumerate(given))
    )
    invoke("labels", "import", src, "--by", "ana")
    out = tmp_path / "all.csv"
    assert "3 labels exported" in invoke("labels", "export", "--out", out).output
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["post_id"], r["text"], r["label"], r["labelled_by"], r["origin"]) for r in rows] == [
        ("0", "good one", "positive", "ana", "import"),
        ("1", "bad one", "negative", "ana", "import"),
        ("2", "a, b", "neutral", "ana", "import"),
    ]
    jsonl = invoke("labels", "export", "--latest").stdout
    assert [json.loads(line)["label"] for line in jsonl.splitlines()] == ["positive", "negative", "neutral"]
    back = tmp_path / "back.jsonl"
    back.write_text(jsonl)
    assert "0 added, 0 changed, 3 unchanged" in invoke("labels", "import", back, "--by", "ana").output
    assert "no such file" in invoke("labels", "import", tmp_path / "nope.csv", code=2).output
