"""Receiving domains refusing our mail over a send's life (README, "Bounces": refusals of our
mail; bounces/refusals.py, sending/holds.py): late reports, the window's edges, the same
report twice, a hold ending and coming back, one domain written two ways, providers with
several domains, two sends at once, a pause and resume, the editors' email, an A/B test.
Real sends by loop.send_batch to the test SMTP server, reports by intake.take; the jobs a
send or a report queues are recorded, not run, so each step is the test's."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, dsn
from builders import deliver, draft, start_sending, stored_subscriber, user

from newsletter import bounce_history, jobs, verp
from newsletter.bounces import intake, refusals
from newsletter.digest.compose import edit_issue
from newsletter.extensions import db
from newsletter.mailer import smtp_address
from newsletter.models import Bounce, Delivery, Issue, Subscriber
from newsletter.sending import ab, alerts, holds, lifecycle, loop
from newsletter.subscriptions import service

# Spamhaus through Postfix, and Microsoft's block list, as their servers word them.
REFUSED = "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
MICROSOFT = (
    "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
    "Internet service provider since part of their network is on our block list (S3150). "
    "[BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]"
)
HOLD_ALERT, PAUSE_ALERT = "newsletter.tell_editors_of_hold", "newsletter.tell_editors"


@pytest.fixture(autouse=True)
def setup(app, inbox):
    app.config.update(
        BOUNCE_DOMAIN=BOUNCE_DOMAIN,
        SENDER_REFUSALS_PAUSE=2,
        SENDER_REFUSALS_WINDOW=3600,
        SENDER_REFUSALS_HOLD=6 * 3600,
        SENDER_REFUSALS_DOMAINS=3,
    )


@pytest.fixture
def queued(monkeypatch):
    """The jobs queued by reports, holds, pauses and releases: (name, args), none run."""
    seen: list[tuple[str, tuple]] = []

    class Recorded:
        def __init__(self, job):
            self.job = job

        def delay(self, *args, **options):
            seen.append((self.job.name, args))

    class Jobs:
        def __getattr__(self, name):
            return Recorded(getattr(jobs, name))

    for module in (refusals, loop, lifecycle):
        monkeypatch.setattr(module, "jobs", Jobs())
    return seen


def readers_at(mailing_list, domain: str, count: int, first: int = 0) -> list[str]:
    emails = [f"reader{i}@{domain}" for i in range(first, first + count)]
    for email in emails:
        service.subscribe(mailing_list, email, preconfirmed=True)
    return emails


def delivery(issue: Issue, email: str) -> Delivery:
    return db.session.scalar(
        sa.select(Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.issue_id == issue.id, Subscriber.email == email)
    )


def waiting(issue: Issue, emails: list[str], seconds: float = 60) -> None:
    """These copies not due for a while: what a hold finds waiting."""
    for email in emails:
        delivery(issue, email).retry_at = datetime.now(UTC) + timedelta(seconds=seconds)
    db.session.commit()


def sent_but(mailing_list, kept: list[str]) -> Issue:
    """An issue started and one batch sent, the `kept` readers' copies not due yet."""
    issue = draft(mailing_list)
    start_sending(issue)
    waiting(issue, kept)
    loop.send_batch(issue.id)
    return issue


def not_held(issue: Issue, email: str) -> bool:
    """The copy still due when waiting() said, not at a hold's end."""
    return delivery(issue, email).retry_at < datetime.now(UTC) + timedelta(seconds=61)


def refuse(issue: Issue, email: str, said: str = REFUSED, written: str = "") -> list[Bounce]:
    """The receiving server's DSN refusing our copy, to the copy's return path; `written`:
    the address as that server writes it."""
    copy = delivery(issue, email)
    report = dsn(written or smtp_address(email), "5.7.1", said=said)
    return intake.take(report, [verp.return_path(copy.id)], "smtp")


def now_of(issue: Issue) -> Issue:
    db.session.expire_all()
    return db.session.get(Issue, issue.id)


