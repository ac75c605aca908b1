"""The send path's parts: pipelined SMTP, patched bodies, the shared rate limit, several
servers, and an issue that stops itself or is stopped in the middle of a batch."""

import random
import re
import secrets
import smtplib
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
import sqlalchemy as sa
from builders import add_subscribers, counting_statements, draft, start_sending, states, user
from conftest import Inbox, wait_until
from hypothesis import example, given
from hypothesis import strategies as st

from newsletter import mailer
from newsletter.digest.render import MARKERS, NAME, UNSUBSCRIBE_URL, name_value
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscription
from newsletter.sending import claims, letter, lifecycle, loop
from newsletter.sending.pipeline import Interrupted, Pipeline
from newsletter.sending.throttle import Limits, Throttle, rate_key
from newsletter.subscriptions import service


def send_all(issue_id: int) -> list[loop.BatchOutcome]:
    """Run batches in this process until none is left to claim."""
    outcomes = []
    while True:
        outcomes.append(loop.send_batch(issue_id))
        if outcomes[-1].stopped or outcomes[-1].next_in is None:
            return outcomes


# Pipelined SMTP


def test_a_pipelined_send_arrives_intact_and_dots_survive(inbox):
    body = b"Subject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\nlast line"
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        pipe = Pipeline(smtp)
        assert pipe.pipelining
        pipe.send("news@example.org", "ana@example.org", body)
    [received] = inbox.wait_for(1)
    assert received.data.replace(b"\r\n", b"\n") == body.replace(b"\r\n", b"\n") + b"\n"


@pytest.mark.slow
def test_a_message_larger_than_the_sockets_buffers_arrives_whole(inbox):
    # Far more than the kernel takes in one write: the rest goes after a partial one.
    lines = b"".join(b"line %07d of a long message\r\n" % n for n in range(300_000))
    body = b"Subject: long\r\n\r\n" + lines
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        pipe = Pipeline(smtp)
        pipe.send("news@example.org", "long@example.org", body)
        pipe.send("news@example.org", "after-long@example.org", b"Subject: after\r\n\r\nx")
    [long] = inbox.wait_for(1, recipient="long@example.org")
    [after] = inbox.wait_for(1, recipient="after-long@example.org")
    assert long.data.replace(b"\r\n", b"\n") == body.replace(b"\r\n", b"\n")
    assert after.message["Subject"] == "after"


class SilentServer:
    """An SMTP server that greets and offers PIPELINING, then hangs mid-send: it reads and
    never answers again, or (`reading=False`) takes the envelope, says 354 and stops
    reading the message."""

    def __init__(self, reading: bool = True):
        self.reading = reading
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        connection, _ = self.listener.accept()
        with connection:
            connection.sendall(b"220 hangs\r\n")
            connection.recv(1024)  # EHLO
            connection.sendall(b"250-hangs\r\n250 PIPELINING\r\n")
            if not self.reading:
                connection.recv(1024)  # MAIL, RCPT, DATA
                connection.sendall(b"250 ok\r\n250 ok\r\n354 go on\r\n")
            while self.reading and connection.recv(65536):
                pass
            self.done.wait(30)

    def close(self):
        self.done.set()
        self.listener.close()


@pytest.mark.slow  # waits for its timeouts and writes 8 MB
@pytest.mark.parametrize("reading", [True, False], ids=["no answer", "stops reading"])
def test_a_server_that_hangs_mid_send_times_out_as_a_lost_connection(reading):
    """The timeout holds when the socket blocks and the kernel keeps it: a read with no
    answer, a write into a server that stopped reading (a message larger than the
    sockets' buffers). The message in flight is the one whose fate is unknown."""
    server = SilentServer(reading)
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 8_000  # 8 MB
    try:
        with mailer.connect(mailer.SmtpSettings("127.0.0.1", server.port, timeout=0.5)) as smtp:
            pipe = Pipeline(smtp)
            started = time.monotonic()
            with pytest.raises(Interrupted, match="did not answer in 0.5 s") as lost:
                list(pipe.send_all([("first", "news@example.org", "ana@example.org", big)]))
            assert lost.value.key == "first"
            assert time.monotonic() - started < 10
            # Python keeps the socket's timeout again for what follows (QUIT).
            assert smtp.sock.gettimeout() == 0.5
    finally:
        server.close()


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_message_in_more_chunks_than_one_write_takes_arrives_whole(inbox, pipelining):
    """An issue's copy goes to the socket in its chunks, one for each piece and value; a
    digest with thousands of links has more than a gathered write takes (IOV_MAX)."""
    inbox.handler.pipelining = pipelining
    chunks = [b"Subject: many\r\n\r\n", *(b"..line %05d\r\n" % n for n in range(3000))]
    plain = [chunks[0], *(chunk[1:] for chunk in chunks[1:])]
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        Pipeline(smtp).send("news@example.org", "many@example.org", mailer.Stuffed(plain, chunks))
    [received] = inbox.wait_for(1)
    assert received.data.replace(b"\r\n", b"\n") == b"".join(plain).replace(b"\r\n", b"\n")


