"""The serving API: labels, calibrated probabilities, order, hostile inputs, int8 variant."""

from __future__ import annotations

import pytest

from model.inference import load

HOSTILE = ["", "   ", "😂", "\x00", "a" * 50_000, "这是中文 текст", "@user http://x.y #tag", "\\u2019", None]


@pytest.fixture(scope="module")
def clf(tiny_clf):
    return load(tiny_clf, device="cpu", int8=False)


def test_classify_returns_label_and_three_probabilities_in_order(clf):
    texts = ["love great happy", "hate awful sad", "meeting report schedule"] * 5
    out = clf.classify(texts)
    assert len(out) == len(texts)
    for label, probs in out:
        assert label in ("negative", "neutral", "positive")
        assert len(probs) == 3 and abs(sum(probs) - 1) < 1e-5 and min(probs) >= 0
    assert [label for label, _ in out[:3]] == ["positive", "negative", "neutral"]
    assert out[:3] == out[3:6]


def test_order_is_kept_when_lengths_differ(clf):
    texts = ["love " * 30, "hate", "meeting report " * 10, "awful"]
    batched = clf.classify(texts)
    alone = [clf.classify([t])[0] for t in texts]
    assert [b[0] for b in batched] == [a[0] for a in alone]
    for (_, pb), (_, pa) in zip(batched, alone, strict=True):
        assert pb == pytest.approx(pa, abs=1e-5)


def test_empty_list_and_hostile_texts(clf):
    assert clf.classify([]) == []
    out = clf.classify(HOSTILE)
    assert len(out) == len(HOSTILE)


def test_int8_variant_agrees_mostly(tiny_clf, clf):
    fast = load(tiny_clf, device="cpu", int8=True)
    texts = ["love great happy", "hate awful sad", "meeting report schedule"] * 10
    same = sum(a[0] == b[0] for a, b in zip(fast.classify(texts), clf.classify(texts), strict=True))
    assert same >= 0.9 * len(texts)
    assert fast.version == clf.version and fast.device == "cpu"
