"""Receiving domains that refuse our mail: when they pile up during a send, that domain's
copies are held back for a while and the rest goes on; when several domains are held at once,
the issue pauses.

A refusal (blocked, spam, failed authentication, rate limited...) says nothing about the
subscriber, and sending on only makes the sender's reputation worse. So when one domain refuses
NEWSLETTER_SENDER_REFUSALS_PAUSE messages of one issue within NEWSLETTER_SENDER_REFUSALS_WINDOW
seconds, its waiting copies are held for NEWSLETTER_SENDER_REFUSALS_HOLD seconds (tried again
after: a provider's block often lifts within hours) and the editors are told which domain
refuses us and what it said. When NEWSLETTER_SENDER_REFUSALS_DOMAINS domains are held at once,
the cause is most likely ours (DNS, DKIM, our address on a blocklist) and the whole issue
pauses. Only refusals of copies sent since the issue last resumed, and since the domain was
last held, count: those of earlier copies, which come in late, were counted already.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs
from newsletter.bounce_history import words
from newsletter.extensions import db, writer_first
from newsletter.models import Bounce, Delivery, Issue, utcnow
from newsletter.sending import holds, loop
from newsletter.statuses import BounceKind, IssueStatus


def of(bounces: list[Bounce]) -> dict[tuple[int, str], str]:
    """(issue id, receiving domain) -> what its server said, for the refusals among bounces."""
    return {
        (b.delivery.issue_id, b.domain): words(b)
        for b in bounces
        if b.kind == BounceKind.SENDER and b.delivery is not None
    }


def pause_if_piling_up(refused: dict[tuple[int, str], str]) -> None:
    """Hold each domain that has now refused an issue often enough, or pause the issue when
    too many are held; the editors are told either way."""
    config = current_app.config
    if config["SENDER_REFUSALS_PAUSE"] <= 0:
        return
    for (issue_id, domain), said in refused.items():
        # Locked: reports of one issue come in on several connections at once.
        writer_first(Issue, issue_id)
        issue = db.session.scalar(
            sa.select(Issue)
            .where(Issue.id == issue_id)
            .with_for_update()
            .execution_options(populate_existing=True)  # as it is now, not as last read
        )
        held = holds.held(issue) if issue is not None else {}
        piling = (
            issue is not None
            and issue.status == IssueStatus.SENDING
            and domain not in held
            and count(issue, domain) >= config["SENDER_REFUSALS_PAUSE"]
        )
        if not piling:
            db.session.commit()
        elif len(held) + 1 >= config["SENDER_REFUSALS_DOMAINS"]:
            reason = _reason(issue, domain, said)
            db.session.commit()
            loop.pause_itself(issue_id, reason)
        else:
            holds.hold(issue, domain, said, config["SENDER_REFUSALS_HOLD"])
            jobs.tell_editors_of_hold.delay(issue_id, domain)


def count(issue: Issue, domain: str) -> int:
    """Refusals by this domain of this issue within the window, of copies sent since the
    issue last resumed and since the domain was last held."""
    window = utcnow() - timedelta(seconds=current_app.config["SENDER_REFUSALS_WINDOW"])
    sent_since = [m for m in (issue.resumed_at, holds.since(issue, domain)) if m is not None]
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Bounce)
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .where(
            Bounce.domain == domain,
            Bounce.kind == BounceKind.SENDER,
            Bounce.received_at >= window,
            Delivery.issue_id == issue.id,
            *([Delivery.sent_at >= max(sent_since)] if sent_since else []),
        )
    )


def _reason(issue: Issue, domain: str, said: str) -> str:
    """Why the issue paused: the domain that tipped it, and the others held."""
    others = "".join(f"; {other}: {hold['said']}" for other, hold in holds.held(issue).items())
    return f"{domain} refuses our mail: {said}{others}"
