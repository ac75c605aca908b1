"""A private Dovecot for tests: Debian's dovecot started as a child process (`dovecot -F`)
with a configuration of its own in a temporary folder, on free ports of 127.0.0.1 for
IMAP, IMAPS, POP3 and POP3S; one user from a passwd-file, mail in a Maildir. Its TLS
certificate is self-signed for 127.0.0.1: `certificate` names the PEM file, for
SSL_CERT_FILE.

Messages are put in the box as a delivery agent does: written in the Maildir's tmp/, then
moved into new/. Running as root (CI), Dovecot refuses to read mail as root, so the
Maildir belongs to Debian's `mail` user and the login and internal processes run as
Dovecot's own `dovenull` and `dovecot`; run by anyone else, everything is that user's."""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self
from urllib.parse import quote

import pytest
from mailboxes import self_signed

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEBIAN_PATHS = {"dovecot": "/usr/sbin/dovecot", "doveadm": "/usr/bin/doveadm"}
# The schemes a URL can use, with ?tls=starttls on the plain ports: (scheme, listener, query).
WAYS = {
    "imap": ("imap", "imap", ""),
    "imaps": ("imaps", "imaps", ""),
    "pop3": ("pop3", "pop3", ""),
    "pop3s": ("pop3s", "pop3s", ""),
    "imap+starttls": ("imap", "imap", "?tls=starttls"),
    "pop3+starttls": ("pop3", "pop3", "?tls=starttls"),
}


def program(name: str) -> str | None:
    found = shutil.which(name) or DEBIAN_PATHS[name]
    return found if os.access(found, os.X_OK) else None


