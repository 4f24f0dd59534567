"""`bench pipeline` end to end on real services: every pass runs, the figures are there, counts are exact,
and the bench leaves no database, topic or Redis key behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from infra.kafka.broker import topic_partitions
from tests.fixtures.endpoints import pg_conninfo, redis_url_for_db
from tests.stream_processor.worker_helpers import ROOT, clean_env

pytestmark = pytest.mark.slow


def test_bench_pipeline_reports_all_three_passes_and_cleans_up(
    kafka_bootstrap: str, pg_url_base: str, redis_url: str, model_path: Path, tmp_path: Path
) -> None:
    server = make_url(pg_url_base).set(database="postgres").render_as_string(hide_password=False)
    env = clean_env(
        {
            "SENTIMON_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "SENTIMON_DATABASE_URL": server,
            "SENTIMON_REDIS_URL": redis_url,
            "SENTIMON_MODEL_PATH": str(model_path),
            "SENTIMON_DATA_DIR": str(tmp_path / "data"),
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "bench.pipeline.cli",
        "--json",
        "--n",
        "600",
        "--batch-size",
        "64",
        "--out",
        str(tmp_path / "out"),
    ]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    for key in ("pipeline_tps", "broker_tps", "classifier_tps", "p99_latency_s", "rss_mb"):
        assert result[key] > 0, key
    assert result["stored"] == 600 and result["exact"] is True
    assert (
        0
        < result["ratio_to_classifier"]
        == pytest.approx(result["pipeline_tps"] / result["classifier_tps"], rel=0.01)
    )
    assert (
        result["p50_latency_s"]
        <= result["p95_latency_s"]
        <= result["p99_latency_s"]
        <= result["max_latency_s"]
    )
    assert result["batches"]["batches"] >= 600 / 64 and result["cpu_s_per_1k"]["workers"] > 0
    assert Path(result["plot"]).stat().st_size > 10_000
    assert json.loads(Path(result["json"]).read_text())["run_id"] == result["run_id"]
    run_id = result["run_id"]
    assert not topic_partitions(kafka_bootstrap, [f"bench-{run_id}.raw", f"bench-{run_id}.scored"])
    with psycopg.connect(**pg_conninfo(pg_url_base, "postgres")) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database")]
    assert f"sentimon_bench_{run_id}" not in names
    with redis.Redis.from_url(redis_url_for_db(redis_url, 0)) as client:
        leases = [client.get(k) or b"" for k in client.scan_iter("sentimon:test-db-lease:*")]
    assert not [v for v in leases if run_id.encode() in v]
