"""``sentimon model …``: pretrain, finetune, eval (heavy imports stay inside the commands)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from model.teacher_cli import app as teacher_app

if TYPE_CHECKING:
    from rich.progress import Progress

    from model.train import TrainConfig
    from retraining.serving import Choice

app = typer.Typer(help="Train, fine-tune and evaluate the RNN sentiment model.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """RNN sentiment model: pretrain → finetune → eval."""


SET_HELP = "Extra training setting KEY=VALUE (repeatable), e.g. --set weight_dropout=0.2"
MODEL_HELP = "Model folder (default: the registry's live version, else the configured or shipped model)"
VAL_HELP = "Labelled file/folder instead of SemEval 2016 dev+devtest"


def _overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _config(base: dict, options: dict, sets: list[str]) -> TrainConfig:
    from model.train import TrainConfig

    try:
        return TrainConfig.with_overrides(base, **{**options, **_overrides(sets)})
    except (TypeError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command()
def pretrain(
    out: Path = typer.Option(Path("var/models/lm"), help="Model folder to write"),
    data_dir: Path | None = typer.Option(None, help="Shared data folder (default ../shared/data)"),
    epochs: int = typer.Option(2),
    batch_size: int = typer.Option(128),
    lr: float = typer.Option(3e-3),
    vocab_size: int = typer.Option(25000),
    emb_dim: int = typer.Option(256),
    hidden: int = typer.Option(256),
    layers: int = typer.Option(1),
    cell: str = typer.Option("lstm", help="lstm or gru"),
    seed: int = typer.Option(0),
    threads: int = typer.Option(2, help="CPU threads for torch"),
    max_texts: int = typer.Option(0, help="Use only this many texts (0 = all)"),
    init_from: Path | None = typer.Option(None, help="Continue from an LM folder"),
    forum: bool = typer.Option(False, help="Read the unlabelled forum comments (unlabeled-forum/) too"),
    from_db: bool = typer.Option(
        False, help="Train on the posts the monitor has stored instead (domain-adaptive; needs --init-from)"
    ),
    since: datetime | None = typer.Option(None, help="With --from-db: posts created at or after this (ISO)"),
    until: datetime | None = typer.Option(None, help="With --from-db: posts created before this (ISO)"),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
) -> None:
    """Pretrain the RNN language model on unlabelled tweets + sentiment140 + SemEval training texts
    (+ forum comments), or continue one on the monitor's stored posts."""
    from model.registry import ModelError
    from model.train import pretrain as run

    base = {
        "task": "lm",
        "lr_decay": 1.0,
        "gradual_unfreeze": False,
        "class_weights": False,
        "patience": 99,
        "emb_dropout": 0.02,
        "input_dropout": 0.1,
        "weight_dropout": 0.1,
        "output_dropout": 0.1,
        "half": False,
    }
    options = {
        "out": str(out),
        "data_dir": str(data_dir) if data_dir else None,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "vocab_size": vocab_size,
        "emb_dim": emb_dim,
        "hidden": hidden,
        "layers": layers,
        "cell": cell,
        "seed": seed,
        "threads": threads,
        "max_texts": max_texts,
        "init_from": str(init_from) if init_from else None,
        "forum": forum,
    }
    if from_db and init_from is None:
        raise typer.BadParameter("--from-db continues a language model: give it one with --init-from")
    texts, sources = _stored_texts(since, until, max_texts) if from_db else (None, None)
    try:  # a missing, corrupt or unsuitable start: say why, no traceback
        folder = run(_config(base, options, set_), command=_command(), texts=texts, sources=sources)
    except ModelError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"language model saved to {folder}")


def _stored_texts(since: datetime | None, until: datetime | None, limit: int) -> tuple[list[str], list[str]]:
    from retraining.data import stored_corpus
    from sentimon.settings import get_settings

    try:
        texts, span = stored_corpus(get_settings().db_url, since, until, limit or None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"{len(texts)} distinct stored posts from {span}")
    return texts, [f"stored posts ({span})"]


def _command() -> str:
    import shlex
    import sys

    args = sys.argv[1:]
    if args[:1] == ["model"]:  # `sentimon model …` rather than `python -m model.cli …`
        args = args[1:]
    return "sentimon model " + shlex.join(args)


CLF_BASE = {
    "task": "clf",
    "epochs": 6,
    "lr": 2e-3,
    "batch_size": 64,
    "emb_dropout": 0.05,
    "input_dropout": 0.25,
    "weight_dropout": 0.3,
    "output_dropout": 0.4,
    "patience": 2,
    "half": True,
}