def held(issue: Issue) -> dict:
    return holds.held(now_of(issue))


def got(inbox, emails: list[str]) -> list[str]:
    """Those of `emails` the SMTP server received a copy for."""
    return [e for e in emails if any(smtp_address(e) in m.recipients for m in inbox.messages)]


def alerts_of(queued, name: str = HOLD_ALERT) -> list[tuple]:
    return [args for job, args in queued if job == name]


@pytest.mark.slow
def test_late_refusals_after_the_send_hold_nothing_but_are_reported(app, weekly, queued, api):
    """DSNs trail a send by minutes: an issue already sent has nothing to hold nor pause, and
    the refusals still belong to its report, against no reader."""
    refusing = readers_at(weekly, "outlook.example", 3)
    issue = draft(weekly)
    start_sending(issue)
    loop.send_batch(issue.id)
    assert now_of(issue).status == "sent"
    for email in refusing:
        refuse(issue, email)
    issue = now_of(issue)
    assert (issue.status, issue.held_domains, issue.pause_reason) == ("sent", None, None)
    assert queued == []
    answer = api.get(f"/issues/{issue.id}").json
    assert answer["held"] == []
    assert answer["bounces"]["sender"] == 3 and sum(answer["bounces"]["by_reason"].values()) == 3
    assert bounce_history.refusals_for_issue(issue.id) == [("outlook.example", 3, REFUSED)]
    assert {(p.status, p.bounce_score) for p in map(stored_subscriber, refusing)} == {("active", 0)}


def test_the_threshold_holds_at_exactly_pause_refusals(app, weekly, queued, api):
    app.config["SENDER_REFUSALS_PAUSE"] = 3
    refusing = readers_at(weekly, "outlook.example", 5)
    issue = sent_but(weekly, refusing[3:])
    refuse(issue, refusing[0])
    refuse(issue, refusing[1])
    assert held(issue) == {} and queued == []
    refuse(issue, refusing[2])  # the third: exactly the threshold
    hold = held(issue)["outlook.example"]
    assert (hold["copies"], hold["said"]) == (2, REFUSED)
    assert alerts_of(queued) == [(issue.id, "outlook.example")]
    until = datetime.fromisoformat(hold["until"])
    assert {delivery(issue, e).retry_at for e in refusing[3:]} == {until}
    answer = api.get(f"/issues/{issue.id}").json
    assert answer["status"] == "sending" and answer["held"] == [
        {"domain": "outlook.example", **hold}
    ]


@pytest.mark.slow
def test_a_refusal_older_than_the_window_does_not_count(app, weekly, queued):
    """19 refusals within the hour and 1 from before it are not 20 within the hour."""
    app.config["SENDER_REFUSALS_PAUSE"] = 20
    refusing = readers_at(weekly, "outlook.example", 22)
    issue = sent_but(weekly, refusing[21:])
    [first] = refuse(issue, refusing[0])
    # It came an hour and a second ago.
    db.session.execute(
        sa.update(Bounce)
        .where(Bounce.id == first.id)
        .values(received_at=datetime.now(UTC) - timedelta(seconds=3601))
    )
    db.session.commit()
    for email in refusing[1:20]:
        refuse(issue, email)
    assert held(issue) == {} and queued == []
    refuse(issue, refusing[20])  # 20 within the hour now
    assert held(issue)["outlook.example"]["copies"] == 1


@pytest.mark.slow
def test_the_same_report_delivered_twice_counts_once_toward_the_threshold(app, weekly, queued):
    """A mailbox fetched again, a server retrying after our reply was lost: one refusal."""
    app.config["SENDER_REFUSALS_PAUSE"] = 3
    refusing = readers_at(weekly, "outlook.example", 4)
    issue = sent_but(weekly, refusing[3:])
    for email in (refusing[0], refusing[0], refusing[1], refusing[1], refusing[0]):
        refuse(issue, email)
    assert held(issue) == {} and queued == []
    assert bounce_history.counts_for_issue(issue.id)["sender"] == 2
    refuse(issue, refusing[2])
    assert "outlook.example" in held(issue)


