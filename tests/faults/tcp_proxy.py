"""A TCP proxy in front of the real Redis that a test can break: it passes bytes through,
refuses connections (Redis down), or accepts and holds them without a byte in either
direction (Redis hung). Going back to `pass` drops the held connections, as a restarted
Redis would, so clients must notice and reconnect."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from typing import Literal

Mode = Literal["pass", "refuse", "hang"]


class FaultyTcpProxy:
    def __init__(self, *, target: tuple[str, int]) -> None:
        self.target = target
        self.mode: Mode = "pass"
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._stopping = threading.Event()
        self._listener = self._listen(port=0)
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @staticmethod
    def _listen(*, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(256)
        listener.settimeout(0.2)
        return listener

    def set_mode(self, mode: Mode) -> None:
        with self._lock:
            previous, self.mode = self.mode, mode
            if mode == "refuse" or (previous == "hang" and mode == "pass"):
                self._drop_all()
            if mode == "refuse":
                self._listener.close()  # connecting now gets ECONNREFUSED
            elif previous == "refuse":
                self._listener = self._listen(port=self.port)

    def _drop_all(self) -> None:
        for conn in self._connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._connections.clear()

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            self._drop_all()
            self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed while refusing: wait for it to listen again
                self._stopping.wait(0.05)
                continue
            with self._lock:
                mode = self.mode
                self._connections.append(client)
            if mode == "hang":
                continue  # accepted, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.append(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        pair = {client: upstream, upstream: client}
        try:
            while not self._stopping.is_set():
                if self.mode == "hang":
                    self._stopping.wait(0.05)  # hold every byte where it is
                    continue
                ready, _, _ = select.select(list(pair), [], [], 0.2)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    pair[source].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for conn in pair:
                with contextlib.suppress(OSError):
                    conn.close()


@contextlib.contextmanager
def faulty_proxy(*, host: str, port: int) -> Iterator[FaultyTcpProxy]:
    proxy = FaultyTcpProxy(target=(host, port))
    try:
        yield proxy
    finally:
        proxy.close()