def numbered(events: list, count: int, broken: int | None = None):
    """Messages 1..count, each noted in `events` as it is built; `broken` fails to build."""
    for n in range(1, count + 1):
        if n == broken:
            raise ValueError(f"message {n} cannot be built")
        events.append(f"built {n}")
        yield n, "news@example.org", f"reader{n}@example.org", b"Subject: %d\r\n\r\nx" % n


def test_the_next_message_is_built_while_the_server_takes_this_one(inbox):
    events = []
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        for key, error in Pipeline(smtp).send_all(numbered(events, 4)):
            assert error is None
            events.append(f"sent {key}")
    # The third is built before the first's answer is read: the wire never waits for it.
    assert events == [
        *("built 1", "built 2", "built 3", "sent 1"),
        *("built 4", "sent 2", "sent 3", "sent 4"),
    ]
    assert len(inbox.wait_for(4)) == 4


@pytest.mark.parametrize(("seconds", "made_with_the_first"), [(0, 1), (60, 5)])
def test_copies_are_built_in_runs_as_the_first_of_each_is_asked_for(seconds, made_with_the_first):
    """A run is built whole when its first copy is asked for; without time for more, a
    run is one copy (a signed copy alone costs a signature's time)."""
    made = []

    def copies():
        for n in range(5):
            made.append(n)
            yield n

    runs = loop._in_runs(copies(), seconds)
    assert next(runs) == 0
    assert len(made) == made_with_the_first
    assert [0, *runs] == [0, 1, 2, 3, 4]


def test_a_message_that_cannot_be_built_fails_after_those_before_it_are_sent(inbox):
    events = []
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        pipe = Pipeline(smtp)
        with pytest.raises(ValueError, match="message 3"):
            for key, error in pipe.send_all(numbered(events, 4, broken=3)):
                assert error is None
                events.append(f"sent {key}")
        assert events == ["built 1", "built 2", "sent 1", "sent 2"]
        pipe.send("news@example.org", "after@example.org", b"Subject: after\r\n\r\ny")
    received = inbox.wait_for(3)
    assert sorted(r.recipients[0] for r in received) == [
        "after@example.org",
        "reader1@example.org",
        "reader2@example.org",
    ]


def test_a_refused_subscriber_leaves_the_connection_usable(inbox):
    inbox.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        pipe = Pipeline(smtp)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            pipe.send("news@example.org", "gone@example.org", b"Subject: a\r\n\r\nx")
        assert refused.value.recipients["gone@example.org"][0] == 550
        pipe.send("news@example.org", "ana@example.org", b"Subject: b\r\n\r\ny")
    assert [m.recipients for m in inbox.wait_for(1)] == [["ana@example.org"]]


def test_a_refusal_on_several_lines_is_read_whole_and_the_next_message_goes(inbox):
    # Gmail's refusals run over several lines, each with the code and a hyphen but the last.
    inbox.handler.refuse["gone@example.org"] = (
        "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
        "550-5.1.1 Please try double-checking the recipient's email\r\n"
        "550 5.1.1 address for typos or unnecessary spaces."
    )
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        items = [
            (n, "news@example.org", to, b"Subject: m\r\n\r\nx")
            for n, to in enumerate(["ana@example.org", "gone@example.org", "bo@example.org"])
        ]
        results = list(Pipeline(smtp).send_all(items))
    assert [key for key, error in results if error is None] == [0, 2]
    [(_, refusal)] = [(key, error) for key, error in results if error]
    code, text = refusal.recipients["gone@example.org"]
    assert code == 550 and text.count(b"\n") == 2 and text.endswith(b"unnecessary spaces.")
    assert sorted(m.recipients[0] for m in inbox.wait_for(2)) == [
        "ana@example.org",
        "bo@example.org",
    ]


def test_a_server_without_pipelining_gets_one_command_at_a_time(inbox):
    inbox.handler.pipelining = False
    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        pipe = Pipeline(smtp)
        assert not pipe.pipelining
        pipe.send("news@example.org", "ana@example.org", b"Subject: plain\r\n\r\nx")
    assert inbox.wait_for(1)[0].message["Subject"] == "plain"


# Bodies encoded once, patched per reader


