"""A server that refuses an address at RCPT TO while we send (a direct send to the reader's
server, a relay that checks its recipients) says what a bounce would: the copy fails, and
the address is judged by the same rules as a report of that reply. Mailed again every week
before, a dead address met at the door now stops the reader; a full mailbox adds to the
score; a refusal of our mail or a relay's own trouble judges no reader; and a relay refusing
everyone trips the mass-bounce guard, as bounces by mail do."""

from __future__ import annotations

import smtplib

import pytest
import sqlalchemy as sa
from builders import add_subscribers, draft, start_sending, states, user
from conftest import wait_until

from newsletter import mailer
from newsletter.extensions import db
from newsletter.models import Bounce, Issue, Subscriber
from newsletter.sending import loop


def _send(weekly, refusals: dict[int, str], inbox, readers: int = 4) -> tuple[Issue, list]:
    """An issue to `readers` readers, the i-th refused at RCPT TO with refusals[i]."""
    people = add_subscribers(weekly, readers)
    for index, reply in refusals.items():
        inbox.handler.refuse[people[index].email] = reply
    issue = draft(weekly)
    start_sending(issue)
    loop.send_batch(issue.id)
    return issue, [person.id for person in people]


def _bounces() -> list[tuple[str, str, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Subscriber.email, Bounce.kind, Bounce.reason, Bounce.source)
        .join(Subscriber, Subscriber.id == Bounce.subscriber_id)
        .order_by(Bounce.id)
    )
    return [tuple(row) for row in rows]


def _status(subscriber_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Subscriber, subscriber_id).status


@pytest.mark.slow
def test_a_dead_address_refused_at_the_door_stops_the_reader(app, weekly, inbox, worker):
    issue, people = _send(
        weekly,
        {
            1: "550 5.1.1 <reader1@example.org>: Recipient address rejected: User unknown in "
            "virtual mailbox table"
        },
        inbox,
    )
    assert states(issue.id) == {"total": 4, "sent": 3, "failed": 1, "pending": 0}
    wait_until(lambda: _status(people[1]) == "bounced", message="the reader was not stopped")
    assert _bounces() == [("reader1@example.org", "hard", "user_unknown", "send")]
    assert [_status(p) for p in (people[0], people[2], people[3])] == ["active"] * 3


@pytest.mark.slow
def test_a_full_mailbox_refused_at_the_door_adds_to_the_score(app, weekly, inbox, worker):
    _, people = _send(weekly, {0: "552 5.2.2 Mailbox full: quota exceeded"}, inbox)
    wait_until(lambda: _bounces(), message="no bounce recorded")
    assert _bounces() == [("reader0@example.org", "soft", "mailbox_full", "send")]
    db.session.expire_all()
    reader = db.session.get(Subscriber, people[0])
    assert (reader.status, reader.bounce_score) == ("active", 1.0)


def test_gmails_multi_line_refusal_is_read_whole(app, weekly, inbox, worker):
    _, people = _send(
        weekly,
        {
            2: "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
            "550-5.1.1 Please try double-checking the recipient's email\r\n"
            "550 5.1.1 address for typos or unnecessary spaces."
        },
        inbox,
    )
    wait_until(lambda: _status(people[2]) == "bounced", message="the reader was not stopped")


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.7.1 <reader0@example.org>: Relay access denied",  # our relay refusing us
        "550 5.4.5 Recipient address rejected: Email Sending Quota Exceeded",  # our account
    ],
)
def test_a_refusal_of_our_mail_at_the_door_judges_no_reader(app, weekly, inbox, worker, reply):
    """Such copies wait for a resume (test_sending_engine.py); no reader is judged by them."""
    app.config["PAUSE_AFTER_ERRORS"] = 100
    issue, people = _send(weekly, {0: reply}, inbox)
    assert states(issue.id)["failed"] == 0
    loop.send_batch(issue.id)  # nothing is judged later either
    assert (_bounces(), _status(people[0])) == ([], "active")