@pytest.mark.slow
def test_a_hold_ends_its_copies_go_and_a_second_hold_tells_the_editors_again(
    app, weekly, inbox, queued
):
    """README: when the hold ends its copies are tried again; a late report of a copy sent
    before the hold does not hold it again; refusals of copies sent since do, and that hold
    is told as the first was: "the editors get one email" per hold."""
    app.config.update(SENDER_REFUSALS_HOLD=0.6, BATCH_SIZE=3)
    refusing = readers_at(weekly, "outlook.example", 5)
    elsewhere = readers_at(weekly, "example.net", 1, first=5)
    # three sent, two due next; the send goes on past the second hold
    issue = sent_but(weekly, elsewhere)
    refuse(issue, refusing[0])
    refuse(issue, refusing[1])
    first = held(issue)["outlook.example"]
    assert first["copies"] == 2 and len(alerts_of(queued)) == 1

    time.sleep(0.7)  # the hold is over
    assert held(issue) == {}
    loop.send_batch(issue.id)
    assert got(inbox, refusing) == refusing  # the held copies went
    refuse(issue, refusing[2])  # sent before the hold: counted already
    refuse(issue, refusing[3])  # sent since: one
    assert held(issue) == {} and len(alerts_of(queued)) == 1
    refuse(issue, refusing[4])  # two since the hold: held again
    second = held(issue)["outlook.example"]
    assert second["since"] > first["until"]
    assert alerts_of(queued) == [(issue.id, "outlook.example")] * 2


@pytest.mark.slow
def test_an_internationalised_domain_written_two_ways_is_one_domain(app, weekly, queued, api):
    """One server writes the domain in ASCII (xn--), another, with SMTPUTF8, in Unicode:
    two refusals by one domain, held in the form subscribers are kept in; an editor who
    pastes the ASCII form from a report releases it all the same."""
    refusing = readers_at(weekly, "bücher.example", 3)
    issue = sent_but(weekly, refusing[2:])
    refuse(issue, refusing[0], written="reader0@xn--bcher-kva.example")
    refuse(issue, refusing[1], written="reader1@BÜCHER.example")
    db.session.expire_all()
    assert {b.domain for b in db.session.scalars(sa.select(Bounce))} == {"bücher.example"}
    assert held(issue)["bücher.example"]["copies"] == 1
    assert alerts_of(queued) == [(issue.id, "bücher.example")]
    answer = api.post(f"/issues/{issue.id}/release", json={"domain": "XN--BCHER-KVA.example"})
    assert answer.status_code == 200
    assert delivery(issue, refusing[2]).retry_at is None  # due now


@pytest.mark.slow
def test_one_providers_domains_are_counted_and_held_apart(app, weekly, queued):
    """Microsoft answers for outlook.com, hotmail.com and live.com from the same hosts; the
    README counts "per receiving domain": each is its own, and three held pause the issue."""
    domains = ("outlook.com", "hotmail.com", "live.com")
    people = {domain: readers_at(weekly, domain, 3) for domain in domains}
    issue = sent_but(weekly, [emails[2] for emails in people.values()])
    for domain in domains:
        refuse(issue, people[domain][0], said=MICROSOFT)
    assert held(issue) == {}  # three refusals by Microsoft, one per domain
    refuse(issue, people["outlook.com"][1], said=MICROSOFT)
    assert {d: h["copies"] for d, h in held(issue).items()} == {"outlook.com": 1}
    assert not_held(issue, people["hotmail.com"][2])
    refuse(issue, people["hotmail.com"][1], said=MICROSOFT)
    assert sorted(held(issue)) == ["hotmail.com", "outlook.com"]
    refuse(issue, people["live.com"][1], said=MICROSOFT)
    issue = now_of(issue)
    assert issue.status == "paused" and issue.pause_reason.startswith("live.com refuses our mail")
    assert {b.domain for b in db.session.scalars(sa.select(Bounce))} == set(domains)
    assert len(alerts_of(queued)) == 2 and len(alerts_of(queued, PAUSE_ALERT)) == 1


