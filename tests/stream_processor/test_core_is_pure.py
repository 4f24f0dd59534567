"""The decision core imports no I/O library, so it runs the same under Faust and the embedded runner."""

import subprocess
import sys

CORE = [
    "stream_processor",
    "stream_processor.rules",
    "stream_processor.matcher",
    "stream_processor.windows",
    "stream_processor.batch",
    "stream_processor.classifier",
    "stream_processor.pipeline",
    "stream_processor.codec",
    "stream_processor.sinks.base",
    "stream_processor.sinks.memory",
]
FORBIDDEN = ["faust", "kafka", "aiokafka", "sqlalchemy", "redis", "streamlit", "httpx", "aiohttp", "requests"]


def test_core_modules_import_no_io_library() -> None:
    code = (
        "import sys\n"
        f"for m in {CORE!r}: __import__(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the core pulled in: {out.stdout.strip()}"
