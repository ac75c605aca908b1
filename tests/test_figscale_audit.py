"""An issue's figures at the size an organisation reaches (200,000 copies an issue, hundreds
of issues): a sent issue's copy counts are kept, not counted again on every look; its
bounces are found by the issue kept on each bounce, its clickers and openers by partial
indexes, each link's clicks by a covering index, never by reading all its copies; the
clicks-over-time chart and table keep to a bounded number of moments. Every figure stays
what it was. bench/pages.py prints the pages' times and plans (--database figscale_bench)."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, dsn
from builders import counting_statements, send_one_batch, sqlite_row

from newsletter import analytics, bounce_history
from newsletter.admin import issue_charts
from newsletter.bounces import intake
from newsletter.extensions import db
from newsletter.models import (
    Bounce,
    Delivery,
    Issue,
    IssueLink,
    LinkClick,
    Subscriber,
    Subscription,
)
from newsletter.sending import ledger, lifecycle
from newsletter.subscriptions import service

NOW = datetime.now(UTC).replace(microsecond=0)
KINDS = ("hard", "soft", "sender", "complaint")
REASONS = ("no_such_user", "mailbox_full", "policy")


def _issue(list_id: int, number: int, status: str = "sent", started=NOW) -> Issue:
    issue = Issue(
        list_id=list_id,
        number=number,
        subject=f"#{number}",
        status=status,
        started_at=started,
        finished_at=started if status in ("sent", "cancelled") else None,
    )
    db.session.add(issue)
    db.session.flush()
    return issue


def _readers(list_id: int, n: int, first: int = 0) -> list[int]:
    readers = [
        Subscriber(email=f"r{i}@d{i % 3}.example", attributes={}) for i in range(first, first + n)
    ]
    for reader in readers:
        reader.subscriptions.append(Subscription(list_id=list_id, status="confirmed"))
    db.session.add_all(readers)
    db.session.flush()
    return [reader.id for reader in readers]


def _copies_with_figures(issue: Issue, readers: list[int]) -> None:
    """Copies sent, failed and pending; clicked, opened (some by machines only), clicked
    links, and bounces and complaints of several kinds and reasons."""
    links = [
        IssueLink(issue_id=issue.id, position=p, url=f"https://example.org/{issue.id}/{p}")
        for p in range(3)
    ]
    db.session.add_all(links)
    for i, reader in enumerate(readers):
        status = ("sent", "sent", "sent", "failed", "pending")[i % 5]
        copy = Delivery(issue_id=issue.id, subscriber_id=reader, status=status)
        if status == "sent" and i % 2 == 0:
            copy.clicked_at, copy.clicked_by_machine = NOW + timedelta(hours=i), i % 4 == 0
        if status == "sent" and i % 3 == 0:
            copy.opened_at, copy.opened_by_machine = NOW + timedelta(hours=1), i % 9 == 0
        db.session.add(copy)
        db.session.flush()
        for n in range(i % 3):
            click = LinkClick(link_id=links[(i + n) % 3].id, likely_machine=n == 1)
            click.clicked_at = NOW + timedelta(hours=i + n)
            db.session.add(click)
        if i % 2 == 1:
            db.session.add(
                Bounce(
                    subscriber_id=reader,
                    delivery_id=copy.id,
                    kind=KINDS[i % 4],
                    reason=REASONS[i % 3],
                    domain=f"d{i % 3}.example",
                )
            )
    db.session.commit()


def _figures(api, editor_client, issue_id: int) -> dict:
    """What the API and the issue page show of the issue."""
    one = api.get(f"/issues/{issue_id}").json
    listed = next(item for item in api.get("/issues").json["items"] if item["id"] == issue_id)
    page = editor_client.get(f"/admin/issues/{issue_id}").text
    shown = {key: one[key] for key in ("counts", "bounces", "clicks", "links", "opens", "people")}
    assert {key: listed[key] for key in shown} == shown
    shown["page"] = [
        line for line in page.splitlines() if any(k in line for k in ("<td>", "sent ·", "opened"))
    ]
    return shown


def _counted_through_the_copies(issue_id: int) -> dict:
    """The issue's bounces as counted before: joined through its deliveries."""
    rows = db.session.execute(
        sa.select(Bounce.kind, Bounce.reason, sa.func.count())
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .where(Delivery.issue_id == issue_id)
        .group_by(Bounce.kind, Bounce.reason)
    ).all()
    counted: dict = {kind: 0 for kind in KINDS}
    by_reason: dict = {}
    for kind, reason, n in rows:
        counted[kind] += n
        by_reason[reason] = by_reason.get(reason, 0) + n
    return {**counted, "by_reason": by_reason}


