"""Real TCP servers on loopback that answer a feed fetch the way a hostile or broken server
would: redirects anywhere, a byte at a time, huge bodies, over TCP or TLS. Each records what
reached it."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable

Answer = Callable[[socket.socket, bytes], None]


class Server:
    """Accepts connections on 127.0.0.1; `answer(connection, request_head)` writes a reply."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None):
        self.answer, self.tls = answer, tls
        self.heads: list[bytes] = []
        self.connections = 0
        self.open: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.closed = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.closed.is_set():  # accepted as the test ended: hung up at once
                    connection.close()
                    return
                self.connections += 1
                self.open.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket):
        with connection:
            connection.settimeout(10)
            head = b""
            try:
                if self.tls:
                    connection = self.tls.wrap_socket(connection, server_side=True)
                while b"\r\n\r\n" not in head:
                    data = connection.recv(4096)
                    if not data:
                        return
                    head += data
                self.heads.append(head)
                self.answer(connection, head)
            except OSError:
                pass  # the client hung up: that is what some tests want

    def close(self):
        """Stops listening and hangs up on everyone, so no fetch outlives its test."""
        with self.lock:
            self.closed.set()
        self.listener.close()
        for connection in self.open:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Servers:
    """Starts servers for one test and closes them all afterwards."""

    def __init__(self):
        self.started: list[Server] = []

    def start(self, answer: Answer, tls: ssl.SSLContext | None = None) -> Server:
        server = Server(answer, tls)
        self.started.append(server)
        return server

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for server in self.started:
            server.close()


def response(status: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def redirect(location: str, status: str = "302 Found") -> Answer:
    def answer(connection, head):
        connection.sendall(response(status, Location=location))

    return answer


def feed(body: bytes) -> Answer:
    def answer(connection, head):
        connection.sendall(response("200 OK", body, Content_Type="application/rss+xml"))

    return answer


def trickle(data: bytes, every: float = 1.0) -> Answer:
    """One byte every `every` seconds, then the connection closes."""

    def answer(connection, head):
        for byte in data:
            connection.sendall(bytes([byte]))
            time.sleep(every)

    return answer
