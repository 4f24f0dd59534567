"""One typed settings object, read once at the entry points and passed inward."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_PATH = REPO_ROOT / "model" / "default"
PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    """Everything configurable. Service URLs left empty select the embedded default."""

    model_config = SettingsConfigDict(env_prefix="SENTIMON_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")

    # Services: leave empty for the embedded default (SQLite file, in-process queue, in-memory cache).
    kafka_bootstrap: str | None = None
    database_url: str | None = None
    redis_url: str | None = None

    # Model and batching.
    model_path: Path | None = None
    batch_size: int = 256
    batch_latency_ms: int = 200
    torch_threads: int | None = None
    model_poll_s: float = 5.0
    retrain_min_labels: int = 200  # new labels a scheduled retraining waits for (`retrain --every`)

    # Kafka topics.
    topic_raw: str = "posts.raw"
    topic_scored: str = "posts.scored"
    topic_dlq: str = "posts.dlq"
    topic_alerts: str = "alerts"
    partitions: int = 4
    consumer_group: str = "sentimon-workers"

    # Ports.
    dashboard_port: int = 8501
    http_ingest_port: int = 8080
    metrics_port: int = 9108

    # The local real stack (`sentimon stack up`).
    stack_dir: Path = Path("var/stack")
    stack_kafka_port: int = 19092
    stack_kafka_controller_port: int = 19093
    stack_postgres_port: int = 15432
    stack_redis_port: int = 16379

    # Alert e-mail (off while smtp_host is unset).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "sentimon@localhost"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    # Secrets: the placeholders are refused outside development and test.
    ingest_token: SecretStr = SecretStr(PLACEHOLDER)
    admin_password: SecretStr = SecretStr("admin")
    viewer_password: SecretStr = SecretStr("viewer")
    secret_key: SecretStr = SecretStr(PLACEHOLDER)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order: explicit arguments, environment, then the TOML file named by SENTIMON_CONFIG."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("SENTIMON_CONFIG")
        if toml_path:
            if not Path(toml_path).is_file():
                raise FileNotFoundError(f"SENTIMON_CONFIG points to {toml_path}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env == "production":
            weak = [
                name
                for name in ("ingest_token", "secret_key", "admin_password", "viewer_password")
                if getattr(self, name).get_secret_value() in (PLACEHOLDER, "admin", "viewer", "")
            ]
            if weak:
                raise ValueError(f"placeholder secrets are refused in production: set {', '.join(weak)}")
        if self.batch_size < 1 or self.batch_latency_ms < 1:
            raise ValueError("batch_size and batch_latency_ms must be positive")
        return self

    @property
    def embedded(self) -> bool:
        """True when no Kafka is configured: the in-process runner takes its place."""
        return not self.kafka_bootstrap

    @property
    def db_url(self) -> str:
        """The database to use: the configured one, else a SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sentimon.db').resolve()}"

    @property
    def resolved_model_path(self) -> Path:
        return self.model_path or DEFAULT_MODEL_PATH


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and the optional TOML file."""
    return Settings()
