"""Bounces over time and state: reports that come twice, late, or after the reader changed
something (left, came back, was erased, moved). Drives intake.take as the bounce server and
the mailbox poller call it, on copies sent by the real send loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, complaint, dsn
from builders import SINCE, UNTIL, confirmed_subscriber, draft, start_sending, stored_subscriber
from builders import user as editor

from newsletter import bounce_history, suppression, verp
from newsletter.bounces import intake
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.mailer import smtp_address
from newsletter.models import Bounce, Delivery, Issue, Post, Subscriber
from newsletter.sending import loop, proofs
from newsletter.subscriptions import notices, service

UNKNOWN = "550 5.1.1 <{}>: Recipient address rejected: User unknown in virtual mailbox table"
FULL = "552 5.2.2 <{}>: Mailbox full: quota exceeded"
FBL = f"fbl@{BOUNCE_DOMAIN}"

# Readers as this list has them: names in Persian, Arabic, Chinese and emoji, and domains
# in Unicode, which servers write back in ASCII (xn--).
REZA = ("reza@مثال.example", "رضا 🌷")
MING = ("ming@例子.example", "王小明")
FATIMA = ("fatima@example.org", "فاطمة الزهراء 🕊️")


@pytest.fixture(autouse=True)
def bounce_domain(app, inbox):
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN


@pytest.fixture
def clock(monkeypatch):
    """The intake's "now", moved by the test: soft bounces decay by the day."""

    class Clock:
        now = datetime.now(UTC)

        def later(self, days: float) -> None:
            Clock.now += timedelta(days=days)

    monkeypatch.setattr(intake, "utcnow", lambda: Clock.now)
    return Clock()


@pytest.fixture
def daily(make_list):
    return make_list(slug="daily", name="روزانه 日报", from_email="daily@example.org")


@dataclass(frozen=True)
class Copy:
    """One sent copy as a report names it; kept past its reader's erasure."""

    delivery_id: int
    address: str  # as SMTP carried it
    return_path: str


def send_issue(mailing_list) -> Issue:
    """The list's next issue, sent now to its subscribers by one batch."""
    posted = db.session.scalar(sa.select(Post.id).where(Post.list_id == mailing_list.id))
    issue = compose_issue(mailing_list, SINCE, UNTIL) if posted else draft(mailing_list)
    start_sending(issue)
    loop.send_batch(issue.id)
    return issue


def delivery_of(issue: Issue, email: str) -> Delivery | None:
    return db.session.scalar(
        sa.select(Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.issue_id == issue.id, Subscriber.email == email)
    )


def copy_of(issue: Issue, email: str) -> Copy:
    delivery = delivery_of(issue, email)
    assert delivery is not None, f"no copy of issue {issue.id} to {email}"
    return Copy(delivery.id, smtp_address(email), verp.return_path(delivery.id))


def dead(copy: Copy, to: str = "") -> list[Bounce]:
    """The receiving server's "no such user", to the copy's return path."""
    report = dsn(copy.address, "5.1.1", said=UNKNOWN.format(copy.address))
    return intake.take(report, [to or copy.return_path], "smtp")


def full(copy: Copy) -> list[Bounce]:
    report = dsn(copy.address, "5.2.2", said=FULL.format(copy.address))
    return intake.take(report, [copy.return_path], "smtp")


def delayed(copy: Copy) -> list[Bounce]:
    """A delay warning: the message is still queued."""
    return intake.take(dsn(copy.address, "4.2.2"), [copy.return_path], "mailbox")


def complained(copy: Copy) -> list[Bounce]:
    """A feedback loop's report to its own address, naming the copy by our return path."""
    return intake.take(complaint(copy.address, mail_from=copy.return_path), [FBL], "smtp")


REPORTS = {"hard": dead, "soft": full, "complaint": complained}


def recorded() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(b.kind, b.reason) for b in db.session.scalars(sa.select(Bounce).order_by(Bounce.id))]


def subscription_to(email: str, mailing_list):
    person = stored_subscriber(email)
    return next(s for s in person.subscriptions if s.list_id == mailing_list.id)


