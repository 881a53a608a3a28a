"""The request body's bounds: a 413 for one declared too large, a 408 for one too slow.

A `Content-Length` over MAX_REQUEST_BODY_BYTES is refused before anything reads
the body, with the service's error body (a body sent without a length is counted
as the route reads it, by FastAPI's own `max_body_size` on the API's routers: see
`main.py`). A client that sends its body a byte at a time holds a worker's
request, and whatever the request holds, open for as long as it likes unless the
whole body has a deadline, counted from the request's start: a byte every few
seconds is refused at REQUEST_BODY_TIMEOUT_SECONDS all the same.
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.error_body import send_error

TOO_LARGE = "Content Too Large"
# Methods that normally carry no body: their requests pass without any wrapping.
BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# Sent with a refusal of a body not read whole: the rest of it would follow on the
# connection, so the connection is closed rather than read on.
CLOSE = [(b"connection", b"close")]


class BodyTooSlow(HTTPException):
    """Raised while the app reads the body; the error handlers turn it into the 408."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, detail=f"The request body did not arrive within {timeout:g} s")


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            # The body stays unread: the connection cannot carry another request.
            await send_error(send, 413, TOO_LARGE, CLOSE)
            return
        if declared is None and not chunked and scope["method"] in BODILESS:
            await self.app(scope, receive, send)
            return
        await self.within_deadline(scope, receive, send)

    async def within_deadline(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = asyncio.get_running_loop().time() + self.timeout
        started = False

        async def receive_in_time() -> Message:
            try:
                async with asyncio.timeout_at(deadline):
                    return await receive()
            except TimeoutError:
                raise BodyTooSlow(self.timeout) from None

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_tracked)
        except BodyTooSlow as error:
            # Raised by a read outside the app's exception handlers (a background read).
            if started:
                raise
            await send_error(send, error.status_code, error.detail, CLOSE)
