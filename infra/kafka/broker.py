"""Run one Kafka 4 broker+controller (KRaft) from the cached jars, and manage its topics."""

from __future__ import annotations

import base64
import contextlib
import string
import subprocess
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from infra import tools
from infra.kafka.jars import ensure_jars
from infra.procs import Handle, ServiceError, ensure_port_free, poll, port_in_use, spawn, stop, wait_ready

if TYPE_CHECKING:
    from kafka.admin import KafkaAdminClient  # imported for real only when a topic is created

HERE = Path(__file__).parent
START_TIMEOUT = 90.0
JVM_OPTS = ["-Xms128m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"]


def kafka_handle(home: Path, port: int) -> Handle:
    home = Path(home).absolute()
    return Handle(name="kafka", home=home, port=port, url=f"127.0.0.1:{port}", process="kafka.Kafka")


def start_kafka(
    home: Path,
    port: int,
    controller_port: int,
    *,
    heap: str = "512m",
    timeout: float = START_TIMEOUT,
    say: Callable[[str], None] = print,
    wait: bool = True,
) -> Handle:
    """Start (formatting storage on first use) a single-node KRaft cluster under home; return once the
    broker answers admin requests on 127.0.0.1:port (wait=False: return once launched, see wait_kafka)."""
    handle = kafka_handle(home, port)
    if handle.pid() is None:
        java = tools.java()
        ensure_port_free(handle)
        if port_in_use(controller_port):
            raise ServiceError(f"controller port {controller_port} for kafka is taken by another program")
        libs = ensure_jars(say)
        config = _write_config(handle.home, port, controller_port)
        classpath = f"{libs}/*"
        if not (handle.home / "data" / "meta.properties").exists():
            _format_storage(handle, java, classpath, config)
        log4j = f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}"
        argv = [java, f"-Xmx{heap}", *JVM_OPTS, log4j, "-cp", classpath, "kafka.Kafka", str(config)]
        spawn(handle, argv)
    if wait:
        wait_kafka(handle, timeout)
    return handle


def wait_kafka(handle: Handle, timeout: float = START_TIMEOUT) -> None:
    """Wait until the broker answers admin requests (after `start_kafka(..., wait=False)`)."""
    wait_ready(handle, lambda: answers(handle.url), timeout)


def stop_kafka(handle: Handle, *, timeout: float = 60.0) -> bool:
    """Controlled shutdown (SIGTERM), SIGKILL after timeout."""
    return stop(handle, timeout=timeout)


def ensure_topics(bootstrap: str, partitions: Mapping[str, int], timeout: float = 30.0) -> None:
    """Create missing topics with the given partition counts (grow ones that have fewer) and wait until
    every partition has a leader."""
    from kafka.admin import NewPartitions, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    with _admin(bootstrap) as admin:
        current = _partition_counts(admin, partitions)
        missing = [NewTopic(name, count, 1) for name, count in partitions.items() if name not in current]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing, timeout_ms=int(timeout * 1000))
        grow = {n: NewPartitions(c) for n, c in partitions.items() if 0 < current.get(n, 0) < c}
        if grow:
            admin.create_partitions(grow, timeout_ms=int(timeout * 1000))
        if not poll(lambda: _all_led(admin, partitions), timeout, interval=0.2):
            raise ServiceError(f"topics {sorted(partitions)} got no partition leaders within {timeout:.0f}s")


def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete topics that exist (best effort: unknown names are skipped)."""
    with _admin(bootstrap) as admin:
        existing = set(admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            admin.delete_topics(doomed)


def topic_partitions(bootstrap: str, names: Iterable[str]) -> dict[str, int]:
    """Partition count of each existing topic among names."""
    with _admin(bootstrap) as admin:
        return _partition_counts(admin, names)


@contextlib.contextmanager
def _admin(bootstrap: str) -> Iterator[KafkaAdminClient]:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="sentimon-stack", request_timeout_ms=10000
    )
    try:
        yield admin
    finally:
        admin.close()


def _partition_counts(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    wanted = set(names) & set(admin.list_topics())
    if not wanted:
        return {}
    described = admin.describe_topics(sorted(wanted))
    return {_name(t): len(t["partitions"]) for t in described if not t["error_code"]}


def _all_led(admin: KafkaAdminClient, partitions: Mapping[str, int]) -> bool:
    if not set(partitions) <= set(admin.list_topics()):
        return False
    described = admin.describe_topics(sorted(partitions))
    for topic in described:
        parts = topic["partitions"]
        if topic["error_code"] or len(parts) < partitions[_name(topic)]:
            return False
        if any(p.get("leader_id", p.get("leader", -1)) < 0 for p in parts):
            return False
    return True


def _name(described: Mapping[str, object]) -> str:
    """Topic name in describe_topics output (kafka-python 2.x says "topic", 3.x says "name")."""
    return str(described.get("name") or described.get("topic"))


def answers(bootstrap: str) -> bool:
    from kafka.errors import KafkaError

    host, port = bootstrap.rsplit(":", 1)
    if not port_in_use(int(port), host):
        return False
    try:
        with _admin(bootstrap) as admin:
            return bool(admin.describe_cluster().get("brokers"))
    except KafkaError:
        return False


def _write_config(home: Path, port: int, controller_port: int) -> Path:
    template = string.Template((HERE / "server-template.properties").read_text())
    text = template.substitute(port=port, controller_port=controller_port, data_dir=home / "data")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "server.properties"
    config.write_text(text)
    return config


def _format_storage(handle: Handle, java: str, classpath: str, config: Path) -> None:
    argv = [
        java,
        "-Xmx256m",
        "-XX:+UseSerialGC",
        f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}",
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        _cluster_id(),
        "-c",
        str(config),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise ServiceError(f"formatting Kafka storage in {handle.home} failed:\n{done.stdout}\n{done.stderr}")


def _cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid prints."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


__all__ = ["delete_topics", "ensure_topics", "kafka_handle", "start_kafka", "stop_kafka", "topic_partitions"]