def test_a_patched_body_decodes_to_the_filled_in_text():
    body = ("Hello" + NAME + ", a long line " + "é" * 120 + "\nLeave: " + UNSUBSCRIBE_URL) * 2
    values = {NAME: " Zoë " + "x" * 90, UNSUBSCRIBE_URL: "https://example.org/u/" + "t" * 150}
    template = mailer.QuotedPrintableTemplate(body, MARKERS)
    encoded = b"".join(template.fill(values))
    raw = mailer.mime_bytes([("Subject", "s")], "", "")
    message = message_from_bytes(raw.replace(b"\r\n\r\n\r\n", b"\r\n\r\n" + encoded + b"\r\n", 1))
    expected = body.replace(NAME, values[NAME]).replace(UNSUBSCRIBE_URL, values[UNSUBSCRIBE_URL])
    decoded = message.get_payload()[0].get_payload(decode=True).decode()
    assert decoded.replace("\r\n", "\n").rstrip("\n") == expected
    assert max(len(line) for line in encoded.split(b"\r\n")) <= 76


@given(
    st.one_of(
        st.from_regex(r"[ -~]{1,80}", fullmatch=True),
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=90),
    )
)
@example("Reader 1")
@example("Ana & Bob <ana@example.org>")
@example("." + "x" * 73)
@example("x" * 74)
@example("x" * 75)
@example("Zoë")
def test_a_plain_name_is_framed_as_its_text_and_escaped_values_are(name):
    """The short way for names that need no encoding nor escaping gives the long way's bytes."""
    text = name_value(name, escape_values=False)
    html = name_value(name, escape_values=True)
    expected = (mailer.framed_value(text), mailer.framed_value(html))
    assert letter._framed_names(name) == expected


def test_each_subscriber_gets_their_own_links_and_name(app, weekly, inbox):
    add_subscribers(weekly, 3)
    issue = draft(weekly)
    start_sending(issue)
    send_all(issue.id)
    links = set()
    for n in range(3):
        [mail] = inbox.to(f"reader{n}@example.org")
        html = mail.part("html")
        assert f"Hello Reader {n}," in html
        links.add(re.search(r"/unsubscribe/[\w.-]+", mail.message["List-Unsubscribe"]).group())
        assert links.issuperset(re.findall(r"/unsubscribe/[\w.-]+", html))
    assert len(links) == 3


def test_a_batch_reads_the_frozen_render_once(app, weekly, inbox):
    """The render is tens of KB: the batch's looks at the issue's status leave it."""
    add_subscribers(weekly, 3)
    issue = draft(weekly)
    start_sending(issue)
    issue_id = issue.id
    db.session.expunge_all()
    with counting_statements() as seen:
        outcome = loop.send_batch(issue_id)
    assert outcome.sent == 3
    issue_reads = [sql for sql in seen if sql.lstrip().startswith("SELECT issues.")]
    assert len(issue_reads) > 1  # the status is looked at more than once
    assert len([sql for sql in issue_reads if "issues.html" in sql]) == 1


def test_each_sent_row_records_when_and_its_message_id(app, weekly, inbox):
    add_subscribers(weekly, 3)
    issue = draft(weekly)
    start_sending(issue)
    before = datetime.now(UTC)
    send_all(issue.id)
    after = datetime.now(UTC)
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Delivery).where(Delivery.issue_id == issue.id)).all()
    received = {mail.recipients[0]: mail.message["Message-ID"] for mail in inbox.wait_for(3)}
    for row in rows:
        # Written as UTC whatever the session's zone: within the send, to the second.
        assert before - timedelta(seconds=1) <= row.sent_at <= after + timedelta(seconds=1)
        assert row.status == "sent" and row.attempts == 1
        assert received[row.subscriber.email] == row.message_id


# The shared rate limit


@pytest.fixture
def redis_url(backends):
    """The run's Redis, without the run's rate counts (named after its queue: other runs
    sharing the Redis have their own)."""
    if not backends.broker_url.startswith("redis://"):
        pytest.skip("the shared rate limit lives in Redis")
    import redis

    client = redis.Redis.from_url(backends.broker_url)
    for key in client.scan_iter(f"{rate_key(backends.queue)}*"):
        client.delete(key)
    yield backends.broker_url
    for key in client.scan_iter(f"{rate_key(backends.queue)}*"):
        client.delete(key)


def test_two_workers_share_one_hourly_limit_through_redis(redis_url, backends):
    key = rate_key(backends.queue)
    first, second = (Throttle(Limits(per_hour=50), redis_url, key) for _ in range(2))
    assert first.take(30) == 30
    assert second.take(30, patience=0) == 20
    assert first.take(1, patience=0) == 0
    assert second.take(1, patience=0) == 0
    # Another installation on the same Redis counts apart.
    assert Throttle(Limits(per_hour=50), redis_url, key + "-other").take(30) == 30


def test_without_redis_the_limit_holds_within_the_process():
    throttle = Throttle(Limits(per_second=1000, per_hour=10), None)
    assert throttle.take(8) == 8
    assert throttle.take(8, patience=0) == 2
    assert throttle.take(1, patience=0) == 0


def test_without_its_redis_the_limit_grants_nothing():
    from conftest import free_port

    throttle = Throttle(Limits(per_second=100), f"redis://127.0.0.1:{free_port()}/0")
    assert throttle.take(5, patience=0) == 0
    assert Throttle(Limits(), f"redis://127.0.0.1:{free_port()}/0").take(5) == 5  # no limit set


