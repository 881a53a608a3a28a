"""An app served by uvicorn over real sockets, in a thread of the test process."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI


@contextmanager
def serving(app: FastAPI, **config: Any) -> Iterator[tuple[str, int]]:
    """Serve `app` (with its own pools and event loop) on a free port; yield the address.

    `config` goes to `uvicorn.Config`, e.g. `log_config=None, log_level=None` to leave
    logging as the app configured it.
    """
    config = {"log_level": "warning", **config}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
