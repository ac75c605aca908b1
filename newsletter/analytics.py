"""Privacy-first analytics: clicks through our own signed redirect, opens only when a list
asks for them, counted per issue and link; who clicked what only when the list opts in.

Each copy of an issue carries one token, its delivery id with a MAC from the app's secret
(as VERP return paths do), so nobody can count for another delivery or reach a link that
is not in that delivery's issue.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import figures, macs
from newsletter.extensions import db
from newsletter.macs import LENGTH
from newsletter.models import (
    Delivery,
    Issue,
    IssueLink,
    LinkClick,
    MailingList,
    Subscriber,
    Subscription,
    utcnow,
)
from newsletter.statuses import DeliveryStatus, SubscriptionStatus

_TOKEN = re.compile(rf"^(\d{{1,18}})-([0-9a-f]{{{LENGTH}}})$")
_PURPOSE = b"newsletter-analytics"


def token(delivery_id: int, secret: str | None = None) -> str:
    """The short, URL-safe token of one delivery's copy."""
    secret = secret or current_app.config["SECRET_KEY"]
    return f"{delivery_id}-{macs.short_mac(_PURPOSE, delivery_id, secret)}"


def delivery_id(value: str, secrets: Sequence[str] | None = None) -> int | None:
    """The delivery a token names, or None when it is forged or malformed. `secrets` (the
    keys, macs.keys) lets the redirect layer in front of Flask check a token outside an app
    context."""
    match = _TOKEN.match(value)
    if not match or match.group(1) != str(int(match.group(1))):  # one token a copy
        return None
    number = int(match.group(1))
    secrets = secrets or macs.keys(current_app.config)
    return number if macs.matches(_PURPOSE, number, match.group(2), secrets) else None


# Who fetches a link or the pixel with no reader behind it. Mail gateways' link scanners
# (Microsoft Defender's Safe Links, Mimecast, Proofpoint, Barracuda) fetch every link of a
# copy seconds after delivery, often from an HTTP library or naming themselves; Apple Mail
# Privacy Protection loads every pixel, read or not, as "Mozilla/5.0" and nothing more.
# Gmail's and Yahoo's image proxies fetch when the reader opens the message: people.
MACHINE_WORDS = (
    *("bot/", "bot;", "bot)", "bot-", "crawl", "spider", "scan", "preview", "headless"),
    *("phantom", "python", "curl/", "wget", "go-http", "java/", "okhttp", "httpclient"),
    *("libwww", "httpx", "aiohttp", "node-fetch", "axios", "undici", "ruby", "php/", "perl"),
    *("proofpoint", "mimecast", "barracuda", "ms-office", "existence discovery"),
)
# Different links of one copy within this many seconds: a scanner walking them all, however
# long after the send it comes (a gateway may hold the copy a while first).
BURST_SECONDS = 1.0


# Of an agent, what is read: browsers' are under 300 characters, and the cache below keeps
# at most this much of each (a stranger's 8 KB headers would have held 32 MB in it).
AGENT_READ = 512


def machine_agent(agent: str | None) -> bool:
    """Whether a request's User-Agent is a machine's; no agent at all is none of a browser's.
    The redirect in front of Flask asks it for every click: the few agents most clicks come
    with are answered from the cache."""
    return _machine_agent((agent or "")[:AGENT_READ])


@functools.lru_cache(maxsize=4096)
def _machine_agent(agent: str) -> bool:
    agent = agent.strip().lower()
    return agent in ("", "mozilla/5.0") or any(word in agent for word in MACHINE_WORDS)


def likely_machine(by_agent: bool, moment: datetime, sent_at: datetime | None) -> bool:
    """A click or open that looks like a machine's: by its agent, or so soon after the copy
    was sent (LIKELY_MACHINE_SECONDS) that no reader can have seen it yet. Counted all the
    same; the figures say it apart, as Mailchimp's bot filtering and Zoho's do."""
    soon = timedelta(seconds=current_app.config["LIKELY_MACHINE_SECONDS"])
    return by_agent or (sent_at is not None and moment - sent_at < soon)


def click_prefix() -> str:
    return current_app.config["BASE_URL"] + "/r/"


def open_url(value: str) -> str:
    return f"{current_app.config['BASE_URL']}/o/{value}.gif"


