"""Word-level vocabulary over tweet tokens: build from corpora, encode, save and load as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from model.text import BOS, EOS, PAD, SPECIALS, UNK, tokenize


@dataclass
class Vocab:
    """Token ↔ id map; ids 0..len(SPECIALS)-1 are the special tokens, PAD is 0."""

    itos: list[str]
    max_tokens: int = 64
    stoi: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def pad_id(self) -> int:
        return self.stoi[PAD]

    @property
    def unk_id(self) -> int:
        return self.stoi[UNK]

    def encode(self, text: str, lm: bool = False) -> list[int]:
        """Ids of a text; LM sequences are framed by BOS/EOS, classifier ones start with BOS only."""
        unk, get = self.stoi[UNK], self.stoi.get
        ids = [get(t, unk) for t in tokenize(text, self.max_tokens)]
        head = [self.stoi[BOS]]
        return head + ids + [self.stoi[EOS]] if lm else head + ids

    def to_json(self) -> dict:
        return {"itos": self.itos, "max_tokens": self.max_tokens}

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict) -> Vocab:
        itos = data["itos"]
        if not isinstance(itos, list) or itos[: len(SPECIALS)] != list(SPECIALS):
            raise ValueError("vocabulary does not start with this tokenizer's special tokens")
        return cls(itos=itos, max_tokens=int(data.get("max_tokens", 64)))

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def build_vocab(
    texts: Iterable[str], max_size: int = 25000, min_count: int = 3, max_tokens: int = 64
) -> Vocab:
    """Most frequent tokens first (ties broken alphabetically, so the build is deterministic)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text, max_tokens))
    for special in SPECIALS:
        counts.pop(special, None)
    ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return Vocab(itos=list(SPECIALS) + ranked[: max(0, max_size - len(SPECIALS))], max_tokens=max_tokens)
