"""Sending prepared messages over an open SMTP session in as few round trips as allowed.

smtplib's sendmail waits for each of MAIL, RCPT and DATA in turn, reads replies a line at a
time and copies the message to fix line endings. Where the server offers PIPELINING
(RFC 2920) one write carries a message's content together with the next message's MAIL,
RCPT and DATA, so each message costs one round trip, and the message after is built while
the server takes them; replies are parsed from whole reads.
Messages are built with CRLF line endings and are only dot-stuffed here, unless they come
with their dots doubled already (`mailer.Stuffed`, an issue's copies).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from newsletter.mailer import Stuffed, double_dots, smtp_address

# (key, envelope sender, recipient, message): the key comes back with the result.
Item = tuple[object, str, str, bytes | Stuffed]


class Interrupted(OSError):
    """The connection failed; `key` names the message whose fate is unknown."""

    def __init__(self, key, error: OSError):
        super().__init__(str(error))
        self.key = key


def dot_stuffed(message: bytes | Stuffed, ahead: bytes = b"") -> bytes:
    """The message as DATA carries it (leading dots doubled, ended by CRLF.CRLF) and what
    goes after it in the same write, as one buffer: joining its fifty-odd pieces, which are
    mostly the issue's own and in the CPU's cache, costs less than handing them to the
    socket one by one (26,000 instructions a message less, each piece a buffer to take and
    let go, and their lengths to sum)."""
    chunks = message.chunks if isinstance(message, Stuffed) else [double_dots(message)]
    end = b".\r\n" if chunks[-1].endswith(b"\r\n") else b"\r\n.\r\n"
    return b"".join([*chunks, end, ahead])


@contextmanager
def _kernel_timeouts(sock: socket.socket) -> Iterator[None]:
    """The socket blocking, its timeout kept by the kernel (SO_RCVTIMEO, SO_SNDTIMEO).

    With a timeout of its own, Python polls before every read and write: two system calls
    more a message, each letting go of the GIL to another thread. A read or write the kernel
    times out raises TimeoutError, as Python's would. Not for TLS, whose blocking reads
    retry past the kernel's timeout; nor where the kernel takes no such option."""
    timeout = sock.gettimeout()
    if isinstance(sock, ssl.SSLSocket) or not timeout:
        yield
        return
    seconds = int(timeout)
    value = struct.pack("ll", seconds, max(1, int((timeout - seconds) * 1e6)))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
    except OSError:
        yield
        return
    sock.settimeout(None)
    try:
        yield
    except BlockingIOError as exc:
        raise TimeoutError(f"the server did not answer in {timeout:g} s") from exc
    finally:
        if sock.fileno() >= 0:
            sock.settimeout(timeout)  # and the kernel's left as they are: no longer used


def _envelope(sender: str, recipient: str) -> bytes:
    return (
        f"MAIL FROM:<{smtp_address(sender)}>\r\nRCPT TO:<{smtp_address(recipient)}>\r\nDATA\r\n"
    ).encode()


def _refusal(mail, rcpt, data, sender: str, recipient: str) -> smtplib.SMTPException:
    if mail[0] != 250:
        return smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
    if rcpt[0] not in (250, 251):
        return smtplib.SMTPRecipientsRefused({recipient: rcpt})
    return smtplib.SMTPDataError(*data)


def _next(items: Iterator[Item]) -> tuple[Item | None, Exception | None]:
    """The next item, or the error building it raised."""
    try:
        return next(items, None), None
    except Exception as exc:
        return None, exc


class Pipeline:
    def __init__(self, smtp: smtplib.SMTP):
        self.smtp = smtp
        # Each write is whole and every reply awaited: Nagle's wait would only delay it.
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo_or_helo_if_needed()
        self.pipelining = smtp.does_esmtp and smtp.has_extn("pipelining")
        self.buffer = b""

    def send(self, sender: str, recipient: str, message: bytes | Stuffed) -> None:
        """One message; a refusal is raised as sendmail raises it."""
        for _, error in self.send_all([(None, sender, recipient, message)]):
            if error:
                raise error

    def send_all(self, items: Iterable[Item]) -> Iterator[tuple[object, Exception | None]]:
        """Send each item in turn; yields (key, None) when accepted, (key, refusal) when not.

        Raises Interrupted when the connection fails. An error building an item is raised
        as it is, once the message before it is done, so the session stays usable.
        Consume it to the end: the next message's envelope may already be on the wire.
        """
        if not self.pipelining:
            yield from self._one_at_a_time(items)
            return
        items = iter(items)
        current, unbuilt = _next(items)
        following = None
        try:
            with _kernel_timeouts(self.smtp.sock):
                if current is not None:
                    self.smtp.sock.sendall(_envelope(current[1], current[2]))
                    following, unbuilt = _next(items)
                while current is not None:
                    key, sender, recipient, message = current
                    mail, rcpt, data = self._replies(3)
                    ahead = _envelope(following[1], following[2]) if following else b""
                    accepted = mail[0] == 250 and rcpt[0] in (250, 251) and data[0] == 354
                    if accepted:
                        self.smtp.sock.sendall(dot_stuffed(message, ahead))
                    else:
                        if data[0] == 354:  # took DATA with nothing to deliver: end it empty
                            self.smtp.sock.sendall(b".\r\n")
                            self._replies(1)
                        self.smtp.sock.sendall(b"RSET\r\n" + ahead)
                    # The one after is built while the server takes this one: no idle wire.
                    after = None
                    if following is not None and unbuilt is None:
                        after, unbuilt = _next(items)
                    [(code, text)] = self._replies(1)
                    if not accepted:
                        yield key, _refusal(mail, rcpt, data, sender, recipient)
                    else:
                        yield key, None if code == 250 else smtplib.SMTPDataError(code, text)
                    current, following = following, after
        except OSError as exc:
            raise Interrupted(current[0], exc) from exc
        # Outside the try: a missing file (an OSError) is no lost connection.
        if unbuilt is not None:
            raise unbuilt

    def _one_at_a_time(self, items: Iterable[Item]):
        for key, sender, recipient, message in items:
            try:
                self.smtp.sendmail(smtp_address(sender), [smtp_address(recipient)], bytes(message))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                yield key, exc
            except OSError as exc:
                raise Interrupted(key, exc) from exc
            else:
                yield key, None

    def _replies(self, count: int) -> list[tuple[int, bytes]]:
        """The next `count` replies, each (code, text), multi-line replies joined."""
        replies, lines = [], []
        while len(replies) < count:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                chunk = self.smtp.sock.recv(65536)
                if not chunk:
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
                self.buffer += chunk
                continue
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            lines.append(line[4:])
            if line[3:4] != b"-":
                try:
                    code = int(line[:3])
                except ValueError:
                    raise smtplib.SMTPResponseException(-1, line) from None
                replies.append((code, b"\n".join(lines)))
                lines = []
        return replies
