"""Erasing a subscriber (GDPR article 17) removes who they were and keeps what the issues
did: an issue's sent, bounced and clicked figures stay as they were, naming no one, with
no trace of the address in any table; a copy not sent yet is not sent; what comes back
for an erased reader's copy (a bounce, a click) acts on no one and breaks nothing."""

import threading

import pytest
import sqlalchemy as sa
from bounce_mail import dsn
from builders import (
    add_subscribers,
    confirmed_subscriber,
    counted,
    deliver,
    draft,
    path_of,
    sent_issue,
    start_sending,
    states,
    stored_subscriber,
    tracked_links,
)

from newsletter import analytics, bounce_history
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, LinkClick, Subscriber
from newsletter.sending import loop
from newsletter.subscriptions.service import erase

ANA = "ana.karimi@bücher.example"  # an internationalised domain: servers quote it in ASCII
ANA_ASCII = "ana.karimi@xn--bcher-kva.example"


def figures(issue_id: int) -> dict:
    clicks = analytics.clicks_for_issues([issue_id])[issue_id]
    return {
        "ledger": states(issue_id),
        "bounces": bounce_history.counts_for_issues([issue_id])[issue_id],
        "clicks": (clicks["total"], clicks["unique"]),
        "links": [(link.url, link.clicks) for link in clicks["links"]],
    }


def everything_stored() -> str:
    """Every row of every table, as text: what a database dump would show."""
    rows = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows += [str(tuple(row)) for row in connection.execute(sa.select(table))]
    return "\n".join(rows)


@pytest.mark.slow
def test_an_issue_s_figures_stay_when_a_reader_who_clicked_and_bounced_is_erased(
    app, client, weekly, inbox, bounce_server, api_headers
):
    weekly.track_subscribers = weekly.track_opens = True
    confirmed_subscriber(weekly, ANA, "آنا کریمی")
    issue = sent_issue(weekly, inbox, readers=2)
    ana_copy = inbox.to(ANA_ASCII)[0]
    for url, *_ in tracked_links(ana_copy):
        client.get(path_of(url))
    client.get(path_of(tracked_links(inbox.to("reader0@example.org")[0])[0][0]))
    counted()
    said = f"550 5.2.2 <{ANA_ASCII}>: mailbox full for {ANA}"
    deliver(bounce_server(), dsn(ANA_ASCII, "5.2.2", said=said), to=ana_copy.sender)
    assert db.session.scalar(sa.select(Bounce.detail)).count("ana.karimi") >= 1
    before = figures(issue.id)
    assert before["ledger"]["sent"] == 3 and before["clicks"] == (3, 2)
    api_before = client.get(f"/api/v1/issues/{issue.id}", headers=api_headers).json

    erase(stored_subscriber(ANA))

    db.session.expire_all()
    assert figures(issue.id) == before
    api_after = client.get(f"/api/v1/issues/{issue.id}", headers=api_headers).json
    for key in ("counts", "bounces", "clicks", "links", "opens"):
        assert api_after.get(key) == api_before.get(key), key
    stored = everything_stored()
    assert "ana.karimi" not in stored and "کریمی" not in stored
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 2
    kept = db.session.scalars(sa.select(Delivery).where(Delivery.subscriber_id.is_(None))).all()
    assert [d.status for d in kept] == ["sent"] and kept[0].clicked_at is not None
    assert db.session.scalar(sa.select(Bounce.subscriber_id)) is None
    assert "[erased]" in db.session.scalar(sa.select(Bounce.detail))
    assert None in db.session.scalars(sa.select(LinkClick.subscriber_id)).all()


def test_a_reader_erased_while_an_issue_sends_is_not_mailed_and_the_send_finishes(
    app, weekly, inbox
):
    add_subscribers(weekly, 3)
    issue = draft(weekly)
    start_sending(issue)
    erase(stored_subscriber("reader1@example.org"))
    loop.send_batch(issue.id)
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "sent"
    assert sorted(r for m in inbox.messages for r in m.recipients) == [
        "reader0@example.org",
        "reader2@example.org",
    ]
    assert states(issue.id) == {"sent": 2, "failed": 0, "pending": 0, "total": 2}


def test_what_comes_back_for_an_erased_reader_s_copy_acts_on_no_one(
    app, client, weekly, inbox, bounce_server
):
    server = bounce_server()
    issue = sent_issue(weekly, inbox, readers=2)
    copy = inbox.to("reader0@example.org")[0]
    erase(stored_subscriber("reader0@example.org"))
    deliver(server, dsn("reader0@example.org", "5.1.1"), to=copy.sender)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bounce)) == 0
    assert stored_subscriber("reader1@example.org").status == "active"
    # Their old email's links still lead where they said; a click counts, as no one's.
    url, *_ = tracked_links(copy)[1]
    answer = client.get(path_of(url))
    assert answer.status_code == 302 and answer.headers["Location"] == "https://example.org/p1"
    counted()
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1
    assert analytics.clicks_for_issues([issue.id])[issue.id]["unique"] == 0


@pytest.mark.slow
def test_a_reader_erased_while_the_ledger_is_written_leaves_no_copy_to_wait_for(app, weekly):
    """The ledger is one transaction; erasing a reader it holds waits for it, then their
    pending copy (blanked by the database) goes: one that names no one could never be sent,
    and the issue would wait for it for ever."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing runs while the ledger is written")
    add_subscribers(weekly, 2)
    issue = draft(weekly)
    reader = stored_subscriber("reader1@example.org")
    ledger = db.engine.connect()
    ledger.execute(
        sa.insert(Delivery).values(issue_id=issue.id, subscriber_id=reader.id, status="pending")
    )  # uncommitted: the reader's row is locked against deletion until it commits
    errors = []

    def erase_meanwhile():
        with app.app_context():
            try:
                erase(db.session.get(Subscriber, reader.id))
            except Exception as exc:  # reported below, not lost in the thread
                errors.append(exc)

    eraser = threading.Thread(target=erase_meanwhile)
    eraser.start()
    eraser.join(0.5)
    assert eraser.is_alive(), "the erasure waits for the ledger"
    ledger.commit()
    ledger.close()
    eraser.join(10)
    assert errors == [] and not eraser.is_alive()
    db.session.expire_all()
    assert states(issue.id)["pending"] == 0
