"""``sentimon model teacher …``: fine-tune and score the transformer teacher (training time only; the
heavy imports stay inside the commands, so ``sentimon --help`` never loads transformers)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="The transformer teacher (needs the `teacher` extra): training time only.", no_args_is_help=True
)


@app.command("train")
def teacher_train(
    out: Path = typer.Option(Path("var/models/teacher-minilm"), help="Teacher folder to write"),
    data_dir: Path | None = typer.Option(None, help="Shared data folder (default ../shared/data)"),
    epochs: float = typer.Option(1.0),
    lr: float = typer.Option(1e-4),
    batch_size: int = typer.Option(32),
    freeze_layers: int = typer.Option(0, help="Keep the embeddings and this many lower layers frozen"),
    seed: int = typer.Option(0),
    threads: int = typer.Option(2, help="CPU threads for torch"),
    resume: bool = typer.Option(False, help="Continue a cut-off run from OUT/checkpoint.pt"),
    hold_out: list[str] = typer.Option(
        [], "--hold-out", help="A SemEval training file the teacher never learns from (repeatable)"
    ),
) -> None:
    """Fine-tune MiniLM-L6 on the SemEval training files; keep its best validation state (checkpointed
    as it goes: --resume continues a cut-off run)."""
    from model.cli import _command
    from model.data import DEFAULT_DATA_DIR
    from model.teacher import TeacherConfig, train_teacher

    cfg = TeacherConfig(
        out=str(out),
        data_dir=str(data_dir or DEFAULT_DATA_DIR),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        freeze_layers=freeze_layers,
        seed=seed,
        threads=threads,
        resume=resume,
        hold_out=list(hold_out),
    )
    folder = train_teacher(cfg, command=_command())
    typer.echo(f"teacher saved to {folder}")


@app.command("eval")
def teacher_eval(
    path: Path = typer.Argument(Path("var/models/teacher-minilm"), help="Teacher folder"),
    data_dir: Path | None = typer.Option(None, help="Shared data folder (default ../shared/data)"),
    split: str = typer.Option("benchmark", help="train, val or benchmark (twitter-2016test-A)"),
) -> None:
    """The teacher's AvgRec / F1^PN / accuracy on a split, under its saved calibration."""
    from model.data import DEFAULT_DATA_DIR
    from model.teacher import evaluate_teacher

    m = evaluate_teacher(path, Path(data_dir or DEFAULT_DATA_DIR), split)
    typer.echo(
        f"{split}: n={m['n']} AvgRec {m['avgrec']:.4f}  F1^PN {m['f1pn']:.4f}  accuracy {m['acc']:.4f}"
    )
