"""Batched forward passes in inference mode, grouped by length; results back in input order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from model.batching import encode_all, length_batches, pad
from model.nets import LanguageModel, SentimentNet
from model.vocab import Vocab


def batch_logits(
    model: SentimentNet,
    vocab: Vocab,
    texts: Sequence[str],
    batch_size: int = 512,
    device: str | torch.device = "cpu",
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Class logits (N×3, float32, on CPU) for texts in their original order; ``progress`` is told
    how many texts each batch held (the batches are exactly as without it)."""
    seqs = encode_all(vocab, texts)
    out = torch.empty(len(seqs), model.cfg.n_classes)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for idx in length_batches([len(s) for s in seqs], batch_size):
            ids, lengths = pad([seqs[i] for i in idx])
            logits = model(ids.to(device), lengths)
            out[torch.tensor(idx)] = logits.float().cpu()
            if progress is not None:
                progress(len(idx))
    model.train(was_training)
    return out


def lm_loss(
    model: LanguageModel,
    seqs: Sequence[Sequence[int]],
    batch_size: int = 256,
    device: str | torch.device = "cpu",
) -> float:
    """Token-weighted mean NLL of the LM over already-encoded sequences."""
    total, tokens = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for idx in length_batches([len(s) for s in seqs], batch_size):
            ids, lengths = pad([seqs[i] for i in idx])
            n = int((ids[:, 1:] != 0).sum())
            total += float(model(ids.to(device), lengths)) * n
            tokens += n
    model.train(was_training)
    return total / max(1, tokens)
