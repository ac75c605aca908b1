"""What `newsletter prune` deletes: rows that only grow, once nobody needs them.

- With `deliveries`, the copies (deliveries) of issues sent more than the given age ago and
  the clicks on their links. Every figure of such an issue (sent, failed, bounced, opened,
  clicked, its links, its clicks over time, its waves and A/B results) is counted first and
  kept on the issue (figures.py), and shown from there: the figures stay as they were. What
  goes is who got, opened and clicked which copy, and the copies' tracked links, which no
  longer redirect.
- Bounce records older than that which no issue's figures still count (an issue whose
  copies are kept counts its bounces), and which are not the last report that stopped a
  subscriber (why they get no mail). The bounce score is kept on the subscriber, decayed
  as reports come; no record is read for it.
- Posts by email that an editor rejected, older than that.
- The uploaded files of finished imports (and of uploads never started within a day):
  nothing reads them again, whatever their age.

Each kind is deleted a batch at a time, each batch a transaction of its own, so no lock is
held for long; a dry run counts instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from newsletter import analytics, bounce_history
from newsletter.extensions import db
from newsletter.fields import iso
from newsletter.models import (
    Bounce,
    Delivery,
    HeldPost,
    Import,
    ImportFile,
    Issue,
    IssueLink,
    LinkClick,
    Subscriber,
    utcnow,
)
from newsletter.sending import ab, ledger
from newsletter.statuses import (
    BounceKind,
    HeldStatus,
    ImportStatus,
    IssueStatus,
    SubscriberStatus,
)
from newsletter.subscriptions import importer

BATCH = 2000


def prune(
    older_than: timedelta, deliveries: bool = False, dry_run: bool = False, now=None
) -> dict[str, int]:
    """{kind: rows deleted (or that would be)}, in the order they were deleted."""
    cutoff = (now or utcnow()) - older_than
    done: dict[str, int] = {}
    if deliveries:
        done.update(_old_copies(cutoff, dry_run))
    done["bounces"] = _delete(Bounce.id, _stale_bounces(cutoff), dry_run)
    rejected = sa.and_(HeldPost.status == HeldStatus.REJECTED, HeldPost.received_at < cutoff)
    done["rejected posts by email"] = _delete(HeldPost.id, rejected, dry_run)
    done["import files"] = _import_files(dry_run)
    return done


def _delete(key: sa.Column, condition, dry_run: bool, batch_size: int = BATCH) -> int:
    """Rows whose key is among the first batch_size that meet the condition, until none do."""
    table = key.table
    if dry_run:
        return db.session.scalar(sa.select(sa.func.count()).select_from(table).where(condition))
    total = 0
    while True:
        batch = sa.select(key).where(condition).limit(batch_size).scalar_subquery()
        deleted = db.session.execute(sa.delete(table).where(key.in_(batch))).rowcount
        db.session.commit()
        if not deleted:
            return total
        total += deleted


def _old_copies(cutoff: datetime, dry_run: bool) -> dict[str, int]:
    old = sa.select(Issue.id).where(
        Issue.status.in_((IssueStatus.SENT, IssueStatus.CANCELLED)), Issue.finished_at < cutoff
    )
    clicked = sa.exists().where(LinkClick.link_id == IssueLink.id, IssueLink.issue_id == Issue.id)
    uncounted = old.where(
        Issue.figures.is_(None),
        sa.or_(sa.exists().where(Delivery.issue_id == Issue.id), clicked),
    )
    if dry_run:
        kept = db.session.scalar(sa.select(sa.func.count()).select_from(uncounted.subquery()))
    else:
        issues = db.session.scalars(sa.select(Issue).where(Issue.id.in_(uncounted))).all()
        for issue in issues:
            keep_figures(issue)
        kept = len(issues)
        old = old.where(Issue.figures.is_not(None))  # only what is counted on the issue goes
    links = sa.select(IssueLink.id).where(IssueLink.issue_id.in_(old))
    return {
        "issues counted, their figures kept on them": kept,
        "link clicks": _delete(LinkClick.id, LinkClick.link_id.in_(links), dry_run),
        "deliveries": _delete(Delivery.id, Delivery.issue_id.in_(old), dry_run),
    }


def keep_figures(issue: Issue) -> None:
    """Count the issue's figures from its rows and keep them on it. A click in the moment
    between this and its rows' deletion is lost from them."""
    clicks = analytics.clicks_for_issues([issue.id])[issue.id]
    issue.figures = {
        "counts": ledger.counts(issue.id),
        "waves": [[iso(w.not_before), w.pending, w.sent, w.failed] for w in ledger.waves(issue.id)],
        "bounces": bounce_history.counts_for_issue(issue.id),
        "bounces_by_domain": [list(row) for row in bounce_history.by_domain_and_reason(issue.id)],
        "clicks": {
            "total": clicks["total"],
            "unique": clicks["unique"],
            "likely_machine": clicks["likely_machine"],
            "unique_human": clicks["unique_human"],
            "links": [[link.url, link.clicks, link.likely_machine] for link in clicks["links"]],
        },
        "clicks_over_time": {
            by: [[iso(at), n] for at, n in analytics.clicks_over_time(issue.id, by)]
            for by in analytics.BUCKET_FORMATS
        },
        "opens": list(analytics.opened([issue.id]).get(issue.id, (0, 0))),
        "unsubscribes": analytics.unsubscribes(issue),
        "ab": {str(r.id): [r.sent, r.clicks, r.opens, r.human_clicks] for r in ab.results(issue)},
    }
    db.session.commit()


def _stale_bounces(cutoff: datetime):
    later = aliased(Bounce)
    last_report = (
        sa.select(sa.func.max(later.id))
        .where(later.subscriber_id == Bounce.subscriber_id, later.kind != BounceKind.SENDER)
        .scalar_subquery()
    )
    stopped = (
        sa.select(Subscriber.id)
        .where(
            Subscriber.id == Bounce.subscriber_id,
            Subscriber.status.in_((SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)),
        )
        .exists()
    )
    counted = (
        sa.select(Delivery.id)
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.id == Bounce.delivery_id, Issue.figures.is_(None))
        .exists()
    )
    return sa.and_(
        Bounce.received_at < cutoff, ~counted, sa.or_(~stopped, Bounce.id != last_report)
    )


def _import_files(dry_run: bool) -> int:
    """Pieces of the files; an import's at a time, as a piece is a megabyte."""
    finished = Import.status.in_((ImportStatus.DONE, ImportStatus.FAILED))
    if dry_run:
        finished = sa.or_(finished, importer.abandoned(utcnow()))
        forgotten = 0
    else:
        forgotten = importer.forget_abandoned()
        db.session.commit()
    of_finished = ImportFile.import_id.in_(sa.select(Import.id).where(finished))
    return forgotten + _delete(ImportFile.import_id, of_finished, dry_run, batch_size=1)
