"""One deadline for a whole HTTP exchange, however slowly the other end sends: socket
timeouts only bound each read, so a server that trickles a byte at a time would outlast
them. When time is up the open connection is shut down, which ends any read in progress."""

from __future__ import annotations

import http.client
import socket
import threading
import time


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.expired = False
        self.sock = None
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True
        self.timer.start()

    def left(self, at_most: float) -> float:
        """Seconds left, at most `at_most` (one connect's or read's own timeout)."""
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise TimeoutError("timed out")
        return min(left, at_most)

    def _expire(self):
        with self.lock:
            self.expired = True
            if self.sock is None:
                return
            # A duplicate of the descriptor: shutting it down stops the reader's socket too.
            try:
                with socket.fromfd(*self.sock) as dup:
                    dup.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def watch(self, sock):
        """The socket to shut down at the deadline, or None. Its descriptor is kept, not the
        object: TLS's wrapping takes the descriptor over and leaves this object closed."""
        with self.lock:
            self.sock = None if sock is None else (sock.fileno(), sock.family, sock.type)

    def stop(self):
        self.timer.cancel()
        self.watch(None)

    def connection(self, scheme, host, port, each: float, address=None, **options):
        """http.client's connection, its socket watched from the start (TLS's handshake
        too) and each connect or read bounded by `each` seconds as well; opened to
        `address` (family, sockaddr) when given, else to the host by name. The Host header,
        and for https the certificate check, use the name."""

        def connect(_host_port, timeout=None, source_address=None):
            if address is None:
                sock = socket.create_connection((host, port), self.left(each))
            else:
                sock = socket.socket(address[0], socket.SOCK_STREAM)
                try:
                    sock.settimeout(self.left(each))
                    sock.connect(address[1])
                except BaseException:
                    sock.close()
                    raise
            self.watch(sock)
            return sock

        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = kind(host, port, timeout=self.left(each), **options)
        connection._create_connection = connect  # the hook http.client opens its socket with
        return connection
