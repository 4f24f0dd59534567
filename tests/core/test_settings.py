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


STRONG = {
    "ingest_token": "Jx4pQ9-vT2mW7zR1kL8nB5cY3hF6dG0sA",
    "secret_key": "u8Kd2-Lq9xZ4mN7pR1tV6wY3bC5fH0jS",
    "auth_mode": "accounts",
}


def test_placeholder_and_weak_secrets_are_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="SENTIMON_SECRET_KEY: is the placeholder"):
        Settings(env="production")
    for name, value in [("secret_key", "x"), ("ingest_token", "CHANGE-ME"), ("secret_key", "a" * 40)]:
        with pytest.raises(ValidationError, match=f"SENTIMON_{name.upper()}: "):
            Settings(env="production", **{**STRONG, name: value})
    assert Settings(env="production", **STRONG).env == "production"


def test_production_refuses_the_shared_passwords() -> None:
    strong_passwords = {"admin_password": "Gr3at-Unusual-Phrase", "viewer_password": "0ther-Quiet-Words"}
    with pytest.raises(ValidationError, match="SENTIMON_AUTH_MODE: the two shared passwords"):
        Settings(env="production", **{**STRONG, "auth_mode": "passwords"}, **strong_passwords)


@pytest.mark.parametrize("env", ["development", "production"])
def test_a_viewer_password_equal_to_the_admin_password_is_refused(env: str) -> None:
    import bcrypt

    with pytest.raises(ValidationError, match="SENTIMON_VIEWER_PASSWORD: must differ"):
        Settings(env=env, admin_password="same-one", viewer_password="same-one")
    hashed = bcrypt.hashpw(b"same-one", bcrypt.gensalt(rounds=4)).decode()
    with pytest.raises(ValidationError, match="SENTIMON_VIEWER_PASSWORD: must differ"):
        Settings(env=env, admin_password=hashed, viewer_password="same-one")
    assert Settings(admin_password="one-thing", viewer_password="another").auth_mode == "passwords"


def test_an_empty_ingest_token_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="SENTIMON_INGEST_TOKEN: must not be empty"):
        Settings(ingest_token="")


def test_password_policy() -> None:
    from sentimon.secret_policy import estimated_bits, password_problem, secret_problem

    assert password_problem("short") and password_problem("aaaaaaaaaaaaaaaa")
    assert password_problem("MyPassword-2026!")  # a common word
    assert password_problem("Tr1cky-Lantern-Moss") is None
    assert password_problem("$2b$12$" + "x" * 53) is None  # a hash is taken as chosen elsewhere
    assert estimated_bits("") == 0 and estimated_bits("abab") < estimated_bits("abcd")
    assert secret_problem("") == "must not be empty" and secret_problem("z" * 31)
    import secrets

    assert secret_problem(secrets.token_urlsafe(32)) is None and secret_problem(secrets.token_hex(16)) is None


def test_a_refused_setting_is_one_line_naming_it_not_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("SENTIMON_")}
    env.update(SENTIMON_ENV="production", SENTIMON_SECRET_KEY="x", SENTIMON_AUTH_MODE="accounts",
               SENTIMON_INGEST_TOKEN=STRONG["ingest_token"], SENTIMON_DATA_DIR=str(tmp_path))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "sentimon", "config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 78
    assert done.stderr.splitlines() == [
        "sentimon: refused: SENTIMON_SECRET_KEY: too weak: use at least 32 random characters"
    ]


def test_wrong_types_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMON_BATCH_SIZE", "many")
    with pytest.raises(ValidationError, match="batch_size"):
        Settings()
    with pytest.raises(ValidationError, match="positive"):
        Settings(batch_size=0)
