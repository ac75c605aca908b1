"""Bounces and complaints coming back: through `bounces serve`, classified, acted on."""

from __future__ import annotations

import re
import smtplib
import socket
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, complaint, dsn
from builders import (
    SINCE,
    UNTIL,
    add_subscribers,
    confirmed_subscriber,
    deliver,
    draft,
    error_of,
    send_one_batch,
    start_sending,
    stored_subscriber,
    submit,
    user,
)
from conftest import free_port, wait_until

from newsletter import jobs, suppression, verp
from newsletter.bounces.intake import add_soft_bounce
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, Subscriber, Suppression
from newsletter.sending import holds, lifecycle, loop
from newsletter.subscriptions import service


def headers_of(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[0] + b"\r\n"


UNKNOWN = "550 5.1.1 <{}>: Recipient address rejected: User unknown in virtual mailbox table"
FULL = "552 5.2.2 <{}>: Mailbox full: quota exceeded"
REFUSED = (
    "550 5.7.515 Access denied, sending domain example.org does not meet the required "
    "authentication level"
)


@pytest.mark.slow
def test_only_a_dead_address_stops_the_subscriber(app, weekly, inbox, bounce_server):
    server = bounce_server()
    first = send_one_batch(weekly, 5)
    sent = {m.recipients[0]: m for m in inbox.messages}
    for email, status, said, action in (
        ("reader0@example.org", "5.1.1", UNKNOWN, ""),
        ("reader1@example.org", "5.2.2", FULL, ""),  # a 5.x.x about the mailbox, not the address
        ("reader2@example.org", "4.4.7", "", "failed"),  # given up after days of trying
        ("reader3@example.org", "4.2.2", "", ""),  # a delay warning: the message is still queued
    ):
        # To the return path of the message it is about, as a real server sends it.
        quoted = headers_of(sent[email].data)
        report = dsn(email, status, quoted, said=said.format(email), action=action)
        deliver(server, report, to=sent[email].sender)

    assert [stored_subscriber(f"reader{i}@example.org").status for i in range(5)] == [
        "bounced",
        "active",
        "active",
        "active",
        "active",
    ]
    assert [stored_subscriber(f"reader{i}@example.org").bounce_score for i in range(5)] == [
        0,
        1,
        1,
        0,
        0,
    ]
    assert suppression.reason("reader0@example.org") == "bounced"
    assert suppression.reason("reader1@example.org") is None
    bounces = db.session.scalars(sa.select(Bounce).order_by(Bounce.id)).all()
    assert [(b.kind, b.reason, b.status) for b in bounces] == [
        ("hard", "user_unknown", "5.1.1"),
        ("soft", "mailbox_full", "5.2.2"),
        ("soft", "expired", "4.4.7"),
        ("soft", "delayed", "4.2.2"),
    ]
    assert {b.delivery.issue_id for b in bounces} == {first.id}
    assert {b.domain for b in bounces} == {"example.org"}
    assert "5.1.1" in bounces[0].detail and bounces[0].source == "smtp"

    second = next_issue(weekly)
    start_sending(second)
    readers = db.session.scalars(
        sa.select(Subscriber.email)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.issue_id == second.id)
        .order_by(Subscriber.email)
    ).all()
    assert readers == [f"reader{i}@example.org" for i in range(1, 5)]


BLOCKED = (
    "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
    "<https://www.spamhaus.org/query/ip/192.0.2.1>"
)


@pytest.mark.slow
def test_the_issue_report_and_the_subscriber_page_show_bounces(
    app, weekly, inbox, bounce_server, editor_client, api_headers
):
    app.config["SENDER_REFUSALS_PAUSE"] = 1  # the issue is sent: nothing left to pause
    server = bounce_server()
    issue = send_one_batch(weekly, 3)
    for message, status, said in zip(
        inbox.messages, ("5.1.1", "4.2.2", "5.7.1"), ("", "", BLOCKED), strict=True
    ):
        deliver(server, dsn(message.recipients[0], status, said=said), to=message.sender)
    page = editor_client.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert "1 hard · 1 soft · 0 complaints · 1 refused" in page
    assert "blocked: 1 · delayed: 1 · user unknown: 1" in page
    assert "5.1.1" in page and "4.2.2" in page
    refused_by = page.split('id="refused-by"')[1].split("</table>")[0]
    assert '<td dir="auto">example.org</td><td>1</td>' in refused_by
    # The server's words, escaped.
    assert "&lt;https://www.spamhaus.org/query/ip/192.0.2.1&gt;" in refused_by
    assert "<https://" not in page
    person = stored_subscriber(inbox.messages[0].recipients[0])
    page = editor_client.get(f"/admin/subscribers/{person.id}").get_data(as_text=True)
    assert "550 5.1.1 mailbox trouble" in page and "#1" in page
    assert "user unknown" in page
    assert "Mail this address again" in page
    body = editor_client.get(f"/api/v1/issues/{issue.id}", headers=api_headers).get_json()
    assert body["bounces"] == {
        "hard": 1,
        "soft": 1,
        "sender": 1,
        "complaint": 0,
        "by_reason": {"blocked": 1, "delayed": 1, "user_unknown": 1},
    }
    assert body["status"] == "sent" and body["pause_reason"] is None
    exported = editor_client.get(f"/admin/subscribers/{person.id}/export.json").get_json()
    assert [(b["kind"], b["reason"]) for b in exported["bounces"]] == [("hard", "user_unknown")]


