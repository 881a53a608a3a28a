"""The gunicorn worker class (see gunicorn.conf.py): uvicorn's, with two changes.

No `Server` header: announcing the server software helps nobody but someone
scanning for it. And the HTTP protocol bounds the size and the time of a
request's head (see `http_protocol`), with the limits from settings.
"""

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from .core.config import get_settings
from .http_protocol import BoundedHttpToolsProtocol


class BoundedProtocol(BoundedHttpToolsProtocol):
    max_head_bytes = get_settings().max_request_head_bytes
    head_timeout = get_settings().request_head_timeout_seconds


# uvicorn-worker ships no type hints, so mypy sees its class as Any.
class Worker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "server_header": False,
        "http": BoundedProtocol,
    }
