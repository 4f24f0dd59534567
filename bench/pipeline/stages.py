"""The three measured passes over the same posts: classifier alone, broker alone, the whole pipeline."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.pipeline import stackcpu
from bench.pipeline import workers as wk
from bench.pipeline.feed import Feeder
from bench.pipeline.sampler import GroupLag, Sample, Sampler
from bench.pipeline.scrape import batch_profile, sums_and_counts
from bench.pipeline.services import BenchEnv
from bench.pipeline.workload import SOURCE, WARMUP_SOURCE, chunks, make_posts
from stream_processor.classifier import INFERENCE_BATCH

Progress = Callable[[str, int, int], None]  # (task, done, total)


def classifier_alone(model_path: Path | None, texts: Sequence[str], batch_size: int, threads: int) -> dict:
    """The inference API in this process, micro-batched like the worker, after one warm-up batch."""
    import torch

    from model.inference import load

    clf = load(model_path, device="cpu", threads=threads, batch_size=INFERENCE_BATCH)
    batches = chunks(list(texts), batch_size)
    clf.classify(list(batches[0]))
    started = time.perf_counter()
    for batch in batches:
        clf.classify(list(batch))
    elapsed = time.perf_counter() - started
    return {
        "classifier_tps": len(texts) / elapsed,
        "model": clf.version,
        "torch_threads": torch.get_num_threads(),
    }


def broker_alone(
    env: BenchEnv, posts: Sequence[dict[str, Any]], rate: float | None, progress: Progress
) -> dict:
    """Produce the posts and consume them with the worker's Kafka client in another process, no processing."""
    cmd = [
        sys.executable,
        "-m",
        "bench.pipeline.drain",
        env.bootstrap,
        env.broker_topic,
        f"{env.group}-broker",
        str(len(posts)),
    ]
    drain = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        if (drain.stdout.readline() if drain.stdout else "").strip() != "ready":
            raise RuntimeError("the broker-alone consumer did not start")
        feeder = Feeder(env.bootstrap, env.broker_topic, posts, rate)
        feeder.start()
        while not feeder.done.wait(0.2):
            progress("broker: produce", feeder.sent, len(posts))
        progress("broker: produce", feeder.sent, len(posts))
        if feeder.error:
            raise feeder.error
        out, _ = drain.communicate(timeout=600)
    finally:
        if drain.poll() is None:
            drain.kill()
    import orjson

    marks = orjson.loads(out.strip().splitlines()[-1])["marks"]
    done_at = [
        t
        for (t, count), prev in zip(marks, [0, *(m[1] for m in marks)], strict=False)
        for _ in range(int(count - prev))
    ]
    return {"done_at": done_at, "sent_at": feeder.sent_at, "started": feeder.started}


@dataclass
class PipelineRun:
    """What the pipeline pass leaves for the figures."""

    sent_at: list[float]
    started: float
    samples: list[Sample]
    cpu_s: list[float]
    batches: dict[str, float] = field(default_factory=dict)
    stack_cpu: dict[str, float] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)


def pipeline_pass(
    env: BenchEnv,
    posts: Sequence[dict[str, Any]],
    rate: float | None,
    opts: dict,
    out_dir: Path,
    progress: Progress,
    stored: Callable[[str], int],
) -> PipelineRun:
    """Start the workers, wait for a settled group and a warm-up, feed the posts, wait for all stored.
    Worker CPU time and the optional py-spy profile cover the measured stretch only."""
    procs = [
        wk.start(
            f"worker{i}", env.worker_env(), out_dir, opts["batch_size"], opts["latency_ms"], opts["threads"]
        )
        for i in range(opts["workers"])
    ]
    lag, spy = None, None
    try:
        wk.wait_healthy(procs)
        lag = GroupLag(env.bootstrap, env.raw, env.group)
        _wait_group(lag.admin, env.group, len(procs))
        _warm_up(env, stored, progress)
        if opts["profile"]:
            spy = wk.attach_profiler(procs[0], out_dir / "worker0.pyspy.txt")
        sampler = Sampler(lambda: stored(SOURCE), lag, procs)
        sampler.start()
        cpu0, pages0 = [w.cpu_s() for w in procs], [w.metrics() for w in procs]
        stack0 = stackcpu.cpu_seconds(opts["server_pids"])
        feeder = Feeder(env.bootstrap, env.raw, posts, rate)
        feeder.start()
        _wait_stored(feeder, sampler, procs, len(posts), progress)
        cpu = [w.cpu_s() - c for w, c in zip(procs, cpu0, strict=True)]
        stack_cpu = stackcpu.per_thousand(stack0, stackcpu.cpu_seconds(opts["server_pids"]), len(posts))
        batches = batch_profile(sums_and_counts(pages0), sums_and_counts(w.metrics() for w in procs))
        sampler.stop()
    finally:
        if spy is not None:
            wk.stop_profiler(spy)
        for w in procs:
            w.stop()
        if lag is not None:
            lag.close()
    logs = [w.log for w in procs]
    return PipelineRun(feeder.sent_at, feeder.started, sampler.samples, cpu, batches, stack_cpu, logs)


def _wait_group(admin: Any, group: str, members: int, timeout: float = 90.0) -> None:
    """Until the consumer group is Stable with every worker in it (no rebalance during the run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = admin.describe_groups([group]).get(group, {})
        if info.get("group_state") == "Stable" and len(info.get("members", [])) == members:
            return
        time.sleep(0.3)
    raise RuntimeError(f"consumer group {group} did not settle with {members} members in {timeout:.0f}s")


def _warm_up(env: BenchEnv, stored: Callable[[str], int], progress: Progress, n: int = 400) -> None:
    """A few hundred posts over every partition, so the model, connections and caches are warm."""
    posts = make_posts(n, f"{env.run_id}w", [], source=WARMUP_SOURCE, seed=3)
    feeder = Feeder(env.bootstrap, env.raw, posts, None)
    feeder.start()
    deadline = time.monotonic() + 120
    while (got := stored(WARMUP_SOURCE)) < n:
        progress("warm-up", got, n)
        if time.monotonic() > deadline:
            raise RuntimeError(f"warm-up: only {got} of {n} posts stored after 120 s")
        time.sleep(0.2)
    progress("warm-up", n, n)


def _wait_stored(
    feeder: Feeder,
    sampler: Sampler,
    procs: list[wk.WorkerProc],
    n: int,
    progress: Progress,
    stall_s: float = 90.0,
) -> None:
    """Until n posts are stored; fails when nothing moves for stall_s or a worker dies."""
    last, moved = -1, time.monotonic()
    while True:
        time.sleep(0.25)
        got = sampler.latest.stored if sampler.latest else 0
        progress("pipeline: produce", feeder.sent, n)
        progress("pipeline: scored + aggregated", got, n)
        if got >= n:
            return
        if got != last:
            last, moved = got, time.monotonic()
        dead = [w.name for w in procs if w.popen.poll() is not None]
        if dead or feeder.error or time.monotonic() - moved > stall_s:
            raise RuntimeError(
                f"pipeline stalled at {got}/{n} (dead workers: {dead}, feeder: {feeder.error})"
            )
