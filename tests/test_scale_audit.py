"""Pages at an organisation's size after years: a page costs the same number of SQL
statements for 50 rows as for 5 (no statement per row shown), and on PostgreSQL the planner
walks an index to a page of newest-first rows instead of sorting the whole table.
bench/pages.py prints each page's statements, times and plans at 200,000 subscribers."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import counting_statements, issues_sent_to

from newsletter.extensions import db
from newsletter.models import (
    Bounce,
    Delivery,
    Issue,
    IssueItem,
    IssueLink,
    IssueVariant,
    LinkClick,
    Post,
    Subscriber,
    Subscription,
)

NOW = datetime.now(UTC)


def _statements(client, path: str, headers: dict | None = None) -> tuple[int, object]:
    db.session.expunge_all()  # as in a fresh request: nothing already loaded
    with counting_statements() as seen:
        answer = client.get(path, headers=headers or {})
    assert answer.status_code == 200, (path, answer.status_code)
    return len(seen), answer


def _same_for_5_and_50(client, path, add, headers=None, shown=None) -> None:
    """The page's statements with 5 rows and with 50 (`add(first, n)` adds rows; `shown`
    says how many of them the answer shows)."""
    add(0, 5)
    few, answer = _statements(client, path, headers)
    if shown:
        assert shown(answer) == 5
    add(5, 45)
    many, answer = _statements(client, path, headers)
    if shown:
        assert shown(answer) == 50
    assert many == few, f"{path}: {few} statements for 5 rows, {many} for 50"


def _subscribers_on_two_lists(*lists):
    list_ids = [m.id for m in lists]

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            reader = Subscriber(email=f"reader{i}@example.org", name=f"کریمی {i}", attributes={})
            reader.subscriptions = [
                Subscription(list_id=list_id, status="confirmed", delivery="digest")
                for list_id in list_ids
            ]
            db.session.add(reader)
        db.session.commit()

    return add


def test_the_admin_search_shows_50_subscribers_and_their_lists_in_as_many_statements_as_5(
    editor_client, weekly, make_list
):
    other = make_list(slug="monthly", name="Monthly")
    _same_for_5_and_50(
        editor_client,
        "/admin/subscribers?q=example.org",
        _subscribers_on_two_lists(weekly, other),
        shown=lambda answer: answer.text.count("weekly (confirmed), monthly (confirmed)"),
    )


def test_the_api_gives_50_subscribers_with_their_subscriptions_in_as_many_statements_as_5(
    client, api_headers, weekly, make_list
):
    other = make_list(slug="monthly", name="Monthly")
    _same_for_5_and_50(
        client,
        "/api/v1/subscribers",
        _subscribers_on_two_lists(weekly, other),
        headers=api_headers,
        shown=lambda answer: len(answer.json["items"]),
    )
    first = client.get("/api/v1/subscribers?limit=1", headers=api_headers).json["items"][0]
    assert sorted(s["list"] for s in first["subscriptions"]) == ["monthly", "weekly"]


def _sent_digests(mailing_list, decided: bool = False):
    """Sent digests with three items each; `decided`: an A/B test of subjects decided, so
    the archive shows the winner's subject."""
    list_id = mailing_list.id

    def add(first: int, n: int) -> None:
        for number in range(first + 1, first + n + 1):
            issue = Issue(
                list_id=list_id,
                number=number,
                subject=f"Working title {number}",
                status="sent",
                started_at=NOW - timedelta(days=7 * (60 - number)),
            )
            issue.items = [
                IssueItem(position=p, title=f"Story {p}", url=f"https://example.org/{number}/{p}")
                for p in range(3)
            ]
            if decided:
                issue.variants = [
                    IssueVariant(position=p, subject=f"Subject {number}{letter}")
                    for p, letter in enumerate("AB")
                ]
            db.session.add(issue)
            db.session.flush()
            if decided:
                issue.ab_winner = issue.variants[1].id
        db.session.commit()

    return add


def test_the_archive_feed_gives_50_issues_and_their_titles_in_as_many_statements_as_5(
    client, weekly
):
    _same_for_5_and_50(
        client,
        "/archive/weekly/feed.xml",
        _sent_digests(weekly),
        shown=lambda answer: answer.text.count("<item>"),
    )


def test_the_archive_shows_50_winning_subjects_in_as_many_statements_as_5(client, weekly):
    _same_for_5_and_50(
        client,
        "/archive/weekly",
        _sent_digests(weekly, decided=True),
        shown=lambda answer: len(re.findall(r"Subject \d+B", answer.text)),
    )


