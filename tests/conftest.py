"""Fixtures: the app on real PostgreSQL and Redis when they are here, a real SMTP server,
and a real Celery worker. Without the services (and CI unset) the suite runs on SQLite and
the embedded broker instead; under CI=true a missing service fails the run."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import jinja2
import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN
from builders import PASSWORD, csrf, user
from celery.contrib.testing.worker import start_worker
from flask import g, request_started
from hypothesis import settings

from newsletter import create_app
from newsletter.bounces.server import BounceServer
from newsletter.extensions import db, limiter
from newsletter.outbox.server import Pipelining, start_smtp

# The quick loop (`-m "not slow"`) tries each property on 10 examples rather than
# hypothesis's 100: the suite as CI runs it keeps all 100 (and what a test sets itself).
settings.register_profile("quick", max_examples=10)


def pytest_configure(config):
    if config.getoption("markexpr", "") == "not slow":
        settings.load_profile("quick")


PG_URL = os.environ.get("NEWSLETTER_TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NEWSLETTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _service(name: str, url: str) -> bool:
    parts = urlsplit(url)
    if _reachable(parts.hostname, parts.port):
        return True
    if IN_CI:
        pytest.exit(f"CI=true but {name} is not reachable at {parts.netloc}", returncode=3)
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Backends:
    database_url: str
    broker_url: str
    queue: str

    broker_dir: str = ""

    def env(self) -> dict[str, str]:
        """The same backends for a worker or beat started as a separate process."""
        return {
            "NEWSLETTER_DATABASE_URL": self.database_url,
            "NEWSLETTER_BROKER_URL": self.broker_url,
            "NEWSLETTER_BROKER_DIR": self.broker_dir,
            "NEWSLETTER_TASK_QUEUE": self.queue,
        }


@pytest.fixture(scope="session")
def backends(tmp_path_factory):
    """A database and a queue of this run's own, so parallel runs do not meet."""
    folder = tmp_path_factory.mktemp("instance")
    run = uuid.uuid4().hex[:10]
    queue = f"newsletter-test-{run}"
    broker_dir = str(folder / "broker")
    broker_url = REDIS_URL if _service("Redis", REDIS_URL) else "filesystem://"
    if not _service("PostgreSQL", PG_URL):
        yield Backends(f"sqlite:///{folder / 'test.sqlite'}", broker_url, queue, broker_dir)
        return
    name = f"newsletter_test_{run}"
    admin = sa.create_engine(_psycopg(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield Backends(PG_URL.rsplit("/", 1)[0] + "/" + name, broker_url, queue, broker_dir)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)

    def part(self, subtype: str) -> str:
        return self.message.get_body(preferencelist=(subtype,)).get_content()


class RecordingHandler(Pipelining):
    """Keeps every message; can be told to refuse some recipients with a given reply."""

    def __init__(self):
        self.messages: list[Received] = []
        self.refuse: dict[str, str] = {}
        # A reply to every MAIL FROM, or to every message's end of DATA, in place of 250.
        self.refuse_sender: str | None = None
        self.refuse_data: str | None = None
        self.lock = threading.Lock()
        # Called with each message's count as it arrives, to act in the middle of a send.
        self.on_message = None
        # MAIL commands a session may give, as servers cap them (Exim: 1,000); None, no cap.
        self.most_per_session: int | None = None
        # MAIL commands given, by session: the session itself as the key, as an id() may be
        # reused once a closed session is collected.
        self.sessions: dict[object, int] = {}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            given = self.sessions[session] = self.sessions.get(session, 0) + 1
        if self.most_per_session is not None and given > self.most_per_session:
            return "421 4.7.0 Too many messages for one connection"
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
            count = len(self.messages)
        if self.on_message:
            self.on_message(count)
        return "250 OK"


class Inbox:
    """A real SMTP server on a free port, and what it received."""

    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = None
        self.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller = start_smtp(self.handler, "127.0.0.1", self.port)

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]

    def clear(self):
        with self.handler.lock:
            self.handler.messages.clear()
        self.handler.refuse.clear()
        self.handler.refuse_sender = self.handler.refuse_data = None
        self.handler.on_message = None
        self.handler.pipelining = True
        self.handler.most_per_session = None
        self.handler.sessions.clear()

    def wait_for(self, count: int, timeout: float = 20.0, recipient: str | None = None):
        """Poll until `count` messages (to `recipient`, if given) have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(recipient) if recipient else self.messages
            if len(found) >= count:
                return found
            time.sleep(0.05)
        found = self.to(recipient) if recipient else self.messages
        raise AssertionError(f"expected {count} messages, got {len(found)} within {timeout}s")


@pytest.fixture(scope="session")
def inbox_server():
    server = Inbox()
    yield server
    server.stop()


@pytest.fixture
def inbox(inbox_server):
    inbox_server.clear()
    if inbox_server.controller is None:
        inbox_server.start()
    yield inbox_server
    inbox_server.clear()
    if inbox_server.controller is None:
        inbox_server.start()


def settings_for(backends: Backends, inbox_server: Inbox, instance: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _psycopg(backends.database_url),
        "BROKER_URL": backends.broker_url,
        "BROKER_DIR": backends.broker_dir,
        "TASK_QUEUE": backends.queue,
        "SMTP_URL": inbox_server.url,
        "SMTP_TIMEOUT": 5.0,
        "BASE_URL": "http://newsletter.test",
        "MAIL_DOMAIN": "newsletter.test",
        "SECRET_KEY": "test-secret-key",
        "SEND_RETRY_BASE": 0.2,
        "SUBSCRIBE_RATE_LIMIT": "10000 per minute",
        "SIGN_IN_RATE_LIMIT": "10000 per minute",
        # The forms' answer floor, 50 ms a post, is off but where a test sets it.
        "SUBSCRIBE_ANSWER_AFTER": 0.0,
        "RATELIMIT_STORAGE_URI": "memory://",
        "OUTBOX_DIR": None,
        # The tests' feeds are served on loopback, which is otherwise refused (test_ssrf.py).
        "FEED_ALLOW_HOSTS": "127.0.0.1",
        "FEED_FETCH_WAIT": 0.0,  # "fetch now" answers 202 at once unless a test waits
        # A fetch a test leaves behind (a slow server) must end before the worker stops.
        "FEED_DEADLINE": 5.0,
    }


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("app-instance"))


@pytest.fixture(scope="session")
def session_app(backends, inbox_server, instance_dir):
    from builders import cheap_hash

    from newsletter import accounts

    # Users are made with a cheaper hash (builders.user); the stand-in hash checked for an
    # unknown address costs as theirs do, so every answer still costs the same, at 3 ms.
    accounts._dummy_hash = lambda: cheap_hash("not a real password")
    app = create_app(settings_for(backends, inbox_server, instance_dir))
    request_started.connect(_fresh_request_globals, app)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def _fresh_request_globals(sender, **extra) -> None:
    """Each request of a running app has its own g; the tests' requests share the test's app
    context, and with it what extensions keep in g for one request: the signed-in user
    (Flask-Login) and the form token made for this session (Flask-WTF). A second client
    would be taken for the first one's user, and handed its token."""
    for name in ("_login_user", "csrf_token"):
        g.pop(name, None)