@pytest.mark.slow
def test_a_throttled_batch_stops_and_gives_its_subscribers_back(app, weekly, inbox, redis_url):
    app.config["RATE_PER_HOUR"] = 3
    app.config["SEND_WINDOW"] = 2
    add_subscribers(weekly, 5)
    issue = draft(weekly)
    start_sending(issue)
    outcome = loop.send_batch(issue.id)
    assert (outcome.sent, outcome.stopped) == (3, "throttled")
    assert states(issue.id) == {"total": 5, "sent": 3, "failed": 0, "pending": 2}
    assert claims.next_due(issue.id) == 0  # nobody holds the two left
    assert len(inbox.messages) == 3


# Several SMTP servers


def test_servers_are_picked_by_weight_and_a_dead_one_is_skipped(app):
    servers = mailer.smtp_servers("smtp://a?weight=3, smtp://b:2525?weight=1")
    assert [(s.host, s.port, s.weight) for s in servers] == [("a", 25, 3.0), ("b", 2525, 1.0)]
    random.seed(7)
    firsts = [mailer.weighted_order(servers)[0].host for _ in range(2000)]
    assert 0.7 < firsts.count("a") / 2000 < 0.8
    with pytest.raises(ValueError):
        mailer.smtp_servers("smtp://a?weight=0")


def test_mail_goes_to_the_server_that_answers(app, weekly, inbox):
    from conftest import free_port

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}?weight=100,{inbox.url}?weight=1"
    add_subscribers(weekly, 2)
    issue = draft(weekly)
    start_sending(issue)
    send_all(issue.id)
    assert states(issue.id)["sent"] == 2
    assert len(inbox.messages) == 2


@pytest.mark.slow
def test_two_servers_share_an_issue_by_weight(app, weekly, inbox):
    second = Inbox()
    try:
        app.config["SMTP_URL"] = f"{inbox.url}?weight=1,{second.url}?weight=1"
        app.config["BATCH_SIZE"] = 5
        add_subscribers(weekly, 100)
        issue = draft(weekly)
        start_sending(issue)
        random.seed(3)
        send_all(issue.id)
        assert len(inbox.messages) + len(second.messages) == 100
        assert inbox.messages and second.messages
    finally:
        second.stop()


# Stopping by itself, and being stopped mid-batch


@pytest.mark.slow
def test_errors_in_a_row_pause_the_issue_and_tell_the_editors(app, weekly, inbox, worker):
    app.config["PAUSE_AFTER_ERRORS"] = 4
    app.config["SEND_WINDOW"] = 2
    user("editor@example.org")
    readers = add_subscribers(weekly, 10)
    for reader in readers:
        inbox.handler.refuse[reader.email] = "550 5.7.1 Relaying denied"
    issue = draft(weekly)
    start_sending(issue)
    outcome = loop.send_batch(issue.id)
    assert outcome.stopped == "paused"
    # Our relay refusing us is no fault of the readers': their copies wait for the resume.
    assert (outcome.failed, outcome.deferred) == (0, 4)
    issue = db.session.get(Issue, issue.id)
    assert issue.status == "paused"
    assert "4 failed sends in a row" in issue.pause_reason
    assert "550 5.7.1 Relaying denied" in issue.pause_reason
    assert states(issue.id)["pending"] == 10
    [alert] = inbox.wait_for(1, recipient="editor@example.org")
    assert "paused" in alert.message["Subject"]
    assert "Relaying denied" in alert.part("plain")
    lifecycle.resume_issue(issue)
    assert (issue.error_streak, issue.pause_reason) == (0, None)


@pytest.mark.slow
@pytest.mark.parametrize(
    "reply",
    [
        "550 5.4.5 Recipient address rejected: Email Sending Quota Exceeded",
        "550 Sender domain not found",
        "550 5.2.2 Submission quota exceeded",  # Microsoft 365 as our smarthost
        # Google Workspace's SMTP relay, and chkuser on our return path's domain
        "550 5.7.1 Invalid credentials for relay 192.0.2.25.",
        "511 sorry, can't find a valid MX for sender domain (#5.1.1 - chkuser)",
    ],
    ids=["sending-quota", "our-domain", "submission-quota", "relay-credentials", "no-mx"],
)
def test_a_relay_refusing_our_sending_at_rcpt_fails_no_reader(app, weekly, inbox, worker, reply):
    """A relay that words its quota of our sending, or our own domain, as a refusal of the
    recipient, with a status about neither policy nor system: every copy meets it, none has
    failed for good."""
    app.config["PAUSE_AFTER_ERRORS"] = 4
    app.config["SEND_WINDOW"] = 2
    for reader in add_subscribers(weekly, 6):
        inbox.handler.refuse[reader.email] = reply
    issue = draft(weekly)
    start_sending(issue)
    outcome = loop.send_batch(issue.id)
    assert (outcome.stopped, outcome.failed, outcome.deferred) == ("paused", 0, 4)
    assert states(issue.id) == {"total": 6, "sent": 0, "failed": 0, "pending": 6}


