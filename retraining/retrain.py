"""One retraining run: fine-tune the live model on the accumulated labels (mixed with the base data),
evaluate old and new on the fixed validation set and the held-back labels, register, promote or keep."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine

from model.finetune import finetune
from model.gains import gains
from model.registry import read_card, update_card
from model.train import TrainConfig
from retraining import data as rd
from retraining.evaluate import Outputs, evaluate_pair
from retraining.gate import Comparison, Decision, decide
from retraining.promotion import ensure_live, promote_version
from retraining.vocab_grow import grow
from sentimon.settings import Settings
from sentimon.storage import labels, models
from sentimon.storage.db import make_engine

Say = Callable[[str], None]
RETRAIN_BASE = {
    "task": "clf",
    "epochs": 3,
    "distant_epochs": 0.0,
    "gradual_unfreeze": False,
    "patience": 2,
    "max_texts": 0,
}


@dataclass
class RetrainOptions:
    """Knobs of a run (the CLI fills them); None means: take it from the live model's card."""

    min_new_labels: int = 0
    force: bool = False  # a dashboard request: run even with fewer new labels
    tolerance: float = 0.01
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    threads: int | None = None
    seed: int = 0
    base_data: Path | None = None  # None: <repo>/../shared/data when it is there
    use_base: bool = True
    base_max: int = 10_000  # base training texts mixed in (0 = all of them)
    base_train: bool = True  # False: base data only in the tune set (early stopping, calibration)
    label_weight: int = 2  # each new label counts this many times against the base data
    validation: Path | None = None
    validation_format: str = "semeval"
    holdout: float = 0.2
    tune: float = 0.1
    grow_vocab: int = 2000  # new words added from the labels (0 = keep the vocabulary)
    grow_min_count: int = 2
    command: str = ""


@dataclass
class Outcome:
    """What a run did: promoted, kept (trained but not better), skipped (not due) or failed."""

    status: str
    reason: str
    version: str | None = None
    path: str | None = None
    parent: str | None = None
    metrics: dict = field(default_factory=dict)


@dataclass
class Plan:
    """What a run will train and judge on, decided before any training starts."""

    waiting: list[int]  # ids of the labels no model was trained on yet (marked used afterwards)
    n_posts: int
    slices: rd.Slices
    validation: rd.Labelled
    validation_name: str
    base_dir: Path | None  # None: no base data mixed in


def retrain_once(
    settings: Settings, options: RetrainOptions, engine: Engine | None = None, say: Say = print
) -> Outcome:
    """The whole run; nothing is promoted unless the gate says so, and the reason is recorded."""
    engine = engine or make_engine(settings.db_url)
    parent, parent_path = ensure_live(engine, settings.resolved_model_path)
    plan = make_plan(engine, options)
    if isinstance(plan, Outcome):
        return replace(plan, parent=parent)
    s = plan.slices
    say(
        f"retraining {parent} on {plan.n_posts} labelled posts ({len(plan.waiting)} new labels; train "
        f"{len(s.train)}, tune {len(s.tune)}, held back {len(s.holdout)})"
        + (f" + base data from {plan.base_dir}" if plan.base_dir else " (no base data)")
    )
    root = (Path(settings.data_dir) / "models").resolve()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".retrain-") as work:
        folder, data_card = train_candidate(parent_path, s, plan.base_dir, options, Path(work), say)
        version, final = _place(folder, root)
    if version is None:
        return Outcome("kept", f"the new weights equal the registered {final.name}", parent=parent)
    try:
        say(f"evaluating {parent} and {version}")
        decision, metrics = judge(parent, parent_path, final, plan, options, data_card, say)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)  # never leave an unregistered folder behind
        raise
    return _register(engine, settings, version, final, metrics, decision, plan.waiting, parent)


