"""`sentimon stack up|down|status|env`: the local real stack (Kafka, Postgres, Redis) under one folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from infra.kafka.broker import answers as kafka_answers
from infra.kafka.broker import ensure_topics, kafka_handle, start_kafka, stop_kafka, wait_kafka
from infra.postgres import PgHandle, create_database, pg_handle, start_postgres, stop_postgres
from infra.postgres import answers as pg_answers
from infra.procs import Handle, port_in_use
from infra.redis_server import answers as redis_answers
from infra.redis_server import redis_handle, start_redis, stop_redis

if TYPE_CHECKING:
    from sentimon.settings import Settings

DATABASE = "sentimon"
app = typer.Typer(help="The local real stack: Kafka, PostgreSQL and Redis on loopback.", no_args_is_help=True)


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    port: int
    pid: int | None
    state: str  # "up" | "not answering" | "down" | "port taken"
    url: str


def home(settings: Settings) -> Path:
    return Path(settings.stack_dir).absolute()


@dataclass(frozen=True)
class StackHandles:
    """Where each service of the stack lives, running or not."""

    kafka: Handle
    postgres: PgHandle
    redis: Handle

    def by_name(self) -> dict[str, Handle]:
        return {"kafka": self.kafka, "postgres": self.postgres, "redis": self.redis}


def handles(settings: Settings) -> StackHandles:
    root = home(settings)
    return StackHandles(
        kafka=kafka_handle(root / "kafka", settings.stack_kafka_port),
        postgres=pg_handle(root / "postgres", settings.stack_postgres_port),
        redis=redis_handle(root / "redis", settings.stack_redis_port),
    )


def stack_topics(settings: Settings) -> dict[str, int]:
    """The application's topics and their partition counts."""
    return {
        settings.topic_raw: settings.partitions,
        settings.topic_scored: settings.partitions,
        settings.topic_dlq: 1,
        settings.topic_alerts: 1,
    }


def env_for_stack(settings: Settings) -> dict[str, str]:
    """The SENTIMON_* variables that point a process at this stack."""
    h = handles(settings)
    return {
        "SENTIMON_KAFKA_BOOTSTRAP": h.kafka.url,
        "SENTIMON_DATABASE_URL": h.postgres.database_url(DATABASE),
        "SENTIMON_REDIS_URL": h.redis.url,
    }


def up(settings: Settings, say: Callable[[str], None] = print) -> StackHandles:
    """Start whatever is not running yet, wait until each answers, create topics and the database.

    The broker's JVM boots while Postgres and Redis start, so the slowest part is paid once."""
    root = home(settings)
    ports = (settings.stack_kafka_port, settings.stack_kafka_controller_port)
    kafka = start_kafka(root / "kafka", *ports, say=say, wait=False)
    pg = start_postgres(root / "postgres", settings.stack_postgres_port)
    create_database(pg, DATABASE)
    say(f"postgres up on port {pg.port}")
    redis = start_redis(root / "redis", settings.stack_redis_port)
    say(f"redis up on port {redis.port}")
    wait_kafka(kafka)
    ensure_topics(kafka.url, stack_topics(settings))
    say(f"kafka up on {kafka.url}")
    return StackHandles(kafka=kafka, postgres=pg, redis=redis)


def down(settings: Settings) -> dict[str, bool]:
    """Stop every service of the stack; True for each one that was running."""
    h = handles(settings)
    return {"kafka": stop_kafka(h.kafka), "postgres": stop_postgres(h.postgres), "redis": stop_redis(h.redis)}


def status(settings: Settings) -> list[ServiceStatus]:
    """Which services run and answer."""
    h = handles(settings)
    probes: dict[str, Callable[[], bool]] = {
        "kafka": lambda: kafka_answers(h.kafka.url),
        "postgres": lambda: pg_answers(h.postgres),
        "redis": lambda: redis_answers(h.redis.port),
    }
    rows = []
    for name, handle in h.by_name().items():
        pid = handle.pid()
        if pid is not None:
            state = "up" if probes[name]() else "not answering"
        else:
            state = "port taken" if port_in_use(handle.port) else "down"
        url = h.postgres.database_url(DATABASE) if name == "postgres" else handle.url
        rows.append(ServiceStatus(name, handle.port, pid, state, url))
    return rows


@app.command("up")
def up_command() -> None:
    """Start Kafka, PostgreSQL and Redis (idempotent) and print how to reach them."""
    import time

    from rich.console import Console

    from infra.procs import ServiceError
    from infra.tools import MissingTool
    from sentimon.settings import get_settings

    console, settings, started = Console(), get_settings(), time.monotonic()
    try:
        with console.status("starting the stack…"):
            up(settings, say=console.print)
    except (MissingTool, ServiceError) as exc:
        console.print(f"[red]stack up failed:[/] {exc}", soft_wrap=True)  # keep the command copyable
        raise typer.Exit(1) from None
    console.print(f"[green]stack up[/] in {time.monotonic() - started:.1f}s, data under {home(settings)}")
    for key, value in env_for_stack(settings).items():
        console.print(f"export {key}={value}", highlight=False, soft_wrap=True)


@app.command("down")
def down_command() -> None:
    """Stop the stack's services (their data stays under the stack folder)."""
    from rich.console import Console

    from sentimon.settings import get_settings

    console = Console()
    for name, was_running in down(get_settings()).items():
        console.print(f"{name}: {'stopped' if was_running else 'was not running'}")


@app.command("status")
def status_command() -> None:
    """Show which services are up; exit status 1 unless all are."""
    from rich.console import Console
    from rich.table import Table

    from sentimon.settings import get_settings

    rows = status(get_settings())
    table = Table("service", "state", "port", "pid")
    table.add_column("address", overflow="fold")
    for row in rows:
        colour = "green" if row.state == "up" else "red"
        table.add_row(row.name, f"[{colour}]{row.state}[/]", str(row.port), str(row.pid or "-"), row.url)
    Console().print(table)
    if any(row.state != "up" for row in rows):
        raise typer.Exit(1)


@app.command("env")
def env_command() -> None:
    """Print `export SENTIMON_…=…` lines for the stack, for `eval "$(sentimon stack env)"`."""
    from sentimon.settings import get_settings

    for key, value in env_for_stack(get_settings()).items():
        typer.echo(f"export {key}={value}")


if __name__ == "__main__":
    app()
