"""Refuse request bodies over a size limit before they are read whole, and stalled ones.

A declared `Content-Length` over the limit is refused at once; a body sent
without one (chunked) is counted as it streams in and refused as soon as it
passes the limit, so a client cannot make a worker buffer gigabytes. A body
whose next chunk does not arrive within `chunk_timeout` seconds is refused with
a 408, so a slow client cannot hold a worker's request open indefinitely.
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.error_body import send_error

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


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, chunk_timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.chunk_timeout = chunk_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next(
            (value for name, value in scope["headers"] if name == b"content-length"), None
        )
        if declared is None and scope["method"] in BODILESS:
            await self.app(scope, receive, send)
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await send_error(send, 413, BodyTooLarge(self.max_bytes).detail, CLOSE)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            try:
                async with asyncio.timeout(self.chunk_timeout):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except (BodyTooLarge, BodyTooSlow) as refusal:
            if response_started:
                raise
            await send_error(send, refusal.status_code, refusal.detail, CLOSE)
