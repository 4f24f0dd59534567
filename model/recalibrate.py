"""Refit a classifier's calibration on validation data without touching its weights."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from model.data import SEMEVAL_DIR, VAL_FILES, read_labelled, read_semeval
from model.quantstats import fit_correction, write_quantification
from model.registry import load_model, sha256, write_card
from model.train import calibrate_and_score
from sentimon.sentiment import LABELS


def recalibrate(folder: Path, data_dir: Path, val_data: Path | None = None, fmt: str = "semeval") -> dict:
    """Fit temperature, bias and decision offsets again (e.g. after the decision rule changed) and
    rewrite config.json and the card. Scores on other splits no longer describe the model, so they
    are dropped from the card; record them again with `sentimon model eval --record`."""
    folder = Path(folder)
    model, vocab, config, card = load_model(folder, task="clf")
    if val_data:
        texts, labels = read_labelled(val_data, fmt)
        groups = [str(val_data)] * len(texts)
    else:  # dev and devtest: two samplings, two collections
        texts, labels, groups = _collections(data_dir, VAL_FILES)
    calibration, metrics = calibrate_and_score(model, vocab, texts, labels)
    config["calibration"] = calibration
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    card["calibration"] = calibration
    card["metrics"] = {k: v for k, v in card["metrics"].items() if not isinstance(v, dict)}
    card["metrics"]["val"] = metrics
    card["files"]["config.json"] = sha256(folder / "config.json")
    write_card(folder, card)
    source = "validation (dev+devtest)" if not val_data else str(val_data)
    held = ((card.get("data") or {}).get("distilled_from") or {}).get("held_out") or []
    if held:  # training files the student never learnt from: more out-of-sample data, other years
        more_texts, more_labels, more_groups = _collections(data_dir, held)
        texts, labels, groups = texts + more_texts, labels + more_labels, groups + more_groups
        source += " + held-out " + ", ".join(name.removesuffix(".tsv") for name in held)
    stats = refit_quantification(folder, texts, labels, source, groups)
    return {"calibration": calibration, "val": metrics, "quantification": stats}


def _collections(data_dir: Path, names: Sequence[str]) -> tuple[list[str], list[int], list[str]]:
    """The texts and labels of SemEval files, and each one's file (its collection), in file order."""
    texts: list[str] = []
    labels: list[int] = []
    groups: list[str] = []
    for name in names:
        t, y = read_semeval(Path(data_dir) / SEMEVAL_DIR / name)
        texts, labels, groups = texts + t, labels + y, groups + [name.removesuffix(".tsv")] * len(t)
    return texts, labels, groups


def refit_quantification(
    folder: Path, texts: list[str], labels: list[int], source: str, groups: list[str] | None = None
) -> dict:
    """Fit the correction statistics of per-topic shares on labelled texts the model was not trained
    on, scored exactly as served (int8 on CPU when the card says so), and store them in the folder.
    `groups` names each text's collection (see `fit_correction`)."""
    from model.inference import load

    clf = load(folder)
    out = clf.classify(texts)
    stats = fit_correction(
        [p for _, p in out], [LABELS.index(label) for label, _ in out], labels, source=source, groups=groups
    )
    write_quantification(folder, stats)
    return stats
