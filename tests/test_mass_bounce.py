"""Dead addresses en masse: a relay answering "no such user" for everyone is our fault, and
must not unsubscribe the list (newsletter/bounces/breaker.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from bounce_mail import dsn
from builders import (
    SINCE,
    UNTIL,
    deliver,
    draft,
    error_of,
    start_sending,
    stored_subscriber,
    user,
)
from conftest import wait_until
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import suppression
from newsletter.bounces.breaker import decide, judge, reached
from newsletter.bounces.intake import as_stored
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, Subscriber
from newsletter.sending import lifecycle, loop
from newsletter.subscriptions import service

# Exim on our own smarthost, its DNS broken: every domain is "unrouteable".
UNROUTEABLE = "550 5.1.2 <{}>: Unrouteable address"
DOMAINS = ("gmail.example", "yahoo.example", "outlook.example", "mail.example", "ایران.example")


def readers(mailing_list, count: int) -> list[str]:
    """Subscribers at several providers, as a real list's are; one in a Persian domain."""
    emails = [f"reader{i}@{DOMAINS[i % len(DOMAINS)]}" for i in range(count)]
    for email in emails:
        service.subscribe(mailing_list, email, preconfirmed=True)
    return emails


def first_batch(mailing_list, inbox, count: int) -> tuple[Issue, list[str], dict]:
    """An issue to `count` new readers, its first batch sent: (issue, readers, copies)."""
    emails = readers(mailing_list, count)
    issue = draft(mailing_list)
    start_sending(issue)
    loop.send_batch(issue.id)
    return issue, emails, sent_copies(inbox)


def sent_copies(inbox) -> dict:
    """Each copy by its subscriber's address as stored (the envelope has its domain in ASCII)."""
    return {as_stored(message.recipients[0]): message for message in inbox.messages}


def bounce(server, copies: dict, email: str) -> None:
    """The relay's report of a dead address, naming it as it was sent, to the copy's own return
    path."""
    sent = copies[email]
    address = sent.recipients[0]
    report = dsn(address, "5.1.2", said=UNROUTEABLE.format(address))
    deliver(server, report, to=sent.sender)


def issue_now(issue_id: int) -> Issue:
    issue = db.session.get(Issue, issue_id)
    db.session.refresh(issue)
    return issue


def statuses(emails: list[str]) -> list[str]:
    return [stored_subscriber(email).status for email in emails]


@pytest.fixture
def breaker(app):
    app.config.update(DEAD_ADDRESSES_PAUSE=4, DEAD_ADDRESSES_SHARE=0.5, BATCH_SIZE=6)
    user("chief@example.org")


@pytest.mark.slow
def test_a_relay_that_says_everyone_is_dead_pauses_the_issue_and_drops_nobody(
    app, weekly, inbox, bounce_server, worker, api, breaker
):
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 10)  # six of ten; the issue is still sending
    first = sorted(copies)
    assert len(first) == 6

    for email in first[:3]:  # a few dead addresses: dropped at once, as ever
        bounce(server, copies, email)
    assert statuses(first[:3]) == ["bounced"] * 3
    assert suppression.reason(first[0]) == "bounced"
    assert issue_now(issue.id).status == "sending"

    bounce(server, copies, first[3])  # four of six: no real list loses that many
    paused = issue_now(issue.id)
    assert paused.status == "paused"
    assert paused.pause_reason.startswith(
        "4 of the 6 copies sent came back as dead addresses (67%), far more than a real list "
        "loses: our relay or DNS is more likely at fault than the subscribers. The commonest: "
        "host unknown: 550 5.1.2 <"
    )
    # Those it dropped get their mail back; none stays suppressed.
    assert statuses(first[:4]) == ["active"] * 4
    assert [suppression.reason(email) for email in first[:4]] == [None] * 4
    for email in first[4:]:  # later reports are recorded, and held
        bounce(server, copies, email)
    assert statuses(emails) == ["active"] * 10
    assert db.session.scalar(sa.select(sa.func.count()).where(Bounce.kind == "hard")) == 6
    [alert] = inbox.wait_for(1, recipient="chief@example.org")
    assert "4 of the 6 copies sent came back as dead addresses" in alert.part("plain")

    body = api.get(f"/issues/{issue.id}").json
    record = body["mass_bounce"]
    assert (record["bounces"], record["copies"], record["decision"], record["held"]) == (
        4,
        6,
        None,
        6,
    )
    # The relay mended, the editors keep them and resume: the rest of the issue goes out.
    answer = api.post(f"/issues/{issue.id}/dead-addresses", json={"decision": "kept"})
    assert answer.status_code == 200, answer.json
    assert answer.json["mass_bounce"]["decision"] == "kept"
    assert answer.json["mass_bounce"]["held"] == 0
    bounce(server, copies, first[0])  # a late report of a copy sent before: still held
    assert stored_subscriber(first[0]).status == "active"

    lifecycle.resume_issue(issue_now(issue.id))  # the worker sends the rest
    rest = sorted(set(emails) - set(first))
    wait_until(lambda: set(rest) <= set(sent_copies(inbox)), message="the rest of the issue")
    copies = sent_copies(inbox)
    bounce(server, copies, rest[0])  # a copy sent since: a dead address as ever
    assert statuses(rest) == ["bounced", "active", "active", "active"]
    again = api.post(f"/issues/{issue.id}/dead-addresses", json={"decision": "dropped"})
    assert again.status_code == 409, again.json
    assert "holds no dead addresses" in error_of(again)["message"]


