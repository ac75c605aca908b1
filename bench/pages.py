"""Every admin page, API endpoint and public page at the size an organisation reaches after
years: 200,000 subscribers on 3 lists, 500 sent issues (the newest with a delivery per
subscriber, the others with a few thousand each: the shapes the queries need, not the 100
million rows of a real ledger), 50,000 posts, 100,000 clicks, 20,000 bounce reports and
10,000 imports. The data is made set-wise (INSERT ... SELECT generate_series) in a
PostgreSQL database of its own, created from the given one and dropped at the end.

For each page it prints the SQL statements one view runs, the median milliseconds of
several views, and the slowest statement with its EXPLAIN (ANALYZE, BUFFERS), marking a
sequential scan of a big table and a sort of many rows. Then the CSV export of 200,000
subscribers: its time, its size, and the process's peak memory before and after.
Figures are printed, never asserted.

    .venv/bin/python bench/pages.py [--subscribers 200000] [--views 5] [--plans]
        [--database-url postgresql://127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, in_process_app, kept_database  # noqa: E402

BIG_TABLES = (
    "subscribers",
    "subscriptions",
    "deliveries",
    "posts",
    "link_clicks",
    "bounces",
    "imports",
)
PASSWORD = "bench password"

# The data, in the order it is made; :n is the number of subscribers.
DATA = [
    # Three lists (the one in_process_app made is the first), one of them Persian.
    """INSERT INTO mailing_lists (slug, name, description, from_email, from_name, opt_in,
        public, send_weekday, send_time, timezone, language, direction, calendar, each_post,
        each_post_hold, embed_return_urls, footer, postal_address, autopilot, autopilot_send,
        track_clicks, track_opens, track_subscribers, created_at)
       VALUES
       ('monthly', 'Monthly', '', 'm@example.org', '', 'double', true, 4, '09:00', 'UTC', 'en',
        'ltr', 'gregorian', false, 30, '', '', '', false, false, true, true, true, now()),
       ('farsi', 'هفته‌نامه', '', 'f@example.org', '', 'double', true, 4, '09:00',
        'Asia/Tehran', 'fa', 'rtl', 'jalali', false, 30, '', '', '', false, false, true, false,
        true, now())""",
    "UPDATE mailing_lists SET track_opens = true, track_subscribers = true",
    # Subscribers: English and Persian names, a dozen domains, a few bounced and blocklisted.
    """INSERT INTO subscribers (email, name, status, attributes, timezone, locale, bounce_score,
        no_tracking, created_at)
       SELECT 'reader' || i || '@' || (ARRAY['gmail.com','yahoo.com','outlook.com',
              'example.org','mail.ir','chmail.ir','hotmail.com','icloud.com','posteo.de',
              'proton.me','uni.ac.ir','company.example'])[1 + i % 12],
              CASE WHEN i % 3 = 0 THEN 'کریمی ' || i WHEN i % 3 = 1 THEN 'Reader ' || i
                   ELSE 'محمد رضایی ' || i END,
              CASE WHEN i % 50 = 0 THEN 'bounced' WHEN i % 997 = 0 THEN 'blocklisted'
                   ELSE 'active' END,
              (CASE WHEN i % 10 = 0 THEN '{"city": "Tehran"}' ELSE '{}' END)::json,
              CASE WHEN i % 4 = 0 THEN 'Asia/Tehran' END,
              CASE WHEN i % 3 = 0 THEN 'fa' END,
              0, i % 40 = 0, now() - (i % 1000) * interval '1 day'
       FROM generate_series(1, :n) AS i""",
    # Everyone on the first list, half on the second, a quarter on the Persian one.
    """INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source,
        created_at, confirmed_at, unsubscribed_at, unsubscribe_reason, version, delivery)
       SELECT s.id, l.id,
              CASE WHEN s.id % 20 = 0 THEN 'unsubscribed' WHEN s.id % 31 = 0
                   THEN 'unconfirmed' ELSE 'confirmed' END,
              now() - (s.id % 1000) * interval '1 day', 'form',
              now() - (s.id % 1000) * interval '1 day',
              CASE WHEN s.id % 31 <> 0 THEN now() - (s.id % 1000) * interval '1 day' END,
              CASE WHEN s.id % 20 = 0 THEN now() - (s.id % 90) * interval '1 day' END,
              CASE WHEN s.id % 20 = 0 THEN 'too many emails' END, 0, 'digest'
       FROM subscribers s JOIN mailing_lists l
         ON l.slug = 'bench' OR (l.slug = 'monthly' AND s.id % 2 = 0)
            OR (l.slug = 'farsi' AND s.id % 4 = 0)""",
    # 500 sent digests, weekly, the newest two days ago: 250 on the first list, 150 and 100
    # on the others.
    """INSERT INTO issues (list_id, number, subject, preheader, intro, status, kind, send_at,
        started_at, finished_at, progress_at, error_streak, dead_count, dead_need, created_at)
       SELECT l.id, n, l.name || ' #' || n, '', 'Hello', 'sent', 'digest', t.at, t.at,
              t.at + interval '1 hour', t.at, 0, 0, 0, t.at
       FROM mailing_lists l
       JOIN (VALUES ('bench', 250), ('monthly', 150), ('farsi', 100)) AS counts(slug, c)
         ON counts.slug = l.slug
       CROSS JOIN LATERAL generate_series(1, c) AS n
       CROSS JOIN LATERAL (SELECT now() - (c - n) * interval '7 days' - interval '2 days')
         AS t(at)""",
    # A draft and a scheduled one, as an editor's week has.
    """INSERT INTO issues (list_id, number, subject, preheader, intro, status, kind, send_at,
        error_streak, dead_count, dead_need, created_at, since, until)
       SELECT id, 251, 'Next', '', '', 'draft', 'digest', NULL, 0, 0, 0, now(),
              now() - interval '7 days', now()
       FROM mailing_lists WHERE slug = 'bench'""",
    """INSERT INTO issue_items (issue_id, position, section, title, url, source, excerpt)
       SELECT i.id, p, '', 'Post ' || p || ' of ' || i.number,
              'https://example.org/' || i.id || '/' || p, 'Site', 'About it.'
       FROM issues i CROSS JOIN generate_series(0, 9) AS p""",
    """INSERT INTO issue_links (issue_id, position, url)
       SELECT i.id, p, 'https://example.org/' || i.id || '/' || p
       FROM issues i CROSS JOIN generate_series(0, 9) AS p WHERE i.status = 'sent'""",
    # The newest digest of the first list: a copy for every subscriber of it.
    """INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, sent_at, clicked_at,
        opened_at, message_id)
       SELECT i.id, s.subscriber_id,
              CASE WHEN s.subscriber_id % 100 = 0 THEN 'failed' ELSE 'sent' END, 1,
              i.started_at,
              CASE WHEN s.subscriber_id % 5 = 0 THEN i.started_at + interval '2 hours' END,
              CASE WHEN s.subscriber_id % 3 = 0 THEN i.started_at + interval '1 hour' END,
              '<' || s.subscriber_id || '@bench>'
       FROM issues i JOIN subscriptions s ON s.list_id = i.list_id
       WHERE i.id = (SELECT max(id) FROM issues WHERE status = 'sent'
                     AND list_id = (SELECT id FROM mailing_lists WHERE slug = 'bench'))
       ORDER BY s.subscriber_id""",
    # Every other sent issue: 2,000 copies each (a million rows in all).
    """INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, sent_at, clicked_at)
       SELECT i.id, (i.id * 7919 + k * 97) % :n + 1, 'sent', 1, i.started_at,
              CASE WHEN k % 10 = 0 THEN i.started_at + interval '3 hours' END
       FROM issues i CROSS JOIN generate_series(1, 2000) AS k
       WHERE i.status = 'sent' AND NOT EXISTS (SELECT 1 FROM deliveries d
                                               WHERE d.issue_id = i.id)
       ON CONFLICT DO NOTHING""",
    # Each sent issue's copy counts, kept at its finish (ledger.keep_final_counts).
    """UPDATE issues SET final_counts = json_build_object('sent', c.sent, 'failed', c.failed,
                                                       'pending', c.pending, 'total', c.total)
       FROM (SELECT issue_id, count(*) FILTER (WHERE status = 'sent') AS sent,
                    count(*) FILTER (WHERE status = 'failed') AS failed,
                    count(*) FILTER (WHERE status = 'pending') AS pending, count(*) AS total
             FROM deliveries GROUP BY issue_id) AS c
       WHERE c.issue_id = issues.id AND issues.status = 'sent'""",
    # 100,000 clicks after their sends: half on the newest issue (in its first two days), the
    # rest spread over a year after each send; a third against a subscriber.
    """INSERT INTO link_clicks (link_id, clicked_at, subscriber_id)
       SELECT l.id, i.started_at + (k % 48) * interval '1 hour',
              CASE WHEN k % 3 = 0 THEN k % :n + 1 END
       FROM generate_series(1, 50000) AS k
       JOIN issue_links l ON l.position = k % 10 AND l.issue_id = (
            SELECT max(issue_id) FROM deliveries)
       JOIN issues i ON i.id = l.issue_id""",
    """INSERT INTO link_clicks (link_id, clicked_at, subscriber_id)
       SELECT l.id, least(now(), i.started_at + (k % 400) * interval '1 day'),
              CASE WHEN k % 3 = 0 THEN k % :n + 1 END
       FROM generate_series(1, 50000) AS k
       JOIN issue_links l ON l.id = (SELECT min(id) FROM issue_links)
            + (k * 31) % (SELECT count(*) FROM issue_links)
       JOIN issues i ON i.id = l.issue_id""",
    # 20,000 bounce reports: a quarter about the newest issue's copies.
    """INSERT INTO bounces (subscriber_id, delivery_id, issue_id, kind, reason, status, domain,
        detail, source, received_at)
       SELECT d.subscriber_id, d.id, d.issue_id,
              (ARRAY['hard','soft','sender','complaint'])[1 + k % 4],
              (ARRAY['no_such_user','mailbox_full','spam_blocked','policy','complaint',
                     'unknown'])[1 + k % 6],
              '5.1.1', split_part(s.email, '@', 2), '550 5.1.1 user unknown', 'smtp',
              now() - (k % 365) * interval '1 day'
       FROM generate_series(1, 20000) AS k
       JOIN deliveries d ON d.id = (SELECT min(id) FROM deliveries) + k * 53
       JOIN subscribers s ON s.id = d.subscriber_id""",
    # 50,000 posts over three years; one in ten without a date of its own.
    """INSERT INTO posts (list_id, guid, url, title, source, excerpt, published_at,
        first_seen_at)
       SELECT (SELECT min(id) FROM mailing_lists) + k % 3, 'guid-' || k,
              'https://example.org/post/' || k, 'Post ' || k, 'Site', 'About post ' || k,
              CASE WHEN k % 10 <> 0 THEN now() - (k % 1100) * interval '1 day' END,
              now() - (k % 1100) * interval '1 day'
       FROM generate_series(1, 50000) AS k""",
    # 10,000 imports, finished, with a few rejected rows each.
    """INSERT INTO imports (list_id, status, preconfirm, path, total, imported, rejected,
        errors, created_at, finished_at)
       SELECT (SELECT min(id) FROM mailing_lists), 'done', false, 'file' || k || '.csv', 100,
              97, 3, '[{"row": 2, "error": "not an address"}]'::json,
              now() - k * interval '1 hour', now() - k * interval '1 hour'
       FROM generate_series(1, 10000) AS k""",
    # As autovacuum leaves tables: statistics, and the visibility map index-only scans read.
    "VACUUM ANALYZE",
]


def build(app, subscribers: int) -> None:
    from newsletter.extensions import db

    with app.app_context():
        for statement in DATA:
            started = time.perf_counter()
            if statement.startswith("VACUUM"):  # outside a transaction
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.exec_driver_sql(statement)
            else:
                # psycopg's own cursor: without parameters, % is SQL's modulo.
                raw = db.session.connection().connection.driver_connection
                raw.execute(statement.replace(":n", str(subscribers)))
                db.session.commit()
            first = " ".join(statement.split()[:3])
            print(f"  {first:<40} {time.perf_counter() - started:6.1f} s", flush=True)


def built(app) -> bool:
    """Whether the database holds the data already (a kept one, from a run before)."""
    import sqlalchemy as sa

    from newsletter.extensions import db
    from newsletter.models import Issue

    with app.app_context():
        return bool(db.session.scalar(sa.select(sa.func.count()).select_from(Issue)))


def pages(app) -> list[tuple[str, str]]:
    """(name, path) of each page, with the ids of the rows the data made."""
    import sqlalchemy as sa

    from newsletter import links
    from newsletter.extensions import db
    from newsletter.models import Import, Issue, MailingList, Subscriber, Subscription

    with app.app_context():
        newest = db.session.scalar(
            sa.select(sa.func.max(Issue.id)).where(Issue.status == "sent", Issue.number == 250)
        )
        reader = db.session.get(Subscriber, 120)  # on all three lists, with copies and clicks
        subscription = db.session.scalar(
            sa.select(Subscription).where(Subscription.subscriber_id == reader.id).limit(1)
        )
        token = links.make(links.PREFERENCES, reader.id, subscription.list_id)
        imported = db.session.scalar(sa.select(sa.func.max(Import.id)))
        farsi = db.session.scalar(sa.select(MailingList.id).where(MailingList.slug == "farsi"))
        # Sent a year ago, clicked since (the clicks spread over 400 days after each send).
        year_old = db.session.scalar(
            sa.select(Issue.id)
            .join(MailingList, MailingList.id == Issue.list_id)
            .where(MailingList.slug == "bench", Issue.number == 200)
        )
    assert farsi
    return [
        ("admin dashboard", "/admin/"),
        ("admin subscribers", "/admin/subscribers"),
        ("admin subscribers, list", "/admin/subscribers?list=monthly"),
        ("admin search: address", "/admin/subscribers?q=reader123456@gmail.com"),
        ("admin search: partial", "/admin/subscribers?q=der1234"),
        ("admin search: domain", "/admin/subscribers?q=@posteo.de"),
        ("admin search: Persian", "/admin/subscribers?q=کریمی+12"),
        ("admin search: rare", "/admin/subscribers?q=nobody-here"),
        ("admin subscriber", f"/admin/subscribers/{reader.id}"),
        ("admin subscriber clicks", f"/admin/subscribers/{reader.id}/clicks"),
        ("admin issues", "/admin/issues"),
        ("admin issue (200k copies)", f"/admin/issues/{newest}"),
        ("admin issue (a year of clicks)", f"/admin/issues/{year_old}"),
        ("admin issue progress", f"/admin/issues/{newest}/progress.json"),
        ("admin posts", "/admin/lists/bench/posts"),
        ("admin posts, 3 years", "/admin/lists/bench/posts?since=2020-01-01&page=200"),
        ("admin lists", "/admin/lists"),
        ("admin held", "/admin/held"),
        ("admin import report", f"/admin/imports/{imported}"),
        ("api issues", "/api/v1/issues"),
        ("api issues, 50", "/api/v1/issues?limit=50"),
        ("api issue", f"/api/v1/issues/{newest}"),
        ("api subscribers", "/api/v1/subscribers"),
        ("api subscribers, list", "/api/v1/subscribers?list=farsi&after=100000"),
        ("api subscriber by email", "/api/v1/subscribers?email=reader777@gmail.com"),
        ("api posts", "/api/v1/posts"),
        ("api lists", "/api/v1/lists"),
        ("api import", f"/api/v1/imports/{imported}"),
        ("archive index", "/archive/bench"),
        ("archive page 4", "/archive/bench?page=4"),
        ("archive issue", "/archive/bench/200"),
        ("archive feed.xml", "/archive/bench/feed.xml"),
        ("preferences", f"/preferences/{token}"),
    ]


def signed_in(app):
    """A test client signed in as an editor, and an API token's headers."""
    from newsletter import accounts
    from newsletter.extensions import db

    with app.app_context():
        try:
            user = accounts.create_user("editor@example.org", PASSWORD, "editor")
        except accounts.UserExists:  # a kept database's, from a run before
            user = accounts.find_user("editor@example.org")
        headers = {"Authorization": f"Bearer {accounts.create_token(user)}"}
        db.session.commit()
    client = app.test_client()
    page = client.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"email": "editor@example.org", "password": PASSWORD, "csrf_token": token}
    assert client.post("/admin/login", data=form).status_code in (302, 303)
    return client, headers


