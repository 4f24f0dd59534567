"""The `sentimon` command: one entry point that reaches every job."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from dashboard.cli import dashboard
from dashboard.safe import cli_text
from infra.stack import app as stack_app
from ingest.cli import app as ingest_app
from model.cli import app as model_app
from model.retrain_cli import labels_app, models_app, retrain
from sentimon.refusal import RefusingTyper
from sentimon.settings import get_settings
from sentimon.users_cli import app as users_app
from sentimon.users_cli import cli_actor
from stream_processor.alerting.cli import bench_alerts_command
from stream_processor.bench.cli import bench_pipeline_command
from stream_processor.cli import run, worker

app = RefusingTyper(help="Sentimon: a streaming social-media sentiment monitor.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
topics_app = typer.Typer(help="Topics to watch and their matching rules.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures against a reference measured in the same run.")
app.add_typer(db_app, name="db")
app.add_typer(topics_app, name="topics")
app.add_typer(bench_app, name="bench", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(ingest_app, name="ingest")
app.add_typer(model_app, name="model")
app.add_typer(models_app, name="models")
app.add_typer(labels_app, name="labels")
app.add_typer(users_app, name="users")
app.command("retrain")(retrain)
app.command("run")(run)
app.command("worker")(worker)
app.command("dashboard")(dashboard)
bench_app.command("alerts")(bench_alerts_command)
bench_app.command("pipeline")(bench_pipeline_command)
console = Console()


@app.command("config")
def show_config() -> None:
    """Print the effective settings (secrets hidden)."""
    settings = get_settings()
    table = Table("setting", "value")
    for name in type(settings).model_fields:
        table.add_row(name, str(getattr(settings, name)))
    table.add_row("→ database", settings.db_url)
    table.add_row("→ mode", "embedded" if settings.embedded else "kafka")
    console.print(table)


@db_app.command("migrate")
def db_migrate(revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Bring the configured database up to the latest schema."""
    from sentimon.storage.db import migrate

    url = get_settings().db_url
    migrate(url, revision)
    console.print(f"[green]database at {revision}[/] ({_safe(url)})")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument("base", help="Target revision.")) -> None:
    """Step the schema back (to `base` drops every table)."""
    from sentimon.storage.db import downgrade

    downgrade(get_settings().db_url, revision)
    console.print(f"[yellow]database at {revision}[/]")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the configured database."""
    from sentimon.storage.db import current_revision

    console.print(current_revision(get_settings().db_url) or "(empty database)")


@topics_app.command("list")
def topics_list() -> None:
    """List topics and their rules."""
    from sentimon.storage import topics
    from sentimon.storage.db import make_engine

    engine = make_engine(get_settings().db_url)
    with engine.connect() as conn:
        rows = topics.list_topics(conn)
    table = Table("id", "name", "rule", "active")
    for t in rows:
        table.add_row(str(t.id), cli_text(t.name), cli_text(t.rule), "yes" if t.active else "paused")
    console.print(table)


@topics_app.command("add")
def topics_add(
    name: str, rule: str = typer.Argument(..., help="e.g. '#acme OR \"acme corp\" -hiring'")
) -> None:
    """Watch a new topic."""
    from sentimon.storage import audit, topics
    from sentimon.storage.db import make_engine, migrate

    url = get_settings().db_url
    migrate(url)
    with make_engine(url).begin() as conn:
        topic_id = topics.create_topic(conn, name, rule)
        audit.record(conn, cli_actor(), "topic_create", target=topic_id, detail={"name": name, "rule": rule})
    console.print(cli_text(f"topic {topic_id} '{name}' added", "green"))


@topics_app.command("rm")
def topics_rm(topic_id: int) -> None:
    """Stop watching a topic and delete its aggregates."""
    from sentimon.storage import audit, topics
    from sentimon.storage.db import make_engine

    with make_engine(get_settings().db_url).begin() as conn:
        topics.delete_topic(conn, topic_id)
        audit.record(conn, cli_actor(), "topic_delete", target=topic_id)
    console.print(f"topic {topic_id} deleted")


def _safe(url: str) -> str:
    """A URL fit for printing: the password masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@bench_app.command("classify")
def bench_classify(
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
    n: int = typer.Option(20_000, help="How many tweets to classify."),
) -> None:
    """Tweets per second of the default model against VADER on the same texts."""
    from model.bench import bench_classify as run

    run(json_out=json_out, n=n)
