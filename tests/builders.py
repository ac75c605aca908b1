"""Builders the test modules share: readers, drafts, sends, feeds, forms and sign-ins.

Plain functions and constants only; fixtures live in conftest.py. A test module imports
helpers from here (or conftest, bounce_mail, mailboxes, hostile_servers), never from
another test module."""

from __future__ import annotations

import functools
import io
import re
import smtplib
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN
from flask import current_app

from newsletter import accounts, click_queue, redirects
from newsletter.bounces.server import BounceServer
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, IssueItem, Post, Subscriber, Subscription
from newsletter.sending import ledger, lifecycle, loop

# --- Issues and sending --------------------------------------------------------------------

SINCE = datetime(2019, 8, 1, tzinfo=UTC)
UNTIL = datetime(2019, 8, 8, tzinfo=UTC)


def add_subscribers(mailing_list, count: int, status: str = "confirmed") -> list[Subscriber]:
    readers = []
    for i in range(count):
        subscriber = Subscriber(email=f"reader{i}@example.org", name=f"Reader {i}", attributes={})
        subscriber.subscriptions.append(Subscription(list_id=mailing_list.id, status=status))
        readers.append(subscriber)
    db.session.add_all(readers)
    db.session.commit()
    return readers


def confirmed_subscriber(
    mailing_list, email: str, name: str = "", commit: bool = True
) -> Subscriber:
    """A subscriber with a confirmed subscription to the list."""
    person = Subscriber(email=email, name=name, attributes={})
    person.subscriptions.append(Subscription(list_id=mailing_list.id, status="confirmed"))
    db.session.add(person)
    if commit:
        db.session.commit()
    return person


def draft(mailing_list) -> Issue:
    db.session.add(
        Post(
            list_id=mailing_list.id,
            guid="p1",
            url="https://example.org/p1",
            title="First post",
            source="Example",
            excerpt="Something happened.",
            published_at=datetime(2019, 8, 2, tzinfo=UTC),
        )
    )
    db.session.commit()
    return compose_issue(mailing_list, SINCE, UNTIL)


def sectioned_issue(mailing_list, sections=("", "Top stories", "Top stories")) -> Issue:
    """A sent issue, in the archive, of Gamma, Beta and Alpha, each in its section ("": none),
    gone out on Friday 4 December 2026 (۱۳ آذر ۱۴۰۵)."""
    three_posts(mailing_list)
    issue = compose_issue(mailing_list, datetime.now(UTC) - timedelta(days=2), datetime.now(UTC))
    for item, section in zip(issue.items, sections, strict=True):
        item.section = section
    issue.status, issue.started_at = "sent", datetime(2026, 12, 4, 9, tzinfo=UTC)
    db.session.commit()
    return issue


def start_sending(issue: Issue) -> None:
    """Due now and claimed, as beat would: rendered, with its ledger."""
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()


def send_one_batch(mailing_list, readers: int) -> Issue:
    """An issue to `readers` new readers, sent by one batch in this process."""

    add_subscribers(mailing_list, readers)
    issue = draft(mailing_list)
    start_sending(issue)
    loop.send_batch(issue.id)
    return issue


def weekly_issue(mailing_list, number: int) -> Issue:
    """A draft of the week's one new post, as each week's feed gives: one a call, each with
    its own post, for as many issues in a row as a test sends."""
    now = datetime.now(UTC)
    db.session.add(
        Post(
            list_id=mailing_list.id,
            guid=f"week-{number}",
            url=f"https://example.org/week/{number}",
            title=f"What happened in week {number}",
            source="Example",
            excerpt=f"The news of week {number}.",
            published_at=now - timedelta(minutes=1),
        )
    )
    db.session.commit()
    return compose_issue(mailing_list, now - timedelta(minutes=2), now)


def archived_issues(mailing_list, count: int, first: int = 1) -> list[Issue]:
    """`count` sent issues numbered from `first`, each with one item, in the archive."""
    made = [
        Issue(
            list_id=mailing_list.id,
            number=number,
            subject=f"Issue {number}",
            status="sent",
            started_at=datetime(2019, 8, 1, 9, tzinfo=UTC) + timedelta(days=7 * number),
            items=[
                IssueItem(
                    position=1,
                    title=f"A post of issue {number}",
                    url=f"https://example.org/issue/{number}",
                    source="Example",
                )
            ],
        )
        for number in range(first, first + count)
    ]
    db.session.add_all(made)
    db.session.commit()
    return made


def states(issue_id: int) -> dict[str, int]:
    return ledger.counts(issue_id)


# --- Autopilot -----------------------------------------------------------------------------

# Friday 2030-03-01 09:00 in Tehran is 05:30 UTC; with a 3-hour lead, composing is due from 02:30.
DUE = datetime(2030, 3, 1, 3, 0, tzinfo=UTC)


