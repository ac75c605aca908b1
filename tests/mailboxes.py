"""Real POP3 and IMAP servers for tests: each runs in a background thread on 127.0.0.1 and a
free port, serving one shared Mailbox, so the bounce poller is tested with the standard
library's poplib and imaplib clients over TCP."""

from __future__ import annotations

import datetime
import ipaddress
import re
import socketserver
import ssl
import threading
from pathlib import Path
from typing import Self


class Mailbox:
    """The messages both servers serve. Add messages by appending to `messages`: each gets
    the next UID when a client first sees it, so UIDs stay 1, 2, 3... in arrival order."""

    def __init__(self, messages: list[bytes] | None = None) -> None:
        self.messages: list[bytes] = list(messages or [])
        self.deleted: list[bytes] = []  # what clients removed, in that order
        self._uids: list[int] = []  # UID of messages[i], kept in step with it
        self._next_uid = 1
        self._lock = threading.Lock()  # sessions run in their own threads

    def snapshot(self) -> list[tuple[int, bytes]]:
        """(UID, message with CRLF line endings) for each message, as the protocols want."""
        with self._lock:
            while len(self._uids) < len(self.messages):
                self._uids.append(self._next_uid)
                self._next_uid += 1
            return [
                (uid, crlf(message)) for uid, message in zip(self._uids, self.messages, strict=True)
            ]

    def remove(self, uids: set[int]) -> None:
        # By UID, not position: another session may have removed messages meanwhile.
        with self._lock:
            for uid in sorted(uids & set(self._uids)):
                index = self._uids.index(uid)
                del self._uids[index]
                self.deleted.append(self.messages.pop(index))


def crlf(message: bytes) -> bytes:
    return b"".join(line + b"\r\n" for line in message.splitlines())


class _Server:
    """Runs `handler` in a ThreadingTCPServer; the handler finds us as `self.server.owner`."""

    handler: type[socketserver.StreamRequestHandler]

    def __init__(
        self,
        mailbox: Mailbox,
        user: str = "bounces",
        password: str = "secret",
        tls: ssl.SSLContext | None = None,
    ):
        """`tls`: the server's context, for implicit TLS (imaps://, pop3s://)."""
        self.mailbox, self.user, self.password = mailbox, user, password
        self.host, self.port = "127.0.0.1", 0  # the real port is known once started
        self.tls = tls

    def start(self) -> None:
        kind = _TlsServer if self.tls else socketserver.ThreadingTCPServer
        self._server = kind((self.host, 0), self.handler)
        self._server.tls = self.tls
        self._server.daemon_threads = True  # a client left connected must not hang the tests
        self._server.owner = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()  # returns once serve_forever has stopped
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class _TlsServer(socketserver.ThreadingTCPServer):
    tls: ssl.SSLContext

    def get_request(self):
        conn, address = self.socket.accept()
        return self.tls.wrap_socket(conn, server_side=True), address