def copies(*columns) -> sa.Select:
    """Deliveries with what decides how their clicks are kept: the list's choice and the
    subscriber's (here and in click_queue.py)."""
    return (
        sa.select(
            Delivery.id,
            Delivery.issue_id,
            Delivery.subscriber_id,
            Delivery.sent_at,
            MailingList.track_subscribers,
            # An erased reader's copy is no one's to track: its clicks count in the totals.
            sa.func.coalesce(Subscriber.no_tracking, sa.true()).label("no_tracking"),
            *columns,
        )
        .join(Issue, Issue.id == Delivery.issue_id)
        .join(MailingList, MailingList.id == Issue.list_id)
        # Outer: an erased reader's copy still leads to its links, counted as no one's.
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
    )


def who_clicked(copy) -> int | None:
    """The subscriber a click is kept against: only when the list opts in and the subscriber
    has not turned tracking off since the copy was sent."""
    return copy.subscriber_id if copy.track_subscribers and not copy.no_tracking else None


def record_click(
    value: str, position: int, counted: bool = True, agent: str | None = None
) -> str | None:
    """Count a click (unless not `counted`: a HEAD) and give the link's URL; None when the
    token or the position does not name a link of the delivery's issue. One read by keys,
    one insert, and on a copy's first click (or first that looks like a person's) one
    update. (With Redis, click_queue.py counts clicks in batches instead.)"""
    number = delivery_id(value)
    if number is None:
        return None
    row = db.session.execute(
        copies(
            Delivery.clicked_at,
            Delivery.clicked_by_machine,
            IssueLink.id.label("link_id"),
            IssueLink.url,
        )
        .join(IssueLink, IssueLink.issue_id == Delivery.issue_id)
        .where(Delivery.id == number, IssueLink.position == position)
    ).first()
    if row is None:
        return None
    if not counted:
        return row.url
    now = utcnow()
    machine = likely_machine(machine_agent(agent), now, row.sent_at)
    db.session.execute(
        sa.insert(LinkClick).values(
            link_id=row.link_id,
            clicked_at=now,
            subscriber_id=who_clicked(row),
            likely_machine=machine,
        )
    )
    # A copy whose subscriber turned tracking off still counts on the link, as nobody's.
    if not row.no_tracking and (row.clicked_at is None or (row.clicked_by_machine and not machine)):
        first_moments("clicked", {number: (now, machine)})
    db.session.commit()
    return row.url


def record_open(value: str, agent: str | None = None) -> bool:
    """Count a copy's first open (or first that looks like a person's); False for a token
    that is not ours."""
    number = delivery_id(value)
    if number is None:
        return False
    copy = db.session.execute(
        copies(Delivery.opened_at, Delivery.opened_by_machine).where(Delivery.id == number)
    ).first()
    if copy is None or copy.no_tracking or (copy.opened_at and not copy.opened_by_machine):
        return True  # nobody's to count, or a person's open counted already
    now = utcnow()
    machine = likely_machine(machine_agent(agent), now, copy.sent_at)
    if copy.opened_at is None or not machine:
        first_moments("opened", {number: (now, machine)})
        db.session.commit()
    return True


def first_moments(kind: str, moments: dict[int, tuple[datetime, bool]]) -> None:
    """Each copy's first click (`kind` "clicked") or open ("opened") at its moment, unless it
    has one already, and whether all of them so far look like a machine's: a person's after
    a scanner's makes the copy a person's. One statement, not committed; here and in
    click_queue.py."""
    if not moments:
        return
    table = Delivery.__table__
    at, by_machine = table.c[f"{kind}_at"], table.c[f"{kind}_by_machine"]
    machine = sa.bindparam("machine", type_=sa.Boolean)
    db.session.execute(
        sa.update(table)
        .where(
            table.c.id == sa.bindparam("copy"),
            sa.or_(at.is_(None), sa.and_(by_machine, sa.not_(machine))),
        )
        .values(
            {
                at.name: sa.func.coalesce(at, sa.bindparam("moment", type_=at.type)),
                by_machine.name: sa.case((at.is_(None), machine), else_=sa.false()),
            }
        ),
        # In id order, as other writers of deliveries go, so none waits for the other.
        [
            {"copy": number, "moment": moment, "machine": machine_like}
            for number, (moment, machine_like) in sorted(moments.items())
        ],
    )


# Reading the numbers.


@dataclass(frozen=True)
class LinkCount:
    url: str
    clicks: int
    likely_machine: int = 0  # of those clicks (kept figures from before had none)