def post(mailing_list, guid, when, commit=True):
    db.session.add(
        Post(
            list_id=mailing_list.id,
            guid=guid,
            url=f"https://example.org/{guid}",
            title=f"Post {guid}",
            published_at=when,
        )
    )
    if commit:
        db.session.commit()


# --- Bounces -------------------------------------------------------------------------------


def deliver(server: BounceServer, raw: bytes, to: str = f"bounces@{BOUNCE_DOMAIN}") -> None:
    """Hand a message to the bounce server as a mail server would (empty envelope sender)."""
    kind = smtplib.LMTP if server.lmtp else smtplib.SMTP
    with kind(server.hostname, server.port) as client:
        client.sendmail("", [to], re.sub(rb"\r?\n", b"\r\n", raw))  # as on the wire


def stored_subscriber(email: str) -> Subscriber:
    """The subscriber with this address as the database has it now."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.email == email))


# --- Forms: public pages and /admin --------------------------------------------------------

PASSWORD = "correct horse battery"


@functools.cache
def cheap_hash(password: str) -> str:
    from werkzeug.security import generate_password_hash

    # scrypt with a smaller N: signing in reads the cost from the hash, so it is checked in
    # 3 ms rather than 90 (test_security.py holds create_user to werkzeug's own cost).
    return generate_password_hash(password, method="scrypt:1024:8:1")


def user(email: str, role: str = "editor", password: str = PASSWORD):
    """A user as accounts.create_user makes one, with a cheaper hash made once a session:
    over two hundred tests need an editor, a token or a sign-in, none of them the hash's cost."""
    from newsletter.models import User

    made = User(email=email, password_hash=cheap_hash(password), role=role)
    db.session.add(made)
    db.session.commit()
    return made


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def submit(client, email, name="", slug="weekly"):
    form = client.get(f"/subscribe/{slug}")
    return client.post(
        f"/subscribe/{slug}", data={"email": email, "name": name, "csrf_token": csrf(form.text)}
    )


def sign_in(client, email, password=PASSWORD, next_path=""):
    page = client.get("/admin/login")
    return client.post(
        "/admin/login" + (f"?next={next_path}" if next_path else ""),
        data={"email": email, "password": password, "csrf_token": csrf(page.text)},
    )


def sign_in_page(page, base: str) -> None:
    """A browser page signed in to the admin at `base` as a new admin."""
    user("admin@example.com", "admin")
    page.goto(base + "/admin/login")
    page.fill("#email", "admin@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")


# --- Feeds ---------------------------------------------------------------------------------

SAMPLE = (Path(__file__).parent / "data" / "interlink-feed.xml").read_bytes()


def try_sign_in(app, email: str, password: str, address: str, device: str | None = None):
    """A sign-in from a new browser at a client address (REMOTE_ADDR), which carries the
    device cookie of an earlier sign-in if given."""
    where = {"REMOTE_ADDR": address}
    visitor = app.test_client()
    if device:
        visitor.set_cookie(accounts.DEVICE_COOKIE, device, path="/admin/login")
    page = visitor.get("/admin/login", environ_base=where)
    return visitor.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf(page.text)},
        environ_base=where,
    )


def rss(*items: str, title: str = "Example") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link>{''.join(items)}</channel></rss>"
    ).encode()


def item(guid: str, title: str, link: str | None = None, description: str = "") -> str:
    return (
        f"<item><title>{title}</title><link>{link or 'https://example.org/' + guid}</link>"
        f"<guid>{guid}</guid><pubDate>Mon, 05 Aug 2019 09:00:00 +0000</pubDate>"
        f"<description>{description}</description></item>"
    )


# --- DKIM (the `dns` fixture is in conftest.py) ---------------------------------------------

DKIM_SELECTOR = "news2026"
DKIM_DOMAIN = "example.org"


def as_rfc2047_reads_it(raw: str) -> str:
    """The phrase of a raw `phrase <address>` header decoded as RFC 2047 says and mail
    programs do (email.header does; CPython's address parser puts a space between adjacent
    encoded words)."""
    phrase = raw.replace("\r\n", "").strip().rsplit(" <", 1)[0]
    return str(make_header(decode_header(phrase)))


def error_of(answer) -> dict:
    """The API's error body, checked for its shape."""
    assert set(answer.json) == {"error"}
    assert set(answer.json["error"]) == {"code", "message", "fields"}
    return answer.json["error"]


# --- SQL statements ------------------------------------------------------------------------


