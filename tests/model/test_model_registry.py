"""Registry folders: save → load gives identical outputs; corrupt or incompatible folders are refused."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from model.inference import load
from model.registry import ModelError, list_models, load_model, read_card, update_card

TEXTS = ["I love this :)", "worst day ever", "meeting at the station tomorrow", "", "😂😂", "这是中文"]


def _copy(src, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_reload_gives_identical_outputs(tiny_clf, tmp_path):
    first = load(tiny_clf, device="cpu", int8=False)
    again = load(_copy(tiny_clf, tmp_path), device="cpu", int8=False)
    assert torch.equal(first.logits(TEXTS), again.logits(TEXTS))
    assert first.classify(TEXTS) == again.classify(TEXTS)
    assert first.version == again.version


def test_card_records_hashes_and_version(tiny_clf):
    card = read_card(tiny_clf)
    assert set(card["files"]) == {"weights.pt", "vocab.json", "config.json"}
    assert card["version"].startswith("sentimon-rnn-")
    assert card["version"].endswith(card["files"]["weights.pt"][:8])
    assert "## Reproduce" in (tiny_clf / "card.md").read_text()


def test_corrupt_weights_are_refused(tiny_clf, tmp_path):
    folder = _copy(tiny_clf, tmp_path)
    data = bytearray((folder / "weights.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "weights.pt").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"weights\.pt"):
        load(folder)


@pytest.mark.parametrize("victim", ["weights.pt", "vocab.json", "config.json", "card.json"])
def test_missing_files_are_refused(tiny_clf, tmp_path, victim):
    folder = _copy(tiny_clf, tmp_path)
    (folder / victim).unlink()
    with pytest.raises(ModelError):
        load(folder)


def test_incompatible_format_is_refused_even_with_a_matching_hash(tiny_clf, tmp_path):
    from model.registry import sha256

    folder = _copy(tiny_clf, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["format"] = 99
    (folder / "config.json").write_text(json.dumps(config))
    card = read_card(folder)
    card["files"]["config.json"] = sha256(folder / "config.json")
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="format"):
        load(folder)


def test_wrong_architecture_is_refused(tiny_clf, tmp_path):
    from model.registry import sha256

    folder = _copy(tiny_clf, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["net"]["hidden"] += 1
    (folder / "config.json").write_text(json.dumps(config))
    card = read_card(folder)
    card["files"]["config.json"] = sha256(folder / "config.json")
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="incompatible"):
        load(folder)


def test_an_lm_folder_is_not_a_classifier(tiny_lm):
    with pytest.raises(ModelError, match="lm model"):
        load(tiny_lm)
    model, vocab, config, _ = load_model(tiny_lm)
    assert config["task"] == "lm" and len(vocab) == model.cfg.vocab_size


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no such"):
        load(tmp_path / "nothing")


def test_update_card_keeps_weights_loadable(tiny_clf, tmp_path):
    folder = _copy(tiny_clf, tmp_path)
    update_card(folder, metrics={"bench": {"avgrec": 0.5, "n": 3}}, speed={"cpu": {"model_tps": 1.0}})
    card = read_card(folder)
    assert card["metrics"]["bench"]["avgrec"] == 0.5 and "val" in card["metrics"]
    assert load(folder).version == card["version"]


def test_list_models_finds_folders(tiny_clf, tmp_path):
    _copy(tiny_clf, tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "card.json").write_text("{nope")
    rows = list_models(tmp_path)
    assert any(r.get("task") == "clf" for r in rows)
    assert any("error" in r for r in rows)
