"""An issue's figures kept on its row (Issue.figures) once `newsletter prune --deliveries`
has deleted the rows they were counted from: its copies and their clicks. Each reader of a
figure (ledger, bounce_history, analytics, ab) takes the kept one for such an issue, so its pages,
charts and the API show what they showed before; retention.py counts and keeps them.

Likewise its copies' counts once they are final (Issue.final_counts, kept by ledger.py when
the issue is sent): read from the row, not counted again from 200,000 copies each time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Issue


def kept(issue_ids: Iterable[int], key: str) -> dict[int, Any]:
    """{issue id: its kept figure under `key`} of those of the issues that have them."""
    ids = list(issue_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Issue.id, Issue.figures).where(Issue.id.in_(ids), Issue.figures.is_not(None))
    )
    # Figures kept before a key was counted have none of it.
    return {issue_id: figures[key] for issue_id, figures in rows if key in figures}


def final(issue_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{issue id: its copies' final counts} of those of the issues that have them."""
    ids = list(issue_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Issue.id, Issue.final_counts).where(
            Issue.id.in_(ids), Issue.final_counts.is_not(None)
        )
    )
    return {issue_id: counts for issue_id, counts in rows}


def moment(text: str) -> datetime:
    """A moment as kept (ISO 8601, UTC)."""
    return datetime.fromisoformat(text).astimezone(UTC)