def test_the_admin_posts_page_and_the_api_posts_cost_the_same_for_50_posts_as_for_5(
    editor_client, api_headers, weekly
):
    list_id = weekly.id

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            db.session.add(
                Post(
                    list_id=list_id,
                    guid=f"g{i}",
                    url=f"https://example.org/{i}",
                    title=f"Post {i}",
                    published_at=NOW - timedelta(hours=i + 1),
                )
            )
        db.session.commit()

    add(0, 5)
    few = [_statements(editor_client, "/admin/lists/weekly/posts")[0]]
    few.append(_statements(editor_client, "/api/v1/posts", api_headers)[0])
    add(5, 45)
    many = [_statements(editor_client, "/admin/lists/weekly/posts")[0]]
    posts = _statements(editor_client, "/api/v1/posts", api_headers)
    many.append(posts[0])
    assert len(posts[1].json["items"]) == 50
    assert many == few


@pytest.mark.slow
def test_the_issue_page_shows_50_links_and_bounce_reasons_in_as_many_statements_as_5(
    editor_client, weekly
):
    """Per-link clicks, bounces by reason and by domain, failures: grouped in SQL."""
    issue = Issue(list_id=weekly.id, number=1, subject="Sent", status="sent", started_at=NOW)
    db.session.add(issue)
    db.session.commit()
    issue_id = issue.id

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            reader = Subscriber(email=f"r{i}@domain{i}.example", attributes={})
            db.session.add(reader)
            db.session.flush()
            copy = Delivery(issue_id=issue_id, subscriber_id=reader.id, status="failed")
            link = IssueLink(issue_id=issue_id, position=i, url=f"https://example.org/{i}")
            db.session.add_all([copy, link])
            db.session.flush()
            db.session.add(LinkClick(link_id=link.id, clicked_at=NOW))
            db.session.add(
                Bounce(
                    subscriber_id=reader.id,
                    delivery_id=copy.id,
                    kind="hard",
                    reason=f"reason_{i}",
                    domain=f"domain{i}.example",
                )
            )
        db.session.commit()

    _same_for_5_and_50(editor_client, f"/admin/issues/{issue_id}", add)


@pytest.mark.slow
def test_a_subscribers_page_shows_50_copies_and_bounces_in_as_many_statements_as_5(
    editor_client, weekly
):
    reader = Subscriber(email="reader@example.org", attributes={})
    db.session.add(reader)
    db.session.commit()
    reader_id, list_id = reader.id, weekly.id

    def add(first: int, n: int) -> None:
        issues_sent_to(list_id, reader_id, first + 1, n)

    _same_for_5_and_50(editor_client, f"/admin/subscribers/{reader_id}", add)


def test_the_csv_export_streams_and_costs_the_same_for_50_subscribers_as_for_5(
    editor_client, weekly, make_list
):
    """Written a keyset page of subscribers at a time as the browser reads it, never the
    whole list in memory (bench/pages.py: 200,000 subscribers, no growth of the peak)."""
    other = make_list(slug="monthly", name="Monthly")
    _same_for_5_and_50(
        editor_client,
        "/admin/lists/weekly/export.csv",
        _subscribers_on_two_lists(weekly, other),
        shown=lambda answer: answer.text.count("@example.org,"),
    )
    answer = editor_client.get("/admin/lists/weekly/export.csv", buffered=False)
    assert answer.is_streamed
    answer.close()


# --- What the planner does with enough rows (PostgreSQL) ----------------------------------


@pytest.fixture
def postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans are PostgreSQL's")


def _fill(*statements: str) -> None:
    """Rows made set-wise, then fresh planner statistics and visibility map, as autovacuum
    leaves them."""
    for statement in statements:
        db.session.execute(sa.text(statement))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("posts", "subscribers", "subscriptions", "deliveries"):
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")


def _plans(statements: list, table: str) -> list[str]:
    """The plans of the statements that read `table`."""
    with db.engine.connect() as connection:
        return [
            "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql, parameters))
            for sql, parameters in statements
            if f"FROM {table}" in sql
        ]


def _plan_of(client, path: str, headers: dict, table: str) -> str:
    """The plan of the statement the page runs that reads `table` with ORDER BY."""
    db.session.expunge_all()
    with counting_statements(with_parameters=True) as seen:
        assert client.get(path, headers=headers).status_code == 200
    found = [
        (sql, parameters)
        for sql, parameters in seen
        if f"FROM {table}" in sql and "ORDER BY" in sql and "count(" not in sql
    ]
    assert found, f"{path} read no {table} in order"
    sql, parameters = found[0]
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN " + sql, parameters).all()
    return "\n".join(row[0] for row in rows)


POSTS = """INSERT INTO posts (list_id, guid, url, title, source, excerpt, published_at,
    first_seen_at)
    SELECT {list_id}, 'g' || k, 'https://example.org/' || k, 'Post ' || k, '', '',
           CASE WHEN k % 10 <> 0 THEN now() - k * interval '1 hour' END,
           now() - k * interval '1 hour'
    FROM generate_series(1, 20000) AS k"""