@pytest.mark.slow
@pytest.mark.parametrize(
    "where, reply",
    [
        # Amazon SES in its sandbox, after the message: our sender is not verified there.
        (
            "refuse_data",
            "554 Message rejected: Email address is not verified. The following identities "
            "failed the check in region EU-WEST-1: digest@example.org",
        ),
        (
            "refuse_sender",
            "553 5.7.1 <digest@example.org>: Sender address rejected: not owned by user",
        ),
        ("refuse_data", "552 5.3.4 Message size exceeds fixed maximum message size"),
    ],
    ids=["ses-unverified-sender", "relay-refuses-our-address", "message-too-large"],
)
def test_a_refusal_of_our_sender_or_message_fails_no_reader(
    app, weekly, inbox, worker, where, reply
):
    """Every copy meets it, and a fix of ours mends it: the issue pauses after the errors
    in a row, and every copy waits to be sent once it is resumed."""
    app.config["PAUSE_AFTER_ERRORS"] = 4
    app.config["SEND_WINDOW"] = 2
    add_subscribers(weekly, 6)
    setattr(inbox.handler, where, reply)
    issue = draft(weekly)
    start_sending(issue)
    outcome = loop.send_batch(issue.id)
    assert (outcome.stopped, outcome.failed, outcome.deferred) == ("paused", 0, 4)
    assert reply.split(":")[0] in db.session.get(Issue, issue.id).pause_reason
    assert states(issue.id) == {"total": 6, "sent": 0, "failed": 0, "pending": 6}

    setattr(inbox.handler, where, None)  # the editor mends it and resumes
    db.session.execute(sa.update(Delivery).values(retry_at=None))  # their wait is over
    db.session.commit()
    lifecycle.resume_issue(db.session.get(Issue, issue.id))
    wait_until(lambda: states(issue.id)["sent"] == 6, message="the resumed issue was not sent")
    assert states(issue.id) == {"total": 6, "sent": 6, "failed": 0, "pending": 0}


def test_a_success_resets_the_count_of_errors(app, weekly, inbox):
    app.config["PAUSE_AFTER_ERRORS"] = 3
    app.config["SEND_WINDOW"] = 1
    readers = add_subscribers(weekly, 6)
    for n in (0, 1, 3, 4):  # never three refusals in a row
        inbox.handler.refuse[readers[n].email] = "550 No such user"
    issue = draft(weekly)
    start_sending(issue)
    send_all(issue.id)
    assert db.session.get(Issue, issue.id).status == "sent"
    assert states(issue.id) == {"total": 6, "sent": 2, "failed": 4, "pending": 0}


@pytest.mark.slow
def test_a_subscriber_who_leaves_mid_batch_is_not_mailed(app, weekly, inbox):
    app.config["SEND_WINDOW"] = 5
    readers = add_subscribers(weekly, 30)
    issue = draft(weekly)
    start_sending(issue)
    leaver = db.session.scalar(
        sa.select(Subscription).where(Subscription.subscriber_id == readers[20].id)
    )

    def leave_on_first_message(count):
        if count == 1:
            with app.app_context():
                service.unsubscribe(db.session.get(Subscription, leaver.id), "one-click")

    inbox.handler.on_message = leave_on_first_message
    send_all(issue.id)
    digests = [m for m in inbox.messages if m.message["Subject"] == issue.subject]
    assert readers[20].email not in {r for m in digests for r in m.recipients}
    assert len(digests) == 29
    assert db.session.get(Issue, issue.id).status == "sent"


