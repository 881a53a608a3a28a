"""The production server's HTTP protocol bounds a request's head in size and time."""

import socket
import time
from collections.abc import Iterator

import pytest

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.http_protocol import BoundedHttpToolsProtocol
from {{ cookiecutter.__package_name }}.main import create_app

from tests.live_server import serving


class SmallBounds(BoundedHttpToolsProtocol):
    max_head_bytes = 4096
    head_timeout = 0.5


@pytest.fixture(scope="module")
def address(settings: Settings) -> Iterator[tuple[str, int]]:
    with serving(create_app(settings), http=SmallBounds) as address:
        yield address


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
