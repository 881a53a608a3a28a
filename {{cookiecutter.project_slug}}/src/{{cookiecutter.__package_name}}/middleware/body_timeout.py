"""Refuse request bodies that do not arrive whole in time, with a 408.

A client that sends its body a byte at a time holds a worker's request (and
whatever the request holds) open for as long as it likes, unless the whole
body has a deadline, counted from the request's start: a byte every few
seconds is refused at the deadline all the same. (Its size is bounded too: see
`body_limit`.)
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.error_body import send_error

# Methods that normally carry no body: their requests pass without any wrapping.
BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# Sent with a refusal of a body not read whole: the rest of it would follow on the
# connection, so the connection is closed rather than read on.
CLOSE = [(b"connection", b"close")]


class BodyTooSlow(HTTPException):
    """Raised while the app reads the body; the error handlers turn it into the 408."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, detail=f"The request body did not arrive within {timeout:g} s")


def may_have_body(scope: Scope) -> bool:
    return scope["method"] not in BODILESS or any(
        name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"]
    )


class BodyTimeoutMiddleware:
    def __init__(self, app: ASGIApp, *, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not may_have_body(scope):
            await self.app(scope, receive, send)
            return
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
