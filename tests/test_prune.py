"""`newsletter prune` and `newsletter users set-password`: what an operator's cron and a lost
password need. Before, nothing pruned deliveries, link clicks, bounces, rejected posts by
email or import files, and `users create` for an existing admin said "exists already"."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import (
    PASSWORD,
    add_subscribers,
    counted,
    path_of,
    sent_issue,
    sign_in,
    tracked_links,
    user,
)

from newsletter import accounts, analytics, retention
from newsletter.admin import issue_charts
from newsletter.api import shapes
from newsletter.extensions import db
from newsletter.models import (
    Bounce,
    Delivery,
    HeldPost,
    Import,
    ImportFile,
    Issue,
    IssueVariant,
    LinkClick,
    Subscriber,
    Subscription,
)

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=100)


def prune(runner, *options: str):
    result = runner.invoke(args=["prune", *options])
    assert result.exit_code == 0, result.output
    return dict(re.findall(r"^  ([^:\n]+): (\d+)$", result.output, re.MULTILINE)), result.output


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- Deliveries and clicks: gone, the issue's figures kept ------------------------------------


def an_old_issue(weekly, client, inbox) -> Issue:
    """Sent 100 days ago to three readers, opens counted: clicks, an open, a bounce, two
    A/B subjects and a send at a local hour, so that every figure has something in it."""
    weekly.track_opens = True
    db.session.commit()
    issue = sent_issue(weekly, inbox, readers=3)
    first, second, third = (inbox.to(f"reader{n}@example.org")[0] for n in range(3))
    for url, *_ in tracked_links(first) + tracked_links(second)[:1]:
        client.get(path_of(url))
    client.get(re.search(r'src="https?://[^"]+(/o/[^"]+\.gif)"', third.part("html")).group(1))
    counted()
    copies = db.session.scalars(sa.select(Delivery).order_by(Delivery.id)).all()
    variants = [IssueVariant(issue_id=issue.id, position=n, subject=f"S{n}") for n in (0, 1)]
    db.session.add_all(variants)
    db.session.flush()
    for n, copy in enumerate(copies):
        copy.variant_id = variants[n % 2].id
        copy.not_before = LONG_AGO + timedelta(hours=n)
    db.session.add(
        Bounce(
            subscriber_id=copies[1].subscriber_id,
            delivery_id=copies[1].id,
            kind="soft",
            reason="mailbox_full",
            domain="example.org",
            received_at=LONG_AGO,
        )
    )
    issue.ab_winner, issue.local_time = variants[0].id, "08:00"
    issue.started_at, issue.finished_at, issue.status = LONG_AGO, LONG_AGO, "sent"
    leaver = db.session.scalar(
        sa.select(Subscription).where(Subscription.subscriber_id == copies[2].subscriber_id)
    )
    leaver.status, leaver.unsubscribed_at = "unsubscribed", LONG_AGO + timedelta(days=1)
    db.session.commit()
    return issue


def everything_shown(issue: Issue) -> tuple:
    """What the API, the issue page's figures and its charts show of the issue."""
    db.session.expire_all()
    issue = db.session.get(Issue, issue.id)
    return shapes.issue_json(issue), analytics.issue_stats(issue), issue_charts.for_issue(issue)


@pytest.mark.slow
def test_deliveries_and_clicks_go_and_every_figure_stays(app, runner, client, weekly, inbox):
    issue = an_old_issue(weekly, client, inbox)
    shown = everything_shown(issue)
    api, stats, charts = shown
    assert (api["counts"]["sent"], stats.clicks, stats.unique_clickers, stats.opens) == (3, 3, 2, 1)
    assert stats.unsubscribes == 1
    assert api["bounces"]["soft"] == 1 and [v["sent"] for v in api["ab"]["variants"]] == [2, 1]
    assert len(api["waves"]) == 3 and charts.bounces and charts.clicks
    done, output = prune(runner, "--older-than", "90", "--deliveries")
    assert done == {
        "issues counted, their figures kept on them": "1",
        "link clicks": "3",
        "deliveries": "3",
        "bounces": "1",  # counted on the issue now, and older than 90 days
        "rejected posts by email": "0",
        "import files": "0",
    }, output
    assert count(Delivery) == count(LinkClick) == count(Bounce) == 0
    assert everything_shown(issue) == shown
    again, _ = prune(runner, "--older-than", "90", "--deliveries")
    assert set(again.values()) == {"0"}
    assert everything_shown(issue) == shown