@contextmanager
def counting_statements(with_parameters: bool = False):
    """The SQL statements sent while the block runs, to show a page costs the same for many
    rows as for few; `with_parameters`, each as (statement, parameters), to EXPLAIN one."""
    seen: list = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters) if with_parameters else statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def issues_sent_to(list_id: int, reader_id: int, first: int, n: int) -> None:
    """Issues numbered from `first`, each with two items, a copy sent to the reader and a
    soft bounce of it."""
    for number in range(first, first + n):
        issue = Issue(list_id=list_id, number=number, subject=f"Issue {number}")
        issue.items = [
            IssueItem(position=p, title=f"Post {p}", url=f"https://example.org/{number}/{p}")
            for p in range(2)
        ]
        db.session.add(issue)
        db.session.flush()
        delivery = Delivery(issue_id=issue.id, subscriber_id=reader_id, status="sent")
        db.session.add(delivery)
        db.session.flush()
        db.session.add(Bounce(subscriber_id=reader_id, delivery_id=delivery.id, kind="soft"))
    db.session.commit()


def three_posts(mailing_list, excerpt: str = "About {title}.") -> None:
    """Alpha, Beta and Gamma, from 30, 20 and 10 hours ago: a week's posts to compose from."""
    now = datetime.now(UTC)
    for hours, title in ((30, "Alpha"), (20, "Beta"), (10, "Gamma")):
        db.session.add(
            Post(
                list_id=mailing_list.id,
                guid=title,
                source="Example News",
                url=f"https://example.org/{title.lower()}",
                title=title,
                excerpt=excerpt.format(title=title),
                published_at=now - timedelta(hours=hours),
            )
        )
    db.session.commit()


# --- Imports -------------------------------------------------------------------------------


def post_import(client, headers, data: bytes, **form: str) -> int:
    """A CSV posted to the API's import (list "weekly" unless given): the import's id."""
    answer = client.post(
        "/api/v1/subscribers/import",
        data={"list": "weekly", **form, "file": (io.BytesIO(data), "people.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def staged_import(client, data: bytes) -> str:
    """Where a file uploaded in the admin waits for its columns to be mapped."""
    answer = client.post(
        "/admin/lists/weekly/import",
        data={"csrf_token": client.token, "file": (io.BytesIO(data), "people.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


# --- Clicks --------------------------------------------------------------------------------

TRACKED = re.compile(r'href="(https?://[^"]+/r/([0-9]+-[0-9a-f]+)/(\d+))"')


def sent_issue(mailing_list, inbox, readers: int = 2) -> Issue:
    """An issue with an intro link and one item, sent to `readers` subscribers."""
    add_subscribers(mailing_list, readers)
    issue = draft(mailing_list)
    issue.intro = "Read [the report](https://example.org/report?a=1&b=2) first."
    db.session.commit()
    start_sending(issue)
    loop.send_batch(issue.id)
    inbox.wait_for(readers)
    return issue


def tracked_links(received) -> list[tuple[str, str, str]]:
    return TRACKED.findall(received.part("html"))


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def needs_queue(app) -> click_queue.ClickQueue:
    """The app's click queue; the test is skipped without PostgreSQL and Redis."""
    queue = click_queue.for_app(app.config)
    if queue is None:
        pytest.skip("clicks are queued only with PostgreSQL and Redis")
    return queue


def confirmed(app) -> None:
    """Redis has taken every click the redirect sent it (it reads the replies in batches)."""
    if isinstance(app.wsgi_app, redirects.Redirects):
        app.wsgi_app.pushes.confirm()


def counted() -> None:
    """Queued clicks and opens reach the database, as beat's drain_clicks job has them do
    (with no Redis they are written as they come, and this does nothing)."""
    confirmed(current_app)
    click_queue.drain()


# --- Migrations on SQLite ------------------------------------------------------------------


def sqlite_row(connection, table: str, every_column: bool = True, **given) -> None:
    """A row of a SQLite table, its columns as `given`, the others a value of their type:
    every key 1, row 1 of the table it points at (foreign keys are on); unless
    `every_column`, the columns that may be null are left null."""
    values = {}
    for _, name, kind, required, _, _ in connection.exec_driver_sql(
        f'PRAGMA table_info("{table}")'
    ):
        kind = kind.upper()
        if not (required or every_column):
            values[name] = None
        elif "INT" in kind or "BOOL" in kind:
            values[name] = 1
        elif "DATE" in kind or "TIME" in kind:
            values[name] = "2026-01-01 00:00:00.000000"
        elif "JSON" in kind:
            values[name] = "{}"
        else:
            values[name] = f"{table}.{name}@example.org"
    values.update(given)
    marks = ", ".join("?" * len(values))
    names = ", ".join(f'"{name}"' for name in values)
    connection.exec_driver_sql(
        f'INSERT INTO "{table}" ({names}) VALUES ({marks})', tuple(values.values())
    )