def head_of(message: bytes) -> bytes:
    return message.split(b"\r\n\r\n", 1)[0] + b"\r\n"


# --- The same report twice -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", REPORTS)
def test_the_same_report_delivered_twice_counts_once(app, weekly, kind):
    """A mailbox fetched again, or a server retrying after our reply was lost: one report."""
    confirmed_subscriber(weekly, *REZA)
    issue = send_issue(weekly)
    copy = copy_of(issue, REZA[0])
    for _ in range(2):
        REPORTS[kind](copy)
    assert len(recorded()) == 1, recorded()
    assert bounce_history.counts_for_issue(issue.id)[kind] == 1
    assert stored_subscriber(REZA[0]).bounce_score == (1 if kind == "soft" else 0)


def test_a_refetched_dead_address_report_does_not_overrule_the_editor(app, weekly):
    """An editor vouched for the reader after the report ("Mail this address again"); the same
    report fetched again says nothing new and must not stop them a second time."""
    confirmed_subscriber(weekly, *MING)
    copy = copy_of(send_issue(weekly), MING[0])
    dead(copy)
    assert stored_subscriber(MING[0]).status == "bounced"
    service.reactivate(stored_subscriber(MING[0]))
    dead(copy)
    assert stored_subscriber(MING[0]).status == "active"
    assert suppression.reason(MING[0]) is None


# --- Delay warnings and final failures -----------------------------------------------------


def test_delay_warnings_then_the_final_failure(app, weekly):
    confirmed_subscriber(weekly, *REZA)
    copy = copy_of(send_issue(weekly), REZA[0])
    for _ in range(4):  # a server warns every few hours while it retries
        delayed(copy)
    person = stored_subscriber(REZA[0])
    assert (person.status, person.bounce_score) == ("active", 0)
    assert recorded() == [("soft", "delayed")]
    dead(copy)  # then it gives up: the warning hid nothing
    assert stored_subscriber(REZA[0]).status == "bounced"
    assert recorded() == [("soft", "delayed"), ("hard", "user_unknown")]
    assert {b.domain for b in db.session.scalars(sa.select(Bounce))} == {"مثال.example"}


def test_a_late_delay_warning_after_the_final_failure_changes_nothing(app, weekly):
    confirmed_subscriber(weekly, *REZA)
    confirmed_subscriber(weekly, *MING)
    issue = send_issue(weekly)
    full(copy_of(issue, REZA[0]))
    dead(copy_of(issue, MING[0]))
    delayed(copy_of(issue, REZA[0]))  # a backup MX's warning, overtaken by the final word
    delayed(copy_of(issue, MING[0]))
    reza, ming = stored_subscriber(REZA[0]), stored_subscriber(MING[0])
    assert (reza.status, reza.bounce_score) == ("active", 1)
    assert (ming.status, suppression.reason(MING[0])) == ("bounced", "bounced")


# --- Soft bounces over time ----------------------------------------------------------------


def full_mailbox_for(mailing_list, email: str, issues: int, days_apart: float, clock) -> str:
    """Each of `issues` issues comes back "mailbox full", `days_apart` days after the last;
    the reader's status after them."""
    for _ in range(issues):
        full(copy_of(send_issue(mailing_list), email))
        clock.later(days_apart)
    return stored_subscriber(email).status


@pytest.mark.slow
def test_a_mailbox_full_for_four_weekly_issues_stops_mail(app, weekly, clock):
    """README: "a mailbox full on four weekly issues in a row stops"."""
    confirmed_subscriber(weekly, *FATIMA)
    assert full_mailbox_for(weekly, FATIMA[0], 3, 7, clock) == "active"
    assert full_mailbox_for(weekly, FATIMA[0], 1, 7, clock) == "bounced"
    assert suppression.reason(FATIMA[0]) == "bounced"


@pytest.mark.slow
def test_a_mailbox_full_now_and_then_never_stops_mail(app, weekly, clock):
    """README: "one full week now and then does not": the score decays between them."""
    confirmed_subscriber(weekly, *FATIMA)
    assert full_mailbox_for(weekly, FATIMA[0], 5, 56, clock) == "active"
    assert stored_subscriber(FATIMA[0]).bounce_score < 2