@pytest.mark.slow
def test_without_the_flag_or_in_a_dry_run_no_copy_or_click_goes(app, runner, client, weekly, inbox):
    issue = an_old_issue(weekly, client, inbox)
    shown = everything_shown(issue)
    done, output = prune(runner, "--older-than", "90")
    assert "deliveries and link clicks: kept" in output
    assert done["bounces"] == "0"  # the issue's bounced figure counts it
    dry, output = prune(runner, "--older-than", "90", "--deliveries", "--dry-run")
    assert output.startswith("Would delete, older than 90 days:")
    assert (dry["link clicks"], dry["deliveries"]) == ("3", "3")
    assert (count(Delivery), count(LinkClick), count(Bounce)) == (3, 3, 1)
    assert db.session.scalar(sa.select(Issue.figures)) is None
    assert everything_shown(issue) == shown


@pytest.mark.slow
def test_a_recent_issues_rows_stay_and_deletes_go_in_batches(
    app, runner, weekly, inbox, monkeypatch
):
    monkeypatch.setattr(retention, "BATCH", 2)
    old = sent_issue(weekly, inbox, readers=5)
    old.finished_at = LONG_AGO
    recent = Issue(list_id=weekly.id, number=2, subject="Recent", status="sent", finished_at=NOW)
    db.session.add(recent)
    db.session.flush()
    for reader in db.session.scalars(sa.select(Subscriber)):
        db.session.add(Delivery(issue_id=recent.id, subscriber_id=reader.id, status="sent"))
    db.session.commit()
    done, _ = prune(runner, "--older-than", "90", "--deliveries")
    assert done["deliveries"] == "5"
    assert db.session.scalars(sa.select(Delivery.issue_id).distinct()).all() == [recent.id]
    assert shapes.issue_json(db.session.get(Issue, old.id))["counts"]["sent"] == 5


# --- Bounces, rejected posts, import files ----------------------------------------------


def test_old_bounces_go_but_the_report_that_stopped_a_reader(app, runner, weekly):
    active, stopped = add_subscribers(weekly, 2)
    stopped.status = "bounced"
    for who, kind, when in (
        (active, "soft", LONG_AGO),  # goes
        (active, "soft", NOW - timedelta(days=10)),  # recent: stays
        (stopped, "soft", LONG_AGO - timedelta(days=1)),  # goes
        (stopped, "hard", LONG_AGO),  # why they get no mail: stays
        (stopped, "sender", LONG_AGO),  # a refusal of our mail, long past: goes
    ):
        db.session.add(Bounce(subscriber_id=who.id, kind=kind, received_at=when))
    db.session.commit()
    done, _ = prune(runner, "--older-than", "90")
    assert done["bounces"] == "3"
    left = db.session.execute(sa.select(Bounce.subscriber_id, Bounce.kind)).all()
    assert sorted(left) == sorted([(active.id, "soft"), (stopped.id, "hard")])


def test_rejected_posts_by_email_go_once_old(app, runner, weekly):
    for n, (status, when) in enumerate(
        [("rejected", LONG_AGO), ("rejected", NOW), ("held", LONG_AGO), ("approved", LONG_AGO)]
    ):
        db.session.add(
            HeldPost(
                list_id=weekly.id,
                sender=f"s{n}@example.org",
                text="x" * 100_000,
                status=status,
                received_at=when,
            )
        )
    db.session.commit()
    done, _ = prune(runner, "--older-than", "90")
    assert done["rejected posts by email"] == "1"
    left = db.session.execute(sa.select(HeldPost.status, HeldPost.received_at)).all()
    assert sorted(status for status, _ in left) == ["approved", "held", "rejected"]
    assert all(when > LONG_AGO for status, when in left if status == "rejected")


