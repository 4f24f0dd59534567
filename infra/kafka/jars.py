"""Fetch the Kafka broker jars from Maven Central once (mvn on pom.xml) into a per-version cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from infra import tools
from infra.procs import ServiceError

POM = Path(__file__).with_name("pom.xml")
MAVEN_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
MVN_TIMEOUT = 900.0
DONE_MARK = ".complete"


def kafka_version() -> str:
    """The Kafka version pinned in pom.xml."""
    node = ET.parse(POM).getroot().find("m:properties/m:kafka.version", MAVEN_NS)
    if node is None or not node.text:
        raise ServiceError(f"{POM} has no <kafka.version> property")
    return node.text.strip()


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sentimon" / "kafka"


def libs_dir(version: str | None = None) -> Path:
    return cache_root() / (version or kafka_version()) / "libs"


def ensure_jars(say: Callable[[str], None] = print) -> Path:
    """The folder of broker jars, fetched with Maven on first use and reused afterwards."""
    libs = libs_dir()
    if (libs / DONE_MARK).exists():
        return libs
    say(f"fetching Apache Kafka {kafka_version()} jars with Maven into {libs} (first run only)…")
    staging = libs.with_name(f"libs.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    argv = [
        tools.mvn(),
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=MVN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ServiceError(f"mvn did not finish fetching the Kafka jars within {MVN_TIMEOUT:.0f}s") from None
    if done.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        output = f"{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
        raise ServiceError(f"mvn could not fetch the Kafka jars:\n{output}")
    (staging / DONE_MARK).write_text(kafka_version() + "\n")
    if (libs / DONE_MARK).exists():  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
        return libs
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    return libs