def require() -> None:
    """Skip without Dovecot; under CI=true, fail the run (as tests/conftest.py does for a
    missing service)."""
    if program("dovecot") and program("doveadm"):
        return
    if IN_CI:
        pytest.exit(
            "CI=true but dovecot is missing (apt-get install dovecot-imapd dovecot-pop3d)",
            returncode=3,
        )
    pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports, held open together so none is handed out twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Dovecot:
    """`with Dovecot() as box:` a running server; `box.url("imaps")`, `box.put([...])`."""

    host = "127.0.0.1"

    def __init__(
        self,
        user: str = "bounces",
        password: str = "secret",
        tls: bool = True,
        introspection: str | None = None,
        certificate: tuple[Path, Path] | None = None,
    ):
        """`tls=False`: no TLS at all, so no STARTTLS offered and no imaps/pop3s listener.
        `introspection`: an OAuth provider's URL that tells whose a bearer token is (as
        Microsoft Graph's /me), for XOAUTH2 and OAUTHBEARER; the provider serves this box's
        `certificate` (its PEM file and key's; made afresh when not given)."""
        self.user, self.password, self.tls = user, password, tls
        self.introspection, self.given = introspection, certificate
        self.process: subprocess.Popen | None = None
        self._names = itertools.count()

    # --- Running it ------------------------------------------------------------------------

    def start(self) -> None:
        require()
        self.folder = Path(tempfile.mkdtemp(prefix="dovecot-"))
        # Dovecot's mail and login users must pass through it; pytest's tmp_path is 0700.
        self.folder.chmod(0o711)
        self.maildir = self.folder / "mail"
        self.log_file = self.folder / "dovecot.log"
        self.config = self.folder / "dovecot.conf"
        self.ports = dict(zip(("imap", "imaps", "pop3", "pop3s"), free_ports(4), strict=True))
        if self.tls:
            self.certificate, self.key = self.given or self_signed(self.folder)
        (self.folder / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}::::::\n", encoding="utf-8"
        )
        self._owner = self._mail_owner()
        for folder in ("home", "mail", "mail/cur", "mail/new", "mail/tmp"):
            (self.folder / folder).mkdir()
            os.chown(self.folder / folder, *self._owner)
        self.config.write_text(self._settings())
        log = open(self.folder / "stderr.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [program("dovecot"), "-F", "-c", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_for_ports()

    def stop(self) -> None:
        if self.process is not None:
            # The whole group at once: a test's box needs no orderly end, and SIGTERM's took
            # about a second a case (the master waits for its login processes).
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop() if hasattr(self, "folder") else None
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _mail_owner(self) -> tuple[int, int]:
        if os.geteuid() != 0:
            return os.geteuid(), os.getegid()
        mail = pwd.getpwnam("mail")  # Debian's; Dovecot reads no one's mail as root
        return mail.pw_uid, mail.pw_gid

    def _settings(self) -> str:
        folder, (uid, gid) = self.folder, self._owner
        if os.geteuid() == 0:
            users = (
                "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
                "default_internal_group = dovecot\n"
            )
            chroot = ""
        else:  # one user for everything; a login process cannot chroot
            me, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
            users = (
                f"default_login_user = {me}\ndefault_internal_user = {me}\n"
                f"default_internal_group = {group}\n"
            )
            chroot = "  chroot =\n"
        tls = (
            f"ssl = yes\nssl_cert = <{self.certificate}\nssl_key = <{self.key}\n"
            if self.tls
            else "ssl = no\n"
        )

        def listeners(protocol: str) -> str:
            plain = f"  inet_listener {protocol} {{\n    port = {self.ports[protocol]}\n  }}\n"
            secure = protocol + "s"
            if not self.tls:  # no TLS port: a port 0 listener is none
                return plain + f"  inet_listener {secure} {{\n    port = 0\n  }}\n"
            return plain + (
                f"  inet_listener {secure} {{\n    port = {self.ports[secure]}\n"
                "    ssl = yes\n  }\n"
            )

        return (
            f"base_dir = {folder / 'run'}\n"
            f"state_dir = {folder / 'state'}\n"
            f"instance_name = dovecot-test-{os.getpid()}-{folder.name}\n"
            f"log_path = {self.log_file}\n"
            "listen = 127.0.0.1\n"
            "protocols = imap pop3\n"
            + users
            + f"first_valid_uid = {uid}\nfirst_valid_gid = {gid}\n"
            + f"mail_uid = {uid}\nmail_gid = {gid}\n"
            + f"mail_location = maildir:{self.maildir}\n"
            + tls
            + self._oauth()
            + "disable_plaintext_auth = no\n"
            "auth_failure_delay = 0\n"
            "pop3_uidl_format = %08Xu%08Xv\n"
            "stats_writer_socket_path =\n"
            "passdb {\n  driver = passwd-file\n"
            f"  args = scheme=PLAIN username_format=%u {folder / 'passwd'}\n}}\n"
            f"userdb {{\n  driver = static\n  args = home={folder / 'home'}\n}}\n"
            "service imap-login {\n" + chroot + listeners("imap") + "}\n"
            "service pop3-login {\n" + chroot + listeners("pop3") + "}\n"
        )

    def _oauth(self) -> str:
        if not self.introspection:
            return "auth_mechanisms = plain login\n"
        settings = self.folder / "oauth2.conf"
        settings.write_text(
            "introspection_mode = auth\n"
            f"introspection_url = {self.introspection}\n"
            "username_attribute = mail\n"
            f"tls_ca_cert_file = {self.certificate}\n"
        )
        return (
            "auth_mechanisms = plain login xoauth2 oauthbearer\n"
            f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {settings}\n}}\n"
        )

    def _wait_for_ports(self, timeout: float = 20) -> None:
        wanted = [port for name, port in self.ports.items() if self.tls or len(name) == 4]
        deadline = time.monotonic() + timeout
        while wanted:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not start:\n{self.log()}")
            try:
                socket.create_connection((self.host, wanted[0]), timeout=1).close()
                wanted.pop(0)
            except OSError:
                time.sleep(0.02)

    # --- Using it --------------------------------------------------------------------------

    def url(
        self,
        way: str,
        folder: str = "INBOX",
        user: str | None = None,
        password: str | None = None,
    ) -> str:
        """The poller's URL for one of WAYS; user, password and folder %-encoded (UTF-8)."""
        scheme, listener, query = WAYS[way]
        login = quote(user or self.user, safe="") + ":" + quote(password or self.password, safe="")
        path = quote(folder, safe="")
        return f"{scheme}://{login}@{self.host}:{self.ports[listener]}/{path}{query}"

    def doveadm(self, *args: str) -> str:
        return subprocess.run(
            [program("doveadm"), "-c", str(self.config), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def create_folder(self, name: str) -> None:
        self.doveadm("mailbox", "create", "-u", self.user, name)

    def path(self, folder: str = "INBOX") -> Path:
        if folder == "INBOX":
            return self.maildir
        return Path(self.doveadm("mailbox", "path", "-u", self.user, folder).strip())

    def put(self, messages: list[bytes], folder: str = "INBOX") -> None:
        """Deliver as a delivery agent does: each written in tmp/, moved into new/, with LF
        line endings as a Maildir keeps them."""
        maildir = self.path(folder)
        for message in messages:
            name = f"{int(time.time())}.M{next(self._names):07d}P{os.getpid()}.test"
            temporary = maildir / "tmp" / name
            temporary.write_bytes(re.sub(rb"\r\n", b"\n", message))
            os.chown(temporary, *self._owner)
            os.rename(temporary, maildir / "new" / name)

    def files(self, folder: str = "INBOX") -> list[str]:
        """The box's messages as files: 'new/<name>' or 'cur/<name>:2,<flags>'."""
        maildir = self.path(folder)
        return sorted(
            f"{part}/{entry.name}"
            for part in ("new", "cur")
            for entry in (maildir / part).iterdir()
        )

    def flagged_deleted(self, folder: str = "INBOX") -> list[str]:
        """The messages flagged \\Deleted (T in a Maildir file's flags)."""
        return [name for name in self.files(folder) if "T" in name.partition(":2,")[2]]

    def log(self) -> str:
        found = [self.log_file, self.folder / "stderr.log"]
        return "\n".join(path.read_text(errors="replace") for path in found if path.exists())

    def logins(self) -> list[str]:
        return re.findall(r"Login: user=<[^>]*>.*", self.log())
