"""uvicorn's httptools protocol, with the bounds it lacks on a request's head.

httptools accepts a head of any size and waits for it forever: sixteen
connections sending 8 MiB headers grew a worker by 150 MiB, and a client sending
one header byte a second holds a connection open indefinitely. Here a head
larger than `max_head_bytes` gets a 431 and one not complete within
`head_timeout` seconds (from the connection or the request's first byte) a 408;
both close the connection. Bodies are bounded by the body-limit middleware.
"""

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TOO_LARGE = b"431 Request Header Fields Too Large"
TOO_SLOW = b"408 Request Timeout"


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = 65_536
    head_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_timer is not None:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._start_head()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def _start_head(self) -> None:
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.head_timeout, self._refuse, TOO_SLOW)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: bytes) -> None:
        self._stop_head_timer()
        if not self.transport.is_closing():
            self.transport.write(
                b"HTTP/1.1 %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n" % status
            )
            self.transport.close()