@pytest.mark.slow
def test_a_mailbox_full_for_one_busy_day_is_not_given_up(app, weekly, clock):
    """intake.py: "a mailbox full for a month of weekly issues is given up, a full day is
    not". A list that sends each post may send three on one day; the mailbox is the same
    mailbox, full for the same day."""
    confirmed_subscriber(weekly, *FATIMA)
    assert full_mailbox_for(weekly, FATIMA[0], 3, 0, clock) == "active"


# --- After the reader changed something ----------------------------------------------------


def test_a_dead_address_after_the_reader_unsubscribed_is_still_suppressed(app, weekly):
    """Leaving does not make the address live: a later form or import must not mail it."""
    confirmed_subscriber(weekly, *REZA)
    copy = copy_of(send_issue(weekly), REZA[0])
    service.unsubscribe(subscription_to(REZA[0], weekly), "link")
    dead(copy)
    assert stored_subscriber(REZA[0]).status == "bounced"
    assert suppression.reason(REZA[0]) == "bounced"
    left = subscription_to(REZA[0], weekly)
    assert (left.status, left.unsubscribe_reason) == ("unsubscribed", "link")


def test_a_late_bounce_of_a_copy_sent_before_a_fresh_opt_in_keeps_the_reader(app, weekly):
    """The reader left, came back and clicked the confirmation link: that click, after the
    copy went, proves the mailbox takes our mail. A report about the old copy, arriving late,
    is recorded but must not stop them."""
    confirmed_subscriber(weekly, *REZA)
    copy = copy_of(send_issue(weekly), REZA[0])
    service.unsubscribe(subscription_to(REZA[0], weekly), "link")
    assert service.subscribe(weekly, REZA[0], REZA[1]) is not None  # double opt-in again
    assert service.confirm_subscription(subscription_to(REZA[0], weekly))
    dead(copy)
    assert recorded() == [("hard", "user_unknown")]
    assert stored_subscriber(REZA[0]).status == "active"
    assert suppression.reason(REZA[0]) is None


def test_a_bounce_after_erasure_touches_nothing(app, weekly):
    """Only the hash stays; a report about the erased reader's copy finds no one, and must
    not find anyone else or undo the erasure's suppression."""
    confirmed_subscriber(weekly, *REZA)
    confirmed_subscriber(weekly, *MING)
    issue = send_issue(weekly)
    copy = copy_of(issue, REZA[0])
    service.erase(stored_subscriber(REZA[0]))
    for report in REPORTS.values():
        assert report(copy) == []
    assert recorded() == []
    assert suppression.reason(REZA[0]) == "erased"
    assert stored_subscriber(MING[0]).status == "active"


@pytest.mark.slow
def test_a_bounce_of_an_old_address_stops_only_that_address(app, weekly):
    """The reader moved: they left from the old address and joined from a new one. The old
    copy's "no such user" is about the old address alone."""
    old, new = "reza@مثال.example", "reza@example.org"
    confirmed_subscriber(weekly, old, REZA[1])
    copy = copy_of(send_issue(weekly), old)
    service.unsubscribe(subscription_to(old, weekly), "moved")
    confirmed_subscriber(weekly, new, REZA[1])
    send_issue(weekly)
    dead(copy)
    assert (stored_subscriber(old).status, suppression.reason(old)) == ("bounced", "bounced")
    assert (stored_subscriber(new).status, suppression.reason(new)) == ("active", None)
    assert subscription_to(new, weekly).status == "confirmed"


def test_a_complaint_after_unsubscribing_leaves_every_list(app, weekly, daily):
    """README: a complaint unsubscribes from every list; the earlier leaving keeps its reason."""
    confirmed_subscriber(weekly, *MING)
    service.subscribe(daily, MING[0], preconfirmed=True)
    copy = copy_of(send_issue(weekly), MING[0])
    service.unsubscribe(subscription_to(MING[0], weekly), "link")
    complained(copy)
    assert stored_subscriber(MING[0]).status == "complained"
    assert suppression.reason(MING[0]) == "complained"
    assert subscription_to(MING[0], weekly).unsubscribe_reason == "link"
    on_daily = subscription_to(MING[0], daily)
    assert (on_daily.status, on_daily.unsubscribe_reason) == ("unsubscribed", "complaint")