# --- The same figures --------------------------------------------------------------------


@pytest.mark.slow
def test_an_issues_figures_are_the_same_counted_from_its_copies_or_kept_at_its_finish(
    api, editor_client, weekly
):
    weekly.track_opens = True
    issue = _issue(weekly.id, 1)
    _copies_with_figures(issue, _readers(weekly.id, 40))
    counted = _figures(api, editor_client, issue.id)
    assert counted["counts"] == {"total": 40, "sent": 24, "failed": 8, "pending": 8}
    assert counted["bounces"] == _counted_through_the_copies(issue.id)
    assert counted["clicks"]["total"] == 39 and counted["opens"]["unique"] == 8

    ledger.keep_final_counts(issue.id)
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).final_counts == counted["counts"]
    assert _figures(api, editor_client, issue.id) == counted


def test_the_list_of_issues_shows_each_issues_own_figures_kept_or_counted(api, weekly):
    issues = [_issue(weekly.id, n, status) for n, status in ((1, "sent"), (2, "sending"))]
    _copies_with_figures(issues[0], _readers(weekly.id, 10))
    _copies_with_figures(issues[1], _readers(weekly.id, 15, first=10))
    before = {item["id"]: item for item in api.get("/issues").json["items"]}
    ledger.keep_final_counts(issues[0].id)
    ledger.keep_final_counts(issues[1].id)  # still sending: counted on every look
    db.session.expire_all()
    assert [issue.final_counts is not None for issue in issues] == [True, False]
    assert {item["id"]: item for item in api.get("/issues").json["items"]} == before
    assert before[issues[1].id]["counts"]["total"] == 15


# --- Final counts: kept once, when they change no more -------------------------------------


@pytest.mark.slow
def test_a_sent_issue_keeps_its_counts_at_its_finish_and_is_not_counted_again(api, weekly, inbox):
    issue = send_one_batch(weekly, 3)
    inbox.wait_for(3)
    db.session.expire_all()
    issue = db.session.get(Issue, issue.id)
    assert issue.status == "sent"
    assert issue.final_counts == {"sent": 3, "failed": 0, "pending": 0, "total": 3}
    db.session.expunge_all()
    with counting_statements() as seen:
        listed = api.get("/issues").json["items"]
    assert listed[0]["counts"] == issue.final_counts
    assert not [sql for sql in seen if "deliveries.status, count(*)" in sql], seen


def test_a_cancelled_issue_is_counted_on_each_look_as_its_readers_leave(api, weekly):
    """Its pending copies go when their readers leave: its counts are not final."""
    issue = _issue(weekly.id, 1, status="sending")
    _copies_with_figures(issue, _readers(weekly.id, 10))
    lifecycle.cancel_issue(issue)
    ledger.keep_final_counts(issue.id)
    assert issue.final_counts is None
    leaving = db.session.scalar(
        sa.select(Delivery.subscriber_id).where(Delivery.status == "pending").limit(1)
    )
    service.unsubscribe(
        db.session.get(Subscriber, leaving).subscriptions[0], "no more", notify=False
    )
    counts = api.get(f"/issues/{issue.id}").json["counts"]
    assert counts == {"total": 9, "sent": 6, "failed": 2, "pending": 1}


# --- Bounces keep their issue ------------------------------------------------------------


def test_a_bounce_keeps_the_issue_of_the_copy_it_is_about(app, weekly):
    """Named by its return path or, where bounces reach a mailbox without one, by address:
    the subscriber's last copy. One about a reader with no copy counts for no issue."""
    app.config["BOUNCES_BY_ADDRESS"] = True
    issue = _issue(weekly.id, 1)
    with_copy, without = _readers(weekly.id, 2)
    db.session.add(Delivery(issue_id=issue.id, subscriber_id=with_copy, status="sent", sent_at=NOW))
    db.session.commit()
    for reader in (with_copy, without):
        email = db.session.get(Subscriber, reader).email
        intake.take(dsn(email, "5.1.1"), [f"bounces@{BOUNCE_DOMAIN}"], "smtp")
    kept = dict(db.session.execute(sa.select(Bounce.subscriber_id, Bounce.issue_id)).all())
    assert kept == {with_copy: issue.id, without: None}
    assert bounce_history.counts_for_issue(issue.id)["hard"] == 1
    assert [row.email for row in bounce_history.for_issue(issue.id)] == ["r0@d0.example"]


