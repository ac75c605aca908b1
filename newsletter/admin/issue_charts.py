"""The issue page's charts: bounces and complaints by receiving domain and by reason, and
clicks since the send when the list tracks clicks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from newsletter import bounce_history
from newsletter.admin import charts
from newsletter.analytics import clicks_over_time, in_groups
from newsletter.models import Issue, utcnow

HOURLY_FOR = timedelta(days=3)  # after that, clicks are counted per day


@dataclass
class IssueCharts:
    bounces: list[charts.BarChart] = field(default_factory=list)
    clicks: charts.LineChart | None = None
    clicks_tracked: bool = False


def for_issue(issue: Issue) -> IssueCharts | None:
    """The charts of an issue that has gone out; None before it starts."""
    if issue.started_at is None:
        return None
    tracked = issue.mailing_list.track_clicks
    return IssueCharts(bounce_charts(issue.id), click_chart(issue) if tracked else None, tracked)


def bounce_charts(issue_id: int) -> list[charts.BarChart]:
    """By receiving domain and by reason, from one grouped statement; none when nothing
    came back."""
    rows = bounce_history.by_domain_and_reason(issue_id)
    by_domain: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for domain, reason, n in rows:
        by_domain[domain or "unknown"] += n
        by_reason[(reason or "unknown").replace("_", " ")] += n
    if not rows:
        return []
    counted = "Bounces and complaints"
    return [
        charts.bar_chart(
            "bounces-by-domain", "By receiving domain", by_domain.items(), "Domain", counted
        ),
        charts.bar_chart("bounces-by-reason", "By reason", by_reason.items(), "Reason", counted),
    ]


def click_chart(issue: Issue, now: datetime | None = None) -> charts.LineChart | None:
    """Clicks per hour since the send (per day once it is older than three days), hours
    without clicks as zeros, in the list's time zone; None without clicks. Past
    analytics.MOST_MOMENTS hours (days), per group of as few as keep within it."""
    if issue.started_at is None:
        return None
    now = now or utcnow()
    by = "hour" if now - issue.started_at <= HOURLY_FOR else "day"
    counted = clicks_over_time(issue.id, by)
    if not counted:
        return None
    step = timedelta(hours=1) if by == "hour" else timedelta(days=1)
    at = issue.started_at.replace(minute=0, second=0, microsecond=0)
    if by == "day":
        at = at.replace(hour=0)
    at = min(at, counted[0][0])
    grouped, every = in_groups(counted, at, step)
    counted = dict(grouped)
    step *= every
    moments = []
    while at <= max(counted):
        moments.append(at)
        at += step
    zone = ZoneInfo(issue.mailing_list.timezone)
    shape = "%-d %b %H:00" if by == "hour" else "%-d %b" if every == 1 else "%-d %b %Y"
    per = ("an hour" if by == "hour" else "a day") if every == 1 else f"every {every} {by}s"
    return charts.line_chart(
        "clicks",
        f"Clicks {per} ({zone.key})",
        [f"{moment.astimezone(zone):{shape}}" for moment in moments],
        {"clicks": [counted.get(moment, 0) for moment in moments]},
        y_title=f"clicks {per}",
    )
