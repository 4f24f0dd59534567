"""Worker subprocesses for the bench (`python -m stream_processor.worker`) and py-spy attached to one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class WorkerProc:
    name: str
    popen: subprocess.Popen
    port: int
    log: Path

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> str:
        """The worker's Prometheus page ("" when it does not answer)."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2.0).text
        except httpx.HTTPError:
            return ""

    def rss_mb(self) -> float:
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.popen.pid).memory_info().rss / 2**20
        return 0.0

    def cpu_s(self) -> float:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(self.popen.pid).cpu_times()
            return t.user + t.system
        return 0.0

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (the worker leaves its group cleanly), SIGKILL after timeout."""
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def start(
    name: str,
    env: dict[str, str],
    out_dir: Path,
    batch_size: int,
    latency_ms: int,
    threads: int,
    session_timeout_s: float = 10.0,
) -> WorkerProc:
    """Start one worker with its log under out_dir."""
    from infra.procs import free_port

    port = free_port()
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "stream_processor.worker",
        "--batch-size",
        str(batch_size),
        "--latency-ms",
        str(latency_ms),
        "--web-port",
        str(port),
        "--session-timeout",
        str(session_timeout_s),
        "--loglevel",
        "warning",
    ]
    full_env = {
        **os.environ,
        **env,
        "SENTIMON_DATA_DIR": str(out_dir / name),
        "SENTIMON_TORCH_THREADS": str(threads),
    }
    log = out_dir / f"{name}.log"
    with log.open("ab") as fh:
        popen = subprocess.Popen(cmd, env=full_env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    return WorkerProc(name, popen, port, log)


def wait_healthy(workers: list[WorkerProc], timeout: float = 120.0) -> None:
    """Until every worker answers /health; a worker that exits fails at once with its log."""
    deadline = time.monotonic() + timeout
    pending = list(workers)
    while pending:
        for w in list(pending):
            if w.popen.poll() is not None:
                raise RuntimeError(f"worker {w.name} exited with {w.popen.returncode}:\n{w.tail()}")
            if w.healthy():
                pending.remove(w)
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"workers {[w.name for w in pending]} not healthy after {timeout:.0f}s")
        time.sleep(0.2)


def attach_profiler(worker: WorkerProc, path: Path, rate: int = 100) -> subprocess.Popen:
    """py-spy sampling the running worker (all threads, CPU only) into collapsed stacks at `path`;
    stop it with `stop_profiler` so only the measured stretch is in the profile."""
    cmd = [
        "py-spy",
        "record",
        "--pid",
        str(worker.popen.pid),
        "--format",
        "raw",
        "--threads",
        "--rate",
        str(rate),
        "--nonblocking",
        "-o",
        str(path),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(proc: subprocess.Popen) -> None:
    """SIGINT makes py-spy write what it sampled."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