@pytest.mark.slow
def test_a_window_is_one_statement_that_commits_itself_on_postgresql(app, weekly, inbox):
    """A window's bookkeeping (the last window marked sent, the next one's check) is one
    round trip: no BEGIN and COMMIT of its own around it, which cost as much again."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite commits each window in the session")
    app.config["SEND_WINDOW"] = 5
    readers = add_subscribers(weekly, 60)  # twelve windows
    issue = draft(weekly)
    start_sending(issue)
    commits, session_commits, checkouts = [], [], []

    def count(connection):
        commits.append(connection)

    def count_checkout(dbapi_connection, record, proxy):
        checkouts.append(record)

    def count_session(session):
        session_commits.append(session)

    session = db.session()
    sa.event.listen(db.engine, "commit", count)
    sa.event.listen(session, "after_commit", count_session)
    sa.event.listen(db.engine, "checkout", count_checkout)
    try:
        outcome = loop.send_batch(issue.id)
    finally:
        sa.event.remove(db.engine, "commit", count)
        sa.event.remove(session, "after_commit", count_session)
        sa.event.remove(db.engine, "checkout", count_checkout)
    assert outcome.sent == 60
    assert len(inbox.wait_for(60)) == 60
    assert states(issue.id)["sent"] == 60
    assert {m.recipients[0] for m in inbox.messages} == {r.email for r in readers}
    # The claim, the last results, the release and the finish: a few, not one a window.
    assert len(commits) < 12, f"{len(commits)} commits for twelve windows"
    # Nor does the session commit with nothing begun (it would expire everything loaded).
    assert len(session_commits) < 12, f"{len(session_commits)} session commits for 12 windows"
    # The windows' steps share one connection for the batch, not one from the pool each.
    assert len(checkouts) < 12, f"{len(checkouts)} connections checked out for 12 windows"


@pytest.mark.slow
def test_a_database_connection_lost_mid_batch_mends_itself(app, weekly, inbox):
    """The database dropping the workers' connections (a restart, a failover) is no reason
    to pause: the batch ends with the error, the issue keeps sending, and the next batch
    sends the rest. Only the window in flight may go twice."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's sessions are ended from outside")
    app.config["SEND_WINDOW"] = 5
    emails = {reader.email for reader in add_subscribers(weekly, 20)}
    issue = draft(weekly)
    start_sending(issue)
    issue_id = issue.id
    victims = f"victim-{secrets.token_hex(4)}"

    def named(dbapi_connection, record):
        dbapi_connection.execute(f"SET application_name = '{victims}'")
        dbapi_connection.commit()

    db.session.remove()
    db.engine.dispose()  # every connection from here on is named
    sa.event.listen(db.engine, "connect", named)
    outsider = sa.create_engine(db.engine.url)
    killed = []

    def end_their_sessions(count):
        if count == 7 and not killed:  # in the second window
            with outsider.connect() as connection:
                ended = connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = :name"
                    ),
                    {"name": victims},
                ).all()
            killed.append(len(ended))

    inbox.handler.on_message = end_their_sessions
    try:
        with pytest.raises(sa.exc.OperationalError):
            loop.send_batch(issue_id)
    finally:
        sa.event.remove(db.engine, "connect", named)
        outsider.dispose()
    assert killed and killed[0] >= 1
    db.session.rollback()
    assert db.session.get(Issue, issue_id).status == "sending"
    claims.release_stale_claims(datetime.now(UTC) + timedelta(hours=1))  # as beat would
    send_all(issue_id)
    assert db.session.get(Issue, issue_id).status == "sent"
    received = [m.recipients[0] for m in inbox.messages]
    assert set(received) == emails
    assert len(received) - len(emails) <= 5


@pytest.mark.slow
@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_pause_and_cancel_take_effect_within_the_window(app, weekly, inbox, action):
    app.config["SEND_WINDOW"] = 5
    add_subscribers(weekly, 40)
    issue = draft(weekly)
    start_sending(issue)
    stop = {"pause": lifecycle.pause_issue, "cancel": lifecycle.cancel_issue}[action]

    def stop_on_first_message(count):
        if count == 1:
            with app.app_context():
                stop(db.session.get(Issue, issue.id))

    inbox.handler.on_message = stop_on_first_message
    outcome = loop.send_batch(issue.id)
    assert outcome.stopped == {"pause": "paused", "cancel": "cancelled"}[action]
    assert len(inbox.messages) == 5  # the window in flight, no more
    assert states(issue.id)["sent"] == 5
    wait_until(lambda: claims.next_due(issue.id) == 0, message="rows left claimed")


# Links signed in bulk


def test_bulk_signed_links_are_the_links_itsdangerous_makes(app):
    from newsletter import links

    for purpose in (links.UNSUBSCRIBE, links.PREFERENCES):
        fast = links.Links(purpose, 7).url(12345)
        slow = links.url(purpose, 12345, 7)
        # Equal but for the second they were signed in.
        assert fast.split(".")[0] == slow.split(".")[0]
        assert links.read(purpose, fast.rsplit("/", 1)[1]) == links.LinkTarget(12345, 7)
        forged = fast[:-3] + ("AAA" if not fast.endswith("AAA") else "BBB")
        with pytest.raises(links.TokenError):
            links.read(purpose, forged.rsplit("/", 1)[1])
        with pytest.raises(links.TokenError):  # a link for one purpose is no good for another
            other = links.CONFIRM
            links.read(other, fast.rsplit("/", 1)[1])