class _Pop3Session(socketserver.StreamRequestHandler):
    """RFC 1939: USER/PASS, then STAT LIST UIDL RETR DELE RSET NOOP; DELE takes effect at QUIT."""

    def handle(self) -> None:
        owner: Pop3Server = self.server.owner
        user = None
        box: list[tuple[int, bytes]] | None = None  # the maildrop, once logged in
        marked: set[int] = set()  # message numbers deleted in this session
        self.reply(b"+OK POP3 test server ready")
        for line in self.rfile:
            command, _, arg = line.decode("utf-8", "replace").strip().partition(" ")
            command = command.upper()
            if command == "QUIT":
                if box is not None:
                    owner.mailbox.remove({box[number - 1][0] for number in marked})
                self.reply(b"+OK bye")
                return
            if box is None:
                if command == "USER":
                    user = arg
                    self.reply(b"+OK")
                elif command == "PASS" and (user, arg) == (owner.user, owner.password):
                    box = owner.mailbox.snapshot()
                    self.reply(b"+OK logged in")
                else:
                    self.reply(b"-ERR wrong user or password" if command == "PASS" else b"-ERR")
                continue
            # Message number (as the client writes it) -> (UID, message), for undeleted ones.
            live = {str(n): entry for n, entry in enumerate(box, 1) if n not in marked}
            if command == "STAT":
                size = sum(len(message) for _, message in live.values())
                self.reply(f"+OK {len(live)} {size}".encode())
            elif command in ("LIST", "UIDL"):
                rows = {
                    n: f"{n} {len(message) if command == 'LIST' else uid}".encode()
                    for n, (uid, message) in live.items()
                }
                if not arg:
                    self.reply(b"+OK", list(rows.values()))
                else:
                    self.reply(b"+OK " + rows[arg] if arg in rows else b"-ERR no such message")
            elif command in ("RETR", "DELE") and arg not in live:
                self.reply(b"-ERR no such message")
            elif command == "RETR":
                message = live[arg][1]
                self.reply(f"+OK {len(message)} octets".encode(), message.splitlines())
            elif command == "DELE":
                marked.add(int(arg))
                self.reply(b"+OK marked")
            elif command == "RSET":
                marked.clear()
                self.reply(b"+OK")
            elif command == "NOOP":
                self.reply(b"+OK")
            else:
                self.reply(b"-ERR unknown command")

    def reply(self, status: bytes, lines: list[bytes] | None = None) -> None:
        """A status line, then for a multi-line reply the dot-stuffed lines and a lone dot."""
        if lines is not None:
            stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
            status = b"\r\n".join([status, *stuffed, b"."])
        self.wfile.write(status + b"\r\n")


class Pop3Server(_Server):
    handler = _Pop3Session