def test_a_bounce_written_with_only_its_delivery_gets_the_deliverys_issue(weekly):
    issue = _issue(weekly.id, 1)
    [reader] = _readers(weekly.id, 1)
    copy = Delivery(issue_id=issue.id, subscriber_id=reader, status="sent")
    db.session.add(copy)
    db.session.flush()
    db.session.add(Bounce(subscriber_id=reader, delivery_id=copy.id, kind="soft"))
    db.session.commit()
    assert db.session.scalar(sa.select(Bounce.issue_id)) == issue.id


# --- Statements a call: the same for 50 issues as for 5 ----------------------------------


@pytest.mark.slow
def test_listing_50_issues_with_their_figures_costs_as_many_statements_as_5(
    client, api_headers, weekly
):
    weekly.track_opens = True
    list_id = weekly.id

    def add(first: int, n: int) -> None:
        for number in range(first + 1, first + n + 1):
            issue = _issue(list_id, number, "sent" if number % 2 else "sending")
            _copies_with_figures(issue, _readers(list_id, 5, first=number * 5))
            ledger.keep_final_counts(issue.id)

    def statements() -> int:
        db.session.expunge_all()
        with counting_statements() as seen:
            answer = client.get("/api/v1/issues", headers=api_headers)
        assert answer.status_code == 200
        return len(seen), len(answer.json["items"])

    add(0, 5)
    few = statements()
    add(5, 45)
    many = statements()
    assert (few[1], many[1]) == (5, 50)
    assert many[0] == few[0]


# --- The planner (PostgreSQL) ------------------------------------------------------------


@pytest.fixture
def postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans are PostgreSQL's")


FILL = [
    """INSERT INTO subscribers (email, name, status, attributes, bounce_score, no_tracking,
        created_at)
       SELECT 'reader' || k || '@example.org', '', 'active', '{{}}', 0, false, now()
       FROM generate_series(1, 5000) AS k""",
    """INSERT INTO issues (list_id, number, subject, preheader, intro, status, kind,
        started_at, finished_at, error_streak, dead_count, dead_need, created_at)
       SELECT {list_id}, n, '#' || n, '', '', 'sent', 'digest', now(), now(), 0, 0, 0, now()
       FROM generate_series(1, 40) AS n""",
    """INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, clicked_at,
        clicked_by_machine, opened_at, opened_by_machine)
       SELECT i.id, s.id, 'sent', 1,
              CASE WHEN s.id % 50 = 0 THEN now() END, s.id % 100 = 0,
              CASE WHEN s.id % 20 = 0 THEN now() END, s.id % 40 = 0
       FROM issues i CROSS JOIN subscribers s""",
    """INSERT INTO issue_links (issue_id, position, url)
       SELECT i.id, p, 'https://example.org/' || p FROM issues i, generate_series(0, 4) p""",
    """INSERT INTO link_clicks (link_id, clicked_at, likely_machine)
       SELECT l.id, now(), k % 7 = 0 FROM issue_links l, generate_series(1, 200) k""",
    """INSERT INTO bounces (subscriber_id, delivery_id, issue_id, kind, reason, status,
        domain, detail, source, received_at)
       SELECT subscriber_id, id, issue_id, (ARRAY['hard','soft','sender','complaint'])[1 + id % 4],
              'mailbox_full', '', 'example.org', '', 'smtp', now()
       FROM deliveries WHERE id % 100 = 0""",
]
TABLES = ("subscribers", "issues", "deliveries", "issue_links", "link_clicks", "bounces")


# 200,000 copies made and vacuumed: in CI's full suite, not the quick loop.
@pytest.mark.slow
def test_the_planner_counts_an_issues_figures_from_the_new_indexes(
    postgresql, client, api_headers, weekly
):
    """200,000 copies, 4,000 clicked and 10,000 opened; 40,000 clicks; 2,000 bounces: a page
    of 3 issues reads its own from the indexes, no copy, no click, no bounce row."""
    weekly.track_opens = True
    for statement in FILL:
        db.session.execute(sa.text(statement.format(list_id=weekly.id)))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in TABLES:
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
    db.session.expunge_all()
    with counting_statements(with_parameters=True) as seen:
        answer = client.get("/api/v1/issues?limit=3", headers=api_headers)
    for item in answer.json["items"]:
        assert item["bounces"] == _counted_through_the_copies(item["id"])
    wanted = {
        "bounces.kind": "Index Only Scan using ix_bounces_issue_kind_reason",
        "NOT deliveries.clicked_by_machine": "Index Only Scan using ix_deliveries_clicked",
        "deliveries.opened_by_machine)": "Index Only Scan using ix_deliveries_opened",
        "LEFT OUTER JOIN link_clicks": "Index Only Scan using ix_link_clicks_link_machine",
    }
    with db.engine.connect() as connection:
        for mark, scan in wanted.items():
            sql, parameters = next((sql, p) for sql, p in seen if mark in sql)
            rows = connection.exec_driver_sql("EXPLAIN " + sql, parameters).all()
            plan = "\n".join(row[0] for row in rows)
            assert scan in plan, plan
            for big in ("deliveries", "link_clicks", "bounces"):
                assert f"Seq Scan on {big}" not in plan, plan


