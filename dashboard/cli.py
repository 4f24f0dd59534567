"""`sentimon dashboard`: serve the Streamlit app (headless) on the configured port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from sentimon.refusal import RefusingTyper

app = RefusingTyper(help="The Streamlit dashboard.")

APP = Path(__file__).resolve().parent / "server.py"  # app.py behind the security gate
ROOT = APP.parent.parent


def streamlit_command(port: int, address: str, secrets_file: Path | None = None) -> list[str]:
    """The `streamlit run` command line: headless, no usage stats, no file watching, bound to
    `address`, reading Streamlit secrets (the OIDC [auth] section) only from `secrets_file`."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--server.address",
        address,
    ]
    if secrets_file is not None:
        cmd += ["--secrets.files", str(secrets_file)]
    return cmd


def child_env() -> dict[str, str]:
    """The environment for Streamlit: ours, with the repository importable from the app script."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


@app.command("dashboard")
def dashboard(
    port: int = typer.Option(None, help="Port to serve on (default: settings.dashboard_port)."),
    address: str = typer.Option(
        None, help="Address to bind (default: settings.dashboard_address, 127.0.0.1: this machine only)."
    ),
    migrate: bool = typer.Option(True, help="Bring the database schema up to date first."),
) -> None:
    """Serve the dashboard until interrupted."""
    from dashboard.oidc import write_streamlit_secrets
    from sentimon.settings import get_settings

    settings = get_settings()
    if migrate:
        from sentimon.storage.db import migrate as run_migrations

        run_migrations(settings.db_url)
    port = port or settings.dashboard_port
    address = address or settings.dashboard_address
    secrets_file = write_streamlit_secrets(settings) if settings.auth_mode == "oidc" else None
    typer.echo(f"dashboard on http://localhost:{port} (bound to {address})", err=True)
    # Become Streamlit (exec): a stop signal sent to this command then reaches the server itself.
    cmd = streamlit_command(port, address, secrets_file)
    os.chdir(ROOT)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # Streamlit's stdout banner only repeats the line above
    os.execve(cmd[0], cmd, child_env())


if __name__ == "__main__":
    app()
