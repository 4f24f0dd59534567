"""Pure parts of retraining: the gate, the schedule, the label slices, label files, vocabulary growth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from model.data import DataError
from retraining.data import LabelledText, split_labels
from retraining.gate import Comparison, decide
from retraining.labels_io import IMPORT_SOURCE, read_label_file, text_id
from retraining.schedule import is_due, parse_every
from tests.retrain.tiny import SHIPPED


def test_gate_promotes_only_when_not_worse_beyond_tolerance_on_every_set() -> None:
    slightly_worse = [Comparison("validation", 90, 0.80, 0.795), Comparison("held-back labels", 20, 0.6, 0.7)]
    ok = decide(slightly_worse, tolerance=0.01)
    assert ok.promote and "validation (n=90) AvgRec 0.8000 → 0.7950 (-0.0050)" in ok.reason
    worse_on_labels = [
        Comparison("validation", 90, 0.80, 0.85),
        Comparison("held-back labels", 20, 0.7, 0.65),
    ]
    no = decide(worse_on_labels, tolerance=0.01)
    assert not no.promote and "worse beyond the tolerance 0.01 on held-back labels" in no.reason


def test_gate_says_which_sets_it_could_not_judge() -> None:
    only_val = decide(
        [Comparison("validation", 90, 0.8, 0.81), Comparison("held-back labels", 0, 0, 0)], 0.01
    )
    assert only_val.promote and "not judged on held-back labels (empty)" in only_val.reason
    nothing = decide([Comparison("validation", 0, 0, 0)], 0.01)
    assert not nothing.promote and "nothing to evaluate" in nothing.reason


def test_every_accepts_units_and_refuses_nonsense() -> None:
    assert [parse_every(x) for x in ("24h", "30m", "90s", "1d", "1.5h", "45")] == [
        86400,
        1800,
        90,
        86400,
        5400,
        45,
    ]
    for bad in ("", "0h", "soon", "-1h", "3w"):
        with pytest.raises(ValueError, match="duration"):
            parse_every(bad)


def test_scheduled_run_needs_both_the_period_and_enough_new_labels() -> None:
    assert is_due(now=1000, last_run=None, every_s=60, waiting=5, min_new=5)
    assert not is_due(now=1000, last_run=None, every_s=60, waiting=4, min_new=5)
    assert not is_due(now=1000, last_run=990, every_s=60, waiting=50, min_new=5)
    assert is_due(now=1000, last_run=940, every_s=60, waiting=50, min_new=5)
    assert not is_due(now=1000, last_run=None, every_s=60, waiting=0, min_new=0)  # nothing new: never


def test_label_slices_are_fixed_by_the_post_key() -> None:
    rows = [LabelledText(f"bsky:{i}", f"text {i}", "neutral") for i in range(2000)]
    first = split_labels(rows, holdout=0.2, tune=0.1)
    again = split_labels([*reversed(rows), LabelledText("bsky:new", "x", "positive")], 0.2, 0.1)
    held = {r.key for r in first.holdout}
    assert held <= {r.key for r in again.holdout}  # more labels never move a post out of the held-back slice
    assert 0.17 < len(first.holdout) / 2000 < 0.23 and 0.07 < len(first.tune) / 2000 < 0.13
    assert not held & {r.key for r in first.train}


def test_label_files_in_three_formats(tmp_path: Path) -> None:
    csv_file = tmp_path / "l.csv"
    csv_file.write_text('source,post_id,text,label\nbsky,1,"so good, really",pos\n,,plain text,negative\n')
    jsonl = tmp_path / "l.jsonl"
    jsonl.write_text(json.dumps({"text": "ok then", "label": "neutral", "id": 7}) + "\n\n")
    tsv = tmp_path / "l.tsv"
    tsv.write_text("6417\tpositive\tGreat \\u2019show\\u2019 tonight\n")
    rows = read_label_file(csv_file) + read_label_file(jsonl) + read_label_file(tsv)
    assert [r.as_tuple() for r in rows] == [
        ("bsky", "1", "so good, really", "positive"),
        (IMPORT_SOURCE, text_id("plain text"), "plain text", "negative"),
        (IMPORT_SOURCE, "7", "ok then", "neutral"),
        ("semeval", "6417", "Great \u2019show\u2019 tonight", "positive"),
    ]


def test_bad_label_files_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nfine,positive\nmeh,angry\n")
    with pytest.raises(DataError, match=r"bad.csv:3: unknown label 'angry'"):
        read_label_file(bad)
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(DataError, match="cannot tell the format"):
        read_label_file(tmp_path / "x.xlsx")
    (tmp_path / "h.csv").write_text("body,sentiment\nx,positive\n")
    with pytest.raises(DataError, match="header with columns text,label"):
        read_label_file(tmp_path / "h.csv")


def test_grown_vocabulary_predicts_as_before_and_gives_new_words_their_lexicon_valence(
    trained_base: Path, tmp_path: Path
) -> None:
    from model.lexicon import vader_lexicon
    from model.predict import batch_logits
    from model.registry import load_model
    from retraining.vocab_grow import grow

    unscored = ["this app slaps", "this cringe today", "the meeting report", "lit lit lit game"]
    folder, added = grow(trained_base, tmp_path / "grown", [*unscored, "ugh", "ugh slaps"] * 2, 2, 10)
    assert set(added) == {"slaps", "cringe", "lit", "ugh"}
    old, old_vocab, _, _ = load_model(trained_base)
    new, new_vocab, _, _ = load_model(folder)
    assert old.cfg.lexicon and new.valence.shape == (len(old_vocab) + 4,)
    assert torch.equal(new.valence[: len(old_vocab)], old.valence)
    valence = {w: float(new.valence[new_vocab.stoi[w]]) for w in added}
    assert valence == pytest.approx(
        {"slaps": 0.0, "cringe": 0.0, "lit": 0.0, "ugh": vader_lexicon()["ugh"] / 4}
    )
    assert torch.allclose(
        batch_logits(old, old_vocab, unscored), batch_logits(new, new_vocab, unscored), atol=1e-5
    )


def test_growing_refuses_a_per_token_tensor_it_does_not_know() -> None:
    from model.registry import ModelError
    from model.vocab import Vocab
    from retraining.vocab_grow import grown_state

    state = {"encoder.embedding.weight": torch.zeros(5, 2), "head.vocab_bias": torch.zeros(5)}
    target = {"encoder.embedding.weight": torch.zeros(7, 2), "head.vocab_bias": torch.zeros(7)}
    vocab = Vocab(itos=["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c"])
    with pytest.raises(ModelError, match=r"cannot grow head.vocab_bias from \(5,\) to \(7,\)"):
        grown_state(state, target, vocab, 2)


def test_tiny_base_model_has_the_shipped_configuration(trained_base: Path) -> None:
    """The retraining tests run on the features the shipped model has, at small sizes."""
    from model.registry import DEFAULT_PATH, read_card

    sizes = {"vocab_size", "emb_dim", "hidden"}
    shipped, tiny = read_card(DEFAULT_PATH), read_card(trained_base)
    net = {
        k: v for k, v in shipped["hyperparameters"]["net"].items() if k not in sizes and "dropout" not in k
    }
    assert {k: tiny["hyperparameters"]["net"][k] for k in net} == net
    train = shipped["hyperparameters"]["train"]
    assert {k: tiny["hyperparameters"]["train"][k] for k in SHIPPED} == {k: train[k] for k in SHIPPED}
    assert tiny["serving"] == shipped["serving"] and tiny["weights_dtype"] == shipped["weights_dtype"]


def test_decision_modules_import_no_io_library() -> None:
    """The gate, the data slices, the label files, the CLI (whose commands load storage) and the
    hot-swap holder load no database or Redis library; the service modules that do take a typed engine."""
    import subprocess
    import sys

    mods = ["retraining.gate", "retraining.data", "retraining.labels_io", "retraining.cli",
            "stream_processor.hotswap"]  # fmt: skip
    forbidden = ["faust", "kafka", "aiokafka", "sqlalchemy", "redis", "streamlit", "httpx", "aiohttp"]
    code = (
        f"import sys\nfor m in {mods!r}: __import__(m)\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
