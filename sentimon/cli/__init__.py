"""The `sentimon` command: one entry point that reaches every job. This package is the wiring: the
only part of the core that imports the packages standing on it (tests/core/test_core_imports.py)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from bench.cli import app as bench_app
from dashboard.cli import dashboard
from dashboard.safe import cli_text
from infra.stack import app as stack_app
from ingest.cli import app as ingest_app
from model.cli import app as model_app
from retraining.cli import labels_app, models_app, retrain
from sentimon.cli.users import app as users_app
from sentimon.cli.users import cli_actor
from sentimon.refusal import RefusingTyper
from sentimon.settings import get_settings
from stream_processor.cli import run, worker

app = RefusingTyper(help="Sentimon: a streaming social-media sentiment monitor.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
topics_app = typer.Typer(help="Topics to watch and their matching rules.", no_args_is_help=True)
report_app = typer.Typer(help="Reports on what is stored: per-topic shares.", no_args_is_help=True)
app.add_typer(report_app, name="report")
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


@topics_app.command("add", context_settings={"ignore_unknown_options": True})
def topics_add(
    name: str,
    rule: str = typer.Argument(..., help="e.g. '#acme OR \"acme corp\" -hiring' (a rule may start with -)"),
) -> None:
    """Watch a new topic. The rule is checked exactly as the dashboard checks it."""
    from rich.markup import escape

    from sentimon.storage import audit, topics
    from sentimon.storage.db import make_engine, migrate
    from stream_processor.rules import check_rule

    err = Console(stderr=True)
    problem = check_rule(rule) if rule.strip() else "the rule is empty: give at least one term to look for"
    if problem:
        err.print(f"[red]error:[/] rule {escape(repr(rule))}: {escape(problem)}")
        raise typer.Exit(2)
    if not name.strip():
        err.print("[red]error:[/] the topic needs a name")
        raise typer.Exit(2)
    url = get_settings().db_url
    migrate(url)
    with make_engine(url).begin() as conn:
        if topics.get_topic_by_name(conn, name.strip()) is not None:
            err.print(f"[red]error:[/] a topic named {escape(repr(name.strip()))} exists already")
            raise typer.Exit(1)
        topic_id = topics.create_topic(conn, name, rule)
        audit.record(conn, cli_actor(), "topic_create", target=topic_id, detail={"name": name, "rule": rule})
    console.print(cli_text(f"topic {topic_id} '{name.strip()}' added", "green"))


@topics_app.command("rm")
def topics_rm(topic_id: int) -> None:
    """Stop watching a topic and delete its aggregates."""
    from sentimon.storage import audit, topics
    from sentimon.storage.db import make_engine

    with make_engine(get_settings().db_url).begin() as conn:
        topic = topics.get_topic(conn, topic_id)
        if topic is None:
            Console(stderr=True).print(f"[red]error:[/] no topic {topic_id} (see `sentimon topics list`)")
            raise typer.Exit(1)
        topics.delete_topic(conn, topic_id)
        audit.record(conn, cli_actor(), "topic_delete", target=topic_id)
    console.print(f"topic {topic_id} deleted")


@report_app.command("shares")
def report_shares(
    topic: list[str] = typer.Option(None, "--topic", help="Topic name (repeat for several; default: all)."),
    since: str = typer.Option(None, help="Start of the span (ISO 8601, post time); default: everything."),
    until: str = typer.Option(None, help="End of the span (ISO 8601, exclusive)."),
    method: str = typer.Option(None, help="cc, pcc, acc, pacc or emq (default: the monitor's own)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON array on stdout."),
) -> None:
    """Per topic: posts, negative / neutral / positive shares, the 90% interval of the negative share."""
    import json
    from datetime import UTC, datetime

    from rich.markup import escape

    from sentimon.quantify import DEFAULT_METHOD
    from sentimon.report import model_prior, share_report
    from sentimon.storage.db import make_engine

    def when(value: str | None, name: str) -> datetime | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint=name) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    settings = get_settings()
    start, end = when(since, "--since"), when(until, "--until")
    try:
        with make_engine(settings.db_url).connect() as conn:
            rows = share_report(conn, topic or None, start, end, method or DEFAULT_METHOD,
                                model_prior(settings.resolved_model_path))  # fmt: skip
    except (LookupError, ValueError) as exc:
        Console(stderr=True).print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if json_out:
        print(json.dumps([r.to_dict() for r in rows]))
        return
    table = Table("topic", "posts", "negative (90% interval)", "neutral", "positive", "method",
                  title="Per-topic shares, corrected for each topic's own mix")  # fmt: skip
    for r in rows:
        e = r.estimate
        neg = "too few posts to tell" if e.too_few else (
            f"{e.negative:.1%} ({e.negative_low:.1%}–{e.negative_high:.1%})")  # fmt: skip
        table.add_row(cli_text(r.topic), str(e.n), neg, f"{e.neutral:.1%}", f"{e.positive:.1%}", e.method)
    console.print(table)
    versions = rows[0].model_versions if rows else {}
    console.print(f"model version(s): {', '.join(f'{v} ({n} posts)' for v, n in versions.items()) or '—'}")


def _safe(url: str) -> str:
    """A URL fit for printing: the password masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