def test_soft_bounces_add_up_decay_and_count_once_per_message(app, weekly, inbox, bounce_server):
    app.config["BOUNCE_THRESHOLD"] = 3
    server = bounce_server()
    send_one_batch(weekly, 1)
    message = inbox.messages[0]
    for _ in range(3):  # delay warnings: recorded once, and they add nothing
        deliver(server, dsn(message.recipients[0], "4.2.2"), to=message.sender)
    person = stored_subscriber(message.recipients[0])
    assert person.status == "active" and person.bounce_score == 0
    assert db.session.scalars(sa.select(Bounce.reason)).all() == ["delayed"]
    for _ in range(2):  # then the server gives up: one soft bounce, however often it says so
        expired = dsn(message.recipients[0], "4.4.7", action="failed")
        deliver(server, expired, to=message.sender)
    person = stored_subscriber(message.recipients[0])
    assert person.status == "active" and person.bounce_score == pytest.approx(1.0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 2

    start = datetime(2026, 1, 1, tzinfo=UTC)
    person.bounce_score, person.bounce_score_at = 0.0, None
    assert not add_soft_bounce(person, start)
    assert not add_soft_bounce(person, start + timedelta(days=30))  # half-life: 0.5 + 1
    assert person.bounce_score == pytest.approx(1.5)
    # The same day counts once: three posts bounced by a mailbox full that day are one day.
    assert not add_soft_bounce(person, start + timedelta(days=30, hours=5))
    assert person.bounce_score == pytest.approx(1.5)
    assert not add_soft_bounce(person, start + timedelta(days=31))  # 1.47 + 1
    assert add_soft_bounce(person, start + timedelta(days=32))  # 2.41 + 1: past the threshold


@pytest.mark.slow
def test_soft_bounces_past_the_threshold_stop_mail(app, weekly, inbox, bounce_server):
    app.config["BOUNCE_THRESHOLD"] = 1.5
    server = bounce_server()
    add_subscribers(weekly, 1)
    for round_ in range(2):
        inbox.clear()
        issue = draft(weekly) if round_ == 0 else next_issue(weekly)
        start_sending(issue)
        loop.send_batch(issue.id)
        message = inbox.messages[0]
        full = FULL.format(message.recipients[0])
        deliver(server, dsn(message.recipients[0], "5.2.2", said=full), to=message.sender)
        person = stored_subscriber("reader0@example.org")
        person.bounce_score_at -= timedelta(days=7)  # the next issue is next week's
        db.session.commit()
    assert person.status == "bounced" and person.bounce_score >= 1.5
    assert suppression.reason(person.email) == "bounced"


def next_issue(mailing_list):
    """Another issue of the same posts (draft() adds the post, which exists by now)."""
    return compose_issue(mailing_list, SINCE, UNTIL)


@pytest.mark.slow
def test_a_complaint_unsubscribes_everywhere_and_suppresses(
    app, weekly, make_list, inbox, bounce_server, client
):
    other = make_list(slug="daily", name="Daily")
    server = bounce_server()
    send_one_batch(weekly, 2)
    person = stored_subscriber("reader0@example.org")
    service.subscribe(other, person.email, preconfirmed=True)
    message = inbox.to(person.email)[0]
    # Through the feedback loop's own address, without VERP: the quoted Message-ID names it.
    deliver(server, complaint("", headers_of(message.data)), to=f"fbl@{BOUNCE_DOMAIN}")

    person = stored_subscriber("reader0@example.org")
    assert person.status == "complained"
    assert {s.status for s in person.subscriptions} == {"unsubscribed"}
    assert {s.unsubscribe_reason for s in person.subscriptions} == {"complaint"}
    assert suppression.reason(person.email) == "complained"
    assert stored_subscriber("reader1@example.org").status == "active"
    bounce = db.session.scalar(sa.select(Bounce))
    assert bounce.kind == "complaint" and bounce.delivery.subscriber_id == person.id
    inbox.clear()
    # The form answers as for anyone, and sends nothing.
    answer = submit(client, person.email, slug="daily")
    assert answer.status_code == 200 and "check your inbox" in answer.text.lower()
    assert inbox.messages == []


@pytest.mark.slow
def test_a_redacted_complaint_finds_the_reader_by_its_original_mail_from(
    app, weekly, inbox, bounce_server
):
    """Validity's loops (Rackspace, Cox, EarthLink, Fastmail...) hash the reader's address and
    send "REDACTED" for the message, to the loop's own address: only the report's
    Original-Mail-From, our return path, still names the reader."""
    server = bounce_server()
    send_one_batch(weekly, 2)
    person = stored_subscriber("reader0@example.org")
    [message] = inbox.to(person.email)
    hashed = "9e107d9d372bb6826bd81d3542a419d6@example.org"
    report = complaint(hashed, b"REDACTED", mail_from=message.sender)
    deliver(server, report, to=f"fbl@{BOUNCE_DOMAIN}")
    assert stored_subscriber(person.email).status == "complained"
    assert stored_subscriber("reader1@example.org").status == "active"


def test_a_reader_cannot_complain_in_a_neighbours_name_by_their_message_id(
    app, weekly, inbox, bounce_server
):
    """Every reader sees their own copy's Message-ID; the one before it and the one after
    differ in the delivery's number and in a MAC no reader can make."""
    server = bounce_server()
    send_one_batch(weekly, 3)
    own = inbox.to("reader1@example.org")[0]
    number = int(re.search(rb"(?m)^Message-ID: <(\d+)\.", own.data).group(1))
    quoted = re.sub(rb"(?m)^To: .*$", b"To: redacted@example.org", headers_of(own.data))
    for neighbour in (number - 1, number + 1):
        forged = re.sub(rb"(?m)^(Message-ID: <)\d+", rb"\g<1>%d" % neighbour, quoted)
        deliver(server, complaint("", forged), to=f"fbl@{BOUNCE_DOMAIN}")
    assert {stored_subscriber(f"reader{n}@example.org").status for n in range(3)} == {"active"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0
    # Their own, unchanged, is theirs.
    deliver(server, complaint("", quoted), to=f"fbl@{BOUNCE_DOMAIN}")
    assert stored_subscriber("reader1@example.org").status == "complained"
    assert stored_subscriber("reader0@example.org").status == "active"


def test_a_report_that_only_names_a_reader_is_not_taken_at_its_word(
    app, weekly, inbox, bounce_server, caplog
):
    """Anyone can write to the bounce domain, and every bounce of our mail comes back to its
    copy's return path: a report naming a reader without it, or our Message-ID, would let
    anyone who knows an address stop mail to it and suppress it."""
    server = bounce_server()
    send_one_batch(weekly, 2)
    with caplog.at_level("WARNING", logger="newsletter.bounces.intake"):
        deliver(server, dsn("reader0@example.org", "5.1.1"))
        deliver(server, complaint("reader1@example.org"))
    assert {stored_subscriber(f"reader{n}@example.org").status for n in (0, 1)} == {"active"}
    assert suppression.reason("reader0@example.org") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0
    warned = [r.getMessage() for r in caplog.records if "not acted on" in r.getMessage()]
    assert len(warned) == 2 and not any("reader" in line for line in warned)
    # The same report to the copy's return path is believed.
    copy = inbox.to("reader0@example.org")[0]
    deliver(server, dsn("reader0@example.org", "5.1.1"), to=copy.sender)
    assert stored_subscriber("reader0@example.org").status == "bounced"


def test_whether_reports_are_taken_at_their_word_is_yes_or_no(monkeypatch, tmp_path):
    from newsletter import config

    monkeypatch.delenv("NEWSLETTER_BOUNCES_BY_ADDRESS", raising=False)
    assert config.load(tmp_path)["BOUNCES_BY_ADDRESS"] is False
    for value, meant in (("yes", True), (" On ", True), ("0", False), ("no", False)):
        monkeypatch.setenv("NEWSLETTER_BOUNCES_BY_ADDRESS", value)
        assert config.load(tmp_path)["BOUNCES_BY_ADDRESS"] is meant
    monkeypatch.setenv("NEWSLETTER_BOUNCES_BY_ADDRESS", "perhaps")
    with pytest.raises(ValueError, match="NEWSLETTER_BOUNCES_BY_ADDRESS must be yes or no"):
        config.load(tmp_path)


def test_a_bounce_in_words_no_database_keeps_is_recorded(app, weekly, inbox, bounce_server):
    """A NUL in a server's words failed the report's write, so the bounce server answered
    451 to it, and the mail server that sent it tried again for days."""
    server = bounce_server()
    send_one_batch(weekly, 1)
    copy = inbox.messages[0]
    deliver(
        server,
        dsn("reader0@example.org", "5.2.2", said="552 5.2.2 Mailbox\x00 full"),
        to=copy.sender,
    )
    bounce = db.session.scalar(sa.select(Bounce))
    assert (bounce.kind, bounce.reason, bounce.detail) == (
        "soft",
        "mailbox_full",
        "552 5.2.2 Mailbox full",
    )


def test_a_copys_bounce_judges_its_own_reader_not_another_address_it_names(
    app, weekly, inbox, bounce_server
):
    """A report to a copy's return path that also names someone else (a server's words
    naming an address to write to, a relay listing two) judges the copy's reader by their own
    failure, not by the worst one of the report."""
    from bounce_samples import postfix_many

    server = bounce_server()
    send_one_batch(weekly, 1)
    copy = inbox.messages[0]
    report = postfix_many(
        [
            ("reader0@example.org", "5.7.1", "554 5.7.1 Message rejected as spam"),
            ("postmaster@example.org", "5.1.1", "550 5.1.1 <postmaster@example.org>: unknown"),
        ]
    )
    deliver(server, report, to=copy.sender)
    bounce = db.session.scalar(sa.select(Bounce))
    assert (bounce.kind, bounce.reason) == ("sender", "spam")
    assert stored_subscriber("reader0@example.org").status == "active"


def test_an_ses_notification_by_sns_email_finds_its_copy_by_our_message_id(
    app, weekly, inbox, bounce_server
):
    """SES reports a bounce in JSON (SNS by e-mail to an address at the bounce domain), no
    return path of ours on it: the copy is named by our Message-ID in its "mail" object."""
    import email

    from bounce_samples import ses_bounce, sns_email

    server = bounce_server()
    send_one_batch(weekly, 1)
    ours = email.message_from_bytes(inbox.messages[0].data)["Message-ID"]
    notification = ses_bounce([("reader0@example.org", "5.1.1", "smtp; 550 5.1.1 user unknown")])
    notification["mail"]["commonHeaders"]["messageId"] = ours
    notification["mail"]["headers"] = [{"name": "Message-ID", "value": ours}]
    deliver(server, sns_email(notification, wrapped=True), to=f"ses-events@{BOUNCE_DOMAIN}")
    bounce = db.session.scalar(sa.select(Bounce))
    assert (bounce.kind, bounce.reason) == ("hard", "user_unknown")
    assert stored_subscriber("reader0@example.org").status == "bounced"


def test_a_complaint_names_its_subscriber_by_original_recipient(app, weekly, bounce_server):
    app.config["BOUNCES_BY_ADDRESS"] = True
    server = bounce_server()
    add_subscribers(weekly, 2)
    deliver(server, complaint("Reader1@Example.org"))
    assert stored_subscriber("reader1@example.org").status == "complained"
    assert stored_subscriber("reader0@example.org").status == "active"


def test_a_complaint_with_the_reader_blanked_out_names_them_by_the_quoted_return_path(
    app, weekly, inbox, bounce_server
):
    server = bounce_server()
    send_one_batch(weekly, 2)
    message = inbox.to("reader1@example.org")[0]
    # As AOL's loop reported: the reader's address blanked, sent to a fixed address; here
    # even the Message-ID is not ours. The original's Return-Path is our VERP.
    quoted = headers_of(message.data)
    quoted = re.sub(rb"(?m)^To: .*$", b"To: redacted@example.org", quoted)
    quoted = re.sub(rb"(?m)^Message-ID: .*$", b"Message-ID: <x@fbl.example.net>", quoted)
    quoted = b"Return-Path: <" + message.sender.encode() + b">\r\n" + quoted
    deliver(server, complaint("", quoted), to=f"fbl@{BOUNCE_DOMAIN}")
    assert stored_subscriber("reader1@example.org").status == "complained"
    assert stored_subscriber("reader0@example.org").status == "active"
    # A forged return path in the quote blames nobody.
    forged = quoted.replace(b"bounces+", b"bounces+9").replace(b"reader1", b"reader0")
    deliver(server, complaint("", forged), to=f"fbl@{BOUNCE_DOMAIN}")
    assert stored_subscriber("reader0@example.org").status == "active"


def test_a_not_spam_report_leaves_the_reader_subscribed(app, weekly, bounce_server):
    app.config["BOUNCES_BY_ADDRESS"] = True
    server = bounce_server()
    add_subscribers(weekly, 1)
    report = complaint("reader0@example.org").replace(
        b"Feedback-Type: abuse", b"Feedback-Type: not-spam"
    )
    deliver(server, report)
    assert stored_subscriber("reader0@example.org").status == "active"
    deliver(server, complaint("reader0@example.org"))
    assert stored_subscriber("reader0@example.org").status == "complained"


def test_a_report_naming_an_internationalised_domain_in_ascii_finds_its_subscriber(
    app, weekly, bounce_server
):
    """We keep the domain in Unicode; mail goes out, and comes back, with its ASCII form."""
    app.config["BOUNCES_BY_ADDRESS"] = True
    server = bounce_server()
    confirmed_subscriber(weekly, "reader@مثال.example")
    confirmed_subscriber(weekly, "someone@example.org")
    deliver(server, dsn("reader@XN--MGBH0FB.example", "5.1.1"))
    assert stored_subscriber("reader@مثال.example").status == "bounced"
    deliver(server, complaint("someone@EXAMPLE.org"))
    assert stored_subscriber("someone@example.org").status == "complained"


def test_leaving_by_email_through_list_unsubscribes_mailto(
    app, weekly, make_list, inbox, bounce_server
):
    """RFC 2369's mailto: for mail programs that write rather than click (Apple Mail's
    button): to unsubscribe+<token>@ the bounce domain, the signed token in the subject."""
    other = make_list(slug="daily", name="Daily")
    server = bounce_server()
    send_one_batch(weekly, 2)
    service.subscribe(other, "reader0@example.org", preconfirmed=True)
    message = inbox.to("reader0@example.org")[0]
    header = " ".join(message.message["List-Unsubscribe"].split())
    mailto = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", header)
    subject = urllib.parse.unquote(mailto.group(2))
    token = subject.split()[1]
    assert mailto and mailto.group(1) == f"unsubscribe+{token}@{BOUNCE_DOMAIN}", header
    inbox.clear()

    def write(subject: str, sender: str = "reader0@example.org", to: str = "") -> None:
        letter = EmailMessage()
        letter["From"], letter["To"], letter["Subject"] = sender, to or mailto.group(1), subject
        letter["X-Apple-Unsubscribe"] = "true"
        letter.set_content("This message was automatically generated by Mail.")
        deliver(server, letter.as_bytes(), to=to or mailto.group(1))

    # A token that is not ours, or none, to the address without one: nothing happens, even
    # from the reader's address.
    bare = f"unsubscribe@{BOUNCE_DOMAIN}"
    write("unsubscribe " + token[:-3] + "abc", to=bare)
    write("please unsubscribe me", to=bare)
    write("unsubscribe", to=f"unsubscribe+{token[:-3]}abc@{BOUNCE_DOMAIN}")
    assert {s.status for s in stored_subscriber("reader0@example.org").subscriptions} == {
        "confirmed"
    }
    # The subject the header gave, from any address: that list alone is left, with a goodbye.
    write(subject, sender="someone.else@example.net")
    person = stored_subscriber("reader0@example.org")
    by_list = {s.list_id: s for s in person.subscriptions}
    assert by_list[weekly.id].status == "unsubscribed"
    assert by_list[weekly.id].unsubscribe_reason == "email"
    assert by_list[other.id].status == "confirmed"
    assert person.status == "active" and suppression.reason(person.email) is None
    assert stored_subscriber("reader1@example.org").subscriptions[0].status == "confirmed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0


def test_without_a_bounce_domain_the_mailto_goes_to_the_lists_address(app, weekly, inbox):
    app.config["BOUNCE_DOMAIN"] = ""
    send_one_batch(weekly, 1)
    header = " ".join(inbox.messages[0].message["List-Unsubscribe"].split())
    assert f"<mailto:{weekly.from_email}?subject=unsubscribe%20" in header


def test_a_forged_or_foreign_return_path_blames_nobody(app, weekly, inbox, bounce_server):
    server = bounce_server()
    send_one_batch(weekly, 2)
    genuine = inbox.messages[0].sender
    number = genuine.split("+")[1].split("-")[0]
    other = db.session.scalar(sa.select(Delivery.id).where(Delivery.id != int(number)))
    forged = genuine.replace(f"+{number}-", f"+{other}-")
    assert verp.delivery_id(forged) is None
    # The DSN names no known address either: nobody is touched.
    deliver(server, dsn("stranger@example.net", "5.1.1"), to=forged)
    assert {stored_subscriber(f"reader{i}@example.org").status for i in range(2)} == {"active"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0


def test_a_report_naming_strangers_blames_nobody(app, weekly, inbox, bounce_server):
    app.config["BOUNCES_BY_ADDRESS"] = True
    server = bounce_server()
    send_one_batch(weekly, 1)
    # Neither our return path nor our Message-ID: only the addresses it names.
    deliver(server, dsn("stranger@example.net", "5.1.1"))
    deliver(server, complaint("someone@example.net"))
    assert stored_subscriber("reader0@example.org").status == "active"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0
    deliver(server, dsn("reader0@example.org", "5.1.1"))
    assert stored_subscriber("reader0@example.org").status == "bounced"


def test_a_report_naming_a_crowd_stops_mail_to_none_of_them(app, weekly, inbox, bounce_server):
    """Anyone can write to the bounce domain: a report without our return path or Message-ID
    that names more addresses than a bounce of one of our messages would touches nobody."""
    from bounce_samples import postfix_many

    from newsletter.bounces.scan import MOST_NAMED

    app.config["BOUNCES_BY_ADDRESS"] = True
    server = bounce_server()
    send_one_batch(weekly, 2)
    named = ["reader0@example.org", "reader1@example.org"]
    named += [f"stranger{n}@example.net" for n in range(MOST_NAMED)]
    deliver(server, postfix_many([(a, "5.1.1", "550 5.1.1 unknown") for a in named]))
    assert {stored_subscriber(a).status for a in named[:2]} == {"active"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0


def add_subscribers_at(mailing_list, domain: str, count: int) -> list[str]:
    emails = [f"reader{i}@{domain}" for i in range(count)]
    for email in emails:
        service.subscribe(mailing_list, email, preconfirmed=True)
    return emails


@pytest.mark.slow
def test_refusals_of_our_mail_pile_up_and_pause_the_issue_once(
    app, weekly, inbox, bounce_server, worker, monkeypatch
):
    app.config.update(SENDER_REFUSALS_PAUSE=3, SENDER_REFUSALS_DOMAINS=1, BATCH_SIZE=6)
    user("editor@example.org")
    queued = []

    class Watched:
        def __init__(self, job):
            self.job = job

        def delay(self, *args, **options):
            queued.append(self.job.name)
            return self.job.delay(*args, **options)

    every = {name: Watched(job) for name, job in vars(jobs).items() if isinstance(job, jobs.Job)}
    monkeypatch.setattr(loop, "jobs", SimpleNamespace(**every))
    server = bounce_server()
    elsewhere = add_subscribers_at(weekly, "example.net", 1)
    refusing = add_subscribers_at(weekly, "outlook.example", 7)
    issue = draft(weekly)
    start_sending(issue)
    loop.send_batch(issue.id)  # six of eight: the issue is still sending
    sent = {m.recipients[0]: m for m in inbox.messages}
    assert len(sent) == 6 and db.session.get(Issue, issue.id).status == "sending"

    def refuse(email: str) -> None:
        deliver(server, dsn(email, "5.7.515", said=REFUSED), to=sent[email].sender)

    refuse(elsewhere[0])  # another domain: counted apart
    refuse(refusing[0])
    refuse(refusing[0])  # the same message again counts once
    refuse(refusing[1])
    assert db.session.get(Issue, issue.id).status == "sending"
    # The rest at once, over several connections, as a busy provider sends them.
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(refuse, refusing[2:5]))

    paused = db.session.get(Issue, issue.id)
    db.session.refresh(paused)
    assert paused.status == "paused"
    assert paused.pause_reason == f"outlook.example refuses our mail: {REFUSED}"
    [alert] = inbox.wait_for(1, recipient="editor@example.org")
    assert "outlook.example refuses our mail" in alert.part("plain")
    assert "does not meet the required authentication level" in alert.part("plain")
    assert queued == ["newsletter.tell_editors"]
    # No reader is blamed for it.
    for email in elsewhere + refusing:
        person = stored_subscriber(email)
        assert (person.status, person.bounce_score) == ("active", 0), email
        assert suppression.reason(email) is None
    kinds = db.session.execute(
        sa.select(Bounce.kind, Bounce.domain, sa.func.count()).group_by(Bounce.kind, Bounce.domain)
    ).all()
    assert sorted(kinds) == [("sender", "example.net", 1), ("sender", "outlook.example", 5)]
    assert inbox.to("editor@example.org") == [alert]


@pytest.mark.slow
def test_after_a_resume_only_refusals_of_mail_sent_since_count(
    app, weekly, inbox, bounce_server, worker
):
    """Refusals of copies sent before a pause come in late: they are what paused the issue,
    and must not pause it again the moment an editor has fixed the cause and resumed."""
    app.config.update(SENDER_REFUSALS_PAUSE=2, SENDER_REFUSALS_DOMAINS=1, BATCH_SIZE=4)
    server = bounce_server()
    refusing = add_subscribers_at(weekly, "outlook.example", 12)
    issue = draft(weekly)
    start_sending(issue)
    rows = db.session.scalars(
        sa.select(Delivery.id).where(Delivery.issue_id == issue.id).order_by(Delivery.id)
    ).all()

    def due_now(ids: list[int], now: bool) -> None:
        later = None if now else datetime.now(UTC) + timedelta(days=1)
        db.session.execute(sa.update(Delivery).where(Delivery.id.in_(ids)).values(retry_at=later))
        db.session.commit()

    def refuse(email: str) -> None:
        [copy] = inbox.to(email)
        deliver(server, dsn(email, "5.7.515", said=REFUSED), to=copy.sender)

    def status() -> str:
        return db.session.scalar(sa.select(Issue.status).where(Issue.id == issue.id))

    def sent() -> list[str]:
        return [email for email in refusing if inbox.to(email)]

    due_now(rows[4:], now=False)  # four at a time, the rest held back
    loop.send_batch(issue.id)
    first = sent()
    assert len(first) == 4
    refuse(first[0])
    refuse(first[1])
    assert status() == "paused"

    due_now(rows[4:8], now=True)
    lifecycle.resume_issue(db.session.get(Issue, issue.id))
    refuse(first[2])  # sent before the pause, refused only now: old news
    refuse(first[3])
    assert status() == "sending"
    wait_until(lambda: len(sent()) == 8, message="the four due after the resume")
    since = [email for email in sent() if email not in first]
    refuse(since[0])
    assert status() == "sending"
    refuse(since[1])  # the cause is still there: paused again, with the reason
    assert status() == "paused"
    paused = db.session.get(Issue, issue.id)
    db.session.refresh(paused)
    assert paused.pause_reason == f"outlook.example refuses our mail: {REFUSED}"
    # Every refusal is kept for the report, and none counted against a reader.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 6
    assert {stored_subscriber(email).bounce_score for email in refusing} == {0}


@pytest.mark.slow
def test_a_refusing_domain_is_held_back_and_the_rest_goes_on(
    app, weekly, inbox, bounce_server, worker, api, editor_client
):
    """One provider blocking us holds back only its own copies, for a while; the editors
    are told; late reports about copies sent before do not hold it again; when the hold
    ends its copies are tried again."""
    app.config.update(SENDER_REFUSALS_PAUSE=2, BATCH_SIZE=4, SENDER_REFUSALS_HOLD=3 * 86400)
    server = bounce_server()  # the editors: the API's token's and the admin's
    refusing = add_subscribers_at(weekly, "outlook.example", 6)
    elsewhere = add_subscribers_at(weekly, "example.net", 4)
    issue = draft(weekly)
    start_sending(issue)
    rows = dict(
        db.session.execute(sa.select(Subscriber.email, Delivery.id).join(Delivery.subscriber)).all()
    )

    def due(emails: list[str], after: timedelta | None) -> None:
        later = after and datetime.now(UTC) + after
        ids = [rows[email] for email in emails]
        db.session.execute(sa.update(Delivery).where(Delivery.id.in_(ids)).values(retry_at=later))
        db.session.commit()

    def refuse(email: str) -> None:
        [copy] = inbox.to(email)
        deliver(server, dsn(email, "5.7.1", said=REFUSED), to=copy.sender)

    def retry_at(email: str) -> datetime | None:
        return db.session.get(Delivery, rows[email]).retry_at

    due(refusing[4:] + elsewhere, timedelta(days=2))  # the first four outlook copies only
    loop.send_batch(issue.id)
    refuse(refusing[0])
    refuse(refusing[1])
    [told] = inbox.wait_for(1, recipient="editor@example.org")
    assert (
        told.message["Subject"]
        == f"Issue {issue.number} of Weekly Digest: outlook.example refuses our mail"
    )
    assert "Its 2 waiting copies are held back until" in told.part("plain")
    db.session.expire_all()
    issue = db.session.get(Issue, issue.id)
    assert issue.status == "sending"
    hold = issue.held_domains["outlook.example"]
    assert (hold["copies"], hold["said"]) == (2, REFUSED)
    until = datetime.fromisoformat(hold["until"])
    assert [retry_at(email) for email in refusing[4:]] == [until, until]

    refuse(refusing[2])  # sent before the hold, refused only now: counted already
    refuse(refusing[3])
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).held_domains["outlook.example"] == hold
    # The rest goes on.
    due(elsewhere, None)
    loop.send_batch(issue.id)
    wait_until(lambda: all(inbox.to(email) for email in elsewhere), message="the rest")
    assert not any(inbox.to(email) for email in refusing[4:])
    answer = api.get(f"/issues/{issue.id}").json
    assert answer["status"] == "sending"
    assert answer["held"] == [{"domain": "outlook.example", **hold}]
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert 'id="held"' in page and "outlook.example" in page and "Send them now" in page

    # Its block lifted sooner: an editor sends them now.
    form = {"csrf_token": editor_client.token, "domain": "outlook.example"}
    assert editor_client.post(f"/admin/issues/{issue.id}/release", data=form).status_code == 302
    wait_until(lambda: all(inbox.to(email) for email in refusing[4:]), message="held copies")
    assert "Send them now" not in editor_client.get(f"/admin/issues/{issue.id}").text
    assert {stored_subscriber(email).bounce_score for email in refusing} == {0}


def test_an_internationalised_domain_refusing_us_is_held_in_the_form_we_keep(
    app, weekly, inbox, bounce_server
):
    """Servers write the domain in its ASCII form (xn--), and the copies went out so; we keep
    the subscribers' domain in Unicode. The refusals are counted for that domain, and its
    waiting copies are the ones held back (recorded as written, they held nothing)."""
    app.config.update(SENDER_REFUSALS_PAUSE=2, BATCH_SIZE=2, SENDER_REFUSALS_HOLD=3 * 86400)
    server = bounce_server()
    refusing = add_subscribers_at(weekly, "مثال.example", 4)
    issue = draft(weekly)
    start_sending(issue)
    later = datetime.now(UTC) + timedelta(days=1)
    waiting = db.session.scalars(
        sa.select(Delivery.id).join(Delivery.subscriber).where(Subscriber.email.in_(refusing[2:]))
    ).all()
    db.session.execute(sa.update(Delivery).where(Delivery.id.in_(waiting)).values(retry_at=later))
    db.session.commit()
    loop.send_batch(issue.id)
    for email in refusing[:2]:
        ascii_form = email.replace("مثال", "xn--mgbh0fb")
        [copy] = inbox.to(ascii_form)
        deliver(server, dsn(ascii_form, "5.7.1", said=REFUSED), to=copy.sender)
    db.session.expire_all()
    assert {b.domain for b in db.session.scalars(sa.select(Bounce))} == {"مثال.example"}
    hold = db.session.get(Issue, issue.id).held_domains["مثال.example"]
    assert hold["copies"] == 2
    until = datetime.fromisoformat(hold["until"])
    assert {db.session.get(Delivery, id).retry_at for id in waiting} == {until}


def test_a_held_domain_s_copies_go_when_the_hold_ends(app, weekly, inbox):
    held = add_subscribers_at(weekly, "outlook.example", 2)
    issue = draft(weekly)
    start_sending(issue)
    holds.hold(issue, "outlook.example", "550 5.7.1 blocked", 3600)
    assert loop.send_batch(issue.id).sent == 0 and inbox.messages == []
    # The hour over, as the clock would have it.
    db.session.execute(
        sa.update(Delivery).values(retry_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    assert loop.send_batch(issue.id).sent == 2
    assert all(inbox.to(email) for email in held)


@pytest.mark.slow
def test_the_api_releases_a_held_domain_and_says_which_is_not(app, weekly, api, inbox, worker):
    app.config["SENDER_REFUSALS_HOLD"] = 86400
    held = add_subscribers_at(weekly, "outlook.example", 2)
    issue = draft(weekly)
    start_sending(issue)
    holds.hold(issue, "outlook.example", "550 5.7.1 blocked", 86400)
    assert {d.retry_at is not None for d in Delivery.query} == {True}
    answer = api.post(f"/issues/{issue.id}/release", json={"domain": "Outlook.example"})
    assert answer.status_code == 200, answer.json
    [entry] = answer.json["held"]
    assert entry["domain"] == "outlook.example" and entry["copies"] == 2
    assert {d.retry_at for d in Delivery.query} == {None}
    wait_until(lambda: all(inbox.to(email) for email in held), message="released copies")
    again = api.post(f"/issues/{issue.id}/release", json={"domain": "outlook.example"})
    assert again.status_code == 422 and "domain" in error_of(again)["fields"]
    assert api.post(f"/issues/{issue.id}/release", json={}).status_code == 422


@pytest.mark.slow
def test_several_domains_held_at_once_pause_the_issue_and_resuming_ends_the_holds(
    app, weekly, inbox, bounce_server
):
    """When domain after domain refuses us, the cause is most likely ours: all stops. Once
    it is fixed and the issue resumed, the held copies go too."""
    app.config.update(
        SENDER_REFUSALS_PAUSE=1, SENDER_REFUSALS_DOMAINS=2, SENDER_REFUSALS_HOLD=3 * 86400
    )
    server = bounce_server()
    first = add_subscribers_at(weekly, "outlook.example", 2)
    second = add_subscribers_at(weekly, "yahoo.example", 2)
    issue = draft(weekly)
    start_sending(issue)
    later = sa.select(Subscriber.id).where(Subscriber.email.in_([first[1], second[1]]))
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.subscriber_id.in_(later))
        .values(retry_at=datetime.now(UTC) + timedelta(days=1))
    )
    db.session.commit()
    loop.send_batch(issue.id)  # the first of each domain
    for email in (first[0], second[0]):
        [copy] = inbox.to(email)
        deliver(server, dsn(email, "5.7.1", said=REFUSED), to=copy.sender)
    paused = db.session.get(Issue, issue.id)
    db.session.refresh(paused)
    assert paused.status == "paused"
    assert paused.pause_reason == (
        f"yahoo.example refuses our mail: {REFUSED}; outlook.example: {REFUSED}"
    )
    assert paused.held_domains["outlook.example"]["copies"] == 1

    lifecycle.resume_issue(paused)
    loop.send_batch(issue.id)
    wait_until(lambda: inbox.to(first[1]), message="the held copy, once resumed")
    assert not inbox.to(second[1])  # due tomorrow as it was: never held
    db.session.refresh(paused)
    assert paused.held_domains["outlook.example"]["until"] <= datetime.now(UTC).isoformat()


def test_the_server_is_no_relay(app, bounce_server):
    server = bounce_server()
    with smtplib.SMTP(server.hostname, server.port) as client:
        client.ehlo()
        client.mail("")
        code, reply = client.rcpt("someone@elsewhere.example")
    assert code == 550 and BOUNCE_DOMAIN.encode() in reply


def test_the_bounce_server_needs_its_domain(app, runner):
    app.config["BOUNCE_DOMAIN"] = None
    answer = runner.invoke(args=["bounces", "serve", "--port", "0"])
    assert answer.exit_code != 0 and "NEWSLETTER_BOUNCE_DOMAIN" in answer.output


def test_what_is_not_a_bounce_is_taken_and_dropped(app, weekly, inbox, bounce_server):
    server = bounce_server()
    send_one_batch(weekly, 1)
    reply = EmailMessage()
    reply["From"] = "reader0@example.org"
    reply["Subject"] = "Out of office"
    reply.set_content("I am away until Monday.")
    deliver(server, reply.as_bytes(), to=inbox.messages[0].sender)
    deliver(server, b"\x00\xff not a message at all \r\n\r\n\x80", to=inbox.messages[0].sender)
    assert stored_subscriber("reader0@example.org").status == "active"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0


def test_lmtp_takes_bounces_too(app, weekly, inbox, bounce_server):
    server = bounce_server(lmtp=True)
    send_one_batch(weekly, 1)
    message = inbox.messages[0]
    deliver(server, dsn(message.recipients[0], "5.1.1"), to=message.sender)
    assert stored_subscriber("reader0@example.org").status == "bounced"
    assert db.session.scalar(sa.select(Bounce.source)) == "lmtp"


def _send_raw(server, content: bytes, to: str) -> tuple[int, bytes]:
    """One transaction whose DATA goes on the wire byte for byte (smtplib would fix its line
    ends): the server's answer to the end of the data."""
    kind = smtplib.LMTP if server.lmtp else smtplib.SMTP
    with kind(server.hostname, server.port) as client:
        client.ehlo()  # LHLO for LMTP
        client.mail("")
        client.rcpt(to)
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(content + b"\r\n.\r\n")
        return client.getreply()


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
@pytest.mark.parametrize("length", [1_001, 5_000, 200_000])
def test_a_report_with_lines_past_1000_octets_is_taken(
    app, weekly, inbox, bounce_server, lmtp, length
):
    """Bounces quote what they were sent, and servers that do not fold long lines (Exim)
    pass them on: aiosmtpd answered a line over 1,001 octets with a permanent 500, so the
    report was lost and the dead address kept."""
    server = bounce_server(lmtp=lmtp)
    send_one_batch(weekly, 1)
    message = inbox.messages[0]
    quoted = b"Subject: " + "هفته ".encode() * (length // 9) + b"\r\n"
    report = dsn(message.recipients[0], "5.1.1", original=quoted)
    assert max(len(line) for line in report.split(b"\r\n")) >= length - 9
    code, _ = _send_raw(server, report, message.sender)
    assert code == 250
    assert stored_subscriber("reader0@example.org").status == "bounced"


def test_a_report_with_bare_line_feeds_is_read_as_any_other(app, weekly, inbox, bounce_server):
    """A sender writing LF alone between lines (RFC 5321 forbids it, some software does it):
    the lines ran together past aiosmtpd's cap and the report got a 500."""
    server = bounce_server()
    send_one_batch(weekly, 1)
    message = inbox.messages[0]
    quoted = b"".join(b"X-Line-%d: " % n + b"y" * 60 + b"\r\n" for n in range(40))
    report = dsn(message.recipients[0], "5.1.1", original=quoted)  # 3 kB, as a real one
    code, _ = _send_raw(server, report.replace(b"\r\n", b"\n"), message.sender)
    assert code == 250
    assert stored_subscriber("reader0@example.org").status == "bounced"


def test_a_command_past_its_limit_is_still_refused(app, bounce_server):
    """Only the data's lines are let long: a command keeps RFC 5321's cap."""
    server = bounce_server()
    with smtplib.SMTP(server.hostname, server.port) as client:
        client.ehlo()
        code, said = client.docmd("MAIL", "FROM:<" + "a" * 2_000 + "@example.org>")
    assert code == 500 and b"too long" in said


@pytest.mark.slow
def test_a_line_feed_and_dot_does_not_end_the_data(app, bounce_server):
    """SMTP smuggling: LF.CRLF inside the data is data, not its end, so commands hidden
    after it are never run (the longer lines let in must not change that): the server
    answers the transaction once, and the hidden RCPT's refusal never comes."""
    server = bounce_server()
    hidden = b"\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<x@elsewhere.example>\r\n"
    with socket.create_connection((server.hostname, server.port), timeout=5) as conn:
        wire = conn.makefile("rb")
        wire.readline()
        for command in (
            b"EHLO client.example",
            b"MAIL FROM:<>",
            b"RCPT TO:<b@" + BOUNCE_DOMAIN.encode() + b">",
            b"DATA",
        ):
            conn.sendall(command + b"\r\n")
            while (line := wire.readline())[3:4] == b"-":
                pass
        assert line.startswith(b"354")
        conn.sendall(b"Subject: hello\r\n\r\nbody" + hidden + b"more\r\n.\r\n")
        assert wire.readline().startswith(b"250")
        conn.settimeout(0.5)
        with pytest.raises(TimeoutError):
            wire.readline()


def test_a_dead_database_gets_a_try_later_and_loses_nothing(
    app, weekly, inbox, bounce_server, make_app
):
    send_one_batch(weekly, 1)
    message = inbox.messages[0]
    broken = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://127.0.0.1:1/none",
        BOUNCE_DOMAIN=BOUNCE_DOMAIN,
    )
    down = bounce_server(on_app=broken)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(down, dsn(message.recipients[0], "5.1.1"), to=message.sender)
    assert refused.value.smtp_code == 451
    # The sending server tries again later, when the database is back.
    deliver(bounce_server(), dsn(message.recipients[0], "5.1.1"), to=message.sender)
    assert stored_subscriber("reader0@example.org").status == "bounced"


def test_a_dead_database_at_a_posts_address_is_a_try_later_that_says_nothing_of_it(
    weekly, bounce_server, make_app
):
    """Looking up a list's posts address at RCPT TO with the database down: aiosmtpd's own
    answer was a 500 (the post lost for good) with the error's SQL and host in its lines."""
    broken = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://127.0.0.1:1/none",
        BOUNCE_DOMAIN=BOUNCE_DOMAIN,
    )
    down = bounce_server(on_app=broken)
    with smtplib.SMTP(down.hostname, down.port) as client:
        client.ehlo()
        client.mail("editor@example.org")
        code, said = client.rcpt(f"posts+{weekly.slug}@{BOUNCE_DOMAIN}")
    assert code == 451
    assert b"SQL" not in said and b"127.0.0.1" not in said and b"\n" not in said


def test_a_report_to_several_copies_return_paths_acts_on_each(app, weekly, inbox, bounce_server):
    """One report naming three readers, sent once to their three return paths (one
    transaction, three RCPTs): each copy's reader is judged; only the first was."""
    from bounce_samples import postfix_many

    server = bounce_server()
    send_one_batch(weekly, 3)
    copies = [inbox.to(f"reader{n}@example.org")[0] for n in range(3)]
    report = postfix_many([(c.recipients[0], "5.1.1", "550 5.1.1 User unknown") for c in copies])
    with smtplib.SMTP(server.hostname, server.port) as client:
        client.sendmail("", [c.sender for c in copies], re.sub(rb"\r?\n", b"\r\n", report))
    states = {stored_subscriber(f"reader{n}@example.org").status for n in range(3)}
    assert states == {"bounced"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 3


@pytest.mark.slow
def test_one_report_delivered_on_several_connections_at_once_counts_once(
    app, weekly, inbox, bounce_server
):
    """A sender retrying while our first answer is on its way: the same report on eight
    connections at once was recorded six times (a dead address counted six times over by
    the mass-bounce guard)."""
    server = bounce_server()
    send_one_batch(weekly, 1)
    copy = inbox.messages[0]
    report = dsn(copy.recipients[0], "5.2.2", said="552 5.2.2 Mailbox full")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: deliver(server, report, to=copy.sender), range(8)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 1
    assert stored_subscriber("reader0@example.org").bounce_score == 1


def test_suppressed_addresses_cannot_come_back(app, weekly, client, inbox, api_headers):
    add_subscribers(weekly, 3)
    service.blocklist(stored_subscriber("reader0@example.org"))
    service.erase(stored_subscriber("reader1@example.org"))
    # Erasure keeps only the hash.
    rows = db.session.execute(sa.select(Suppression.email_hash, Suppression.reason)).all()
    assert sorted(reason for _, reason in rows) == ["blocklisted", "erased"]
    assert stored_subscriber("reader1@example.org") is None
    assert all("@" not in digest for digest, _ in rows)

    for email in ("reader0@example.org", "READER1@example.org"):
        assert submit(client, email).status_code == 200
    assert inbox.messages == []
    assert stored_subscriber("reader1@example.org") is None
    answer = client.post(
        "/api/v1/subscribers",
        json={"email": "reader1@example.org", "lists": ["weekly"]},
        headers=api_headers,
    )
    assert (
        answer.status_code == 422 and "suppression" in answer.get_json()["error"]["fields"]["email"]
    )

    service.reactivate(stored_subscriber("reader0@example.org"))
    assert suppression.reason("reader0@example.org") is None
    assert stored_subscriber("reader0@example.org").status == "active"


def test_the_log_says_what_a_bounce_did_without_the_address(
    app, weekly, inbox, bounce_server, caplog
):
    """The server's words name the address: the worker's log printed them for every bounce."""
    server = bounce_server()
    send_one_batch(weekly, 1)
    [copy] = inbox.messages
    report = dsn("reader0@example.org", "5.1.1", said=UNKNOWN.format("reader0@example.org"))
    with caplog.at_level("INFO", logger="newsletter"):
        deliver(server, report, to=copy.sender)
        deliver(server, dsn("stranger@example.net", "5.1.1"))
    assert stored_subscriber("reader0@example.org").status == "bounced"
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert "hard bounce (user_unknown, 5.1.1) for subscriber" in said
    assert "@example.org" not in said and "stranger@" not in said


@pytest.mark.slow  # starts `newsletter bounces serve` as its own process
def test_bounces_serve_logs_each_report_it_takes(app, newsletter_process):
    """It said nothing of the bounces it took: Python's default shows warnings alone."""
    port = free_port()
    server = newsletter_process(
        "bounces", "serve", "--port", str(port), NEWSLETTER_BOUNCE_DOMAIN=BOUNCE_DOMAIN
    )
    wait_until(lambda: b"Taking bounces" in server.log_path.read_bytes(), timeout=30)
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("", [f"bounces@{BOUNCE_DOMAIN}"], dsn("nobody@example.net", "5.1.1"))
    line = "not a bounce, or about nobody we know (user_unknown)"
    wait_until(lambda: line.encode() in server.log_path.read_bytes(), timeout=10)
    log = server.log_path.read_text()
    assert re.search(
        rf"\d\d:\d\d:\d\d,\d+ INFO newsletter\.bounces\.intake: {re.escape(line)}", log
    )
    assert "handling connection" not in log  # aiosmtpd's own line for every connection
