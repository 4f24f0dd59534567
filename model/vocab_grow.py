"""Grow a classifier's vocabulary with the new words of its labels (slang drifts), before fine-tuning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import torch

from model.nets import Classifier
from model.registry import load_model, save_model
from model.text import SPECIALS, tokenize
from model.vocab import Vocab

EMBEDDING = "encoder.embedding.weight"


def new_tokens(vocab: Vocab, texts: Iterable[str], min_count: int = 2, limit: int = 2000) -> list[str]:
    """Tokens the vocabulary lacks, seen at least ``min_count`` times; most frequent first."""
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update(t for t in tokenize(text, vocab.max_tokens) if t not in vocab.stoi and t not in SPECIALS)
    ranked = sorted((t for t, c in seen.items() if c >= min_count), key=lambda t: (-seen[t], t))
    return ranked[:limit]


def grown_state(state: dict[str, torch.Tensor], unk_id: int, extra: int) -> dict[str, torch.Tensor]:
    """New embedding rows start as copies of UNK's, so the grown model predicts exactly as before
    until training gives each new word a vector of its own."""
    out = dict(state)
    emb = state[EMBEDDING]
    out[EMBEDDING] = torch.cat([emb, emb[unk_id : unk_id + 1].repeat(extra, 1)], dim=0)
    return out


def grow(
    folder: Path, out: Path, texts: Iterable[str], min_count: int = 2, limit: int = 2000
) -> tuple[Path, list[str]]:
    """A copy of the classifier in ``folder`` with new tokens added (written to ``out``), or the
    original folder when there is nothing to add. Returns (folder to start from, added tokens)."""
    net, vocab, config, card = load_model(Path(folder), task="clf")
    extra = new_tokens(vocab, texts, min_count, limit)
    if not extra:
        return Path(folder), []
    bigger = Vocab(itos=[*vocab.itos, *extra], max_tokens=vocab.max_tokens)
    model = Classifier(replace(net.cfg, vocab_size=len(bigger)))
    model.load_state_dict(grown_state(net.state_dict(), vocab.unk_id, len(extra)))
    save_model(
        Path(out),
        model.eval(),
        bigger,
        name=card.get("name", "sentimon-rnn"),
        train=card.get("hyperparameters", {}).get("train", {}),
        metrics=card.get("metrics", {}),
        calibration=config.get("calibration"),
        data=card.get("data", {}),
        reproduce=card.get("reproduce", []),
        half=False,
    )
    return Path(out), extra
