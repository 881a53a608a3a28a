"""Refuse a body declared larger than MAX_REQUEST_BODY_BYTES with a 413, before routing.

FastAPI's own limit (`max_body_size`, on the API's routers: see `main.py`) counts
the bytes a route reads, so a body sent without a length (chunked) is refused as
soon as it passes the limit, with the error handlers' 413. A `Content-Length` over
the limit, though, FastAPI answers from its outermost layer in plain text, past
every middleware: without the request id, the security headers or the error body.
Such a request is answered here instead, before anything reads its body.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from ..core.error_body import send_error
from .body_timeout import CLOSE

TOO_LARGE = "Content Too Large"


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = declared_length(scope)
            if declared is not None and declared > self.max_bytes:
                # The body stays unread: the connection cannot carry another request.
                await send_error(send, 413, TOO_LARGE, CLOSE)
                return
        await self.app(scope, receive, send)
