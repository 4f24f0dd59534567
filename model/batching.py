"""Turn texts into padded id tensors, grouped by length so little work is spent on padding."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import torch

from model.vocab import Vocab


def encode_all(vocab: Vocab, texts: Sequence[str], lm: bool = False) -> list[list[int]]:
    return [vocab.encode(t, lm=lm) for t in texts]


def pad(seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad with 0 → (ids B×T long, lengths B long); every sequence has length ≥ 1."""
    lengths = torch.tensor([max(1, len(s)) for s in seqs], dtype=torch.long)
    ids = torch.zeros(len(seqs), int(lengths.max()) if len(seqs) else 1, dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, lengths


def length_batches(
    lengths: Sequence[int], batch_size: int, shuffle: bool = False, rng: random.Random | None = None
) -> Iterator[list[int]]:
    """Index batches of similar length. With shuffle, lengths are bucketed in chunks of 50 batches and
    the batch order is shuffled, so training still sees random batches."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    if not shuffle:
        for start in range(0, len(order), batch_size):
            yield order[start : start + batch_size]
        return
    rng = rng or random.Random(0)
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(idx), chunk):
        part = sorted(idx[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[s : s + batch_size] for s in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    yield from batches
