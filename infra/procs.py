"""Start, find, wait for and stop the stack's server processes through pid files."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Children started by this process, kept so that they are reaped (no zombies) once they exit.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ServiceError(RuntimeError):
    """A server did not start, did not answer in time, or its port is taken."""


@dataclass(frozen=True)
class Handle:
    """One running (or stopped) server: its folder, port and the process pattern to recognise it."""

    name: str
    home: Path
    port: int
    url: str
    process: str  # a word of the process's command line, to tell it from a reused pid

    @property
    def pidfile(self) -> Path:
        return self.home / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return self.home / f"{self.name}.log"

    def pid(self) -> int | None:
        """The server's pid when it is alive, else None."""
        return live_pid(self.pidfile, self.process)


def spawn(
    handle: Handle,
    argv: list[str],
    *,
    user: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start argv in its own session, output appended to the handle's log, pid written to its pid file."""
    handle.home.mkdir(parents=True, exist_ok=True)
    with open(handle.logfile, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=cwd or handle.home,
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )
    _CHILDREN[proc.pid] = proc
    handle.pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def live_pid(pidfile: Path, process: str) -> int | None:
    """The pid in pidfile if that process is alive (not a zombie) and its command line names `process`."""
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if is_alive(pid, process) else None


def is_alive(pid: int, process: str) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:  # our own child: trust poll(), its command line may predate exec
        if child.poll() is None:
            return True
        _CHILDREN.pop(pid, None)
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X") and process in cmdline


def stop(handle: Handle, *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
    """Send sig and wait for the process to exit, then SIGKILL if it will not. False if it was not running."""
    pid = handle.pid()
    if pid is None:
        handle.pidfile.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if not poll(lambda: not is_alive(pid, handle.process), timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        poll(lambda: not is_alive(pid, handle.process), 10.0)
    handle.pidfile.unlink(missing_ok=True)
    return True


def poll(cond: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """True as soon as cond() holds, False once timeout seconds have passed without it."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_ready(handle: Handle, answers: Callable[[], bool], timeout: float) -> None:
    """Wait until the server answers; fail fast with its log tail if it dies or never answers."""
    died = False

    def ready() -> bool:
        nonlocal died
        if handle.pid() is None:
            died = True
            return True
        return answers()

    ok = poll(ready, timeout, interval=0.2)
    if died:
        raise ServiceError(
            f"{handle.name} exited during start-up. Last log lines ({handle.logfile}):\n"
            f"{log_tail(handle.logfile)}"
        )
    if not ok:
        raise ServiceError(
            f"{handle.name} did not answer on 127.0.0.1:{handle.port} within {timeout:.0f}s. "
            f"Last log lines ({handle.logfile}):\n{log_tail(handle.logfile)}"
        )


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_port_free(handle: Handle) -> None:
    if port_in_use(handle.port):
        raise ServiceError(
            f"port {handle.port} for {handle.name} is taken by another program; "
            f"stop it or choose another port (SENTIMON_STACK_*_PORT)"
        )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now (for private test servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