@app.command()
def finetune(
    init_from: Path | None = typer.Option(None, help="LM folder (encoder reused) or classifier folder"),
    out: Path = typer.Option(Path("var/models/clf"), help="Model folder to write"),
    data_dir: Path | None = typer.Option(None, help="Shared data folder (default ../shared/data)"),
    train_data: Path | None = typer.Option(
        None, help="Labelled file/folder instead of the SemEval training split"
    ),
    val_data: Path | None = typer.Option(None, help=VAL_HELP),
    fmt: str = typer.Option("semeval", "--format", help="semeval, csv or jsonl (--train-data/--val-data)"),
    epochs: int | None = typer.Option(None),
    batch_size: int | None = typer.Option(None),
    lr: float | None = typer.Option(None),
    distant_epochs: float | None = typer.Option(
        None, help="Epochs of sentiment140 distant supervision first"
    ),
    name: str | None = typer.Option(None, help="Model name used in the version string"),
    seed: int | None = typer.Option(None),
    threads: int | None = typer.Option(None, help="CPU threads for torch"),
    max_texts: int | None = typer.Option(None, help="Use only this many training texts (0 = all)"),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
) -> None:
    """Fine-tune the classifier from a checkpoint (same loop as pretraining, other settings)."""
    from model.finetune import finetune as run
    from model.registry import ModelError, read_card

    base = dict(CLF_BASE)
    if init_from:
        try:
            card = read_card(init_from)
        except ModelError as exc:
            raise typer.BadParameter(str(exc)) from exc
        if card.get("task") == "clf":  # continue a classifier with its own settings
            base = {**card.get("hyperparameters", {}).get("train", {}), "epochs": 2, "distant_epochs": 0.0}
    options = {
        "init_from": str(init_from) if init_from else None,
        "out": str(out),
        "data_dir": str(data_dir) if data_dir else None,
        "train_data": str(train_data) if train_data else None,
        "val_data": str(val_data) if val_data else None,
        "data_format": fmt,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "distant_epochs": distant_epochs,
        "name": name,
        "seed": seed,
        "threads": threads,
        "max_texts": max_texts,
    }
    folder = run(_config(base, options, set_), command=_command())
    typer.echo(f"classifier saved to {folder}")


