"""The gunicorn worker class (see gunicorn.conf.py): uvicorn's, minus the `Server` header.

Announcing the server software helps nobody but someone scanning for it.
"""

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker


# uvicorn-worker ships no type hints, so mypy sees its class as Any.
class Worker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "server_header": False,
    }