def test_the_sweeper_gives_back_only_rows_held_too_long(app, weekly):
    from datetime import timedelta

    from newsletter.models import BatchClaim

    app.config["BATCH_SIZE"] = 2
    add_subscribers(weekly, 3)
    issue = draft(weekly)
    start_sending(issue)
    dead, first = claims.claim_batch(issue.id, 2)
    alive, second = claims.claim_batch(issue.id, 2)
    assert [len(first), len(second)] == [2, 1]  # the second range starts past the first
    later = datetime.now(UTC) + timedelta(seconds=app.config["CLAIM_LEASE"] + 1)
    renewed = sa.update(BatchClaim).where(BatchClaim.token == alive).values(claimed_at=later)
    db.session.execute(renewed)
    db.session.commit()
    assert claims.next_due(issue.id) is None  # every row is held
    assert claims.release_stale_claims(later) == [issue.id]
    assert db.session.scalars(sa.select(BatchClaim.token)).all() == [alive]
    assert claims.release_stale_claims(later) == []
    assert claims.next_due(issue.id) == 0  # the dead batch's two are anyone's again
    _, rows = claims.claim_batch(issue.id, 5)
    assert [row.subscriber_id for row in rows] == [row.subscriber_id for row in first]


@pytest.mark.slow  # waits 1.5 s on a slow server, on purpose
def test_a_live_batch_slower_than_its_lease_keeps_its_rows(app, weekly, inbox):
    """The lease is renewed while the batch waits on a slow server, so the sweeper, which
    runs all along, never gives its rows to another batch."""
    import threading
    import time

    app.config.update(CLAIM_LEASE=0.6, BATCH_SIZE=5, SEND_WINDOW=5)
    add_subscribers(weekly, 5)
    issue = draft(weekly)
    start_sending(issue)
    inbox.handler.on_message = lambda count: time.sleep(0.3)  # 1.5 s for the batch
    swept, done = [], threading.Event()

    def sweep():
        with app.app_context():
            while not done.is_set():
                swept.extend(claims.release_stale_claims())
                time.sleep(0.05)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        outcome = loop.send_batch(issue.id)
    finally:
        done.set()
        sweeper.join()
    assert swept == []
    assert outcome.sent == 5
    assert sorted(r for m in inbox.messages for r in m.recipients) == [
        f"reader{n}@example.org" for n in range(5)
    ]


def test_a_batch_queued_for_later_is_not_taken_for_a_stalled_send(app, weekly, inbox):
    """A chain that waits for a retry tells the stall detector when it is due; the send
    counts as stalled only once that time and STALL_AFTER have passed."""
    from datetime import timedelta

    app.config.update(BATCH_SIZE=5, SEND_RETRY_BASE=600)
    add_subscribers(weekly, 2)
    inbox.handler.refuse["reader1@example.org"] = "451 4.3.0 Try again later"
    issue = draft(weekly)
    start_sending(issue)
    result = loop.run_batch(issue.id)
    assert result["sent"] == 1 and result["stopped"] is None
    stall = timedelta(seconds=app.config["STALL_AFTER"] + 1)
    now = datetime.now(UTC)
    assert loop.stalled_issues(now + stall) == []  # the retry is due in about ten minutes
    assert loop.stalled_issues(now + timedelta(seconds=720) + stall) == [issue.id]


def test_dead_batches_get_as_many_new_chains_and_a_stalled_send_all(app, weekly, monkeypatch):
    """Live chains carry on beside the new ones, so a send never runs more chains than
    SEND_PARALLEL because a worker died."""
    from datetime import timedelta
    from types import SimpleNamespace

    from newsletter import jobs
    from newsletter.models import BatchClaim

    queued = []
    recorder = SimpleNamespace(delay=lambda *args, **options: queued.append(args))
    monkeypatch.setattr(loop, "jobs", SimpleNamespace(send_batch=recorder))
    app.config.update(BATCH_SIZE=2, SEND_PARALLEL=8)
    add_subscribers(weekly, 12)
    issue = draft(weekly)
    start_sending(issue)
    tokens = [claims.claim_batch(issue.id, 2)[0] for _ in range(3)]
    later = datetime.now(UTC) + timedelta(seconds=app.config["CLAIM_LEASE"] + 1)
    alive = BatchClaim.token == tokens[2]
    db.session.execute(sa.update(BatchClaim).where(alive).values(claimed_at=later))
    db.session.execute(sa.update(Issue).values(progress_at=later))  # the live batch moves it
    db.session.commit()
    loop.dispatch(later)
    assert queued == [(issue.id,), (issue.id,)]  # two batches died: two new chains
    queued.clear()
    stalled = later + timedelta(seconds=app.config["STALL_AFTER"] + 1)
    loop.dispatch(stalled)  # nothing moved it since: every chain is gone
    assert len(queued) == 6  # twelve due rows (the last lease ran out too), two a batch
    assert all(args == (issue.id,) for args in queued)
    router = app.extensions["celery"].amqp.router
    queue = app.config["TASK_QUEUE"]
    for job, expected in ((jobs.dispatch_due_issues, f"{queue}-control"), (jobs.send_batch, queue)):
        assert router.route({}, job.name)["queue"].name == expected