class _ImapSession(socketserver.StreamRequestHandler):
    """RFC 3501, only what imaplib needs to log in, select INBOX, search, fetch, flag messages
    \\Deleted and expunge them. Flags live in the session: an unexpunged flag is forgotten."""

    def handle(self) -> None:
        self.owner: ImapServer = self.server.owner
        self.logged_in = False
        self.box: list[tuple[int, bytes]] | None = None  # (UID, message) while INBOX is selected
        self.readonly = False  # selected with EXAMINE
        self.flagged: set[int] = set()  # UIDs flagged \Deleted
        self.send("* OK IMAP4rev1 test server ready")
        for line in self.rfile:
            tag, _, rest = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            by_uid = command.upper() == "UID"
            if by_uid:
                command, _, args = args.partition(" ")
            command = command.upper()
            self.send(f"{tag} {self.run(command, args, by_uid)}")
            if command == "LOGOUT":
                return

    def run(self, command: str, args: str, by_uid: bool) -> str:
        """The tagged reply: OK, NO or BAD and a text."""
        run = getattr(self, f"do_{command.lower()}", None)
        if not run or (by_uid and command not in ("SEARCH", "FETCH", "STORE")):
            return "BAD unknown command"
        if not self.logged_in and command not in ("CAPABILITY", "NOOP", "LOGOUT", "LOGIN"):
            return "BAD log in first"
        if self.box is None and command in ("SEARCH", "FETCH", "STORE", "EXPUNGE", "CLOSE"):
            return "BAD select a mailbox first"
        try:
            return run(args, by_uid)
        except ValueError:  # a malformed message set or argument list
            return f"BAD {command} arguments"

    def do_capability(self, args: str, by_uid: bool) -> str:
        self.send("* CAPABILITY IMAP4rev1")
        return "OK CAPABILITY completed"

    def do_noop(self, args: str, by_uid: bool) -> str:
        return "OK NOOP completed"

    def do_logout(self, args: str, by_uid: bool) -> str:
        self.send("* BYE logging out")
        return "OK LOGOUT completed"

    def do_login(self, args: str, by_uid: bool) -> str:
        # Each argument is an atom or a "quoted string" with \-escapes, as imaplib sends them.
        if self.logged_in:
            return "BAD already logged in"
        words = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', args)
        user, password = (re.sub(r"\\(.)", r"\1", quoted) or atom for quoted, atom in words)
        if (user, password) != (self.owner.user, self.owner.password):
            return "NO wrong user or password"
        self.logged_in = True
        return "OK LOGIN completed"

    def do_select(self, args: str, by_uid: bool, readonly: bool = False) -> str:
        self.box = None
        if args.strip('"').upper() != "INBOX":
            return "NO only INBOX exists"
        self.box, self.readonly, self.flagged = self.owner.mailbox.snapshot(), readonly, set()
        self.send("* FLAGS (\\Deleted)")
        self.send(f"* {len(self.box)} EXISTS")
        self.send("* 0 RECENT")
        self.send("* OK [UIDVALIDITY 1] UIDs are stable")
        return f"OK [READ-{'ONLY' if readonly else 'WRITE'}] selected"

    def do_examine(self, args: str, by_uid: bool) -> str:
        return self.do_select(args, by_uid, readonly=True)

    def do_search(self, args: str, by_uid: bool) -> str:
        if args.upper() != "ALL":
            return "BAD only SEARCH ALL is supported"
        found = [uid if by_uid else n for n, (uid, _) in enumerate(self.box, 1)]
        self.send(" ".join(["* SEARCH", *map(str, found)]))
        return "OK SEARCH completed"

    def do_fetch(self, args: str, by_uid: bool) -> str:
        numbers, _, items = args.partition(" ")
        names = re.findall(r"[\w.]+(?:\[\])?", items.upper())  # e.g. ["BODY.PEEK[]", "UID"]
        if not names or set(names) - {"UID", "RFC822", "BODY[]", "BODY.PEEK[]"}:
            return "BAD only UID, RFC822, BODY[] and BODY.PEEK[] can be fetched"
        if by_uid and "UID" not in names:
            names.insert(0, "UID")  # a UID FETCH reply always carries the UID
        for n in self.numbers(numbers, by_uid):
            uid, message = self.box[n - 1]
            # The UID, or the message as a literal: its size in braces, CRLF, then its bytes.
            fields = [
                f"UID {uid}".encode()
                if name == "UID"
                else f"{name.replace('.PEEK', '')} {{{len(message)}}}\r\n".encode() + message
                for name in names
            ]
            self.wfile.write(f"* {n} FETCH (".encode() + b" ".join(fields) + b")\r\n")
        return "OK FETCH completed"

    def do_store(self, args: str, by_uid: bool) -> str:
        numbers, action, flags = args.split(" ", 2)
        action, flags = action.upper(), flags.strip("()").upper()
        if action not in ("+FLAGS", "+FLAGS.SILENT") or flags != "\\DELETED":
            return "BAD only +FLAGS \\Deleted is supported"
        if self.readonly:
            return "NO mailbox is read-only"
        for n in self.numbers(numbers, by_uid):
            uid = self.box[n - 1][0]
            self.flagged.add(uid)
            if action == "+FLAGS":
                self.send(f"* {n} FETCH (FLAGS (\\Deleted){f' UID {uid}' * by_uid})")
        return "OK STORE completed"

    def do_expunge(self, args: str, by_uid: bool) -> str:
        if self.readonly:
            return "NO mailbox is read-only"
        self.expunge(report=True)
        return "OK EXPUNGE completed"

    def do_close(self, args: str, by_uid: bool) -> str:
        if not self.readonly:
            self.expunge(report=False)
        self.box = None
        return "OK CLOSE completed"

    def expunge(self, report: bool) -> None:
        gone = [n for n, (uid, _) in enumerate(self.box, 1) if uid in self.flagged]
        for n in reversed(gone):  # from the end, so each number is still right when sent
            del self.box[n - 1]
            if report:
                self.send(f"* {n} EXPUNGE")
        self.owner.mailbox.remove(self.flagged)
        self.flagged = set()

    def numbers(self, text: str, by_uid: bool) -> list[int]:
        """Sequence numbers of the messages a set such as 1, 2:4,7 or 3:* names."""
        keys = [uid if by_uid else n for n, (uid, _) in enumerate(self.box, 1)]
        last = keys[-1] if keys else 0
        wanted: set[int] = set()
        for part in text.split(","):
            low, _, high = part.partition(":")
            low, high = (last if end == "*" else int(end) for end in (low, high or low))
            wanted.update(range(min(low, high), max(low, high) + 1))
        return [n for n, key in enumerate(keys, 1) if key in wanted]

    def send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")


class ImapServer(_Server):
    handler = _ImapSession


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for IP 127.0.0.1 and its key, as PEM files in `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem, key_file = folder / "cert.pem", folder / "key.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return pem, key_file
