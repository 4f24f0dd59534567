"""Show a bench result: a rich table, one JSON line, a JSON file and a PNG of throughput and lag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.pipeline.figures import per_second


def table(r: dict[str, Any]) -> Any:
    from rich.table import Table

    mode = f"rate {r['rate']:,.0f}/s" if r.get("rate") else "as fast as possible"
    t = Table(
        title=f"pipeline bench: {r['n']:,} posts, {mode}, {r['workers']} worker(s) × "
        f"{r['threads']} torch thread(s), batch {r['batch_size']}, load {r['load_before']}"
    )
    t.add_column("stage")
    t.add_column("posts/s", justify="right")
    t.add_column("pipeline ÷ stage", justify="right")
    t.add_row("pipeline (scored + aggregated)", f"{r['pipeline_tps']:,.0f}", "1.00")
    t.add_row("broker alone (produce → consume)", f"{r['broker_tps']:,.0f}", f"{r['ratio_to_broker']:.2f}")
    t.add_row(
        "classifier alone (in-process)", f"{r['classifier_tps']:,.0f}", f"{r['ratio_to_classifier']:.2f}"
    )
    return t


def details(r: dict[str, Any]) -> list[str]:
    return [
        f"ingest→aggregate latency p50 {r['p50_latency_s']:.3f}s  p95 {r['p95_latency_s']:.3f}s  "
        f"p99 {r['p99_latency_s']:.3f}s  max {r['max_latency_s']:.3f}s",
        f"consumer lag max {r['max_lag']:,}  ·  worker RSS peak {r['rss_mb']:.0f} MB "
        f"({', '.join(f'{m:.0f}' for m in r['rss_mb_per_worker'])})  ·  "
        f"worker CPU {r['worker_cpu_s_per_1k']:.2f} s per 1k posts",
        f"per batch: {r['batches']}",
        f"CPU seconds per 1k posts: {r['cpu_s_per_1k']}",
        f"stored {r['stored']:,}/{r['n']:,}, aggregates exact: {r['exact']}  ·  "
        f"produce {r['produce_tps']:,.0f}/s  ·  texts: {r['texts']}  ·  model {r['model']}",
    ]


def write_json(r: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(r, indent=2) + "\n")


def plot(
    path: Path, sent_at: list[float], done_at: list[float], samples: list[Any], t0: float, title: str
) -> Path:
    """Two panels over seconds since the feed started: posts/s produced and stored; lag and RSS."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for times, label in ((sent_at, "produced"), (done_at, "scored + aggregated")):
        xs, ys = per_second(times, t0)
        top.step([*xs, xs[-1] + 1] if xs else [], [*ys, ys[-1]] if ys else [], where="post", label=label)
    top.set_ylabel("posts / s")
    top.legend(loc="upper right")
    top.set_title(title, fontsize=10)
    xs = [s.t - t0 for s in samples if s.lag is not None]
    bottom.plot(xs, [s.lag for s in samples if s.lag is not None], color="tab:red", label="consumer lag")
    bottom.set_ylabel("lag (messages)", color="tab:red")
    bottom.set_xlabel("seconds since the first post was sent")
    mem = bottom.twinx()
    mem.plot(
        [s.t - t0 for s in samples],
        [sum(s.rss_mb) for s in samples],
        color="tab:gray",
        linestyle="--",
        label="worker RSS",
    )
    mem.set_ylabel("worker RSS, all workers (MB)", color="tab:gray")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