@pytest.mark.slow
def test_an_editor_drops_a_list_that_really_was_that_stale(
    app, weekly, inbox, bounce_server, editor_client, breaker
):
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 6)
    assert issue_now(issue.id).status == "sent"  # sent before its bounces came back
    for email in emails[:5]:
        bounce(server, copies, email)
    issue = issue_now(issue.id)
    assert issue.status == "sent" and issue.mass_bounce["bounces"] == 4
    assert statuses(emails) == ["active"] * 6

    page = editor_client.get(f"/admin/issues/{issue.id}").text
    section = page.split('id="mass-bounce"')[1].split("</section>")[0]
    assert "4 of the 6 copies sent came back as dead addresses" in section
    assert "5 subscribers wait for your word" in section
    assert "&lt;reader3@mail.example&gt;: Unrouteable address" in section  # escaped
    assert "<reader" not in section
    url = f"/admin/issues/{issue.id}/dead-addresses"
    form = {"csrf_token": editor_client.token, "decision": "dropped"}
    assert editor_client.post(url, data={"decision": "dropped"}).status_code == 400  # no CSRF
    editor_client.post(url, data=form)  # not ticked: nobody dropped
    assert statuses(emails) == ["active"] * 6
    answer = editor_client.post(url, data={**form, "confirm": "yes"}, follow_redirects=True)
    assert "Dropped: 5." in answer.text
    assert statuses(emails) == ["bounced"] * 5 + ["active"]
    assert [suppression.reason(email) for email in emails[:5]] == ["bounced"] * 5
    assert 'id="mass-bounce"' not in answer.text
    assert issue_now(issue.id).mass_bounce["decision"] == "dropped"
    nonsense = editor_client.post(url, data={**form, "decision": "maybe"}, follow_redirects=True)
    assert nonsense.status_code == 200 and "Decide dropped or kept." in nonsense.text


@pytest.mark.slow
def test_an_issue_sent_before_its_copies_came_back_dead_tells_the_editors(
    app, weekly, inbox, bounce_server, worker, breaker
):
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 4)
    for email in emails:
        bounce(server, copies, email)
    [alert] = inbox.wait_for(1, recipient="chief@example.org")
    subject = f"Issue {issue.number} of {weekly.name}: dead addresses en masse"
    assert alert.message["Subject"] == subject
    text = alert.part("plain")
    assert "4 of the 4 copies sent came back as dead addresses (100%)" in text
    assert "Nobody was dropped for it" in text
    assert issue_now(issue.id).status == "sent"


@pytest.mark.slow
def test_a_few_dead_addresses_in_a_healthy_send_are_dropped_at_once(
    app, weekly, inbox, bounce_server, breaker
):
    app.config["BATCH_SIZE"] = 10
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 10)
    for email in emails[:4]:  # four of ten: at the count, under the share
        bounce(server, copies, email)
    assert statuses(emails) == ["bounced"] * 4 + ["active"] * 6
    assert issue_now(issue.id).mass_bounce is None


@pytest.mark.slow
def test_the_share_is_of_the_copies_sent_up_to_the_last_one_that_came_back(
    app, weekly, inbox, bounce_server, breaker
):
    """Bounces trail a fast send: a relay refusing everyone must not look like a few percent
    of what was sent meanwhile."""
    app.config["BATCH_SIZE"] = 10
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 10)
    # The first four went a minute before the rest, and only theirs came back yet.
    db.session.execute(sa.update(Issue).values(started_at=datetime.now(UTC) - timedelta(minutes=2)))
    early = sa.select(Subscriber.id).where(Subscriber.email.in_(emails[:4]))
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.subscriber_id.in_(early))
        .values(sent_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db.session.commit()
    for email in emails[:4]:
        bounce(server, copies, email)
    record = issue_now(issue.id).mass_bounce
    assert (record["bounces"], record["copies"]) == (4, 4)
    assert statuses(emails) == ["active"] * 10


@pytest.mark.slow
def test_zero_turns_the_breaker_off(app, weekly, inbox, bounce_server, breaker):
    app.config["DEAD_ADDRESSES_PAUSE"] = 0
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 4)
    for email in emails:
        bounce(server, copies, email)
    assert statuses(emails) == ["bounced"] * 4
    assert issue_now(issue.id).mass_bounce is None


