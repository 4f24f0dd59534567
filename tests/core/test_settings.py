"""Settings: environment, TOML file, embedded default and refusal of placeholder secrets."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from sentimon.settings import DEFAULT_MODEL_PATH, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("SENTIMON_"):
            monkeypatch.delenv(name)


def test_no_services_configured_means_embedded_sqlite(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.embedded
    assert s.db_url == f"sqlite:///{tmp_path.resolve() / 'sentimon.db'}"
    assert s.resolved_model_path == DEFAULT_MODEL_PATH


def test_environment_variables_select_the_real_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    monkeypatch.setenv("SENTIMON_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:15432/db")
    monkeypatch.setenv("SENTIMON_BATCH_SIZE", "64")
    s = Settings()
    assert not s.embedded
    assert s.db_url.startswith("postgresql+psycopg://")
    assert s.batch_size == 64


def test_toml_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "sentimon.toml"
    cfg.write_text('batch_size = 32\nredis_url = "redis://127.0.0.1:16379/0"\npartitions = 8\n')
    monkeypatch.setenv("SENTIMON_CONFIG", str(cfg))
    monkeypatch.setenv("SENTIMON_PARTITIONS", "2")
    s = Settings()
    assert (s.batch_size, s.redis_url, s.partitions) == (32, "redis://127.0.0.1:16379/0", 2)


def test_missing_toml_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_CONFIG", "/nonexistent/sentimon.toml")
    with pytest.raises(FileNotFoundError, match="SENTIMON_CONFIG"):
        Settings()


def test_placeholder_secrets_are_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="placeholder secrets"):
        Settings(env="production")
    ok = Settings(
        env="production",
        ingest_token="t0k3n-long",
        secret_key="k3y-long",
        admin_password="a-strong-one",
        viewer_password="another-one",
    )
    assert ok.env == "production"


def test_wrong_types_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_BATCH_SIZE", "many")
    with pytest.raises(ValidationError, match="batch_size"):
        Settings()
    with pytest.raises(ValidationError, match="positive"):
        Settings(batch_size=0)
