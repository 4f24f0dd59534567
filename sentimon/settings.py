"""One typed settings object, read once at the entry points and passed inward."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sentimon.secret_policy import PLACEHOLDER, secret_problems

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_PATH = REPO_ROOT / "model" / "default"


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

    # Ports, and where the dashboard listens (loopback unless told otherwise).
    dashboard_port: int = 8501
    dashboard_address: str = "127.0.0.1"
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

    # Secrets: weak ones are refused in production (sentimon/secret_policy.py).
    ingest_token: SecretStr = SecretStr(PLACEHOLDER)
    admin_password: SecretStr = SecretStr("admin")
    viewer_password: SecretStr = SecretStr("viewer")
    secret_key: SecretStr = SecretStr(PLACEHOLDER)

    # Dashboard sign-in: "passwords" (the two shared passwords above, or a named account; the
    # embedded default's convenience, refused in production), "accounts" (named users from
    # `sentimon users`) or "oidc" (Streamlit's st.login with the identity provider below).
    auth_mode: Literal["passwords", "accounts", "oidc"] = "passwords"
    session_max_age_s: int = 12 * 3600
    # Throttling: each failure doubles the wait before the next try (from login_base_delay_s up to
    # login_max_delay_s); login_max_failures for one name, or login_max_failures_per_client from one
    # client, within login_lockout_s lock it out for login_lockout_s.
    login_max_failures: int = 5
    login_max_failures_per_client: int = 20
    login_base_delay_s: float = 1.0
    login_max_delay_s: float = 60.0
    login_lockout_s: int = 900
    # Behind the compose stack's reverse proxy the client is the proxy: trust its X-Forwarded-For.
    trust_forwarded_for: bool = False
    # OIDC (auth_mode = "oidc"): written into Streamlit's secrets [auth] by `sentimon dashboard`.
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_server_metadata_url: str | None = None
    oidc_redirect_uri: str | None = None  # https://your.host/oauth2callback
    oidc_role_claim: str = "groups"  # a claim holding a name or a list of names (groups, roles)
    oidc_admin_values: list[str] = []  # claim values that make an admin, e.g. ["sentimon-admins"]
    oidc_viewer_values: list[str] = []  # ... a viewer; without a match the users table decides

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
    def _refuse_weak_or_inconsistent(self) -> Settings:
        problems = secret_problems(self)
        if self.batch_size < 1 or self.batch_latency_ms < 1:
            problems.append("SENTIMON_BATCH_SIZE / SENTIMON_BATCH_LATENCY_MS: must be positive")
        if problems:
            raise ValueError("\n".join(problems))
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
    def oidc_claim_roles(self) -> dict[str, str]:
        """Claim value → role, admin values winning over viewer values."""
        return {
            **{v: "viewer" for v in self.oidc_viewer_values},
            **{v: "admin" for v in self.oidc_admin_values},
        }

    @property
    def resolved_model_path(self) -> Path:
        return self.model_path or DEFAULT_MODEL_PATH


class SettingsRefused(Exception):
    """Settings that cannot be used; str() is one line per problem, each naming its setting."""


def refusal_lines(exc: ValidationError) -> list[str]:
    """One line per problem: ours already name their setting; pydantic's get the field's name."""
    lines: list[str] = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["loc"]:
            field = "_".join(str(part) for part in error["loc"][:1]).upper()
            lines.append(f"SENTIMON_{field}: {message}")
        else:
            lines.extend(message.splitlines())
    return lines


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and the optional TOML file."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsRefused("\n".join(refusal_lines(exc))) from None
