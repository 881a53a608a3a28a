"""A body not whole within REQUEST_BODY_TIMEOUT_SECONDS is a 408, and the connection closed."""

import asyncio
import json
import select
import socket
import time
from collections.abc import AsyncIterator

import pytest

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.main import create_app

from tests.conftest import ClientFactory
from tests.live_server import serving

ITEMS = "/api/v1/items"
TIMEOUT = 1.0


async def test_a_body_that_stalls_is_408_in_the_error_body(client_for: ClientFactory) -> None:
    async def stalling() -> AsyncIterator[bytes]:
        yield b'{"name": "slow",'
        await asyncio.sleep(2)
        yield b' "price": 1}'

    async with client_for(request_body_timeout_seconds=0.2) as client:
        response = await client.post(
            ITEMS, content=stalling(), headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 408
    assert response.json() == {
        "detail": "The request body did not arrive within 0.2 s",
        "request_id": response.headers["x-request-id"],
    }
    assert response.headers["connection"] == "close"
    assert response.headers["x-content-type-options"] == "nosniff"


def trickle(
    address: tuple[str, int],
    body: bytes,
    interval: float,
    *headers: str,
    stop_after: float = float("inf"),
) -> tuple[bytes, float]:
    """POST `body` a byte every `interval` seconds over a real socket, until an answer comes
    (or `stop_after` seconds, after which it only waits for one: a byte sent as the
    server closes would have the connection reset under the answer).

    Returns everything the server sent until it closed the connection, and how long
    the answer took.
    """
    head = "\r\n".join(
        [
            f"POST {ITEMS} HTTP/1.1",
            "Host: test",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *headers,
        ]
    )
    with socket.create_connection(address, timeout=5) as connection:
        started = time.monotonic()
        connection.sendall(head.encode() + b"\r\n\r\n")
        for byte in body:
            if select.select([connection], [], [], interval)[0]:
                break  # the server answered before the body was whole
            if time.monotonic() - started > stop_after:
                select.select([connection], [], [], 10)
                break
            connection.sendall(bytes([byte]))
        answered = time.monotonic() - started
        received = b""
        while chunk := connection.recv(65536):  # b"" once the server closed the connection
            received += chunk
    return received, answered


@pytest.mark.heavy
def test_a_body_trickling_in_a_byte_at_a_time_is_refused_at_the_deadline(
    settings: Settings,
) -> None:
    """Each byte comes well within the timeout: only a deadline for the whole body stops it."""
    app = create_app(settings.model_copy(update={"request_body_timeout_seconds": TIMEOUT}))
    body = b'{"name": "%s", "price": 1}' % (b"x" * 100)

    with serving(app) as address:
        received, answered = trickle(address, body, TIMEOUT / 4, stop_after=TIMEOUT * 0.6)

    head, _, content = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    assert status_line == "HTTP/1.1 408 Request Timeout"
    assert TIMEOUT <= answered < TIMEOUT + 2
    assert headers["connection"] == "close"
    assert json.loads(content) == {
        "detail": f"The request body did not arrive within {TIMEOUT:g} s",
        "request_id": headers["x-request-id"],
    }


@pytest.mark.heavy
def test_a_slow_body_whole_within_the_deadline_is_read(
    settings: Settings, credentials: dict[str, str]
) -> None:
    app = create_app(settings.model_copy(update={"request_body_timeout_seconds": TIMEOUT * 2}))
    # Whole in about 0.5 s; invalid, so that the answer (a 422) writes nothing.
    body = b'{"name": "", "price": 1}'
    sent = [f"{name}: {value}" for name, value in credentials.items()]

    with serving(app) as address:
        received, _ = trickle(address, body, 0.02, "Connection: close", *sent)

    assert received.startswith(b"HTTP/1.1 422 "), received