def _empty_tables(tries: int = 5):
    """Empty every table; a task left over from the last test may hold a lock for a moment.

    DELETE, children first, rather than TRUNCATE: on tables this small PostgreSQL deletes in
    about 2 ms where TRUNCATE takes about 50 ms, and every test that uses `app` pays it. On
    PostgreSQL the deletes go as one query, one round trip rather than one a table."""
    tables = list(reversed(db.metadata.sorted_tables))
    for attempt in range(tries):
        try:
            if db.engine.dialect.name == "postgresql":
                db.session.execute(sa.text(";".join(f'DELETE FROM "{t.name}"' for t in tables)))
            else:
                for table in tables:
                    db.session.execute(table.delete())
            db.session.commit()
            return
        except sa.exc.OperationalError:
            db.session.rollback()
            if attempt == tries - 1:
                raise
            time.sleep(0.2)


@pytest.fixture
def app(session_app):
    """The app with empty tables and a clean task queue, inside an app context.

    A test may change settings; they are put back afterwards."""
    _purge(session_app)
    settings = dict(session_app.config)
    with session_app.app_context():
        _empty_tables()
        limiter.reset()  # rate-limit counts, sign-in failures among them, start afresh
        yield session_app
        # Once a test has started it, the session's worker thread takes every test's
        # tasks: what it took from this one ends here, or its mail would land in the
        # next test's inbox.
        _purge(session_app)
        _wait_for_the_worker_thread()
        db.session.remove()
    session_app.config.clear()
    session_app.config.update(settings)
    _purge(session_app)


