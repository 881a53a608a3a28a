"""Refuse request bodies over a size limit before they are read whole.

A declared `Content-Length` over the limit is refused at once; a body sent
without one (chunked) is counted as it streams in and refused as soon as it
passes the limit, so a client cannot make a worker buffer gigabytes.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.error_body import send_error

# Methods that normally carry no body: their requests pass without any wrapping.
BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class BodyTooLarge(HTTPException):
    """Raised while the app reads the body; the error handlers turn it into the 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=f"Request body larger than {max_bytes} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

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
            await self.refuse(send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
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
        except BodyTooLarge:
            if response_started:
                raise
            await self.refuse(send)

    async def refuse(self, send: Send) -> None:
        detail = f"Request body larger than {self.max_bytes} bytes"
        await send_error(send, 413, detail, [(b"connection", b"close")])