# --- Clicks over time: a bounded number of moments -----------------------------------------


def _clicked_over(weekly, started: datetime, moments: list[datetime]) -> Issue:
    weekly.track_clicks = True
    issue = _issue(weekly.id, 1, started=started)
    link = IssueLink(issue_id=issue.id, position=0, url="https://example.org/")
    db.session.add(link)
    db.session.flush()
    db.session.add_all(LinkClick(link_id=link.id, clicked_at=moment) for moment in moments)
    db.session.commit()
    return issue


def test_a_year_of_clicks_is_shown_in_at_most_a_hundred_moments_all_counted(weekly):
    started = NOW - timedelta(days=400)
    moments = [started + timedelta(days=d, hours=3) for d in range(400)] + [NOW]
    issue = _clicked_over(weekly, started, moments)
    chart = issue_charts.click_chart(issue)
    [line] = chart.lines
    assert len(line.points) <= analytics.MOST_MOMENTS
    assert sum(point.value for point in line.points) == len(moments)
    assert re.match(r"Clicks every \d+ days", chart.title), chart.title
    table = analytics.issue_stats(issue)
    assert len(table.over_time) <= analytics.MOST_MOMENTS
    assert sum(n for _, n in table.over_time) == len(moments)
    assert table.every > 1 and table.by_day


def test_a_chart_within_the_bound_keeps_one_moment_an_hour_as_before(weekly):
    started = NOW.replace(minute=0, second=0) - timedelta(hours=30)
    issue = _clicked_over(weekly, started, [started + timedelta(hours=h) for h in (0, 1, 1, 29)])
    chart = issue_charts.click_chart(issue)
    assert chart.title.startswith("Clicks an hour")
    assert [point.value for point in chart.lines[0].points] == [1, 2] + [0] * 27 + [1]
    table = analytics.issue_stats(issue)
    assert table.every == 1 and [n for _, n in table.over_time] == [1, 2, 1]


# --- The migration -----------------------------------------------------------------------


@pytest.mark.slow
def test_the_migration_gives_old_bounces_their_issue_and_finished_issues_their_counts(
    make_app, tmp_path
):
    from flask_migrate import upgrade

    other = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with other.app_context():
        upgrade(revision="0030")
        row = functools.partial(sqlite_row, every_column=False)  # keys only as given
        with db.engine.begin() as connection:
            row(connection, "mailing_lists", id=1, slug="weekly")
            for reader in (1, 2, 3):
                row(connection, "subscribers", id=reader, email=f"r{reader}@example.org")
            for issue, status in ((1, "sent"), (2, "paused"), (3, "cancelled")):
                row(connection, "issues", id=issue, list_id=1, number=issue, status=status)
            copies = ((1, 1, 1, "sent"), (2, 1, 2, "failed"), (3, 2, 3, "pending"))
            for copy, issue, reader, status in copies:
                row(
                    connection,
                    "deliveries",
                    id=copy,
                    issue_id=issue,
                    subscriber_id=reader,
                    status=status,
                )
            for bounce, copy in ((1, 2), (2, 3), (3, None)):
                row(connection, "bounces", id=bounce, subscriber_id=2, delivery_id=copy)
        upgrade()
        with db.engine.connect() as connection:
            bounces = connection.exec_driver_sql("SELECT id, issue_id FROM bounces ORDER BY id")
            assert bounces.all() == [(1, 1), (2, 2), (3, None)]
            issues = connection.exec_driver_sql("SELECT id, final_counts FROM issues ORDER BY id")
            assert [(i, counts and json.loads(counts)) for i, counts in issues] == [
                (1, {"sent": 1, "failed": 1, "pending": 0, "total": 2}),
                (2, None),
                (3, None),  # cancelled: its pending copies go as their readers leave
            ]
        db.engine.dispose()