@dataclass(frozen=True)
class IssueStats:
    sent: int
    clicks: int
    unique_clickers: int
    opens: int | None  # None when the list does not count opens
    links: list[LinkCount]
    over_time: list[tuple[datetime, int]]
    by_day: bool = False  # over_time by day: clicks came over more than two days
    unsubscribes: int = 0
    # Of the clicks, those that look like a machine's; the copies clicked by a person; of the
    # copies opened, those only a machine opened (None when opens are not counted).
    machine_clicks: int = 0
    human_clickers: int = 0
    machine_opens: int | None = None
    every: int = 1  # hours (days) in each of over_time's moments: more once they are many

    @property
    def click_rate(self) -> float:
        """Unique clickers per copy sent, in percent."""
        return 100 * self.unique_clickers / self.sent if self.sent else 0.0


def clicks_for_issues(issue_ids: list[int]) -> dict[int, dict]:
    """{"total", "unique"} clicks, of them "likely_machine" clicks and "unique_human" copies
    clicked by a person, and the links with their clicks (most first) of each issue, in three
    grouped statements however many issues there are."""
    kept = figures.kept(issue_ids, "clicks")
    result = {
        # Figures kept before machines were told apart counted every click as a person's.
        issue_id: {
            "likely_machine": 0,
            "unique_human": counted["unique"],
            **counted,
            "links": [LinkCount(*link) for link in counted["links"]],
        }
        for issue_id, counted in kept.items()
    }
    issue_ids = [i for i in issue_ids if i not in kept]
    result.update(
        {
            issue_id: {"total": 0, "unique": 0, "likely_machine": 0, "unique_human": 0, "links": []}
            for issue_id in issue_ids
        }
    )
    if not issue_ids:
        return result
    # Counted by link_id (null where a link has no click): the index on (link_id,
    # likely_machine) answers without reading the clicks themselves.
    clicks = sa.func.count(LinkClick.link_id)
    per_link = db.session.execute(
        sa.select(
            IssueLink.issue_id,
            IssueLink.url,
            clicks,
            sa.func.count(LinkClick.link_id).filter(LinkClick.likely_machine),
        )
        .outerjoin(LinkClick, LinkClick.link_id == IssueLink.id)
        .where(IssueLink.issue_id.in_(issue_ids))
        .group_by(IssueLink.issue_id, IssueLink.position, IssueLink.url)
        .order_by(IssueLink.issue_id, clicks.desc(), IssueLink.position)
    ).all()
    for issue_id, url, n, machine in per_link:
        result[issue_id]["links"].append(LinkCount(url, n, machine))
        result[issue_id]["total"] += n
        result[issue_id]["likely_machine"] += machine
    unique = db.session.execute(
        sa.select(
            Delivery.issue_id, sa.func.count(), sa.func.count().filter(~Delivery.clicked_by_machine)
        )
        .where(Delivery.issue_id.in_(issue_ids), Delivery.clicked_at.is_not(None))
        .group_by(Delivery.issue_id)
    ).all()
    for issue_id, n, human in unique:
        result[issue_id]["unique"], result[issue_id]["unique_human"] = n, human
    return result


def issue_stats(issue: Issue) -> IssueStats:
    """What the issue's page shows: copies sent, clicks, unique clickers, opens, links."""
    kept = figures.kept([issue.id], "counts") or figures.final([issue.id])
    sent = kept[issue.id]["sent"] if kept else _sent(issue.id)
    clicks = clicks_for_issues([issue.id])[issue.id]
    opened = opens_for_issues([issue])[issue.id] or {"unique": None, "likely_machine": None}
    over_time = clicks_over_time(issue.id) if clicks["total"] else []
    by_day = bool(over_time) and (over_time[-1][0] - over_time[0][0]).days >= 2
    if by_day:
        over_time = clicks_over_time(issue.id, by="day")
    every = 1
    if over_time:
        step = timedelta(days=1) if by_day else timedelta(hours=1)
        over_time, every = in_groups(over_time, over_time[0][0], step)
    return IssueStats(
        sent,
        clicks["total"],
        clicks["unique"],
        opened["unique"],
        clicks["links"],
        over_time,
        by_day,
        unsubscribes(issue),
        clicks["likely_machine"],
        clicks["unique_human"],
        opened["likely_machine"],
        every,
    )


