"""Domain-adaptive pretraining on what the monitor stored: `sentimon model pretrain --from-db` continues
the served classifier's encoder as a language model on the stored posts, never on deleted ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model.cli import app
from model.registry import load_model, read_card
from sentimon.schema import Post, ScoredPost
from sentimon.storage import posts
from sentimon.storage.db import make_engine, migrate
from tests.model.tiny_data import make_texts

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _store_posts(url: str) -> None:
    """300 posts a minute apart, the first 40 deleted at the source."""
    migrate(url)
    engine = make_engine(url)
    texts, _ = make_texts(300, seed=3)
    scored = [
        ScoredPost(Post(source="demo", id=str(i), text=f"{t} #{i}", created_at=T0 + timedelta(minutes=i)),
                   "neutral", (0.2, 0.6, 0.2), "v1", [])
        for i, t in enumerate(texts)
    ]  # fmt: skip
    with engine.begin() as conn:
        posts.insert_scored(conn, scored)
        for sp in scored[:40]:
            posts.mark_deleted(conn, "demo", sp.post.id, "")
    engine.dispose()


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A configured database (SENTIMON_DATABASE_URL) holding those posts."""
    from sentimon.settings import get_settings

    url = f"sqlite:///{tmp_path / 'store.db'}"
    _store_posts(url)
    monkeypatch.setenv("SENTIMON_DATABASE_URL", url)
    monkeypatch.delenv("SENTIMON_CONFIG", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_stored_texts_skip_deleted_posts_and_keep_to_the_span(stored: str) -> None:
    engine = make_engine(stored)
    with engine.connect() as conn:
        everything = posts.stored_texts(conn)
        later = posts.stored_texts(conn, since=T0 + timedelta(minutes=250))
    engine.dispose()
    assert len(everything) == 260 and not any(t.endswith(" #0") for t in everything)
    assert len(later) == 50 and later[0].endswith(" #299")  # newest first


def test_pretrain_from_db_continues_the_served_classifier_as_a_language_model(
    stored: str, tiny_clf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lm-db"
    args = ["pretrain", "--from-db", "--init-from", str(tiny_clf), "--out", str(out), "--epochs", "1",
            "--batch-size", "16", "--threads", "1", "--since", "2026-11-01T00:00:00+00:00"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "260 distinct stored posts" in result.output
    _, vocab, config, _ = load_model(out, task="lm")
    clf, clf_vocab, _, _ = load_model(tiny_clf)
    assert vocab.itos == clf_vocab.itos and config["net"]["hidden"] == clf.cfg.hidden
    card = read_card(out)
    assert card["data"]["sources"] == ["stored posts (2026-11-01T00:00:00+00:00 to now)"]
    assert card["data"]["pretrain_texts"] + card["data"]["val_texts"] == 260


def test_pretrain_from_db_refuses_too_few_posts_and_a_missing_start(stored: str, tiny_clf: Path) -> None:
    late = CliRunner().invoke(
        app, ["pretrain", "--from-db", "--init-from", str(tiny_clf), "--since", "2026-11-01T04:00:00+00:00"]
    )
    assert late.exit_code == 2 and "only 60 distinct stored posts" in late.output
    bare = CliRunner().invoke(app, ["pretrain", "--from-db"])
    assert bare.exit_code == 2 and "--init-from" in bare.output


def test_pretrain_from_db_reads_the_embedded_default_store_when_no_database_is_configured(
    tmp_path: Path, tiny_clf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentimon.settings import get_settings

    _store_posts(f"sqlite:///{tmp_path / 'sentimon.db'}")  # where the embedded default keeps them
    monkeypatch.delenv("SENTIMON_DATABASE_URL", raising=False)
    monkeypatch.delenv("SENTIMON_CONFIG", raising=False)
    monkeypatch.setenv("SENTIMON_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        late = CliRunner().invoke(
            app,
            ["pretrain", "--from-db", "--init-from", str(tiny_clf), "--since", "2026-11-01T04:00:00+00:00"],
        )
    finally:
        get_settings.cache_clear()
    assert late.exit_code == 2 and "only 60 distinct stored posts" in late.output, late.output


def test_pretrain_from_db_refuses_a_bidirectional_classifier(
    stored: str, tiny_clf: Path, tmp_path: Path
) -> None:
    """A backward direction would see the word a language model predicts: refused with the reason."""
    from dataclasses import replace

    from model.nets import SentimentNet
    from model.registry import save_model

    clf, vocab, _, _ = load_model(tiny_clf)
    bi = SentimentNet(replace(clf.cfg, bidirectional=True))
    folder = tmp_path / "bi"
    save_model(folder, bi, vocab, name="bi", train={}, metrics={}, calibration={"temperature": 1.0})
    args = [
        "pretrain",
        "--from-db",
        "--init-from",
        str(folder),
        "--out",
        str(tmp_path / "lm"),
        "--threads",
        "1",
    ]
    wide = {"COLUMNS": "400"}  # the error panel would wrap the long message
    result = CliRunner().invoke(app, args, env=wide)
    assert result.exit_code == 2
    assert "bidirectional encoder cannot go on as a language model" in result.output
    assert not (tmp_path / "lm" / "weights.pt").exists()
    asked = CliRunner().invoke(
        app, ["pretrain", "--set", "bidirectional=true", "--out", str(tmp_path / "lm")], env=wide
    )
    assert asked.exit_code == 2 and "bidirectional=true is for classifiers" in asked.output
