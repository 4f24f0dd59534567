"""The decision core of alerting imports no I/O library: it runs anywhere, Faust or not."""

from __future__ import annotations

import json
import subprocess
import sys

PURE = [
    "stream_processor.alerting.config",
    "stream_processor.alerting.detector",
    "stream_processor.alerting.explain",
    "stream_processor.alerting.inputs",
    "stream_processor.alerting.messages",
]
FORBIDDEN = [
    "faust",
    "kafka",
    "aiokafka",
    "sqlalchemy",
    "redis",
    "streamlit",
    "httpx",
    "requests",
    "aiohttp",
    "urllib3",
    "smtplib",
    "socket",
    "psycopg",
    "tenacity",
]


def test_detector_and_explanations_import_no_io_library() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {PURE!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert loaded.isdisjoint(FORBIDDEN), f"I/O modules loaded: {sorted(loaded & set(FORBIDDEN))}"