@pytest.mark.slow
def test_a_dead_address_on_one_list_stops_every_list(app, weekly, daily):
    """The address is dead, whichever list's copy found it out: the other list's copy that
    waits to be sent is dropped, and its next issue leaves the reader out."""
    confirmed_subscriber(weekly, *FATIMA)
    service.subscribe(daily, FATIMA[0], preconfirmed=True)
    copy = copy_of(send_issue(weekly), FATIMA[0])
    waiting = draft(daily)
    start_sending(waiting)  # its ledger holds the reader's copy, not sent yet
    copy_of(waiting, FATIMA[0])
    dead(copy)
    gone = sa.select(sa.func.count()).where(Delivery.issue_id == waiting.id)
    assert db.session.scalar(gone) == 0
    assert subscription_to(FATIMA[0], daily).status == "confirmed"  # kept, but mailed nothing
    assert stored_subscriber(FATIMA[0]).status == "bounced"


# --- Mail that is not an issue's copy ------------------------------------------------------


@pytest.mark.parametrize("domain", [BOUNCE_DOMAIN, ""])
def test_a_complaint_about_an_editors_test_send_touches_no_reader(app, weekly, inbox, domain):
    """An editor who also reads the list sends themselves a test and their provider's
    feedback loop reports it: a proof is no copy of the list's, with or without a bounce
    domain (where reports are read by the addresses they name)."""
    app.config["BOUNCE_DOMAIN"] = domain
    editor("editor@example.org")
    confirmed_subscriber(weekly, "editor@example.org", "سردبیر ✍️")
    proofs.send_proof(draft(weekly), ["editor@example.org"])
    [proof] = inbox.to("editor@example.org")
    report = complaint("editor@example.org", head_of(proof.data))
    intake.take(report, [FBL if domain else weekly.from_email], "mailbox")
    assert stored_subscriber("editor@example.org").status == "active"
    assert subscription_to("editor@example.org", weekly).status == "confirmed"
    assert suppression.reason("editor@example.org") is None


def test_a_report_naming_an_editor_blames_only_the_copys_reader(app, weekly):
    """A report to a reader's return path that names one of our editors (who reads the list
    too) never stops the editor: the return path says whose copy it was."""
    editor("editor@example.org")
    confirmed_subscriber(weekly, "editor@example.org", "سردبیر")
    confirmed_subscriber(weekly, *REZA)
    copy = copy_of(send_issue(weekly), REZA[0])
    report = dsn("editor@example.org", "5.1.1", said=UNKNOWN.format("editor@example.org"))
    [bounce] = intake.take(report, [copy.return_path], "smtp")
    assert bounce.delivery_id == copy.delivery_id
    assert stored_subscriber("editor@example.org").status == "active"
    assert suppression.reason("editor@example.org") is None


def test_a_bounce_of_a_confirmation_email_stops_the_dead_address(app, weekly):
    """Without a bounce domain the mailbox at the list's address gets the bounce of a
    confirmation sent to a mistyped address; nothing else names it, so the address does."""
    app.config["BOUNCE_DOMAIN"] = ""
    typo = "ming@gmial.example"
    subscription = service.subscribe(weekly, typo, MING[1])
    notice = notices.build_notice("confirm", subscription.id)
    report = dsn(typo, "5.1.1", head_of(notice.message), said=UNKNOWN.format(typo))
    [bounce] = intake.take(report, [weekly.from_email], "mailbox")
    assert (bounce.kind, bounce.delivery_id) == ("hard", None)
    assert stored_subscriber(typo).status == "bounced"
    assert suppression.reason(typo) == "bounced"
    assert service.subscribe(weekly, typo) is None  # the form cannot mail it again


