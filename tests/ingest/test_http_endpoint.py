"""The HTTP endpoint with a real client and real Kafka: 202 once Kafka has the posts, 4xx with reasons."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from infra.procs import free_port
from ingest.http_endpoint import EndpointConfig, make_app
from sentimon.schema import Post
from tests.helpers import wait_until
from tests.ingest.servers import serve
from tests.ingest.topics import read_topic

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def with_endpoint(
    sink: Any, config: EndpointConfig, body: Callable[[httpx.AsyncClient], Awaitable[Any]]
) -> Any:
    async def main() -> Any:
        async with (
            serve(make_app(sink, config)) as url,
            httpx.AsyncClient(base_url=url, timeout=20) as client,
        ):
            return await body(client)

    return asyncio.run(main())


def test_posts_are_in_kafka_when_the_endpoint_answers_202(kafka_producer, kafka_topics):
    sink = kafka_producer()
    topic = (kafka_topics.bootstrap, kafka_topics.raw)

    async def body(client: httpx.AsyncClient) -> None:
        one = await client.post(
            "/v1/posts", json={"id": "a1", "text": "Checkout keeps failing"}, headers=AUTH
        )
        assert one.status_code == 202 and one.json() == {"accepted": 1, "duplicates": 0}
        assert [k for k, _ in await asyncio.to_thread(read_topic, *topic)] == ["http:a1"]  # already acked
        batch = [{"source": "shop", "id": str(i), "text": f"review {i}", "created_at": "2024-09-10T10:00:00Z",
                  "stars": i} for i in range(3)]  # fmt: skip
        many = await client.post("/v1/posts", json={"posts": batch}, headers=AUTH)
        assert many.status_code == 202 and many.json()["accepted"] == 3
        again = await client.post("/v1/posts", json=batch + batch[:1], headers=AUTH)
        assert again.status_code == 202 and again.json() == {"accepted": 0, "duplicates": 4}
        stats = await client.get("/v1/stats", headers=AUTH)
        assert stats.json()["sent"] == 4 and stats.json()["duplicates"] == 4

    with_endpoint(sink, EndpointConfig(token=TOKEN), body)
    records = dict(read_topic(*topic))
    assert sorted(records) == ["http:a1", "shop:0", "shop:1", "shop:2"]
    assert records["shop:2"].metadata == {"stars": 2}


def test_bad_requests_get_4xx_with_the_reason_and_nothing_is_produced(kafka_producer, kafka_topics):
    sink = kafka_producer()
    config = EndpointConfig(token=TOKEN, max_body_bytes=4096, max_batch=5)

    async def body(client: httpx.AsyncClient) -> dict[str, httpx.Response]:
        post = {"id": "1", "text": "fine"}
        return {
            "no token": await client.post("/v1/posts", json=post),
            "wrong token": await client.post(
                "/v1/posts", json=post, headers={"Authorization": "Bearer nope"}
            ),
            "not json": await client.post(
                "/v1/posts", content=b"{oops", headers={**AUTH, "Content-Type": "application/json"}
            ),
            "form": await client.post("/v1/posts", data={"text": "x"}, headers=AUTH),
            "invalid": await client.post(
                "/v1/posts", json=[post, {"id": "2", "text": ""}, "x"], headers=AUTH
            ),
            "too many": await client.post("/v1/posts", json=[post] * 6, headers=AUTH),
            "too big": await client.post("/v1/posts", json={"id": "3", "text": "y" * 5000}, headers=AUTH),
            "empty": await client.post("/v1/posts", json=[], headers=AUTH),
            "latin-1": await client.post(
                "/v1/posts",
                content='{"id": "4", "text": "caf\u00e9"}'.encode("latin-1"),
                headers={**AUTH, "Content-Type": "application/json"},
            ),
            "health": await client.get("/healthz"),
        }

    got = with_endpoint(sink, config, body)
    assert got["no token"].status_code == 401 and got["no token"].headers["WWW-Authenticate"].startswith(
        "Bearer"
    )
    assert got["wrong token"].status_code == 401
    assert got["not json"].status_code == 400 and "not JSON" in got["not json"].json()["error"]
    assert got["form"].status_code == 415
    invalid = got["invalid"].json()
    assert got["invalid"].status_code == 422 and "none were accepted" in invalid["error"]
    assert [p["index"] for p in invalid["problems"]] == [1, 2]
    assert (
        "text" in invalid["problems"][0]["reason"]
        and "expected an object" in invalid["problems"][1]["reason"]
    )
    assert got["too many"].status_code == 413 and "limit of 5" in got["too many"].json()["error"]
    assert got["too big"].status_code == 413
    assert got["empty"].status_code == 400
    latin = got["latin-1"].json()["error"]
    assert (
        got["latin-1"].status_code == 400
        and "not valid UTF-8 (byte 24" in latin
        and "surrogates" not in latin
    )
    assert got["health"].json() == {"ok": True}
    assert read_topic(kafka_topics.bootstrap, kafka_topics.raw) == []


def test_a_text_over_the_limit_is_truncated_and_flagged(kafka_producer, kafka_topics):
    async def body(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/v1/posts", json={"id": "long", "text": "so " * 4000}, headers=AUTH)

    answer = with_endpoint(kafka_producer(), EndpointConfig(token=TOKEN), body)
    assert answer.status_code == 202
    ((_, post),) = read_topic(kafka_topics.bootstrap, kafka_topics.raw)
    assert post.metadata["truncated"] is True and len(post.text) <= 10_000


def test_the_http_command_serves_until_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
    env.update({"SENTIMON_INGEST_TOKEN": TOKEN, "SENTIMON_DATA_DIR": str(tmp_path)})
    command = [sys.executable, "-m", "ingest", "http", "--port", str(port), "--dry-run"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{url}/healthz").status_code == 200, 20, ignore=(httpx.TransportError,))
        answer = httpx.post(
            f"{url}/v1/posts", json={"id": "cli-1", "text": "works from the CLI"}, headers=AUTH
        )
        assert answer.status_code == 202
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert [Post.from_json(line).key for line in out.splitlines()] == ["http:cli-1"]
    assert "sent=1" in err


def _metric(text: str, name: str) -> float | None:
    """The value of `name{source="http"}` on a Prometheus text page, or None when absent."""
    for line in text.splitlines():
        if line.startswith(f'{name}{{source="http"}} '):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_port_exports_what_kafka_acknowledged(tmp_path, kafka_topics):
    """`sentimon ingest --metrics-port` serves the source's counters and Kafka's acknowledgements to a
    Prometheus scraper while it runs (real broker, real HTTP)."""
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
    env.update({"SENTIMON_INGEST_TOKEN": TOKEN, "SENTIMON_DATA_DIR": str(tmp_path)})
    command = [
        *(sys.executable, "-m", "ingest", "--metrics-port", str(metrics_port), "http"),
        *("--port", str(port), "--bootstrap", kafka_topics.bootstrap, "--topic", kafka_topics.raw),
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url, scrape = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
        wait_until(lambda: httpx.get(f"{url}/healthz").status_code == 200, 20, ignore=(httpx.TransportError,))
        posts = [{"id": f"m-{i}", "text": f"metric post {i}"} for i in range(3)]
        assert httpx.post(f"{url}/v1/posts", json=posts, headers=AUTH).status_code == 202
        bad = httpx.post(f"{url}/v1/posts", json=[{"id": "no-text"}], headers=AUTH)
        assert bad.status_code == 422

        def acked() -> bool:
            return _metric(httpx.get(scrape).text, "sentimon_ingest_kafka_acked_total") == 3

        wait_until(acked, 20)
        page = httpx.get(scrape).text
        assert _metric(page, "sentimon_ingest_received_total") == 3
        assert _metric(page, "sentimon_ingest_malformed_total") == 1
        assert _metric(page, "sentimon_ingest_kafka_failed_total") == 0
        assert _metric(page, "sentimon_ingest_kafka_in_flight") == 0
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert sorted(key for key, _ in read_topic(kafka_topics.bootstrap, kafka_topics.raw)) == [
        "http:m-0",
        "http:m-1",
        "http:m-2",
    ]


def test_an_empty_token_opens_nothing() -> None:
    from ingest.http_endpoint import authorized

    assert not authorized("Bearer ", "") and not authorized(None, "") and not authorized("Bearer x", "")
    assert authorized("Bearer s3cret", "s3cret") and not authorized("Bearer s3cre", "s3cret")