@pytest.mark.slow
def test_reports_racing_in_on_many_connections_drop_nobody(
    app, weekly, inbox, bounce_server, editor_client, breaker
):
    """A report stopped its reader before it saw the trip another committed: the next report
    of the issue gives that reader their mail back. Persian in the server's words, as
    Iranian providers write them, reaches the editors intact and escaped."""
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 6)

    def report(email: str) -> None:
        address = copies[email].recipients[0]
        said = f"550 5.1.1 <{address}>: صندوق پستی وجود ندارد <b>User unknown</b>"
        deliver(server, dsn(address, "5.1.1", said=said), to=copies[email].sender)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(report, emails))
    report(emails[0])  # a late second report, after all of them
    assert statuses(emails) == ["active"] * 6
    assert [suppression.reason(email) for email in emails] == [None] * 6
    record = issue_now(issue.id).mass_bounce
    assert record["decision"] is None and 4 <= record["bounces"] <= 6
    assert "صندوق پستی وجود ندارد" in record["said"]
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    section = page.split('id="mass-bounce"')[1].split("</section>")[0]
    assert '<bdi dir="auto">' in section and "صندوق پستی وجود ندارد &lt;b&gt;" in section
    assert "<b>User" not in page


_MOMENTS = st.integers(min_value=0, max_value=50)


def counted(reports, copies_until, pause: int, share: float):
    """The breaker's tally over reports of dead copies (each a list of the times they were
    sent), as tally() adds them up in SQL and check() judges them: the report that trips it,
    or None."""
    count, need, horizon = 0, 0, None
    for n, sent in enumerate(reports):
        count, horizon = count + len(sent), max([*sent, *([horizon] if horizon else [])])
        if reached(count, need, pause):
            trips, need = judge(count, copies_until(horizon), share)
            if trips:
                return n
    return None


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(
    copies=st.lists(_MOMENTS, min_size=1, max_size=80),
    reports=st.lists(st.lists(_MOMENTS, min_size=1, max_size=3), min_size=1, max_size=60),
    pause=st.integers(min_value=1, max_value=12),
    share=st.sampled_from([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.9, 1.0]),
)
def test_counting_copies_only_at_the_tally_s_checkpoints_never_misses_a_trip(
    copies, reports, pause, share
):
    """The breaker trips at the same report as counting the copies after every report would."""
    start = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    at = [start + timedelta(seconds=s) for s in copies]
    reports = [[start + timedelta(seconds=s) for s in report] for report in reports]

    def copies_until(horizon: datetime) -> int:
        return sum(1 for moment in at if moment <= horizon)

    expected, seen = None, []
    for n, sent in enumerate(reports):  # every report, counted in full
        seen += sent
        if len(seen) >= pause and len(seen) >= share * copies_until(max(seen)):
            expected = n
            break
    assert counted(reports, copies_until, pause, share) == expected


def test_a_stale_list_s_dead_addresses_cost_one_count_of_the_copies():
    """3% of 10,000 copies back dead, one report at a time: the copies are counted once, not
    291 times."""
    start = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    counts = []

    def copies_until(horizon: datetime) -> int:
        counts.append(horizon)
        return 10_000

    assert counted([[start]] * 300, copies_until, 10, 0.2) is None
    assert len(counts) == 1


@pytest.mark.slow
def test_dropping_a_stale_list_stops_every_held_subscriber_at_once(
    app, weekly, inbox, bounce_server, breaker, monkeypatch
):
    """An editor drops thousands at once in one request: set-wise, a chunk of ids a statement
    (seven here), every held subscriber stopped everywhere, nobody else touched."""
    app.config["BATCH_SIZE"] = 40
    monkeypatch.setattr(service, "CHUNK", 7)
    server = bounce_server()
    issue, emails, copies = first_batch(weekly, inbox, 40)
    assert issue_now(issue.id).status == "sent"
    later = compose_issue(weekly, SINCE, UNTIL)
    start_sending(later)  # its copies wait, pending, for the held subscribers too
    dead = sorted(copies)[:30]
    for email in dead:  # half trips it (20), the rest are held
        bounce(server, copies, email)
    issue = issue_now(issue.id)
    assert issue.mass_bounce["bounces"] == 20
    assert statuses(dead) == ["active"] * 30

    assert decide(issue, "dropped") == 30
    alive = sorted(set(emails) - set(dead))
    assert statuses(dead) == ["bounced"] * 30 and statuses(alive) == ["active"] * 10
    assert suppression.reasons(emails) == dict.fromkeys(dead, "bounced")
    waiting = db.session.scalars(
        sa.select(Subscriber.email)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.issue_id == later.id, Delivery.status == "pending")
    )
    assert sorted(waiting) == alive


def test_suppressing_several_addresses_at_once_keeps_one_row_each(app):
    suppression.suppress(
        "Reader@Example.org", "reader@example.org ", "علی@example.org", reason="bounced"
    )
    suppression.suppress("علی@example.org", reason="complained")  # the newer reason wins
    assert suppression.reasons(["reader@example.org", "علی@example.org", "x@example.org"]) == {
        "reader@example.org": "bounced",
        "علی@example.org": "complained",
    }
    suppression.suppress(reason="bounced")  # none: nothing to do