def _progress(what: str) -> Progress:
    """A rich progress bar on stderr (stdout stays clean for --json)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _chosen(model_path: Path | None) -> Choice:
    """The model to use (explicit, else the serving one) and a line on stderr saying which and why."""
    from retraining.serving import choose

    choice = choose(model_path)
    typer.echo(f"model: {choice.path} ({choice.why})", err=True)
    return choice


@app.command("eval")
def eval_(
    data: Path = typer.Option(..., help="Labelled file or folder"),
    fmt: str | None = typer.Option(
        None, "--format", help="semeval, csv or jsonl (default: from the extension; a folder is semeval)"
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object"),
    predictions: Path | None = typer.Option(None, help="Write per-text predictions (JSONL) here"),
    model_path: Path | None = typer.Option(None, "--model", help=MODEL_HELP),
    confusion_png: Path | None = typer.Option(None, help="Write the confusion matrix as PNG here"),
    record: str | None = typer.Option(None, help="Store the metrics in the model card under this split name"),
    threads: int | None = typer.Option(None, help="CPU threads for torch"),
    int8: bool | None = typer.Option(
        None, "--int8/--fp32", help="Force dynamic int8 quantisation on or off (CPU)"
    ),
) -> None:
    """AvgRec, F1^PN, accuracy, per-class P/R/F1 and the confusion matrix of a model on labelled data."""
    from model.data import DataError
    from model.evaluate import evaluate, summary_lines, write_predictions
    from model.inference import load
    from model.registry import ModelError, update_card

    try:
        clf = load(_chosen(model_path).path, threads=threads, int8=int8)
        with _progress(f"classifying {Path(data).name}") as bar:
            task = bar.add_task("classify", total=None)
            metrics, rows = evaluate(
                clf, data, fmt, lambda done, n: bar.update(task, completed=done, total=n)
            )
    except (ModelError, DataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if predictions:
        write_predictions(rows, predictions)
    if confusion_png:
        from model.curves import save_confusion_png

        save_confusion_png(metrics["confusion"], confusion_png, f"{clf.version} · {Path(data).name}")
    if record:
        assert clf.path is not None, "load() keeps the folder it read"
        update_card(clf.path, metrics={record: {k: v for k, v in metrics.items() if k != "seconds"}})
    typer.echo(json.dumps(metrics) if json_out else "\n".join(summary_lines(metrics)))


@app.command()
def calibrate(
    model_path: Path = typer.Option(..., "--model", help="Classifier folder to re-calibrate in place"),
    data_dir: Path | None = typer.Option(None, help="Shared data folder (default ../shared/data)"),
    val_data: Path | None = typer.Option(None, help=VAL_HELP),
    fmt: str = typer.Option("semeval", "--format", help="semeval, csv or jsonl"),
) -> None:
    """Refit temperature, bias and decision offsets on validation data; weights stay as they are."""
    from model.data import DEFAULT_DATA_DIR, DataError
    from model.recalibrate import recalibrate
    from model.registry import ModelError

    try:
        out = recalibrate(model_path, data_dir or DEFAULT_DATA_DIR, val_data, fmt)
    except (ModelError, DataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    val = out["val"]
    typer.echo(f"calibration: {json.dumps(out['calibration'])}")
    typer.echo(f"validation: AvgRec {val['avgrec']:.4f}  F1^PN {val['f1pn']:.4f}  acc {val['acc']:.4f}")


@app.command()
def bench(
    n: int = typer.Option(20000, help="Number of texts"),
    json_out: bool = typer.Option(False, "--json"),
    model_path: Path | None = typer.Option(None, "--model", help=MODEL_HELP),
    threads: int | None = typer.Option(None, help="CPU threads for torch"),
    int8: bool | None = typer.Option(None, "--int8/--fp32", help="Force dynamic int8 quantisation on or off"),
    record: bool = typer.Option(False, help="Store the figures in the model card (speed section)"),
) -> None:
    """Tweets/s of a model on CPU next to VADER (same texts, same run)."""
    from bench.classify import bench_classify
    from model.registry import update_card

    path = _chosen(model_path).path
    result = bench_classify(json_out, n, str(path), threads, int8)
    if record:
        key = "cpu_int8" if result["int8"] else "cpu_fp32"
        card = update_card(path, speed={key: result})
        fastest = max(card["speed"], key=lambda k: card["speed"][k].get("model_tps", 0))
        update_card(path, serving={"cpu_int8": fastest == "cpu_int8"})


@app.command()
def distill(
    teacher: list[Path] = typer.Option(
        ...,
        help="Classifier or transformer-teacher folder(s) to imitate (repeat: ensemble; one RNN at least)",
    ),
    init_from: Path | None = typer.Option(None, help="Start the student from this classifier/LM"),
    out: Path = typer.Option(Path("var/models/student"), help="Model folder to write"),
    data_dir: Path | None = typer.Option(None, help="Shared data folder (default ../shared/data)"),
    hidden: int = typer.Option(128, help="Student RNN hidden size"),
    epochs: int = typer.Option(2),
    unlabelled: int = typer.Option(100_000, help="Unlabelled tweets added to the SemEval training texts"),
    forum: int = typer.Option(0, help="Unlabelled forum comments (unlabeled-forum/) added as well"),
    lr: float = typer.Option(3e-3),
    name: str = typer.Option("sentimon-lstm-student"),
    seed: int = typer.Option(0),
    threads: int = typer.Option(2, help="CPU threads for torch"),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
) -> None:
    """Distil one teacher (or an averaged ensemble) into a student: smaller for speed, or same size."""
    from model.distill import distill as run

    base = {
        **CLF_BASE,
        "lr_decay": 1.0,
        "gradual_unfreeze": False,
        "class_weights": False,
        "emb_dropout": 0.02,
        "input_dropout": 0.1,
        "weight_dropout": 0.1,
        "output_dropout": 0.1,
    }
    options = {
        "out": str(out),
        "data_dir": str(data_dir) if data_dir else None,
        "hidden": hidden,
        "epochs": epochs,
        "lr": lr,
        "name": name,
        "seed": seed,
        "threads": threads,
        "batch_size": 128,
        "init_from": str(init_from) if init_from else None,
    }
    folder = run(_config(base, options, set_), teacher, unlabelled, command=_command(), n_forum=forum)
    typer.echo(f"student saved to {folder}")


@app.command("list")
def list_(
    root: Path | None = typer.Option(
        None, help="Folder of model folders to list too (default <data_dir>/models)"
    ),
) -> None:
    """Every model: the registry's versions, the shipped default and model folders, with status,
    AvgRec from each card, and which one serves now (what eval and bench use by default)."""
    from rich.console import Console
    from rich.table import Table

    from retraining.serving import choose, overview

    table = Table("", "version", "status", "AvgRec", "path")
    for row in overview(root):
        table.add_row(
            "▶" if row["serving"] else "", row["version"], row["status"], row["avgrec"], row["path"]
        )
    out = Console(width=220)
    out.print(table)
    out.print(f"▶ serving now: {choose().why}", markup=False, highlight=False)


app.add_typer(teacher_app, name="teacher")

if __name__ == "__main__":
    app()
