"""`sentimon labels …`, `sentimon models …` and `sentimon retrain`. Storage (Alembic, SQLAlchemy) and
torch load inside the commands, so that `sentimon --help` stays quick."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from sentimon.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from retraining.retrain import RetrainOptions

labels_app = typer.Typer(help="Human labels for retraining: import and export.", no_args_is_help=True)
models_app = typer.Typer(help="Registered model versions: list, promote, roll back.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


def _engine() -> tuple[Settings, Engine]:
    from sentimon.storage.db import make_engine, migrate

    settings = get_settings()
    migrate(settings.db_url)
    return settings, make_engine(settings.db_url)


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/] {message}", markup=True, highlight=False)
    return typer.Exit(code)


@labels_app.command("import")
def labels_import(
    file: Path = typer.Argument(
        ..., help="Labelled file: CSV (text,label[,source,post_id]), JSONL or SemEval TSV"
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="csv, jsonl or semeval (default: from the file name)"
    ),
    by: str = typer.Option("import", "--by", help="Who gave these labels (recorded with each label)"),
) -> None:
    """Add the labels of a file to the label store (importing the same file again changes nothing)."""
    from model.data import DataError
    from retraining.labels_io import read_label_file
    from sentimon.storage import labels

    try:
        rows = read_label_file(file, fmt)
    except DataError as exc:
        raise _fail(str(exc)) from exc
    _, engine = _engine()
    with engine.begin() as conn:
        added, changed, same = labels.import_labels(conn, [r.as_tuple() for r in rows], by, origin="import")
        waiting = labels.waiting_count(conn)
    console.print(
        f"[green]{len(rows)} labels read[/]: {added} added, {changed} changed, {same} unchanged; "
        f"{waiting} waiting for the next retraining"
    )


@labels_app.command("export")
def labels_export(
    out: Path | None = typer.Option(None, "--out", help="File to write (default: standard output)"),
    fmt: str | None = typer.Option(None, "--format", help="jsonl or csv (default: from --out, else jsonl)"),
    latest: bool = typer.Option(
        False, "--latest", help="Only the newest label of each post (what training uses)"
    ),
) -> None:
    """Write every label (who, when, origin, which model used it) as JSONL or CSV."""
    from retraining.labels_io import export_record, write_labels
    from sentimon.storage import labels

    fmt = fmt or ("csv" if out is not None and out.suffix.lower() == ".csv" else "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise _fail(f"--format must be jsonl or csv, not {fmt!r}")
    _, engine = _engine()
    with engine.connect() as conn:
        rows = labels.all_labels(conn)
    if latest:
        rows = labels.latest_per_post(rows)
    records = (export_record(r) for r in rows)
    if out is None:
        n = write_labels(records, sys.stdout, fmt)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8", newline="") as fh:
            n = write_labels(records, fh, fmt)
    console.print(f"{n} labels exported" + (f" to {out}" if out else ""))


@models_app.command("list")
def models_list(
    requests: bool = typer.Option(False, "--requests", help="Also show retraining requests"),
) -> None:
    """Registered versions, newest first: status, validation AvgRec, what each retraining's labels
    bought (parent → new AvgRec on the held-back labels and the validation set), and why."""
    from rich.table import Table

    from model.gains import one_line
    from sentimon.storage import models

    _, engine = _engine()
    with engine.connect() as conn:
        rows = models.list_versions(conn, include_requests=requests)
    table = Table(
        "version", "status", "AvgRec", "what the labels bought (AvgRec)", "created", "promoted", "note"
    )
    for v in rows:
        avgrec = v.metrics.get("avg_recall")
        evaluation = v.metrics.get("evaluation")
        bought = (
            f"{v.metrics.get('new_labels', 0)} new labels:\n{one_line(evaluation, sep=chr(10))}"
            if evaluation
            else ""
        )
        table.add_row(
            v.version,
            v.status,
            f"{avgrec:.4f}" if isinstance(avgrec, int | float) else "",
            bought,
            f"{v.created_at:%Y-%m-%d %H:%M}" if v.created_at else "",
            f"{v.promoted_at:%Y-%m-%d %H:%M}" if v.promoted_at else "",
            (v.note or "")[:160],
        )
    Console(width=240).print(table)


@models_app.command("show")
def models_show(version: str = typer.Argument(..., help="A registered version")) -> None:
    """One version in full: its folder, status, note and, for a retraining, the before/after table
    (AvgRec, F1^PN, accuracy, confusion matrices) on the held-back labels and the validation set."""
    from model.gains import markdown
    from sentimon.storage import models

    _, engine = _engine()
    with engine.connect() as conn:
        found = models.get_version(conn, version)
    if found is None or found.is_request:
        raise _fail(f"no model version {version!r} (see `sentimon models list`)")
    out = Console(width=200, soft_wrap=True, highlight=False)
    out.print(f"{found.version}  {found.status}  {found.path}", markup=False)
    if found.note:
        out.print(found.note, markup=False)
    evaluation = found.metrics.get("evaluation")
    if evaluation:
        out.print(f"\nwhat {found.metrics.get('new_labels', 0)} new labels bought:", markup=False)
        out.print("\n".join(markdown(evaluation)), markup=False)


@models_app.command("promote")
def models_promote(
    version: str = typer.Argument(..., help="A registered version (see `sentimon models list`)"),
) -> None:
    """Make VERSION live: its folder is verified first, then workers switch to it between batches."""
    from model.registry import ModelError
    from retraining.promotion import promote_version

    settings, engine = _engine()
    try:
        done = promote_version(engine, version, settings.redis_url)
    except (ValueError, ModelError) as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"[green]{done.version} is live[/] (was {done.previous or 'none'}); workers "
        + ("notified through Redis" if done.notified else "notice it on their next poll")
    )


@models_app.command("rollback")
def models_rollback() -> None:
    """Return to the version that was live before the current one (the current one is rejected)."""
    from model.registry import ModelError
    from retraining.promotion import rollback

    settings, engine = _engine()
    try:
        done = rollback(engine, settings.redis_url)
    except (ValueError, ModelError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"[yellow]rolled back[/]: {done.version} is live again, {done.previous} rejected")


def retrain(
    min_new_labels: int | None = typer.Option(
        None,
        help="Retrain only when at least this many new labels wait (default: none for one run, "
        "SENTIMON_RETRAIN_MIN_LABELS (200) with --every)",
    ),
    every: str = typer.Option(
        None, help="Keep running: retrain every period (e.g. 24h) when enough labels wait"
    ),
    pending: bool = typer.Option(
        False, "--pending", help="Handle the dashboard's retraining requests, then exit"
    ),
    force: bool = typer.Option(False, "--force", help="Retrain even without new labels"),
    tolerance: float = typer.Option(0.01, help="Largest AvgRec drop (per set) still promoted"),
    epochs: int | None = typer.Option(None, help="Fine-tuning epochs (default 3)"),
    lr: float | None = typer.Option(None, help="Learning rate (default: the live model's)"),
    batch_size: int | None = typer.Option(None, help="Batch size (default: the live model's)"),
    threads: int | None = typer.Option(None, help="CPU threads for torch"),
    seed: int = typer.Option(0),
    base_data: Path | None = typer.Option(
        None, help="Shared data folder with SemEval (default ../shared/data)"
    ),
    no_base: bool = typer.Option(False, "--no-base", help="Train on the labels only (no base data mixed in)"),
    base_max: int = typer.Option(10_000, help="Base training texts mixed in (0 = all)"),
    validation: Path = typer.Option(
        None, help="Fixed validation file (default: SemEval twitter-2016devtest-A)"
    ),
    validation_format: str = typer.Option("semeval", help="semeval, csv or jsonl (--validation)"),
    holdout: float = typer.Option(0.2, help="Share of labelled posts held back for the gate"),
    grow_vocab: int = typer.Option(2000, help="New words from the labels added to the vocabulary (0 = none)"),
    poll: float = typer.Option(30.0, help="Seconds between checks in scheduled mode"),
) -> None:
    """Fine-tune the live model on the accumulated labels; promote it only when it is not worse."""
    from retraining.retrain import RetrainOptions

    settings, engine = _engine()
    if min_new_labels is None:
        min_new_labels = settings.retrain_min_labels if every else 0
    options = RetrainOptions(
        min_new_labels=min_new_labels,
        force=force,
        tolerance=tolerance,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        threads=threads,
        seed=seed,
        base_data=base_data,
        use_base=not no_base,
        base_max=base_max,
        validation=validation,
        validation_format=validation_format,
        holdout=holdout,
        grow_vocab=grow_vocab,
        command=_command(),
    )
    if every:
        _scheduled(settings, options, every, engine, poll)
        return
    if pending:
        from retraining.schedule import run_pending

        outcomes = run_pending(settings, options, engine, say)
        console.print(f"{len(outcomes)} retraining request(s) handled")
        raise typer.Exit(1 if any(o.status == "failed" for o in outcomes) else 0)
    _once(settings, options, engine)


def say(message: str) -> None:
    console.print(message, markup=False, highlight=False)


def _once(settings: Settings, options: RetrainOptions, engine: Engine) -> None:
    from model.registry import ModelError
    from retraining.retrain import retrain_once

    try:
        outcome = retrain_once(settings, options, engine, say)
    except ModelError as exc:
        raise _fail(str(exc)) from exc
    colour = {"promoted": "green", "kept": "yellow", "skipped": "dim", "failed": "red"}[outcome.status]
    console.print(f"[{colour}]{outcome.status}[/]" + (f" {outcome.version}" if outcome.version else ""))
    say(outcome.reason)
    if outcome.status == "failed":
        raise typer.Exit(1)


def _scheduled(settings: Settings, options: RetrainOptions, every: str, engine: Engine, poll: float) -> None:
    import signal
    import threading

    from retraining.schedule import parse_every, run_scheduled

    try:
        every_s = parse_every(every)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_scheduled(settings, options, every_s, engine, stop, poll_s=poll, say=say)


def _command() -> str:
    import shlex

    return "sentimon " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""
