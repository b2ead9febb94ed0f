"""A TCP proxy in front of the database that can be told to fail: refuse, or accept and stay silent."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class FaultyProxy:
    """Forwards to `upstream` until told otherwise.

    Modes: "forward"; "refuse" (every connection, new or open, is closed: the database is
    down); "silent" (new connections are accepted and never answered, open ones stop
    carrying data: the database's machine is up, the database frozen).
    """

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.url = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{self.port}"))
        self.mode = "forward"
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name="faulty-proxy", daemon=True).start()

    def set_mode(self, mode: str) -> None:
        """Switch behaviour; "refuse" also drops every open connection."""
        assert mode in ("forward", "refuse", "silent")
        with self._lock:
            self.mode = mode
            if mode == "refuse":
                self._drop_all()

    def close(self) -> None:
        """Stop listening and drop everything."""
        self._closed = True
        self.listener.close()
        with self._lock:
            self._drop_all()

    def _drop_all(self) -> None:
        for sock in self._open:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._open.clear()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
                if mode == "refuse":
                    client.close()
                    continue
                self._open.append(client)
                if mode == "silent":
                    continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.append(upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                try:
                    target.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if self.mode == "silent":
                continue  # swallowed: the other side waits for an answer that never comes
            try:
                target.sendall(data)
            except OSError:
                return
