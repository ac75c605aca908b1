"""What the benchmarks share: a throwaway database, Postfix's test tools, memory readings."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database on the server of `server_url`, dropped afterwards."""
    import psycopg

    name = f"newsletter_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def kept_database(server_url: str, name: str) -> Iterator[str]:
    """The database `name` on the server of `server_url`, made when missing and kept, so a
    data set built once serves several runs (before and after a change)."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def need_postfix() -> None:
    """smtp-sink and smtp-source come with Debian's postfix package."""
    if shutil.which("smtp-sink") and shutil.which("smtp-source"):
        return
    print("installing Debian's postfix package for smtp-sink and smtp-source", flush=True)
    _apt_install("postfix")


def need_wrk() -> None:
    """The HTTP load generator, from Debian's wrk package."""
    if shutil.which("wrk"):
        return
    print("installing Debian's wrk package", flush=True)
    _apt_install("wrk")


def _apt_install(package: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "--no-install-recommends", package],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    """Postfix's smtp-sink on 127.0.0.1:`port`, taking every message and keeping none; the
    caller waits for its port (wait_for_port) and ends it."""
    return subprocess.Popen(
        ["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_port(port: int, what: str = "smtp-sink", seconds: float = 10) -> None:
    """Until something listens on the local port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


def memory_peak(pid: int) -> int:
    """Peak resident memory of a process in kB (VmHWM), 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children, 0 once it is gone."""
    return sum(cpu_split(pid))


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU time of a process and its reaped children, 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    tick = os.sysconf("SC_CLK_TCK")
    return (utime + cutime) / tick, (stime + cstime) / tick


def machine_ticks() -> list[int]:
    """The machine's CPU time so far, in ticks: user, nice, system, idle, iowait, irq,
    softirq, steal (the first line of /proc/stat)."""
    return [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def machine_use(before: list[int], after: list[int]) -> str:
    """How the machine's CPU was spent between two readings of machine_ticks()."""
    spent = [later - earlier for earlier, later in zip(before, after, strict=True)]
    total = sum(spent) or 1
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    shares = zip(names, spent, strict=True)
    return ", ".join(f"{name} {ticks / total:.0%}" for name, ticks in shares if ticks)


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """The folder over HTTP on a free local port, for feeds to be fetched as on a real site."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def in_process_app(database_url: str, folder: Path):
    """The app on its own database, schema up to date, with a list 'bench'; its broker is a
    folder and its SMTP server absent, since the bench calls the services itself."""
    # The app reads its settings from the environment when it is created.
    os.environ["NEWSLETTER_DATABASE_URL"] = database_url
    os.environ["NEWSLETTER_BROKER_URL"] = "filesystem://"
    os.environ["NEWSLETTER_BROKER_DIR"] = str(folder / "broker")
    os.environ["NEWSLETTER_SECRET_KEY"] = "bench"
    os.environ["NEWSLETTER_SMTP_URL"] = "smtp://127.0.0.1:1"
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from newsletter import create_app
    from newsletter.extensions import db
    from newsletter.models import MailingList

    app = create_app({"TESTING": True})
    # create_app has no instance folder parameter; staged uploads go under this one.
    app.instance_path = str(folder / "instance")
    with app.app_context():
        upgrade()
        if db.session.scalar(sa.select(MailingList.id).where(MailingList.slug == "bench")) is None:
            db.session.add(MailingList(slug="bench", name="Bench", from_email="bench@example.org"))
            db.session.commit()
    return app
