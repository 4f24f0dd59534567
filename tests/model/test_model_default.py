"""The shipped default model loads by itself, is intact, and labels obvious posts sensibly."""

from __future__ import annotations

from model.inference import load
from model.registry import DEFAULT_PATH, read_card, verify


def test_default_model_is_intact_and_small():
    config, card = verify(DEFAULT_PATH)
    assert config["task"] == "clf"
    assert sum(f.stat().st_size for f in DEFAULT_PATH.iterdir()) < 30 * 1024 * 1024
    assert card["metrics"]["benchmark"]["n"] > 20000
    assert any(line.startswith("sentimon model finetune") for line in card["reproduce"])


def test_default_model_labels_obvious_posts():
    clf = load(DEFAULT_PATH, device="cpu")
    assert clf.version == read_card(DEFAULT_PATH)["version"]
    out = clf.classify(
        ["I love this, best day ever :)", "worst service ever, I hate it", "The meeting is at 3pm on Friday"]
    )
    assert [label for label, _ in out] == ["positive", "negative", "neutral"]
