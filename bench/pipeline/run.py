"""`bench_pipeline`: set up a private corner of the stack, run the three passes, report and clean up."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.pipeline import figures, report, stackcpu, stages
from bench.pipeline.services import BenchEnv, cleanup, prepare, service_urls
from bench.pipeline.workload import SOURCE, make_posts


def bench_pipeline(
    json_out: bool,
    n: int = 20_000,
    rate: float | None = None,
    workers: int = 1,
    *,
    threads: int = 1,
    batch_size: int | None = None,
    latency_ms: int | None = None,
    out_dir: Path | None = None,
    profile: bool = False,
    start_stack: bool = True,
    keep: bool = False,
    demo_share: float = 0.5,
) -> dict:
    """Measure the pipeline end to end against the broker alone and the classifier alone (same posts,
    same run); returns the figures (pipeline_tps, broker_tps, classifier_tps, p99_latency_s, rss_mb…)."""
    from rich.console import Console

    from bench.classify import bench_texts
    from sentimon.settings import get_settings

    settings, console = get_settings(), Console(stderr=json_out)
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}{uuid.uuid4().hex[:4]}"
    out = Path(out_dir or Path(settings.data_dir) / "bench" / f"pipeline-{run_id}").absolute()
    opts = {
        "workers": workers,
        "threads": threads,
        "batch_size": batch_size or settings.batch_size,
        "latency_ms": latency_ms or settings.batch_latency_ms,
        "profile": profile,
    }
    filler, text_source = bench_texts(n)
    posts = make_posts(n, run_id, filler, demo_share)
    load_before = round(os.getloadavg()[0], 2)
    with console.status("bench: services…"):
        env = prepare(settings, run_id, service_urls(settings, start_stack, console.print))
    try:
        result, pipe = _passes(settings, env, posts, rate, opts, out, console)
    finally:
        if not keep:
            cleanup(env)
    result.update(
        n=n,
        rate=rate,
        texts=text_source,
        load_before=load_before,
        load_after=round(os.getloadavg()[0], 2),
        run_id=run_id,
        **opts,
    )
    title = f"run {run_id}: {n:,} posts, {workers} worker(s), batch {opts['batch_size']}"
    done_at = result.pop("_done_at")
    result["plot"] = str(
        report.plot(out / "pipeline.png", pipe.sent_at, done_at, pipe.samples, pipe.started, title)
    )
    result["json"] = str(out / "result.json")
    report.write_json(result, out / "result.json")
    _show(console, result, json_out, out)
    return result


def _passes(
    settings: Any, env: BenchEnv, posts: list, rate: float | None, opts: dict, out: Path, console: Any
) -> tuple[dict[str, Any], stages.PipelineRun]:
    """Classifier alone, broker alone, then the pipeline; the figures of all three."""
    texts = [p["text"] for p in posts]
    with console.status("bench: classifier alone…"):
        clf = stages.classifier_alone(settings.model_path, texts, opts["batch_size"], opts["threads"])
    with _progress(console) as progress:
        broker = stages.broker_alone(env, posts, rate, progress)
        urls = {"kafka": env.bootstrap, "postgres": env.server_url, "redis": env.redis_url}
        servers = stackcpu.server_pids(settings, urls)
        pipe = stages.pipeline_pass(
            env, posts, rate, {**opts, "server_pids": servers}, out, progress, _counter(env)
        )
    return _figures(env, clf, broker, pipe, opts), pipe


def _figures(env: BenchEnv, clf: dict, broker: dict, pipe: stages.PipelineRun, opts: dict) -> dict[str, Any]:
    from sentimon.storage import posts
    from sentimon.storage.db import make_engine

    engine = make_engine(env.db_url)
    try:
        with engine.connect() as conn:
            times = posts.stored_times(conn, SOURCE)
        stored, exact = exact_counts(engine)
    finally:
        engine.dispose()
    done_at = [at.timestamp() for at, _ in times]
    latencies = [at.timestamp() - float(meta["bench_sent"]) for at, meta in times if "bench_sent" in meta]
    pipeline_tps = figures.sustained_rate(done_at)
    broker_tps = figures.sustained_rate(broker["done_at"])
    peaks = [max((s.rss_mb[i] for s in pipe.samples), default=0.0) for i in range(opts["workers"])]
    lags = [s.lag for s in pipe.samples if s.lag is not None]
    return {
        "pipeline_tps": round(pipeline_tps, 1),
        "pipeline_overall_tps": round(figures.overall_rate(pipe.started, done_at), 1),
        "broker_tps": round(broker_tps, 1),
        "produce_tps": round(figures.sustained_rate(broker["sent_at"]), 1),
        "classifier_tps": round(clf["classifier_tps"], 1),
        "ratio_to_broker": figures.ratio(pipeline_tps, broker_tps),
        "ratio_to_classifier": figures.ratio(pipeline_tps, clf["classifier_tps"]),
        **figures.latency_summary(latencies),
        "rss_mb": round(max(peaks, default=0.0), 1),
        "rss_mb_per_worker": [round(p, 1) for p in peaks],
        "worker_cpu_s_per_1k": round(sum(pipe.cpu_s) / max(1, len(done_at)) * 1000, 3),
        "max_lag": max(lags, default=0),
        "batches": pipe.batches,
        "cpu_s_per_1k": {
            "workers": round(sum(pipe.cpu_s) / max(1, len(done_at)) * 1000, 3),
            **pipe.stack_cpu,
        },
        "stored": len(done_at),
        "stored_all": stored,
        "exact": exact,
        "model": clf["model"],
        "_done_at": done_at,
    }


def exact_counts(engine: Any) -> tuple[int, bool]:
    """(posts stored, whether every window's counts equal those recomputed from the stored posts)."""
    from sentimon.schema import window_start
    from sentimon.storage import posts, windows

    with engine.connect() as conn:
        rows = posts.recent_posts(conn, limit=10**9)
        stored = {
            (w.agg.topic_id, w.agg.window_start): (w.agg.n, w.agg.n_neg, w.agg.n_neu, w.agg.n_pos)
            for w in windows.get_windows(conn)
        }
    want: Counter[tuple[Any, ...]] = Counter()
    for r in rows:
        start = window_start(r.created_at)
        for topic_id in r.topic_ids:
            want[(topic_id, start, "n")] += 1
            want[(topic_id, start, r.label)] += 1
    expected = {
        (t, s): (
            want[(t, s, "n")],
            want[(t, s, "negative")],
            want[(t, s, "neutral")],
            want[(t, s, "positive")],
        )
        for (t, s, kind) in want
        if kind == "n"
    }
    distinct = len({r.key for r in rows}) == len(rows)
    return len(rows), distinct and expected == stored


def _counter(env: BenchEnv) -> Any:
    """count(source) on one engine, shared by the sampler and the warm-up."""
    from sentimon.storage import posts
    from sentimon.storage.db import make_engine

    engine = make_engine(env.db_url, pool_size=2)

    def count(source: str) -> int:
        with engine.connect() as conn:
            return posts.count_posts(conn, source)

    return count


class _progress:
    """Rich progress bars keyed by task name: `progress(task, done, total)`."""

    def __init__(self, console: Any):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _progress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def __call__(self, task: str, done: int, total: int) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.bars.add_task(task, total=total)
        self.bars.update(self.tasks[task], completed=done)


def _show(console: Any, result: dict, json_out: bool, out: Path) -> None:
    import json

    if json_out:
        print(json.dumps(result))
        return
    console.print(report.table(result))
    for line in report.details(result):
        console.print(line, highlight=False)
    console.print(f"plot: {result['plot']}\nresult: {result['json']}  (worker logs under {out})")
