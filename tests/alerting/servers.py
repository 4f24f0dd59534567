"""Small real servers on 127.0.0.1 for sink tests: an HTTP webhook receiver and an SMTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """Requests the webhook server got, and the status codes it will answer with next."""

    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def webhook_server(statuses: list[int] | None = None) -> Iterator[tuple[str, Received]]:
    """Yield (url, received): answers each POST with the next scripted status, then 200."""
    received = Received(statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with received.lock:
                received.requests.append(({k: v for k, v in self.headers.items()}, body))
                status = received.statuses.pop(0) if received.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    """Yield (port, envelopes): a real SMTP server (aiosmtpd) on loopback that keeps what it gets."""
    from aiosmtpd.controller import Controller

    envelopes: list[Any] = []

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            envelopes.append(envelope)
            return "250 Message accepted for delivery"

    controller = Controller(Keep(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, envelopes
    finally:
        controller.stop()