def make_plan(engine: Engine, options: RetrainOptions) -> Plan | Outcome:
    """Labels (newest per post) split into slices, the validation set and the base data; or why not."""
    with engine.connect() as conn:
        rows = labels.all_labels(conn)
    waiting = [r.id for r in rows if r.used_by_model is None]
    if not options.force and len(waiting) < max(1, options.min_new_labels):
        return Outcome("skipped", f"{len(waiting)} new labels, {options.min_new_labels} needed")
    latest = labels.latest_per_post(rows)
    if not latest:
        return Outcome("skipped", "no labels yet")
    base_dir = options.base_data or rd.default_base_dir()
    val = rd.validation_set(options.validation, options.validation_format, base_dir)
    if val is None:
        why = f"no validation set: pass --validation FILE or make the shared data available ({base_dir})"
        return Outcome("failed", why)
    keyed = [rd.LabelledText(f"{r.source}:{r.post_id}", r.text, r.label) for r in latest]
    slices = rd.split_labels(keyed, options.holdout, options.tune)
    use_base = options.use_base and rd.base_available(base_dir)
    return Plan(waiting, len(latest), slices, val[0], val[1], base_dir if use_base else None)


def judge(parent: str, parent_path: Path, final: Path, plan: Plan, options: RetrainOptions,
          data_card: dict, say: Say = print) -> tuple[Decision, dict]:  # fmt: skip
    """Old and new on the held-back labels and the validation set → the gate's decision, the metrics
    for model_versions, and the new model's card updated with both (and refitted quantification)."""
    serving = read_card(parent_path).get("serving")
    if serving:  # same architecture, same speed trade-off: served (and so judged) as the parent is
        update_card(final, serving=serving)
    sets = {"held-back labels": rd.as_labelled(plan.slices.holdout), "validation": plan.validation}
    results, outputs = evaluate_pair(parent_path, final, sets, options.threads)
    comparisons = [Comparison(k, v["n"], v["old"]["avgrec"], v["new"]["avgrec"]) for k, v in results.items()]
    decision = decide(comparisons, options.tolerance)
    metrics = _metrics(results, decision, parent, options, data_card, plan.validation_name, len(plan.waiting))
    _write_card(final, metrics, data_card)
    # ---- quantification refit: the single call site (held-back labels + validation, new model) ----
    _refit_quantification(final, outputs, say)
    return decision, metrics


def _refit_quantification(folder: Path, outputs: Outputs, say: Say) -> None:
    """Refit the new version's quantification correction statistics from its calibrated outputs on
    data it was not trained on (held-back labels + validation), so per-topic shares stay right
    across a promotion. The two are two collections: how far the model's errors on the deployment's
    own posts differ from those on validation widens every interval."""
    # Looked up at each run, so that a test can stand in for the statistics.
    from model.quantstats import fit_correction, write_quantification

    try:
        stats = fit_correction(
            outputs.probs, outputs.preds, outputs.labels,
            source="retrain: held-back labels + validation", groups=outputs.groups,
        )  # fmt: skip
    except ValueError as exc:  # e.g. a class without any labelled example: no correction is better
        say(f"quantification statistics not refitted: {exc}")
        return
    write_quantification(folder, stats)