def unsubscribes(issue: Issue) -> int:
    """Readers sent this issue who left its list after it and before another issue of the
    list reached them: the issue they left from, as Mailchimp and listmonk count it; kept on
    the issue once `prune --deliveries` removes the copies it is counted by."""
    if issue.started_at is None:
        return 0
    kept = figures.kept([issue.id], "unsubscribes")
    if kept:
        return kept[issue.id]
    later = sa.orm.aliased(Delivery)
    later_issue = sa.orm.aliased(Issue)
    reached_later = (
        sa.select(later.id)
        .join(later_issue, later_issue.id == later.issue_id)
        .where(
            later.subscriber_id == Subscription.subscriber_id,
            later.status == DeliveryStatus.SENT,
            later_issue.list_id == issue.list_id,
            later_issue.started_at > issue.started_at,
            later_issue.started_at <= Subscription.unsubscribed_at,
        )
    )
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Subscription)
        .join(Delivery, Delivery.subscriber_id == Subscription.subscriber_id)
        .where(
            Delivery.issue_id == issue.id,
            Delivery.status == DeliveryStatus.SENT,
            Subscription.list_id == issue.list_id,
            Subscription.status == SubscriptionStatus.UNSUBSCRIBED,
            Subscription.unsubscribed_at >= issue.started_at,
            ~reached_later.exists(),
        )
    )


def _sent(issue_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENT
        )
    )


def opens_for_issues(issues: list[Issue]) -> dict[int, dict | None]:
    """{"total": None, "unique": copies opened, "likely_machine": of them, those only a
    machine opened} of each issue whose list counts opens, None for the others; one grouped
    statement."""
    result = {i.id: None for i in issues}
    counted = [i.id for i in issues if i.mailing_list.track_opens]
    copies_opened = opened(counted)
    for issue_id in counted:
        unique, machine = copies_opened.get(issue_id, (0, 0))
        result[issue_id] = {"total": None, "unique": unique, "likely_machine": machine}
    return result


def opened(issue_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(copies opened, of them those only a machine opened) of each issue that has any,
    whether or not its list counts opens."""
    # Figures kept before machines were told apart are one number: all people's.
    found = {
        issue_id: tuple(n) if isinstance(n, list) else (n, 0)
        for issue_id, n in figures.kept(issue_ids, "opens").items()
    }
    rest = [issue_id for issue_id in issue_ids if issue_id not in found]
    if rest:
        rows = db.session.execute(
            sa.select(
                Delivery.issue_id,
                sa.func.count(),
                sa.func.count().filter(Delivery.opened_by_machine),
            )
            .where(Delivery.issue_id.in_(rest), Delivery.opened_at.is_not(None))
            .group_by(Delivery.issue_id)
        ).all()
        found.update((issue_id, (n, machine)) for issue_id, n, machine in rows)
    return found


def clicks_over_time(issue_id: int, by: str = "hour") -> list[tuple[datetime, int]]:
    """Clicks on the issue's links per hour (or "day", both UTC), oldest first; hours
    without clicks are left out. Grouped in the database: one row per hour, not per click."""
    if by not in BUCKET_FORMATS:
        raise ValueError(f"clicks by hour or day, not {by!r}")
    kept = figures.kept([issue_id], "clicks_over_time")
    if kept:
        return [(figures.moment(at), n) for at, n in kept[issue_id][by]]
    # Literals, not bound values: PostgreSQL groups by the selected expression only if the
    # two are the same text.
    if db.engine.dialect.name == "postgresql":
        bucket = sa.func.date_trunc(sa.literal_column(f"'{by}'"), LinkClick.clicked_at)
    else:  # SQLite keeps naive UTC as text
        bucket = sa.func.strftime(
            sa.literal_column(f"'{BUCKET_FORMATS[by]}'"), LinkClick.clicked_at
        )
    rows = db.session.execute(
        sa.select(bucket, sa.func.count())
        .join(IssueLink, IssueLink.id == LinkClick.link_id)
        .where(IssueLink.issue_id == issue_id)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    return [(_utc(moment), n) for moment, n in rows]


BUCKET_FORMATS = {"hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00"}
# Clicks over time are shown in at most this many moments, however long they keep coming
# (a link clicked a year on would give a chart and a table of 365 days): past it, the hours
# or days are summed in groups of as few as keep within it.
MOST_MOMENTS = 100


def in_groups(
    counted: list[tuple[datetime, int]], start: datetime, step: timedelta
) -> tuple[list[tuple[datetime, int]], int]:
    """clicks_over_time()'s counts (per `step`, none before `start`) summed in groups of
    consecutive steps from `start`, each group by its first moment, so that the span up to
    the last count takes at most MOST_MOMENTS groups; and how many steps a group takes."""
    if not counted:
        return [], 1
    steps = (counted[-1][0] - start) // step + 1
    every = -(-steps // MOST_MOMENTS)
    group = step * every
    grouped: dict[datetime, int] = {}
    for moment, n in counted:
        first = start + (moment - start) // group * group
        grouped[first] = grouped.get(first, 0) + n
    return sorted(grouped.items()), every


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC)
