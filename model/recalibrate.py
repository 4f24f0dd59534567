"""Refit a classifier's calibration on validation data without touching its weights."""

from __future__ import annotations

import json
from pathlib import Path

from model.data import read_labelled, semeval_split
from model.registry import load_model, sha256, write_card
from model.train import calibrate_and_score


def recalibrate(folder: Path, data_dir: Path, val_data: Path | None = None, fmt: str = "semeval") -> dict:
    """Fit temperature, bias and decision offsets again (e.g. after the decision rule changed) and
    rewrite config.json and the card. Scores on other splits no longer describe the model, so they
    are dropped from the card; record them again with `sentimon model eval --record`."""
    folder = Path(folder)
    model, vocab, config, card = load_model(folder, task="clf")
    texts, labels = read_labelled(val_data, fmt) if val_data else semeval_split(data_dir, "val")
    calibration, metrics = calibrate_and_score(model, vocab, texts, labels)
    config["calibration"] = calibration
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    card["calibration"] = calibration
    card["metrics"] = {k: v for k, v in card["metrics"].items() if not isinstance(v, dict)}
    card["metrics"]["val"] = metrics
    card["files"]["config.json"] = sha256(folder / "config.json")
    write_card(folder, card)
    return {"calibration": calibration, "val": metrics}