def train_candidate(
    parent: Path, slices: rd.Slices, base_dir: Path | None, options: RetrainOptions, work: Path, say: Say
) -> tuple[Path, dict]:
    """Write the mixed training and tune sets, grow the vocabulary, fine-tune from ``parent``."""
    empty: rd.Labelled = ([], [])
    base = (
        rd.base_train(base_dir, options.base_max, options.seed) if base_dir and options.base_train else empty
    )
    train = rd.mix(base, rd.as_labelled(slices.train), repeat_last=max(1, options.label_weight))
    tune = rd.mix(rd.base_tune(base_dir) if base_dir else empty, rd.as_labelled(slices.tune))
    tune_note = "2016dev + tune labels" if base_dir else "tune labels"
    if not tune[0]:  # too few labels for a tune slice and no base data: stop early on the training labels
        tune, tune_note = rd.as_labelled(slices.train), "training labels (too few labels for a tune slice)"
    rd.write_jsonl(work / "train.jsonl", train)
    rd.write_jsonl(work / "tune.jsonl", tune)
    start, added = parent, list[str]()
    if options.grow_vocab > 0:
        texts = [r.text for r in slices.train + slices.tune]
        start, added = grow(parent, work / "grown", texts, options.grow_min_count, options.grow_vocab)
        if added:
            say(f"vocabulary grown by {len(added)} words from the labels (e.g. {', '.join(added[:8])})")
    cfg = _config(read_card(parent), start, work, options)
    say(f"fine-tuning for up to {cfg.epochs} epochs on {len(train[0])} texts (tune on {len(tune[0])})")
    folder = finetune(cfg, command=options.command)
    data_card = {
        "parent_model": str(parent),
        "train": rd.counts(train[1]),
        "tune": rd.counts(tune[1]),
        "tune_from": tune_note,
        "base_texts": len(base[0]),
        "label_weight": options.label_weight,
        "labels": {"train": len(slices.train), "tune": len(slices.tune), "held_back": len(slices.holdout)},
        "new_words": added[:200],
        "n_new_words": len(added),
    }
    return folder, data_card


def _config(card: dict, start: Path, work: Path, options: RetrainOptions) -> TrainConfig:
    """The live model's own training settings, started from it, with the retraining overrides."""
    base = {**card.get("hyperparameters", {}).get("train", {}), **RETRAIN_BASE}
    overrides = {
        "init_from": str(start),
        "out": str(work / "model"),
        "train_data": str(work / "train.jsonl"),
        "val_data": str(work / "tune.jsonl"),
        "data_format": "jsonl",
        "seed": options.seed,
        "epochs": options.epochs,
        "lr": options.lr,
        "batch_size": options.batch_size,
        "threads": options.threads,
    }
    return TrainConfig.with_overrides(base, **overrides)


def _place(folder: Path, root: Path) -> tuple[str | None, Path]:
    """Move the trained folder to <root>/<version>; (None, existing) when that version already exists."""
    version = read_card(folder)["version"]
    final = root / version
    if final.exists():
        return None, final
    os.replace(folder, final)
    return version, final


def _metrics(
    results: dict,
    decision: Decision,
    parent: str,
    options: RetrainOptions,
    data_card: dict,
    val_name: str,
    new_labels: int,
) -> dict:
    val_new = results["validation"]["new"]
    return {
        "kind": "retrain",
        "avg_recall": val_new["avgrec"],
        "f1_pn": val_new["f1pn"],
        "accuracy": val_new["acc"],
        "parent": parent,
        "validation_set": val_name,
        "evaluation": results,
        "gain": gains(results),
        "tolerance": options.tolerance,
        "promoted": decision.promote,
        "new_labels": new_labels,
        "labels": data_card["labels"],
    }


def _write_card(folder: Path, metrics: dict, data_card: dict) -> None:
    """Both models' figures and the retraining facts in the new card (its reproduce list already
    ends with this run's command: fine-tuning wrote it)."""
    sections = {f"{name} (parent)": r["old"] for name, r in metrics["evaluation"].items() if r["n"]}
    sections.update({f"{name} (this model)": r["new"] for name, r in metrics["evaluation"].items() if r["n"]})
    update_card(folder, metrics=sections, data={"retrain": data_card}, retrain=metrics)


def _register(
    engine: Engine,
    settings: Settings,
    version: str,
    folder: Path,
    metrics: dict,
    decision: Decision,
    used: list[int],
    parent: str,
) -> Outcome:
    """model_versions row (candidate), labels marked as used, then promotion or rejection."""
    with engine.begin() as conn:
        models.register_version(conn, version, str(folder), metrics, note=decision.reason)
        labels.mark_used(conn, version, used)
    if decision.promote:
        promote_version(engine, version, settings.redis_url)
        return Outcome("promoted", decision.reason, version, str(folder), parent, metrics)
    with engine.begin() as conn:
        models.set_status(conn, version, "rejected")
    return Outcome("kept", decision.reason, version, str(folder), parent, metrics)
