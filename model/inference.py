"""The serving API every other part uses: ``load(path) -> ServedModel``, ``ServedModel.classify(texts)``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from model import nets
from model.calibrate import calibrated
from model.predict import batch_logits
from model.registry import DEFAULT_PATH, ModelError, load_model
from model.vocab import Vocab
from sentimon.sentiment import LABELS

Prediction = tuple[str, tuple[float, float, float]]


@dataclass
class ServedModel:
    """A loaded classifier: batched, length-sorted, packed inference with calibrated probabilities."""

    net: nets.SentimentNet
    vocab: Vocab
    calibration: dict
    version: str
    device: str = "cpu"
    batch_size: int = 512
    path: Path | None = None
    card: dict = field(default_factory=dict, repr=False)
    quantification: dict | None = field(default=None, repr=False)  # see model/quantstats.py

    def logits(self, texts: Sequence[object], progress: Callable[[int], None] | None = None) -> torch.Tensor:
        clean = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
        return batch_logits(self.net, self.vocab, clean, self.batch_size, self.device, progress)

    def classify(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> list[Prediction]:
        """(label, (p_negative, p_neutral, p_positive)) per text, in input order; ``progress(n)``
        after each batch of n texts."""
        if not texts:
            return []
        cal = self.calibration
        logits = self.logits(texts, progress)
        probs, pred = calibrated(logits, cal["temperature"], cal["bias"], cal["decision"])
        rows = probs.tolist()
        return [(LABELS[p], (r[0], r[1], r[2])) for p, r in zip(pred.tolist(), rows, strict=True)]


def _settings():
    try:
        from sentimon.settings import get_settings

        return get_settings()
    except Exception:  # the core package is optional for the model: fall back to defaults
        return None


def resolve_path(path: str | Path | None) -> Path:
    """Explicit path, else settings.model_path, else the shipped ``model/default``."""
    if path:
        return Path(path)
    settings = _settings()
    configured = getattr(settings, "model_path", None) if settings else None
    return Path(configured) if configured else DEFAULT_PATH


def _threads(threads: int | None) -> None:
    if threads is None:
        settings = _settings()
        threads = getattr(settings, "torch_threads", None) if settings else None
    if threads is None and os.environ.get("SENTIMON_TORCH_THREADS"):
        threads = int(os.environ["SENTIMON_TORCH_THREADS"])
    if threads:
        torch.set_num_threads(int(threads))


def quantize(net: nets.SentimentNet) -> nets.SentimentNet:
    """Dynamic int8 quantisation of the LSTM/GRU and linear layers (CPU only)."""
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # torch marks the quantize_* creation functions deprecated; still the API
        warnings.simplefilter("ignore")
        return quantize_dynamic(net, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear}, dtype=torch.qint8)


def load(
    path: str | Path | None = None,
    device: str | None = None,
    threads: int | None = None,
    int8: bool | None = None,
    batch_size: int = 512,
) -> ServedModel:
    """Load a classifier folder; raises ``ModelError`` for a missing, corrupt or incompatible one.

    ``int8=None`` follows the model card's serving choice (measured when the model was shipped)."""
    folder = resolve_path(path)
    net, vocab, config, card = load_model(folder, task="clf")
    if not config.get("calibration"):
        raise ModelError(f"{folder}: classifier has no calibration in config.json")
    _threads(threads)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if int8 is None:
        int8 = bool(card.get("serving", {}).get("cpu_int8", False))
    if device == "cpu" and int8:
        net = quantize(net)
    net = net.to(device).eval()
    return ServedModel(
        net=net,
        vocab=vocab,
        calibration=config["calibration"],
        version=card["version"],
        device=device,
        batch_size=batch_size,
        path=folder,
        card=card,
        quantification=config.get("quantification"),
    )
