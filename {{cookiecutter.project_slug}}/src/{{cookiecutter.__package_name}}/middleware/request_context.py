"""Request ids, timing, fixed response headers and the access log line.

Each request gets an id: the client's (or a proxy's) `X-Request-ID` when it is
sane, a new one otherwise. It is returned on the response and attached to every
log line of the request, so one id finds everything a request did.
"""

import logging
import random
import re
from collections.abc import Mapping

from starlette.types import Scope

# One line per request, with its fields as record attributes (JSON keys in production).
access_logger = logging.getLogger("access")

REQUEST_ID_HEADER = b"x-request-id"
PROCESS_TIME_HEADER = b"x-process-time"
# Ids from clients are echoed into headers and logs: accept only short, plain ones.
SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

Headers = list[tuple[bytes, bytes]]


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and SANE_REQUEST_ID.fullmatch(value):
            return str(value, "ascii")
    # Unique, not secret: an id to find log lines by. `secrets` would ask the kernel for
    # randomness on every request; `random` is reseeded in each forked worker.
    return f"{random.getrandbits(128):032x}"


def encoded_headers(headers: Mapping[str, str]) -> Headers:
    """Headers from settings, encoded once at start-up rather than on every response."""
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


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