def test_finished_and_abandoned_imports_files_go(app, runner, weekly):
    def upload(status: str, made: datetime, pieces: int = 2) -> int:
        record = Import(list_id=weekly.id, status=status, path="a.csv", errors=[], created_at=made)
        db.session.add(record)
        db.session.flush()
        for part in range(pieces):
            db.session.add(ImportFile(import_id=record.id, part=part, data=b"a@example.org\n"))
        db.session.commit()
        return record.id

    done_id = upload("done", NOW)
    failed_id = upload("failed", NOW)
    abandoned = upload("staged", NOW - timedelta(days=2))
    waiting = upload("staged", NOW - timedelta(hours=1))
    running = upload("running", NOW - timedelta(days=200))
    dry, _ = prune(runner, "--older-than", "90", "--dry-run")
    assert dry["import files"] == "6" and count(ImportFile) == 10
    done, _ = prune(runner, "--older-than", "90")
    assert done["import files"] == "6"
    assert db.session.scalars(sa.select(ImportFile.import_id).distinct()).all() in (
        [waiting, running],
        [running, waiting],
    )
    db.session.expire_all()
    assert db.session.get(Import, abandoned).status == "failed"
    assert {db.session.get(Import, i).status for i in (done_id, failed_id)} == {"done", "failed"}


def test_prune_needs_an_age_of_a_day_or_more(runner):
    for options in ([], ["--older-than", "0"], ["--older-than", "soon"]):
        result = runner.invoke(args=["prune", *options])
        assert result.exit_code == 2 and "--older-than" in result.output


# --- A new password --------------------------------------------------------------------------


@pytest.fixture
def signed_in(make_app):
    """A browser signed in as an admin, on an app of its own (as a server would be)."""
    user("boss@example.org", role="admin")
    browser = make_app().test_client()
    sign_in(browser, "boss@example.org")
    assert browser.get("/admin/").status_code == 200
    return browser


@pytest.mark.slow
def test_set_password_from_stdin_ends_every_session(runner, signed_in):
    result = runner.invoke(
        args=["users", "set-password", "Boss@Example.org", "--stdin"],
        input="a new long password\n",
    )
    assert result.exit_code == 0, result.output
    boss = accounts.find_user("boss@example.org")
    assert accounts.check_password(boss, "a new long password")
    assert signed_in.get("/admin/").status_code == 302  # to the sign-in page


@pytest.mark.slow
def test_set_password_asks_twice_at_a_terminal(runner, signed_in):
    result = runner.invoke(
        args=["users", "set-password", "boss@example.org"],
        input="one long password\nanother password\nthe long password\nthe long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert accounts.check_password(accounts.find_user("boss@example.org"), "the long password")


@pytest.mark.slow
def test_set_password_refuses_a_short_one_and_an_unknown_user(runner, signed_in):
    short = runner.invoke(
        args=["users", "set-password", "boss@example.org", "--stdin"], input="short\n"
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert accounts.check_password(accounts.find_user("boss@example.org"), PASSWORD)
    assert signed_in.get("/admin/").status_code == 200
    unknown = runner.invoke(
        args=["users", "set-password", "nobody@example.org", "--stdin"],
        input="a new long password\n",
    )
    assert unknown.exit_code == 1 and "No user nobody@example.org" in unknown.output


def test_creating_a_user_who_exists_says_how_to_set_their_password(runner, signed_in):
    result = runner.invoke(
        args=["users", "create", "boss@example.org", "--stdin"], input="a new long password\n"
    )
    assert result.exit_code == 1
    assert "newsletter users set-password boss@example.org" in result.output
