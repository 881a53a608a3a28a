"""The production server's HTTP protocol bounds a request's head in size and time."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.http_protocol import BoundedHttpToolsProtocol
from {{ cookiecutter.__package_name }}.main import create_app


class SmallBounds(BoundedHttpToolsProtocol):
    max_head_bytes = 4096
    head_timeout = 0.5


@pytest.fixture(scope="module")
def address(settings: Settings) -> Iterator[tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, http=SmallBounds, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=30)


def exchange(address: tuple[str, int], *parts: bytes, pause: float = 0) -> bytes:
    """Send `parts` (pausing between them), then read until the server closes or 5 s pass."""
    with socket.create_connection(address, timeout=5) as connection:
        for part in parts:
            connection.sendall(part)
            time.sleep(pause)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_an_ordinary_request_is_served(address: tuple[str, int]) -> None:
    answer = exchange(address, b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 200")


def test_a_head_over_the_size_limit_is_431(address: tuple[str, int]) -> None:
    padding = b"a" * 8192
    answer = exchange(address, b"GET /health HTTP/1.1\r\nHost: test\r\nX-Padding: " + padding)

    assert answer.startswith(b"HTTP/1.1 431")


def test_a_head_sent_too_slowly_is_408_and_closed(address: tuple[str, int]) -> None:
    started = time.monotonic()
    answer = exchange(address, b"GET /health HTTP/1.1\r\n", b"Host: test\r\n", pause=0.4)

    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 4


def test_a_silent_connection_is_closed(address: tuple[str, int]) -> None:
    assert exchange(address).startswith(b"HTTP/1.1 408")


def test_the_next_request_on_a_kept_alive_connection_is_bounded_too(
    address: tuple[str, int],
) -> None:
    first = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n"
    answer = exchange(address, first, b"GET /health HTTP/1.1\r\n", pause=1)

    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(
        b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
