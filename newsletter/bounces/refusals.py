"""Receiving domains that refuse our mail: when they pile up during a send, the issue pauses.

A refusal (blocked, spam, failed authentication, rate limited...) says nothing about the
subscriber, and sending on only makes the sender's reputation worse. So when one domain refuses
NEWSLETTER_SENDER_REFUSALS_PAUSE messages of one issue within NEWSLETTER_SENDER_REFUSALS_WINDOW
seconds, the whole issue pauses (mail to other domains too: simpler than holding one domain
back, and the cause, such as DNS or DKIM, is often ours for every domain) and the editors
are told which domain refuses us and what it said. Once an editor resumes it, only refusals
of mail sent since count: those of earlier copies, which come in late, paused it already.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter.bounces.history import words
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, utcnow
from newsletter.sending import loop
from newsletter.statuses import BounceKind, IssueStatus


def of(bounces: list[Bounce]) -> dict[tuple[int, str], str]:
    """(issue id, receiving domain) -> what its server said, for the refusals among bounces."""
    return {
        (b.delivery.issue_id, b.domain): words(b)
        for b in bounces
        if b.kind == BounceKind.SENDER and b.delivery is not None
    }


def pause_if_piling_up(refused: dict[tuple[int, str], str]) -> None:
    """Pause each issue that a domain has now refused often enough, saying who and why."""
    limit = current_app.config["SENDER_REFUSALS_PAUSE"]
    if limit <= 0:
        return
    for (issue_id, domain), said in refused.items():
        status = db.session.scalar(sa.select(Issue.status).where(Issue.id == issue_id))
        if status == IssueStatus.SENDING and count(issue_id, domain) >= limit:
            loop.pause_itself(issue_id, f"{domain} refuses our mail: {said}")


def count(issue_id: int, domain: str) -> int:
    """Refusals by this domain of this issue within the window, of mail sent since the
    issue last resumed: those of mail sent before it, which come in late, are what paused
    it, and would pause it again at once, the cause fixed or not."""
    since = utcnow() - timedelta(seconds=current_app.config["SENDER_REFUSALS_WINDOW"])
    resumed = sa.select(Issue.resumed_at).where(Issue.id == issue_id).scalar_subquery()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Bounce)
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .where(
            Bounce.domain == domain,
            Bounce.kind == BounceKind.SENDER,
            Bounce.received_at >= since,
            Delivery.issue_id == issue_id,
            sa.or_(resumed.is_(None), Delivery.sent_at >= resumed),
        )
    )
