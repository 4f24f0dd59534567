"""docker-compose.yml and the Dockerfile describe a runnable production deployment that matches the code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.kafka.jars import kafka_version
from sentimon.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = ("kafka", "postgres", "redis", "migrate", "ingest", "worker", "dashboard", "proxy")
LONG_RUNNING = ("kafka", "postgres", "redis", "ingest", "worker", "dashboard", "proxy")
APP_SERVICES = ("migrate", "ingest", "worker", "dashboard")
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_every_service_is_present(compose: dict[str, Any]) -> None:
    assert set(SERVICES) <= set(compose["services"])


def test_long_running_services_have_health_checks_and_restart(compose: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        service = compose["services"][name]
        check = service.get("healthcheck", {})
        assert check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service.get("restart") == "unless-stopped", name


def test_stateful_services_keep_data_in_declared_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    expected = {"kafka": "/var/lib/kafka/data", "postgres": "/var/lib/postgresql/data", "redis": "/data"}
    for name, path in expected.items():
        mounts = [m.split(":") for m in compose["services"][name]["volumes"]]
        assert [path] == [target for source, target in mounts if source in declared], name


def test_every_sentimon_variable_is_a_settings_field(compose: dict[str, Any]) -> None:
    fields = set(Settings.model_fields)
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))
    for service in compose["services"].values():
        used |= set(_env(service))
    sentimon_vars = {v for v in used if v.startswith("SENTIMON_")}
    assert len(sentimon_vars) > 10
    unknown = sorted(v for v in sentimon_vars if v.removeprefix("SENTIMON_").lower() not in fields)
    assert unknown == [], f"not Settings fields: {unknown}"


def test_app_services_run_in_production_against_the_compose_services(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = _env(compose["services"][name])
        assert env["SENTIMON_ENV"] == "production"
        assert env["SENTIMON_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["SENTIMON_DATABASE_URL"].startswith("postgresql+psycopg://sentimon:")
        assert "@postgres:5432/sentimon" in env["SENTIMON_DATABASE_URL"]
        assert env["SENTIMON_REDIS_URL"].startswith("redis://redis:6379/")
        for secret in ("INGEST_TOKEN", "SECRET_KEY"):
            assert ":?" in env[f"SENTIMON_{secret}"], f"{secret} must be required, never defaulted"
        assert env["SENTIMON_AUTH_MODE"] == "${SENTIMON_AUTH_MODE:-accounts}", "named accounts by default"


def test_app_services_wait_for_healthy_services_and_the_migration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("ingest", "worker", "dashboard"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["kafka-topics"]["condition"] == "service_completed_successfully", name
        for backing in ("postgres", "redis"):
            assert depends[backing]["condition"] == "service_healthy", name


def test_workers_scale_out_with_replicas(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert worker["command"] == ["worker"]
    assert "replicas" in worker["deploy"]
    assert "container_name" not in worker and "ports" not in worker, "replicas cannot share a name or port"


def test_kafka_is_the_official_image_in_kraft_mode_at_the_stack_version(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:${{KAFKA_VERSION:-{kafka_version()}}}"
    env = _env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in env)
    assert len(env["CLUSTER_ID"].split(":-")[-1].rstrip("}")) == 22


def test_compose_creates_the_topics_the_settings_name(compose: dict[str, Any]) -> None:
    script = "\n".join(compose["services"]["kafka-topics"]["command"])
    settings = Settings()
    partitions = {
        settings.topic_raw: "${SENTIMON_PARTITIONS:-4}",
        settings.topic_scored: "${SENTIMON_PARTITIONS:-4}",
        settings.topic_dlq: "1",
        settings.topic_alerts: "1",
    }
    for topic, count in partitions.items():
        assert f"--topic {topic} --partitions {count}" in script
    assert Settings.model_fields["partitions"].default == 4


def test_dockerfile_installs_the_project_on_python_311_slim() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "pip install -e '.[oidc]'" in text  # with Authlib, for st.login
    assert 'ENTRYPOINT ["sentimon"]' in text
    assert re.search(r"^USER (?!root)", text, re.M), "the services must not run as root"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", "var"} <= set(ignored)


def test_docker_compose_config_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip(
            "the docker compose plugin is not installed here; structure is checked by the tests above"
        )
    secrets = {k: "x" for k in ("POSTGRES_PASSWORD", "SENTIMON_INGEST_TOKEN", "SENTIMON_SECRET_KEY")}
    done = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True,
                          text=True, env={**os.environ, **secrets}, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_dashboard_is_reached_only_through_the_proxy_with_the_gate_headers(
    compose: dict[str, Any],
) -> None:
    from dashboard.gate import HEADERS

    dashboard, proxy = compose["services"]["dashboard"], compose["services"]["proxy"]
    assert "ports" not in dashboard and dashboard["expose"] == ["8501"]
    assert _env(dashboard)["SENTIMON_TRUST_FORWARDED_FOR"] == "true"
    assert (
        proxy["image"].startswith("caddy:")
        and proxy["depends_on"]["dashboard"]["condition"] == "service_healthy"
    )
    mounted = {m.split(":")[1]: m.split(":")[0] for m in proxy["volumes"]}
    caddyfile = (ROOT / mounted["/etc/caddy/Caddyfile"]).read_text()
    assert "reverse_proxy dashboard:8501" in caddyfile
    for name, value in HEADERS.items():
        assert f'{name} "{value}"' in caddyfile, name
    assert "Strict-Transport-Security" in caddyfile


def test_the_compose_defaults_pass_the_production_policy(compose: dict[str, Any]) -> None:
    env = {
        k: v.split(":-", 1)[1].rstrip("}")
        for k, v in _env(compose["services"]["dashboard"]).items()
        if ":-" in v
    }
    env = {k: v for k, v in env.items() if k.startswith("SENTIMON_") and v}
    strong = {
        "ingest_token": "Jx4pQ9-vT2mW7zR1kL8nB5cY3hF6dG0sA",
        "secret_key": "u8Kd2-Lq9xZ4mN7pR1tV6wY3bC5fH0jS",
    }
    fields = {k.removeprefix("SENTIMON_").lower(): v for k, v in env.items()}
    fields["oidc_admin_values"] = fields["oidc_viewer_values"] = []
    settings = Settings(
        env="production", **strong, **{k: v for k, v in fields.items() if k in Settings.model_fields}
    )
    assert settings.auth_mode == "accounts"
