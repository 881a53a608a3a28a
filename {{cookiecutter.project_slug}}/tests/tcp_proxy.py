"""A TCP proxy in front of a real service, to take it away and bring it back.

Threads rather than asyncio, so it keeps forwarding for worker threads while the
test's event loop is idle.
"""

import contextlib
import socket
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        # While set, bytes are swallowed in both directions: a network dropping packets.
        self.blackholed = threading.Event()

    def start(self) -> None:
        """Listen (again) on the same port, so clients reconnect to the same URL."""
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a crashed server would."""
        if self._listener is not None:
            cut(self._listener)
            self._listener = None
        with self._lock:
            for sock in self._open:
                cut(sock)
            self._open.clear()

    def blackhole(self) -> None:
        """Keep every connection open but deliver nothing, as a partitioned network does."""
        self.blackholed.set()

    def heal(self) -> None:
        self.blackholed.clear()

    def __enter__(self) -> "TcpProxy":
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                # The service behind is down: so is this connection, not the proxy.
                cut(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update({client, upstream})
            for source, destination in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, destination), daemon=True).start()

    def _pipe(self, source: socket.socket, destination: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.blackholed.is_set():
                    destination.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, destination):
                cut(sock)
                with self._lock:
                    self._open.discard(sock)


def cut(sock: socket.socket) -> None:
    """Close now: `shutdown` also wakes a thread blocked on the socket, `close` alone does not."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
