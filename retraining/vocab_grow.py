"""Grow a classifier's vocabulary with the new words of its labels (slang drifts), before fine-tuning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import torch

from model.lexicon import valence_vector
from model.nets import SentimentNet
from model.registry import ModelError, load_model, save_model
from model.text import SPECIALS, tokenize
from model.vocab import Vocab

EMBEDDING = "encoder.embedding.weight"
VALENCE = "valence"

# How each per-token tensor (first dimension = vocabulary size) gets rows for new words:
# (old tensor, the grown vocabulary, number of new words) -> the new rows.
RowMaker = Callable[[torch.Tensor, Vocab, int], torch.Tensor]


def _unk_rows(old: torch.Tensor, vocab: Vocab, extra: int) -> torch.Tensor:
    """Copies of UNK's row: the grown model reads a new word exactly as it read it before (as UNK)."""
    return old[vocab.unk_id : vocab.unk_id + 1].repeat(extra, *([1] * (old.dim() - 1)))


def _lexicon_rows(old: torch.Tensor, vocab: Vocab, extra: int) -> torch.Tensor:
    """The lexicon's valence of the new words, as a model built with this vocabulary would hold it."""
    tail = Vocab(itos=vocab.itos[-extra:], max_tokens=vocab.max_tokens)
    return valence_vector(tail).to(old.dtype)


ROWS: dict[str, RowMaker] = {EMBEDDING: _unk_rows, VALENCE: _lexicon_rows}


def new_tokens(vocab: Vocab, texts: Iterable[str], min_count: int = 2, limit: int = 2000) -> list[str]:
    """Tokens the vocabulary lacks, seen at least ``min_count`` times; most frequent first."""
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update(t for t in tokenize(text, vocab.max_tokens) if t not in vocab.stoi and t not in SPECIALS)
    ranked = sorted((t for t, c in seen.items() if c >= min_count), key=lambda t: (-seen[t], t))
    return ranked[:limit]


def grown_state(
    state: dict[str, torch.Tensor], target: dict[str, torch.Tensor], bigger: Vocab, extra: int
) -> dict[str, torch.Tensor]:
    """``state`` reshaped to the grown network's ``target`` shapes: every tensor whose first dimension
    is the vocabulary gets rows for the new words (see ROWS); any other mismatch is an error, so a
    per-token parameter added to the networks later cannot be grown silently wrong."""
    out = dict(state)
    for key, old in state.items():
        want = target.get(key)
        if want is None or want.shape == old.shape:
            continue
        if key not in ROWS or want.shape != (old.shape[0] + extra, *old.shape[1:]):
            raise ModelError(f"cannot grow {key} from {tuple(old.shape)} to {tuple(want.shape)}")
        out[key] = torch.cat([old, ROWS[key](old, bigger, extra)], dim=0)
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
    model = SentimentNet(replace(net.cfg, vocab_size=len(bigger)))
    model.load_state_dict(grown_state(net.state_dict(), model.state_dict(), bigger, len(extra)))
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