@pytest.mark.slow
def test_two_issues_sending_at_once_count_their_own_refusals(app, weekly, make_list, queued):
    daily = make_list(slug="daily", name="Daily", from_email="daily@example.org")
    refusing = readers_at(weekly, "outlook.example", 4)
    for email in refusing:
        service.subscribe(daily, email, preconfirmed=True)
    first, second = draft(weekly), draft(daily)
    start_sending(first)
    start_sending(second)
    for issue in (first, second):
        waiting(issue, refusing[3:])
        loop.send_batch(issue.id)
    refuse(first, refusing[0])
    refuse(second, refusing[0])  # the same reader's copy of the other issue
    refuse(second, refusing[1])  # three by outlook.example, two of them the second's
    assert (held(first), list(held(second))) == ({}, ["outlook.example"])
    assert not_held(first, refusing[3])
    assert alerts_of(queued) == [(second.id, "outlook.example")]


@pytest.mark.slow
def test_after_a_pause_old_refusals_do_not_count_and_a_release_while_paused_waits(
    app, weekly, inbox, queued, api
):
    """Two domains held pause the issue; an editor releases one while it is paused (nothing
    goes until the resume); late reports of copies sent before the resume count for nothing;
    refusals of copies sent since hold the domain again, without a pause."""
    app.config["SENDER_REFUSALS_DOMAINS"] = 2
    outlook = readers_at(weekly, "outlook.example", 5)
    yahoo = readers_at(weekly, "yahoo.example", 4)
    issue = sent_but(weekly, outlook[3:] + yahoo[3:])  # yahoo's keeps the send going to the end
    refuse(issue, outlook[0])
    refuse(issue, outlook[1])
    refuse(issue, yahoo[0])
    refuse(issue, yahoo[1])
    issue = now_of(issue)
    assert issue.status == "paused"
    assert (
        issue.pause_reason
        == f"yahoo.example refuses our mail: {REFUSED}; outlook.example: {REFUSED}"
    )
    assert (len(alerts_of(queued)), len(alerts_of(queued, PAUSE_ALERT))) == (1, 1)

    answer = api.post(f"/issues/{issue.id}/release", json={"domain": "outlook.example"})
    assert answer.status_code == 200 and answer.json["status"] == "paused", answer.json
    assert {delivery(issue, e).retry_at for e in outlook[3:]} == {None}
    loop.send_batch(issue.id)
    assert got(inbox, outlook[3:]) == []  # paused: released copies wait for the resume

    assert api.post(f"/issues/{issue.id}/resume").status_code == 200
    refuse(issue, outlook[2])  # sent before the resume
    refuse(issue, yahoo[2])
    assert (now_of(issue).status, held(issue)) == ("sending", {})
    loop.send_batch(issue.id)
    assert got(inbox, outlook[3:]) == outlook[3:]
    refuse(issue, outlook[3])
    refuse(issue, outlook[4])  # two since the resume: held, one domain, no pause
    assert (now_of(issue).status, list(held(issue))) == ("sending", ["outlook.example"])
    assert len(alerts_of(queued, PAUSE_ALERT)) == 1


