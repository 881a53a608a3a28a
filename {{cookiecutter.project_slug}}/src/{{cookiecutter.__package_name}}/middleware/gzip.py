"""GZip for clients that accept it, and no cost at all for those that do not.

Starlette's `GZipMiddleware` wraps every response, even for clients that never
asked for gzip; here those requests go straight to the app. Compression itself is
Starlette's: it skips small bodies, responses that already have a
`Content-Encoding`, compressed media types and `text/event-stream`.
"""

from starlette.middleware.gzip import GZipMiddleware as StarletteGZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


def accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            for coding in value.lower().split(b","):
                token, _, params = coding.strip().partition(b";")
                if token in (b"gzip", b"*"):
                    return params.replace(b" ", b"") not in (
                        b"q=0",
                        b"q=0.0",
                        b"q=0.00",
                        b"q=0.000",
                    )
    return False


class GZipMiddleware:
    def __init__(self, app: ASGIApp, *, minimum_size: int, compresslevel: int) -> None:
        self.app = app
        self.compressing = StarletteGZipMiddleware(
            app, minimum_size=minimum_size, compresslevel=compresslevel
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and accepts_gzip(scope):
            await self.compressing(scope, receive, send)
        else:
            await self.app(scope, receive, send)