@pytest.mark.parametrize("most", [4, 1000])
def test_a_batch_opens_a_new_session_when_one_has_carried_its_share(app, weekly, inbox, most):
    """A server that takes at most 4 messages a session (Exim's cap, made small): a batch
    of 10 that knows the cap sends 4, 4 and 2 over three sessions, and nobody is refused;
    one that thinks a session carries 1,000 has the rest refused (421) and retried later."""
    app.config.update(SMTP_MESSAGES_PER_CONNECTION=most, SEND_WINDOW=50, BATCH_SIZE=20)
    inbox.handler.most_per_session = 4
    readers = add_subscribers(weekly, 10)
    issue = draft(weekly)
    start_sending(issue)
    outcome = loop.send_batch(issue.id)
    received = sorted(r for m in inbox.messages for r in m.recipients)
    if most == 4:
        assert (outcome.sent, outcome.deferred, outcome.stopped) == (10, 0, None)
        assert received == sorted(reader.email for reader in readers)
        assert sorted(inbox.handler.sessions.values()) == [2, 4, 4]
        assert states(issue.id)["sent"] == 10
    else:
        assert outcome.sent == 4 and len(received) == 4
        assert "421" in db.session.scalar(
            sa.select(Delivery.last_error).where(Delivery.last_error.is_not(None)).limit(1)
        )


@pytest.mark.parametrize("how", ["refused", "hung up at the greeting"])
def test_a_server_away_when_a_new_session_is_due_stops_the_batch_and_loses_nobody(
    app, weekly, inbox, monkeypatch, how
):
    app.config.update(SMTP_MESSAGES_PER_CONNECTION=3, BATCH_SIZE=20)
    add_subscribers(weekly, 8)
    issue = draft(weekly)
    start_sending(issue)
    opened = []
    real_connect, real_pipeline = mailer.connect, loop.Pipeline

    def away_after_the_first(*args):
        opened.append(1)
        if len(opened) > 1 and how == "refused":
            raise ConnectionRefusedError("the relay went away")
        return real_connect(*args)

    def hangs_up_after_the_first(smtp):
        if len(opened) > 1:
            smtp.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_pipeline(smtp)

    monkeypatch.setattr(mailer, "connect", away_after_the_first)
    monkeypatch.setattr(loop, "Pipeline", hangs_up_after_the_first)
    outcome = loop.send_batch(issue.id)
    assert (outcome.sent, outcome.failed, outcome.stopped) == (3, 0, loop.UNREACHABLE)
    assert len(inbox.messages) == 3
    assert states(issue.id) == {"sent": 3, "pending": 5, "failed": 0, "total": 8}
    untouched = db.session.scalars(
        sa.select(Delivery.attempts).where(
            Delivery.issue_id == issue.id, Delivery.status == "pending"
        )
    ).all()
    assert untouched == [0] * 5  # given back with their attempts, for the chain's retry
    assert db.session.scalar(sa.select(claims.BatchClaim.token)) is None  # its range let go


class HangsUpAtHello:
    """A real SMTP listener that greets, then hangs up on EHLO: a server restarting or
    shedding load."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"smtp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.greeted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"220 mx.example.net ESMTP\r\n")
                self.greeted += 1
                connection.recv(1024)  # EHLO: hang up

    def close(self):
        self.listener.close()


def test_a_server_that_hangs_up_at_hello_is_retried_not_a_paused_issue(app, weekly, inbox):
    """It was taken for an error no retry mends: the issue paused and waited for an editor."""
    add_subscribers(weekly, 4)
    issue = draft(weekly)
    start_sending(issue)
    server = HangsUpAtHello()
    try:
        app.config["SMTP_URL"] = server.url
        outcome = loop.send_batch(issue.id)
    finally:
        server.close()
    assert (outcome.sent, outcome.stopped, server.greeted) == (0, loop.UNREACHABLE, 1)
    stored = db.session.get(Issue, issue.id)
    assert (stored.status, stored.error_streak, stored.pause_reason) == ("sending", 1, None)
    assert db.session.scalar(sa.select(claims.BatchClaim.token)) is None  # nobody held
    app.config["SMTP_URL"] = inbox.url
    send_all(issue.id)
    assert states(issue.id)["sent"] == 4


@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5"])
def test_counts_that_would_never_move_a_send_are_refused_at_start(monkeypatch, tmp_path, value):
    from newsletter import config

    for name in ("BATCH_SIZE", "SEND_WINDOW", "SEND_PARALLEL", "SMTP_MESSAGES_PER_CONNECTION"):
        monkeypatch.setenv(f"NEWSLETTER_{name}", value)
        with pytest.raises(ValueError, match=f"NEWSLETTER_{name} must be a whole number of at"):
            config.load(tmp_path)
        monkeypatch.delenv(f"NEWSLETTER_{name}")
    monkeypatch.setenv("NEWSLETTER_SMTP_MESSAGES_PER_CONNECTION", " 7 ")
    assert config.load(tmp_path)["SMTP_MESSAGES_PER_CONNECTION"] == 7
