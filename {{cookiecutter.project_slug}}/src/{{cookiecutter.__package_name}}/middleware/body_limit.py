"""Refuse request bodies over a size limit before they are read whole, and stalled ones.

A declared `Content-Length` over the limit is refused at once; a body sent
without one (chunked) is counted as it streams in and refused as soon as it
passes the limit, so a client cannot make a worker buffer gigabytes. A body
whose next chunk does not arrive within `chunk_timeout` seconds is refused with
a 408, so a slow client cannot hold a worker's request open indefinitely.
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope

# Methods that normally carry no body: their requests pass without any wrapping.
BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
CLOSE = [(b"connection", b"close")]


class BodyTooLarge(HTTPException):
    """Raised while the app reads the body; the error handlers turn it into the 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=f"Request body larger than {max_bytes} bytes")


class BodyTooSlow(HTTPException):
    def __init__(self) -> None:
        super().__init__(408, detail="The request body stalled")


def declared_length(scope: Scope) -> bytes | None:
    return next((value for name, value in scope["headers"] if name == b"content-length"), None)


def may_have_body(scope: Scope, declared: bytes | None) -> bool:
    return declared is not None or scope["method"] not in BODILESS


def declared_too_large(declared: bytes | None, max_bytes: int) -> bool:
    return declared is not None and (not declared.isdigit() or int(declared) > max_bytes)


def bounded_receive(receive: Receive, max_bytes: int, chunk_timeout: float) -> Receive:
    """`receive` that raises `BodyTooLarge` or `BodyTooSlow` instead of reading on."""
    received = 0

    async def counting_receive() -> Message:
        nonlocal received
        try:
            async with asyncio.timeout(chunk_timeout):
                message = await receive()
        except TimeoutError:
            raise BodyTooSlow from None
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge(max_bytes)
        return message

    return counting_receive
