"""Request id, timing and the last line of defence against unhandled errors.

Pure ASGI rather than `BaseHTTPMiddleware`: this runs on every request, and the
latter costs a task and a stream per request.
"""

import logging
import re
import time
from uuid import uuid4

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.error_body import send_error
from ..core.logging import request_id_var

logger = logging.getLogger(__name__)
# One line per request, with its fields as record attributes (JSON keys in production).
access_logger = logging.getLogger("access")

REQUEST_ID_HEADER = b"x-request-id"
# Ids from clients are echoed into headers and logs: accept only short, plain ones.
SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and SANE_REQUEST_ID.fullmatch(value):
            return str(value, "ascii")
    return uuid4().hex


class RequestContextMiddleware:
    """Tags the request with an id, times it, and turns a crash into a clean 500.

    The id comes from `X-Request-ID` when the client (or a proxy) sent a sane one;
    it is returned on the response and attached to every log line of the request.
    `X-Process-Time` is the time spent in the application, in seconds. Fixed
    headers (the security headers from settings) are added to every response here
    too, which costs nothing more than the list they are appended to.
    """

    def __init__(self, app: ASGIApp, *, extra_headers: dict[str, str], access_log: bool) -> None:
        self.app = app
        self.access_log = access_log
        self.extra_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in extra_headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        response_started = False
        status = 500

        async def send_with_context(message: Message) -> None:
            nonlocal response_started, status
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                elapsed = f"{time.perf_counter() - started:.6f}"
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                    (b"x-process-time", elapsed.encode()),
                    *self.extra_headers,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        except Exception:
            # The trace goes to the log; the client gets the id to quote, nothing more.
            logger.exception("Unhandled error in %s %s", scope["method"], scope["path"])
            if response_started:
                raise
            await send_error(send_with_context, 500, "Internal Server Error")
        finally:
            if self.access_log:
                log_access(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)


def log_access(scope: Scope, status: int, elapsed: float) -> None:
    method, path, duration_ms = scope["method"], scope["path"], round(elapsed * 1000, 3)
    access_logger.info(
        "%s %s %d %.1fms",
        method,
        path,
        status,
        duration_ms,
        extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms},
    )