class Recorder:
    """Each statement a view runs, with its parameters and its time."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        import sqlalchemy as sa

        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        import sqlalchemy as sa

        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        spent = time.perf_counter() - conn.info.pop("bench_started")
        self.seen.append((spent, statement, parameters))


def explain(app, statement: str, parameters) -> list[str]:
    from newsletter.extensions import db

    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
        return []
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
        ).fetchall()
        conn.rollback()
    return [row[0] for row in rows]


def warnings_in(plan: list[str]) -> list[str]:
    """A big table read whole, and a sort of many rows."""
    found = []
    for line in plan:
        scan = re.search(r"Seq Scan on (\w+)", line)
        rows = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", line)
        if scan and scan.group(1) in BIG_TABLES:
            found.append(f"seq scan of {scan.group(1)}")
        if "Sort  (" in line and rows and int(rows.group(1)) > 1000:
            found.append(f"sort of {rows.group(1)} rows")
    return sorted(set(found))


def measure(app, client, headers, name, path, views: int, plans: bool, profile=False) -> None:
    from newsletter.extensions import db

    headers = headers if path.startswith("/api/") else {}
    with app.app_context():
        engine = db.engine
    client.get(path, headers=headers)  # warm: caches, the planner's and ours
    times = []
    for _ in range(views):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    with Recorder(engine) as recorded:
        client.get(path, headers=headers)
    status = answer.status_code
    spent, worst, parameters = max(recorded.seen, default=(0, "", {}), key=lambda r: r[0])
    plan = explain(app, worst, parameters) if worst else []
    flags = ", ".join(warnings_in(plan))
    # A chart's points (the clicks over time), each also a row of its table.
    points = answer.text.count('class="point"') if "text/html" in answer.content_type else 0
    print(
        f"{name:<30} {status:>3} {len(recorded.seen):>4} stmts {statistics.median(times):8.1f} ms"
        f"  worst {spent * 1000:7.1f} ms  {flags}" + (f"  {points} chart points" if points else ""),
        flush=True,
    )
    if plans:
        for taken, statement, _ in sorted(recorded.seen, key=lambda r: -r[0])[:4]:
            print(f"  {taken * 1000:7.1f} ms  " + " ".join(statement.split())[:300])
    if plans and plan:
        for line in plan:
            print("      " + line)
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, path, headers=headers)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats("newsletter/", 30)


def export(client, profile: bool = False) -> None:
    """The CSV of every subscriber of the first list, read as a browser would, in pieces."""
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(export, client)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    answer = client.get("/admin/lists/bench/export.csv", buffered=False)
    size = sum(len(piece) for piece in answer.response)
    spent = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"export.csv: {size / 1e6:.1f} MB in {spent:.1f} s; peak memory {before / 1024:.0f} MB "
        f"before, {after / 1024:.0f} MB after (+{(after - before) / 1024:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200_000)
    parser.add_argument("--views", type=int, default=5)
    parser.add_argument("--plans", action="store_true", help="print each worst query's plan")
    parser.add_argument("--only", default="", help="pages whose name contains this")
    parser.add_argument("--profile", action="store_true", help="where each page's time goes")
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument(
        "--database",
        help="a database of this name on that server, kept: built when empty, else reused "
        "(after a change, its migrations run first, timed); default: a throwaway one",
    )
    args = parser.parse_args()
    where = (
        kept_database(args.database_url, args.database)
        if args.database
        else fresh_database(args.database_url)
    )
    with where as database_url, tempfile.TemporaryDirectory(prefix="bench-pages-") as folder:
        started = time.perf_counter()
        app = in_process_app(database_url, Path(folder))
        print(f"schema up to date in {time.perf_counter() - started:.1f} s", flush=True)
        if built(app):
            print("reusing the data of a run before", flush=True)
        else:
            print(f"building the data ({args.subscribers} subscribers)", flush=True)
            build(app, args.subscribers)
        client, headers = signed_in(app)
        for name, path in pages(app):
            if args.only in name:
                measure(app, client, headers, name, path, args.views, args.plans, args.profile)
        if not args.only or args.only == "export":
            export(client, args.profile)
        with app.app_context():
            from newsletter.extensions import db

            db.engine.dispose()  # the database is dropped next


if __name__ == "__main__":
    main()
