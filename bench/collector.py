"""A stand-in for an OpenTelemetry collector: takes every OTLP/HTTP export and keeps nothing.

The traced variant sends its spans here, so that its figure is the service's cost of
tracing (spans made, batched, encoded and posted), not a collector's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        # An empty ExportTraceServiceResponse: every span accepted.
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def collecting(port: int) -> Iterator[str]:
    """Accept exports on loopback `port` while the block runs; yields the endpoint."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
