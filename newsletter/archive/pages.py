"""An archived issue's page, rendered once per process for each version of what it is made
of: rendering costs several milliseconds, reading the rows a fraction of one."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import current_app

from newsletter.digest.render import render_page, retitle
from newsletter.models import Issue
from newsletter.sending import ab

# Pages one process keeps; an archive is read most just after each send.
MOST_PAGES = 64
# What a send changes with every batch, and the frozen email renders: not on the page, so
# they must not make a new key while the issue goes out. (ab_winner is on it: its subject.)
SEND_BOOKKEEPING = {
    "status",
    "progress_at",
    "error_streak",
    "pause_reason",
    "finished_at",
    "ab_decide_at",
    "html",
    "text",
    "renders",
}

_pages: dict[str, str] = {}


def issue_page(issue: Issue) -> str:
    """The archive's page of `issue`, as render_page(issue, personal=False) makes it."""
    key = version(issue)
    page = _pages.get(key)
    if page is None:
        page = retitle(render_page(issue, personal=False), shown_subject(issue))
        if len(_pages) >= MOST_PAGES:
            _pages.pop(next(iter(_pages)), None)
        _pages[key] = page
    return page


def shown_subject(issue: Issue) -> str:
    """The subject the archive shows: once an A/B test is decided, the winner's, which
    most readers got (the issue's own may be a working title no one received)."""
    return ab.subjects(issue)[None]


def version(issue: Issue) -> str:
    """A digest of every row the page is made of: the issue, its items and its list. An
    editor's change to any of them (a paused issue's items, the list's footer or language)
    gives another key."""
    rows = [(issue, SEND_BOOKKEEPING), (issue.mailing_list, ()), *((i, ()) for i in issue.items)]
    values = [
        (type(row).__name__, [(key, getattr(row, key)) for key in _columns(row, skip)])
        for row, skip in rows
    ]
    values.append(current_app.config["BASE_URL"])  # in its links
    return hashlib.sha256(repr(values).encode()).hexdigest()


def _columns(row, skip) -> list[str]:
    return [attr.key for attr in sa.inspect(row).mapper.column_attrs if attr.key not in skip]
