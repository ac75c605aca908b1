"""A/B subjects: the test share of the ledger gets the variants, the rest waits for the
winner. All of it lives in the database (the split, the decision time, the winner), so a
pause, a crash or a second worker changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter import figures
from newsletter.digest.render import retitle
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, UTCDateTime, utcnow
from newsletter.statuses import DeliveryStatus, IssueStatus


def split_ledger(issue: Issue) -> None:
    """Give ab_share percent of the issue's rows the variants in turn, due as they were; the
    rest wait until the decision. Who tries which is a hash of the subscriber and the issue:
    the same on every run, unrelated to the order people joined in. Not committed."""
    variants = [variant.id for variant in issue.variants]
    if not variants or not issue.ab_share:
        return
    issue.ab_decide_at = (issue.started_at or utcnow()) + timedelta(minutes=issue.ab_wait_minutes)
    rows = sa.and_(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.PENDING)
    total = db.session.scalar(sa.select(sa.func.count()).where(rows))
    tried = max(len(variants), round(total * issue.ab_share / 100))
    mixed = (
        (sa.cast(Delivery.subscriber_id, sa.BigInteger) + issue.id * 40503) * 2654435761
    ) % 4294967296
    ranked = (
        sa.select(
            Delivery.id, (sa.func.row_number().over(order_by=(mixed, Delivery.id)) - 1).label("n")
        )
        .where(rows)
        .subquery()
    )
    for turn, variant_id in enumerate(variants):
        chosen = sa.select(ranked.c.id).where(
            ranked.c.n < tried, ranked.c.n % len(variants) == turn
        )
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(chosen.scalar_subquery()))
            .values(variant_id=variant_id)
            .execution_options(synchronize_session=False)
        )
    # A wave of a send at a local hour that comes after the decision keeps its own moment.
    decide_at = sa.literal(issue.ab_decide_at, UTCDateTime)
    db.session.execute(
        sa.update(Delivery)
        .where(
            rows,
            Delivery.variant_id.is_(None),
            sa.or_(Delivery.retry_at.is_(None), Delivery.retry_at < decide_at),
        )
        .values(retry_at=decide_at)
        .execution_options(synchronize_session=False)
    )


def undecided(issue: Issue) -> bool:
    """A test whose winner is not known yet: the rest of the ledger is held back."""
    return issue.ab_decide_at is not None and issue.ab_winner is None


def decide_if_due(issue_id: int, now: datetime | None = None) -> bool:
    """At the decision time, the winner, once: one guarded UPDATE, so of two workers (or a
    worker and beat) only one decides. Committed; True for the caller who decided."""
    now = now or utcnow()
    issue = db.session.get(Issue, issue_id)
    db.session.refresh(issue)
    if not undecided(issue) or issue.ab_decide_at > now:
        return False
    chosen = winner(issue)
    won = db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue_id, Issue.ab_winner.is_(None))
        .values(ab_winner=chosen)
    ).rowcount
    if won:
        _title_the_rest(issue, next(v.subject for v in issue.variants if v.id == chosen))
        # The rest is due now, whatever the clock said when the rows were made.
        db.session.execute(
            sa.update(Delivery)
            .where(
                Delivery.issue_id == issue_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.variant_id.is_(None),
                Delivery.retry_at <= sa.literal(issue.ab_decide_at, UTCDateTime),
            )
            .values(retry_at=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    db.session.refresh(issue)
    return won == 1


def _title_the_rest(issue: Issue, subject: str) -> None:
    """The frozen renders the rest gets carry the winner's subject in their <title>, as their
    Subject header does; in the decider's transaction, so both change together."""
    if issue.html:
        issue.html = retitle(issue.html, subject)
    if issue.renders:
        issue.renders = {
            locale: [retitle(html, subject), text] for locale, (html, text) in issue.renders.items()
        }


def decide_due(now: datetime | None = None) -> list[int]:
    """Decide every sending issue whose test is due (beat's part); returns those decided."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Issue.id).where(
            Issue.status == IssueStatus.SENDING,
            Issue.ab_winner.is_(None),
            Issue.ab_decide_at <= now,
        )
    ).all()
    return [issue_id for issue_id in due if decide_if_due(issue_id, now)]


@dataclass
class Result:
    id: int
    position: int
    subject: str
    sent: int = 0
    clicks: int = 0
    opens: int = 0
    winner: bool = False
    human_clicks: int = 0  # of the unique clickers, copies a person clicked

    @property
    def click_rate(self) -> float:
        return self.clicks / self.sent if self.sent else 0.0

    @property
    def human_click_rate(self) -> float:
        return self.human_clicks / self.sent if self.sent else 0.0

    @property
    def open_rate(self) -> float:
        return self.opens / self.sent if self.sent else 0.0


def results(issue: Issue) -> list[Result]:
    """Each variant's copies sent, unique clickers and openers, in one grouped statement."""
    found = {
        v.id: Result(v.id, v.position, v.subject, winner=v.id == issue.ab_winner)
        for v in issue.variants
    }
    if not found:
        return []
    kept = figures.kept([issue.id], "ab")
    if kept:
        # Kept before machines were told apart: every clicker a person.
        rows = [
            (int(variant_id), *counted[:3], counted[3] if len(counted) > 3 else counted[1])
            for variant_id, counted in kept[issue.id].items()
        ]
    else:
        rows = db.session.execute(
            sa.select(
                Delivery.variant_id,
                sa.func.count(),
                sa.func.count(Delivery.clicked_at),
                sa.func.count(Delivery.opened_at),
                sa.func.count(Delivery.clicked_at).filter(~Delivery.clicked_by_machine),
            )
            .where(
                Delivery.issue_id == issue.id,
                Delivery.variant_id.is_not(None),
                Delivery.status == DeliveryStatus.SENT,
            )
            .group_by(Delivery.variant_id)
        ).all()
    for variant_id, sent, clicks, opens, human_clicks in rows:
        if variant_id in found:
            result = found[variant_id]
            result.sent, result.clicks, result.opens, result.human_clicks = (
                sent,
                clicks,
                opens,
                human_clicks,
            )
    return sorted(found.values(), key=lambda r: r.position)


def winner(issue: Issue) -> int:
    """The variant with the most unique clickers per copy sent, people's: a gateway that
    scans every copy of a company's readers tells nothing of a subject. By every clicker when
    no click looks like a person's; by opens when nobody clicked and the list counts opens;
    a tie goes to the first."""
    tried = results(issue)
    by_opens = issue.mailing_list.track_opens and not any(r.clicks for r in tried)
    if by_opens:
        rate = "open_rate"
    elif any(r.human_clicks for r in tried):
        rate = "human_click_rate"
    else:
        rate = "click_rate"
    return max(tried, key=lambda r: (getattr(r, rate), -r.position)).id


def variant_name(position: int) -> str:
    """A, B, C or D, as the editor set them."""
    return "ABCD"[position - 1]


def subjects(issue: Issue) -> dict[int | None, str]:
    """Each variant's subject; None (the rest) gets the winner's, or the issue's own.
    Without a test nor a winner, every copy gets the issue's own: its variants are not read
    (a query each batch)."""
    if issue.ab_decide_at is None and issue.ab_winner is None:
        return {None: issue.subject}
    by_id: dict[int | None, str] = {v.id: v.subject for v in issue.variants}
    by_id[None] = by_id.get(issue.ab_winner, issue.subject)
    return by_id
