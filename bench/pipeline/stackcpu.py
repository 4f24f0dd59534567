"""CPU seconds the stack's servers (Kafka, Postgres with its backends, Redis) and this process spend,
so a run can say what one post costs the whole machine, not just the worker."""

from __future__ import annotations

import contextlib
import os

import psutil

from sentimon.settings import Settings


def server_pids(settings: Settings, urls: dict[str, str]) -> dict[str, int]:
    """The local stack's server processes behind `urls` (kafka, postgres, redis), when it runs them."""
    from infra import stack

    found: dict[str, int] = {}
    with contextlib.suppress(Exception):
        for name, handle in stack.handles(settings).by_name().items():
            pid = handle.pid()
            if pid and f":{handle.port}" in urls.get(name, ""):
                found[name] = pid
    return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User+system seconds per server, children included (Postgres runs one process per connection;
    the postmaster's reaped children count too), plus "bench" for this process (the producer)."""
    out: dict[str, float] = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            t = proc.cpu_times()
            total = t.user + t.system + t.children_user + t.children_system
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    c = child.cpu_times()
                    total += c.user + c.system
            out[name] = total
    t = psutil.Process(os.getpid()).cpu_times()
    out["bench"] = t.user + t.system
    return out


def per_thousand(before: dict[str, float], after: dict[str, float], posts: int) -> dict[str, float]:
    """CPU seconds per 1,000 posts for each process group between two readings."""
    scale = 1000 / max(1, posts)
    return {k: round((after[k] - before.get(k, 0.0)) * scale, 3) for k in after}
