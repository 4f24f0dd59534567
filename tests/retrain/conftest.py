"""Fixtures for the retraining tests: a tiny base model and data, settings, the CLI wired as the lead does."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tests.retrain.tiny import train_base_model, write_base_data


@pytest.fixture(scope="session")
def base_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_base_data(tmp_path_factory.mktemp("shared") / "data")


@pytest.fixture(scope="session")
def trained_base(base_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_base_model(base_data, tmp_path_factory.mktemp("models") / "base")


@pytest.fixture
def base_model(trained_base: Path, tmp_path: Path) -> Path:
    """This test's own copy of the base model (tests may corrupt or register it)."""
    return Path(shutil.copytree(trained_base, tmp_path / "base-model"))


@pytest.fixture
def cli_app() -> typer.Typer:
    """The commands wired exactly as sentimon/cli/ wires them."""
    from retraining.cli import labels_app, models_app, retrain

    app = typer.Typer()
    app.add_typer(labels_app, name="labels")
    app.add_typer(models_app, name="models")
    app.command("retrain")(retrain)
    return app


@pytest.fixture
def sentimon_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base_model: Path
) -> Iterator[Callable[..., dict[str, str]]]:
    """Point the settings at a database (and Redis), this test's data dir and the base model."""
    from sentimon.settings import get_settings

    def configure(database_url: str, redis_url: str | None = None) -> dict[str, str]:
        env = {
            "SENTIMON_DATABASE_URL": database_url,
            "SENTIMON_DATA_DIR": str(tmp_path / "var"),
            "SENTIMON_MODEL_PATH": str(base_model),
            "SENTIMON_TORCH_THREADS": "1",
            "SENTIMON_ENV": "test",
        }
        if redis_url:
            env["SENTIMON_REDIS_URL"] = redis_url
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("SENTIMON_CONFIG", raising=False)
        get_settings.cache_clear()
        return env

    yield configure
    get_settings.cache_clear()


@pytest.fixture
def invoke(cli_app: typer.Typer) -> Callable[..., Result]:
    """Run `sentimon <args>` in-process; fails the test with the output when the exit code differs."""

    def run(*args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(cli_app, [str(a) for a in args])
        if result.exit_code != code:
            raise AssertionError(
                f"sentimon {' '.join(map(str, args))} exited {result.exit_code} (wanted {code}):\n"
                f"{result.output}\n{result.exception!r}"
            )
        return result

    return run
