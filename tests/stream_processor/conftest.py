"""Fixtures for stream-processor tests: a migrated database on SQLite or the real Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sentimon.storage.db import make_engine, migrate


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, or a fresh database on the real Postgres."""
    url = (
        f"sqlite:///{tmp_path / 'sentimon.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped model when it is there; else a small model with fixed random weights saved through
    the model registry (bias-centred so all three labels occur), so the real inference code runs."""
    shipped = Path(__file__).resolve().parents[2] / "model" / "default"
    if (shipped / "card.json").exists():
        return shipped
    import torch

    from model.nets import NetConfig, SentimentNet
    from model.predict import batch_logits
    from model.registry import save_model
    from model.text import tokenize
    from model.vocab import SPECIALS, Vocab
    from stream_processor.embedded import demo

    texts = [t for group in (*demo._TEXTS.values(), demo._SPIKE, demo._NOISE) for t in group]
    words = sorted({w for t in texts for w in tokenize(t.lower(), 64)})
    vocab = Vocab(itos=[*SPECIALS, *words])
    torch.manual_seed(0)
    net = SentimentNet(NetConfig(vocab_size=len(vocab), emb_dim=16, hidden=24)).eval()
    with torch.no_grad():
        for name, param in net.named_parameters():
            if "embedding" in name or "head" in name:
                param.mul_(20)  # strong enough that the words, not the biases, decide
    temperature = 0.5
    bias = (-(batch_logits(net, vocab, texts) / temperature).mean(0)).tolist()
    calibration = {"temperature": temperature, "bias": bias, "decision": [0.0, 0.0, 0.0]}
    folder = tmp_path_factory.mktemp("model") / "random"
    save_model(folder, net, vocab, name="test-random", train={}, metrics={}, calibration=calibration)
    return folder


@pytest.fixture(scope="session")
def classifier(model_path: Path):  # type: ignore[no-untyped-def]
    """The same model the workers load, for computing what the aggregates must be."""
    from model.inference import load

    return load(model_path, threads=1)
