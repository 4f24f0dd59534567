"""The gate and the guards: a worse model is kept out, a corrupt model is never served."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentimon.storage import labels, models
from sentimon.storage.db import make_engine
from tests.retrain.tiny import BASE, SLANG, flipped, texts, write_labels_csv

pytestmark = pytest.mark.slow


def test_worse_model_is_registered_but_not_promoted(
    pg_url, sentimon_env, invoke, base_data, tmp_path: Path
) -> None:
    sentimon_env(pg_url)
    wrong = write_labels_csv(tmp_path / "wrong.csv", flipped(texts(90, SLANG, 7) + texts(30, BASE, 8)))
    invoke("labels", "import", wrong, "--by", "prankster")
    out = invoke("retrain", "--base-data", base_data, "--threads", "1").output
    assert "kept" in out and "worse beyond the tolerance 0.01 on validation" in out
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        versions = {v.status: v for v in models.list_versions(conn)}
        waiting = labels.waiting_count(conn)
    assert set(versions) == {"live", "rejected"}
    live, rejected = versions["live"], versions["rejected"]
    assert live.metrics["kind"] == "baseline" and live.note == "the model served before any retraining"
    assert rejected.metrics["promoted"] is False and rejected.metrics["parent"] == live.version
    evaluation = rejected.metrics["evaluation"]["validation"]
    assert evaluation["new"]["avgrec"] < evaluation["old"]["avgrec"] - 0.01
    assert "worse beyond the tolerance" in (rejected.note or "")
    assert Path(rejected.path, "card.json").is_file() and waiting == 0  # trained on: not waiting any more
    listing = invoke("models", "list").output
    assert rejected.version in listing and "rejected" in listing
    engine.dispose()


def _corrupt(folder: Path) -> None:
    weights = folder / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    weights.write_bytes(bytes(data))


def test_corrupt_model_is_refused_by_promote_and_by_a_running_worker(
    pg_url, sentimon_env, invoke, base_model: Path, trained_base: Path, tmp_path: Path
) -> None:
    import shutil

    from model.registry import read_card
    from sentimon.settings import get_settings
    from stream_processor.hotswap import start_hot_swap

    sentimon_env(pg_url)
    invoke("models", "list")  # migrates the database
    engine = make_engine(pg_url)
    broken = Path(shutil.copytree(trained_base, tmp_path / "broken"))
    _corrupt(broken)
    with engine.begin() as conn:
        models.register_version(conn, "tiny-broken", str(broken))
    refused = invoke("models", "promote", "tiny-broken", code=2).output
    assert "does not match the sha256" in refused

    swap = start_hot_swap(get_settings(), engine, poll_s=3600)
    try:
        served = swap.classifier.version
        assert served == read_card(base_model)["version"]  # nothing live yet: the configured model
        with engine.begin() as conn:  # the folder breaks after a promotion (disk, partial copy …)
            models.promote(conn, "tiny-broken")
        assert swap.holder.check() == "refused"
        swap.classifier.classify(["the meeting report"])
        assert swap.classifier.version == served
        with engine.connect() as conn:
            note = models.get_version(conn, "tiny-broken").note or ""
        assert "refused by worker" in note and "sha256" in note
    finally:
        swap.stop()
        engine.dispose()