@pytest.mark.slow
def test_a_page_of_posts_newest_first_walks_an_index_not_a_sort_of_every_post(
    postgresql, editor_client, api_headers, weekly
):
    _fill(POSTS.format(list_id=weekly.id))
    for path, headers in (
        ("/admin/lists/weekly/posts?since=2000-01-01&page=3", {}),
        ("/api/v1/posts?list=weekly", api_headers),
        ("/api/v1/posts", api_headers),
    ):
        plan = _plan_of(editor_client, path, headers, "posts")
        assert "Index Scan Backward using ix_posts_" in plan, plan
        assert "Sort" not in plan and "Seq Scan" not in plan, plan


SUBSCRIBERS = """INSERT INTO subscribers (email, name, status, attributes, bounce_score,
    no_tracking, created_at)
    SELECT 'reader' || k || '@example.org', 'Reader ' || k, 'active', '{{}}', 0, false, now()
    FROM generate_series(1, 20000) AS k;
    INSERT INTO subscriptions (subscriber_id, list_id, status, version, delivery, created_at)
    SELECT id, {list_id}, 'confirmed', 0, 'digest', now() FROM subscribers"""


@pytest.mark.slow
def test_the_api_finds_a_subscriber_by_address_and_pages_by_id_through_indexes(
    postgresql, client, api_headers, weekly
):
    _fill(SUBSCRIBERS.format(list_id=weekly.id))
    by_address = _plan_of(
        client, "/api/v1/subscribers?email=reader777@example.org", api_headers, "subscribers"
    )
    assert "subscribers_email_key" in by_address, by_address
    page = _plan_of(client, "/api/v1/subscribers?after=5000", api_headers, "subscribers")
    assert "subscribers_pkey" in page and "Sort" not in page, page
    found = client.get("/api/v1/subscribers?email=reader777@example.org", headers=api_headers)
    assert [item["email"] for item in found.json["items"]] == ["reader777@example.org"]


@pytest.mark.slow
def test_an_issues_copies_are_counted_through_the_ledgers_index(
    postgresql, client, api_headers, weekly
):
    # Ten issues: the one asked for is a tenth of the ledger, as one issue of years of them is
    # a small part (with a third, a plain read of the table can rightly cost the planner less).
    issues = []
    for number in range(1, 11):
        issue = Issue(list_id=weekly.id, number=number, subject=f"#{number}", status="sent")
        db.session.add(issue)
        db.session.flush()
        issues.append(issue.id)
    db.session.commit()
    _fill(
        SUBSCRIBERS.format(list_id=weekly.id),
        f"""INSERT INTO deliveries (issue_id, subscriber_id, status, attempts)
            SELECT i, s.id, CASE WHEN s.id % 50 = 0 THEN 'failed' ELSE 'sent' END, 1
            FROM subscribers s CROSS JOIN unnest(ARRAY{issues}) AS i""",
    )
    db.session.expunge_all()
    with counting_statements(with_parameters=True) as seen:
        answer = client.get(f"/api/v1/issues/{issues[0]}", headers=api_headers)
    assert answer.json["counts"] == {"total": 20000, "sent": 19600, "failed": 400, "pending": 0}
    sql, parameters = next(
        (sql, p) for sql, p in seen if "GROUP BY deliveries.issue_id, deliveries.status" in sql
    )
    with db.engine.connect() as connection:
        plan = "\n".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + sql, parameters))
    assert "ix_deliveries_issue_status_subscriber" in plan, plan
    assert "Seq Scan on deliveries" not in plan, plan


@pytest.mark.slow
def test_the_dashboard_counts_subscribers_and_their_weeks_through_indexes(
    postgresql, editor_client, weekly
):
    """Each list's confirmed subscribers, and the joins and leaves of the 12 weeks shown out
    of years of them: no read of every subscription on each view."""
    _fill(
        SUBSCRIBERS.format(list_id=weekly.id),
        """UPDATE subscriptions SET confirmed_at = now() - subscriber_id * interval '1 hour',
               unsubscribed_at = CASE WHEN subscriber_id % 10 = 0
                                 THEN now() - subscriber_id * interval '1 hour' END,
               status = CASE WHEN subscriber_id % 10 = 0 THEN 'unsubscribed'
                        ELSE 'confirmed' END""",
    )
    db.session.expunge_all()
    with counting_statements(with_parameters=True) as seen:
        page = editor_client.get("/admin/")
    assert "18000" in page.text, page.text
    plans = _plans(seen, "subscriptions")
    assert len(plans) >= 3
    for plan in plans:
        assert "Seq Scan on subscriptions" not in plan, plan
