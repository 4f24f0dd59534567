"""A private redis-server on its own loopback port, without persistence."""

from __future__ import annotations

from pathlib import Path

from infra import tools
from infra.procs import Handle, ensure_port_free, spawn, stop, wait_ready

START_TIMEOUT = 20.0


def redis_handle(home: Path, port: int) -> Handle:
    home = Path(home).absolute()
    url = f"redis://127.0.0.1:{port}/0"
    return Handle(name="redis", home=home, port=port, url=url, process="redis-server")


def start_redis(home: Path, port: int, *, databases: int = 256, timeout: float = START_TIMEOUT) -> Handle:
    """Start redis-server on port (state kept in memory only); return once it answers PING.

    `databases` is raised above Redis' 16 so that parallel test sessions can each own one."""
    handle = redis_handle(home, port)
    if handle.pid() is None:
        ensure_port_free(handle)
        argv = [
            tools.redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(handle.home),
            "--databases",
            str(databases),
            "--protected-mode",
            "yes",
        ]
        spawn(handle, argv)
    wait_ready(handle, lambda: answers(port), timeout)
    return handle


def stop_redis(handle: Handle, *, timeout: float = 20.0) -> bool:
    """Stop the server (SIGTERM; with no persistence configured nothing is written)."""
    return stop(handle, timeout=timeout)


def answers(port: int) -> bool:
    import redis

    try:
        with redis.Redis(host="127.0.0.1", port=port, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False