def _purge(app) -> None:
    """Drops the tasks waiting in the test's queues. Celery's own purge declares each queue,
    its exchange and binding before emptying it: 1 ms a time, against 0.4-0.6 ms, three
    times a test."""
    celery = app.extensions["celery"]
    with celery.connection_or_acquire() as conn:
        for name in celery.amqp.queues:
            conn.default_channel.queue_purge(name)


def _wait_for_the_worker_thread(timeout: float = 20.0) -> None:
    """Until the in-process worker runs no task and holds none due now (one held for
    later, a retry's countdown, is left to the purge of its queue's next test)."""
    from celery.worker import state

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (
        state.active_requests or any(r.eta is None for r in list(state.reserved_requests))
    ):
        time.sleep(0.02)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def celery_worker_thread(session_app):
    """A real Celery worker consuming the test queue, in a thread of this process."""
    celery_app = session_app.extensions["celery"]
    with start_worker(
        celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30
    ):
        yield


@pytest.fixture
def worker(app, celery_worker_thread):
    return celery_worker_thread


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05, message: str = ""):
    """Poll a condition with a bound; no fixed sleeps."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")


@pytest.fixture
def make_list(app):
    """Create a mailing list; keyword arguments override the defaults."""
    from newsletter.models import MailingList

    def make(**values) -> MailingList:
        fields = {
            "slug": "weekly",
            "name": "Weekly Digest",
            "from_email": "digest@example.org",
            "from_name": "Example News",
            "opt_in": "double",
            "postal_address": "Example News, 1 Main Street, Springfield",
        }
        fields.update(values)
        mailing_list = MailingList(**fields)
        db.session.add(mailing_list)
        db.session.commit()
        return mailing_list

    return make


@pytest.fixture
def weekly(make_list):
    return make_list()


@pytest.fixture
def persian_list(make_list):
    """A list in Persian: right to left, the Persian calendar, Tehran's time."""
    return make_list(
        slug="interlink",
        name="ایران اینترلینک — Weekly",
        description="گزیدهٔ هفتگی خبرها و تحلیل‌ها دربارهٔ ایران",
        language="fa",
        direction="rtl",
        calendar="persian",
        timezone="Asia/Tehran",
    )