@pytest.mark.slow
def test_the_editors_alert_names_the_domain_in_unicode_and_escapes_the_servers_words(
    app, make_list, inbox, queued
):
    """The admin stays English (README, Languages), whatever the list's language; the
    server's words, Persian and Arabic and a tag among them, are shown as words."""
    user("editor@example.org")
    app.config["SENDER_REFUSALS_PAUSE"] = 1
    persian = make_list(slug="akhbar", name="خبرنامه", language="fa")
    refusing = readers_at(persian, "مثال.example", 2)
    issue = sent_but(persian, refusing[1:])
    said = (
        "550 5.7.1 <b onmouseover=alert(1)>پیام شما به دلیل سیاست ضدهرزنامه رد شد</b> "
        "تم رفض الرسالة"
    )
    refuse(issue, refusing[0], said=said, written="reader0@xn--mgbh0fb.example")
    assert alerts_of(queued) == [(issue.id, "مثال.example")]
    assert alerts.tell_editors_of_hold(*alerts_of(queued)[0]) == 1  # what the job does
    [alert] = inbox.wait_for(1, recipient="editor@example.org")
    assert (
        alert.message["Subject"]
        == f"Issue {issue.number} of خبرنامه: مثال.example refuses our mail"
    )
    html, text = alert.part("html"), alert.part("plain")
    assert '<html lang="en" dir="ltr">' in html
    assert "<b onmouseover" not in html and "&lt;b onmouseover=alert(1)&gt;" in html
    assert "پیام شما به دلیل سیاست ضدهرزنامه رد شد" in text and "تم رفض الرسالة" in text
    assert "مثال.example" in text and "xn--" not in html + text
    assert "Its 1 waiting copies are held back" in text


@pytest.mark.slow
def test_reports_arriving_at_once_hold_the_domain_once(app, weekly, queued, bounce_server):
    """A busy provider returns its DSNs over several connections at once."""
    app.config["SENDER_REFUSALS_PAUSE"] = 3
    server = bounce_server()
    refusing = readers_at(weekly, "outlook.example", 8)
    issue = sent_but(weekly, refusing[6:])
    paths = {e: verp.return_path(delivery(issue, e).id) for e in refusing[:6]}
    db.session.commit()

    def report(email: str) -> None:
        deliver(server, dsn(email, "5.7.1", said=REFUSED), to=paths[email])

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(report, refusing[:6]))
    assert bounce_history.counts_for_issue(issue.id)["sender"] == 6
    # One hold, one email: not one a connection that saw the threshold reached.
    assert alerts_of(queued) == [(issue.id, "outlook.example")]
    assert held(issue)["outlook.example"]["copies"] == 2


@pytest.mark.slow
def test_a_held_domain_waits_out_an_ab_test_and_gets_the_winners_subject(
    app, weekly, inbox, queued
):
    """The test share goes first; a domain held meanwhile keeps its rest held past the
    decision, while the others' rest goes; released, it gets the winner's subject."""
    app.config["SENDER_REFUSALS_PAUSE"] = 1
    outlook = readers_at(weekly, "outlook.example", 10)
    others = readers_at(weekly, "example.net", 10, first=10)
    issue = draft(weekly)
    edit_issue(
        issue, {"subjects": ["Subject A", "Subject B"], "ab_share": 50, "ab_wait_minutes": 120}
    )
    start_sending(issue)
    loop.send_batch(issue.id)  # the variants only
    tried = got(inbox, outlook)
    rest = [e for e in outlook if e not in tried]
    assert tried and rest, "the split left outlook.example no share or no rest"
    refuse(issue, tried[0])
    hold = held(issue)["outlook.example"]
    assert hold["copies"] == len(rest)

    issue = now_of(issue)
    assert ab.decide_if_due(issue.id, now=issue.ab_decide_at + timedelta(seconds=1))
    loop.send_batch(issue.id)
    assert got(inbox, others) == others
    assert got(inbox, rest) == []  # held past the decision
    lifecycle.release_hold(now_of(issue), "outlook.example")
    loop.send_batch(issue.id)
    winner = next(v.subject for v in now_of(issue).variants if v.id == now_of(issue).ab_winner)
    subjects = {m.message["Subject"] for m in inbox.messages if m.recipients[0] in rest}
    assert got(inbox, rest) == rest and subjects == {winner}
    assert now_of(issue).status == "sent"