@pytest.mark.slow
def test_a_relay_refusing_everyone_at_the_door_trips_the_mass_bounce_guard(
    app, weekly, inbox, worker
):
    """Our relay's recipient table lost: "User unknown in relay recipient table" for all. The
    guard counts copies refused at the door as it counts bounces, pauses the issue and gives
    the readers it stopped their mail back."""
    app.config.update(DEAD_ADDRESSES_PAUSE=3, DEAD_ADDRESSES_SHARE=0.5, PAUSE_AFTER_ERRORS=100)
    user("editor@example.org")
    reply = "550 5.1.1 <{}>: Recipient address rejected: User unknown in relay recipient table"
    people = add_subscribers(weekly, 8)
    for person in people:
        inbox.handler.refuse[person.email] = reply.format(person.email)
    issue = draft(weekly)
    start_sending(issue)
    loop.send_batch(issue.id)

    def tripped():
        db.session.expire_all()
        return db.session.get(Issue, issue.id).mass_bounce

    wait_until(tripped, message="the guard did not trip")
    record = tripped()
    assert record["bounces"] >= 3 and "user unknown" in record["said"]
    wait_until(
        lambda: all(_status(p.id) == "active" for p in people),
        message="the stopped readers did not get their mail back",
    )


# Our relay's refusals at RCPT TO, as their software and services write them (an audit of
# 141 real replies): each failed every reader's copy for good, and some scored or dropped
# the reader once judged. They are ours: the copy waits.
OUR_RELAYS_REFUSALS = [
    (550, "relay not permitted"),  # Exim's default configuration
    (554, "<reader@example.org>: Recipient address rejected: Relay access denied"),  # Postfix
    (553, "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"),  # qmail
    (553, "Relaying disallowed as news@example.org"),  # ZeptoMail
    (550, "5.2.255 Sender throttled due to continuous invalid recipients errors."),  # M365
    (554, "5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException"),
    (550, "5.4.5 Daily SMTP relay limit exceeded for user, for more information see ..."),
    (550, "Domain example.org has exceeded the max emails per hour (100/100 (100%)) allowed."),
    (550, "The from address does not match a verified Sender Identity."),  # SendGrid
    (550, "Sender not allowed"),  # Mailjet
    # our return path checked by the relay: Postfix, Exim's callout, Sendmail's proto.m4
    (
        550,
        "5.1.0 <bounces+x@bounces.example.org>: Sender address rejected: User unknown in "
        "local recipient table",
    ),
    (
        550,
        "Verification failed for <bounces+x@bounces.example.org>\nUnrouteable address\n"
        "Sender verify failed",
    ),
    (553, "5.1.8 Domain of sender address bounces+x@bounces.example.org does not exist"),
    (550, "5.1.8 Access denied, bad outbound sender AS(42004)"),  # Microsoft 365
]


@pytest.mark.parametrize("code, said", OUR_RELAYS_REFUSALS)
def test_our_relays_refusal_at_rcpt_leaves_the_copy_waiting(code, said):
    error = smtplib.SMTPRecipientsRefused({"reader@example.org": (code, said.encode())})
    assert not mailer.about_the_address(error)
    assert not mailer.refused_for_good(error)


@pytest.mark.parametrize(
    "code, said",
    [
        (454, "Temporary service failure"),  # Amazon SES, until the attempts run out
        (550, "5.7.1 <reader0@example.org>: Relay access denied"),
        (550, "5.4.5 Recipient address rejected: Email Sending Quota Exceeded"),
        (
            421,
            "Domain xx.mailgun.org is not allowed to send: Sandbox subdomains are for test"
            " purposes only.",
        ),
    ],
)
def test_our_relays_trouble_judges_no_reader_when_the_attempts_run_out(
    app, weekly, inbox, worker, code, said
):
    app.config.update(MAX_ATTEMPTS=1, PAUSE_AFTER_ERRORS=100)
    issue, people = _send(weekly, {0: f"{code} {said}"}, inbox)
    assert states(issue.id)["failed"] == 1
    loop.send_batch(issue.id)
    assert (_bounces(), _status(people[0])) == ([], "active")


def test_a_dead_address_behind_a_policy_status_is_judged_once_its_attempts_run_out(
    app, weekly, inbox, worker
):
    """Yandex's "550 5.7.1 No such user!": a policy status, so the copy waits and is tried
    again; once its attempts run out, what the words say of the address counts."""
    app.config.update(MAX_ATTEMPTS=1, PAUSE_AFTER_ERRORS=100)
    _, people = _send(weekly, {3: "550 5.7.1 No such user!"}, inbox)
    wait_until(lambda: _status(people[3]) == "bounced", message="the reader was not stopped")
    assert _bounces() == [("reader3@example.org", "hard", "user_unknown", "send")]