def test_a_complaint_about_the_welcome_email_is_heard(app, weekly):
    """The welcome is the list's first mail, with List-Unsubscribe and its signed token; a
    reader who marks it as spam must not get issue 1. Only the link names them, which anyone
    they forwarded mail to holds: the complaint does what the link does, leaving the list
    (as a per-list complaint does elsewhere), not stopping the address everywhere for good."""
    subscription = service.subscribe(weekly, FATIMA[0], FATIMA[1])
    assert service.confirm_subscription(subscription)
    welcome = notices.build_notice("welcome", subscription.id)
    intake.take(complaint(FATIMA[0], head_of(welcome.message)), [FBL], "smtp")
    reader = stored_subscriber(FATIMA[0])
    assert [s.status for s in reader.subscriptions] == ["unsubscribed"]
    assert reader.subscriptions[0].unsubscribe_reason == "complaint"


# --- Return paths that name no copy --------------------------------------------------------


def test_a_forged_or_stale_return_path_blames_nobody(app, weekly):
    """A reader sees their own return path: with a neighbour's number, or its MAC altered,
    it names nobody; nor does one made under a secret since changed."""
    confirmed_subscriber(weekly, *REZA)
    confirmed_subscriber(weekly, *MING)
    issue = send_issue(weekly)
    own, neighbour = copy_of(issue, REZA[0]), copy_of(issue, MING[0])
    mac = own.return_path.split("-")[-1].split("@")[0]
    renumbered = own.return_path.replace(f"+{own.delivery_id}-", f"+{neighbour.delivery_id}-")
    altered = own.return_path.replace(mac, mac[::-1])
    app.config["SECRET_KEY"], secret = "an-old-secret", app.config["SECRET_KEY"]
    stale = verp.return_path(own.delivery_id)
    app.config["SECRET_KEY"] = secret
    for to in (renumbered, altered, stale):
        assert dead(neighbour, to=to) == []
        assert dead(own, to=to) == []
    assert recorded() == []
    assert {stored_subscriber(e).status for e in (REZA[0], MING[0])} == {"active"}


def test_a_bounce_of_a_deleted_lists_issue_blames_nobody(app, weekly, daily):
    """Deleting a list deletes its issues and their copies: the return path, though ours,
    names no copy any more, and the address alone is not taken at its word."""
    confirmed_subscriber(daily, *MING)
    service.subscribe(weekly, MING[0], preconfirmed=True)
    copy = copy_of(send_issue(daily), MING[0])
    db.session.delete(daily)
    db.session.commit()
    assert dead(copy) == [] and complained(copy) == []
    assert stored_subscriber(MING[0]).status == "active"
    assert subscription_to(MING[0], weekly).status == "confirmed"


# --- The mass-bounce guard near its threshold ----------------------------------------------


@pytest.mark.slow
def test_reports_delivered_twice_do_not_trip_the_mass_bounce_guard(app, weekly):
    """Two dead addresses of six copies, under the guard's threshold of three, while the
    issue still sends; each report fetched twice is still two dead addresses, not four: the
    guard must not pause the issue nor give the dead addresses their mail back."""
    app.config.update(DEAD_ADDRESSES_PAUSE=3, DEAD_ADDRESSES_SHARE=0.5, BATCH_SIZE=6)
    editor("chief@example.org")
    emails = [f"reader{n}@مثال.example" for n in range(8)]
    for n, email in enumerate(emails):
        confirmed_subscriber(weekly, email, f"خواننده {n} 📬")
    issue = send_issue(weekly)
    sent = [e for e in emails if delivery_of(issue, e).status == "sent"]
    assert len(sent) == 6
    for email in sent[:2]:
        dead(copy_of(issue, email))
    assert [stored_subscriber(e).status for e in sent[:2]] == ["bounced", "bounced"]
    for email in sent[:2]:  # the mailbox poller fetches them again
        dead(copy_of(issue, email))
    db.session.expire_all()
    now = db.session.get(Issue, issue.id)
    after = (now.status, now.mass_bounce, [stored_subscriber(e).status for e in sent[:2]])
    assert after == ("sending", None, ["bounced", "bounced"])
    assert bounce_history.counts_for_issue(issue.id)["hard"] == 2
