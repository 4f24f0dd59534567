"""Per-token prior valence from the VADER lexicon (a frozen network buffer, so served models need no
lexicon file): rare sentiment words the few labelled tweets never show still carry a signal."""

from __future__ import annotations

import torch

from model.text import HEART, LOL, SAD, SMILE
from model.vocab import Vocab

_MARKER_SOURCES = {SMILE: ":)", SAD: ":(", LOL: ":d", HEART: "<3"}


def vader_lexicon() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return {k.lower(): float(v) for k, v in SentimentIntensityAnalyzer().lexicon.items()}


def valence_vector(vocab: Vocab, lexicon: dict[str, float] | None = None) -> torch.Tensor:
    """Valence in [-1, 1] (VADER's -4..4 scaled) for every vocabulary id; 0 for unknown words."""
    lexicon = vader_lexicon() if lexicon is None else lexicon
    out = torch.zeros(len(vocab))
    for i, tok in enumerate(vocab.itos):
        key = _MARKER_SOURCES.get(tok, tok)
        if key in lexicon:
            out[i] = max(-1.0, min(1.0, lexicon[key] / 4.0))
    return out


def valence_features(valence: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """B×4 summary of the tweet's token valences: positive mass, negative mass, max, min."""
    vals = valence[ids]
    return torch.stack(
        [vals.clamp(min=0).sum(1), (-vals).clamp(min=0).sum(1), vals.max(1).values, vals.min(1).values], dim=1
    )
