"""Model registry: one versioned folder per model (weights, vocab, config, model card JSON + Markdown,
sha256 hashes); save, load (refusing corrupt or incompatible folders), list, update the card."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Literal, overload

import torch

from model.card import render_markdown
from model.nets import LanguageModel, NetConfig, SentimentNet
from model.vocab import Vocab
from sentimon.sentiment import LABELS

FORMAT = 1
DEFAULT_PATH = Path(__file__).resolve().parent / "default"
HASHED = ("weights.pt", "vocab.json", "config.json")


class ModelError(Exception):
    """A model folder is missing, corrupt or incompatible; the message says which and why."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_model(
    folder: Path,
    model: SentimentNet | LanguageModel,
    vocab: Vocab,
    *,
    name: str,
    train: dict,
    metrics: dict,
    calibration: dict | None = None,
    data: dict | None = None,
    reproduce: list[str] | None = None,
    half: bool = False,
) -> str:
    """Write a complete model folder and return its version string (name-date-hash)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    task = "lm" if isinstance(model, LanguageModel) else "clf"
    state = {
        k: (v.half() if half and v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
    }
    torch.save(state, folder / "weights.pt")
    vocab.save(folder / "vocab.json")
    config = {
        "format": FORMAT,
        "task": task,
        "net": model.cfg.to_dict(),
        "calibration": calibration,
        "labels": list(LABELS),
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    hashes = {f: sha256(folder / f) for f in HASHED}
    version = f"{name}-{time.strftime('%Y%m%d')}-{hashes['weights.pt'][:8]}"
    n_params = sum(p.numel() for p in model.parameters())
    card = {
        "name": name,
        "version": version,
        "task": task,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "parameters": n_params,
        "vocab_size": len(vocab),
        "weights_dtype": "float16" if half else "float32",
        "size_bytes": sum((folder / f).stat().st_size for f in HASHED),
        "data": data or {},
        "hyperparameters": {"net": model.cfg.to_dict(), "train": train},
        "metrics": metrics,
        "speed": {},
        "calibration": calibration,
        "files": hashes,
        "reproduce": reproduce or [],
    }
    write_card(folder, card)
    return version


def write_card(folder: Path, card: dict) -> None:
    (Path(folder) / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False))
    (Path(folder) / "card.md").write_text(render_markdown(card), encoding="utf-8")


def read_card(folder: Path) -> dict:
    path = Path(folder) / "card.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{folder}: unreadable model card card.json ({exc})") from exc


def update_card(folder: Path, **sections: dict) -> dict:
    """Merge sections (e.g. metrics={'benchmark': …}, speed={…}) into the card; weights untouched."""
    card = read_card(folder)
    for key, value in sections.items():
        if isinstance(card.get(key), dict) and isinstance(value, dict):
            card[key].update(value)
        else:
            card[key] = value
    write_card(folder, card)
    return card


def verify(folder: Path) -> tuple[dict, dict]:
    """Check presence, hashes and format; return (config, card) or raise ModelError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder")
    card = read_card(folder)
    for name in HASHED:
        path = folder / name
        if not path.is_file():
            raise ModelError(f"{folder}: missing {name}")
        expected = card.get("files", {}).get(name)
        if expected != sha256(path):
            raise ModelError(f"{folder}: {name} does not match the sha256 in card.json (corrupt or edited)")
    try:
        config = json.loads((folder / "config.json").read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{folder}: config.json is not JSON ({exc})") from exc
    if config.get("format") != FORMAT:
        raise ModelError(f"{folder}: model format {config.get('format')!r}, this code reads {FORMAT}")
    if config.get("task") not in ("lm", "clf"):
        raise ModelError(f"{folder}: unknown task {config.get('task')!r}")
    return config, card


@overload
def load_model(folder: Path, task: Literal["clf"]) -> tuple[SentimentNet, Vocab, dict, dict]: ...
@overload
def load_model(folder: Path, task: Literal["lm"]) -> tuple[LanguageModel, Vocab, dict, dict]: ...
@overload
def load_model(folder: Path, task: None = None) -> tuple[SentimentNet | LanguageModel, Vocab, dict, dict]: ...


def load_model(
    folder: Path, task: str | None = None
) -> tuple[SentimentNet | LanguageModel, Vocab, dict, dict]:
    """Rebuild (model in eval mode, vocab, config, card) from a folder, verifying everything."""
    folder = Path(folder)
    config, card = verify(folder)
    if task and config["task"] != task:
        raise ModelError(f"{folder}: holds a {config['task']} model, a {task} model is needed")
    try:
        vocab = Vocab.load(folder / "vocab.json")
        cfg = NetConfig.from_dict(config["net"])
        if cfg.vocab_size != len(vocab):
            raise ValueError(f"net expects {cfg.vocab_size} tokens, vocab has {len(vocab)}")
        model = (LanguageModel if config["task"] == "lm" else SentimentNet)(cfg)
        state = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise ModelError(f"{folder}: incompatible model ({exc})") from exc
    return model.eval(), vocab, config, card


def list_models(root: Path) -> list[dict]:
    """Cards of the model folders directly under root (newest first); broken ones are flagged."""
    out = []
    for sub in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        if (sub / "card.json").exists():
            try:
                card = read_card(sub)
                out.append(
                    {
                        "path": str(sub),
                        "version": card.get("version"),
                        "task": card.get("task"),
                        "created": card.get("created", ""),
                        "metrics": card.get("metrics", {}),
                    }
                )
            except ModelError as exc:
                out.append({"path": str(sub), "error": str(exc), "created": ""})
    return sorted(out, key=lambda r: r["created"], reverse=True)