@pytest.fixture
def newsletter_process(backends, inbox_server, tmp_path):
    """Start a `newsletter` command as a separate OS process on the test backends; its
    output (stdout and stderr) goes to the file at .log_path."""
    started: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        environment = {
            **os.environ,
            **backends.env(),
            "NEWSLETTER_SMTP_URL": inbox_server.url,
            "NEWSLETTER_BASE_URL": "http://newsletter.test",
            "NEWSLETTER_MAIL_DOMAIN": "newsletter.test",
            "NEWSLETTER_SECRET_KEY": "test-secret-key",
            "NEWSLETTER_SEND_RETRY_BASE": "0.2",
            **env,
        }
        log_path = tmp_path / f"process-{len(started)}.log"
        log = open(log_path, "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "newsletter", *args],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        process.log_path = log_path
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def worker_process(newsletter_process):
    """Start `newsletter worker` as a separate OS process on the test backends."""
    return lambda *args, **env: newsletter_process("worker", "--loglevel", "INFO", *args, **env)


@pytest.fixture
def web_files():
    """A real HTTP server on loopback serving the bytes put in its `files` dict."""
    files: dict[str, bytes] = {}
    requests: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append({"path": self.path, **dict(self.headers)})
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Fri, 16 Aug 2019 09:00:00 GMT")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.files = files
    server.requests = requests
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(client, api_headers):
    """The JSON API as an editor with a token calls it."""

    class Api:
        def get(self, path, **kw):
            return client.get("/api/v1" + path, headers=api_headers, **kw)

        def post(self, path, json=None, **kw):
            return client.post("/api/v1" + path, json=json, headers=api_headers, **kw)

        def patch(self, path, json=None):
            return client.patch("/api/v1" + path, json=json, headers=api_headers)

    return Api()


@pytest.fixture
def api_headers(app) -> dict[str, str]:
    """Authorization headers of a fresh editor's API token."""
    from newsletter import accounts

    token = accounts.create_token(user("editor@example.org"))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_app(app, backends, inbox_server, instance_dir):
    """A second app on the same database, with some settings changed."""

    made = []

    def make(**overrides):
        settings = settings_for(backends, inbox_server, instance_dir)
        settings.update(overrides)
        made.append(create_app(settings))
        return made[-1]

    yield make
    for other in made:  # their pools' connections closed, not left to the collector
        with other.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def editor_client(client, app):
    """A test client signed in to /admin as an editor; .token is a CSRF token for forms."""
    user("writer@example.org")  # signs in through the form, below
    token = csrf(client.get("/admin/login").text)
    form = {"email": "writer@example.org", "password": PASSWORD, "csrf_token": token}
    client.post("/admin/login", data=form)
    # The lists page: the cheapest that carries the form token (the dashboard costs 18 ms).
    client.token = csrf(client.get("/admin/lists").text)
    return client


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free port, for the browser."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; it never downloads a browser of its own."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.exit(f"CI=true but {CHROMIUM} is missing", returncode=3)
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page; a screenshot of it is saved in test-artifacts/ at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    folder = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")
    os.makedirs(folder, exist_ok=True)
    opened.screenshot(path=os.path.join(folder, f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def bounce_server(app):
    """`newsletter bounces serve`'s server, on a free port."""
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    servers = []

    def start(lmtp: bool = False, on_app=None):
        server = BounceServer(on_app or app, "127.0.0.1", free_port(), lmtp=lmtp)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def inbound_server(app, weekly, bounce_server):
    """The bounce server, behind an MTA that signs its Authentication-Results as INBOUND_MX;
    Maryam is an editor."""
    from bounce_mail import INBOUND_MX
    from builders import user

    app.config["INBOUND_AUTHSERV_ID"] = INBOUND_MX
    user("maryam@example.org")
    return bounce_server()


@pytest.fixture
def dns(app, tmp_path):
    """A fresh DKIM key: the private half configured, the public half in a stub resolver."""
    from builders import DKIM_DOMAIN, DKIM_SELECTOR

    from newsletter import signing

    pem, record = signing.new_key()
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(pem)
    records = {f"{DKIM_SELECTOR}._domainkey.{DKIM_DOMAIN}.": record.encode()}
    app.config.update(
        DKIM_KEY_FILE=str(key_file), DKIM_SELECTOR=DKIM_SELECTOR, DKIM_DOMAIN=DKIM_DOMAIN
    )

    def resolve(name, timeout=5):
        return records.get(name.decode() if isinstance(name, bytes) else name)

    return resolve


class Templates(jinja2.BaseLoader):
    """The app's templates, with some replaced and some missing; counts lookups of those."""

    def __init__(self, inner: jinja2.BaseLoader, replaced: dict[str, str], missing: set[str]):
        self.inner, self.replaced, self.missing = inner, replaced, missing
        self.asked: list[str] = []

    def get_source(self, environment, template):
        if template in self.missing:
            self.asked.append(template)
            raise jinja2.TemplateNotFound(template)
        if template in self.replaced:
            return self.replaced[template], None, lambda: False
        return self.inner.get_source(environment, template)


@pytest.fixture
def templates(app):
    """Change the app's email templates for one test; they are put back afterwards."""
    original = app.jinja_env.loader
    made = []

    def change(replaced: dict[str, str] | None = None, missing: set[str] = frozenset()):
        loader = Templates(original, replaced or {}, set(missing))
        app.jinja_env.loader = loader
        app.jinja_env.cache.clear()
        made.append(loader)
        return loader

    yield change
    app.jinja_env.loader = original
    app.jinja_env.cache.clear()
