"""Autopilot: each week, before a list's send time, a draft of the new posts is composed.

Editors are emailed a link to review it; a list set to send unreviewed drafts has it
scheduled for its send time. No new posts: no issue, and the editors are told.

At most one slot a week is handled, a week being Monday to Sunday in the list's zone: an
editor moving the slot later in a week already handled, or the zone westwards, gets no
second issue that week; a slot moved into the next week is that week's.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup, escape

from newsletter.digest.compose import ComposeError, compose_issue
from newsletter.editors import email_editors
from newsletter.extensions import db
from newsletter.i18n import isolate
from newsletter.models import Issue, MailingList, utcnow
from newsletter.sending import lifecycle
from newsletter.statuses import IssueStatus
from newsletter.zones import shown

logger = logging.getLogger(__name__)


def send_time(mailing_list: MailingList, now: datetime) -> datetime:
    """The weekly send time whose compose time (a lead before it) came last, in UTC.

    Each week's slot is its wall time in the list's zone; the lead is elapsed hours, counted
    in UTC: between two times in one zone Python subtracts wall times, so three hours before
    03:00 on the night the clocks changed were two or four."""
    zone = ZoneInfo(mailing_list.timezone)
    today = now.astimezone(zone).date()
    hour, minute = (int(part) for part in mailing_list.send_time.split(":"))
    day = today - timedelta(days=(today.weekday() - mailing_list.send_weekday) % 7)
    lead = timedelta(hours=current_app.config["AUTOPILOT_LEAD_HOURS"])
    slots = [
        datetime.combine(day + timedelta(weeks=weeks), time(hour, minute), zone).astimezone(UTC)
        for weeks in (1, 0, -1)
    ]
    return next((slot for slot in slots if slot - lead <= now), slots[-1])


def slot_week(mailing_list: MailingList, slot: datetime) -> date:
    """The Monday of the slot's week in the list's zone."""
    day = slot.astimezone(ZoneInfo(mailing_list.timezone)).date()
    return day - timedelta(days=day.weekday())


def due_send_time(mailing_list: MailingList, now: datetime) -> datetime | None:
    """The send time whose compose time has come, in a week autopilot has not handled yet."""
    slot = send_time(mailing_list, now)
    handled = mailing_list.autopilot_week
    if handled is not None and handled >= slot_week(mailing_list, slot):
        return None
    return slot


def _since(mailing_list: MailingList, slot: datetime) -> datetime:
    """Posts new since the last issue (its range end), or in the last week."""
    last = db.session.scalar(
        sa.select(sa.func.max(Issue.until)).where(
            Issue.list_id == mailing_list.id, Issue.status != IssueStatus.CANCELLED
        )
    )
    return last or slot - timedelta(days=7)


def _tell_editors(mailing_list: MailingList, subject: str, message: str, link: str = "") -> None:
    """Best effort: the draft is made whether or not the editors can be emailed. `message`
    may name the list as {name}."""
    try:
        _email_editors(mailing_list, subject, message, link)
    except Exception:
        logger.exception("autopilot could not email the editors of %s", mailing_list.slug)


def _email_editors(mailing_list: MailingList, subject: str, message: str, link: str) -> None:
    # The list's name, Persian say, keeps its own direction inside the English sentence.
    said = Markup.escape(message).format(name=isolate(mailing_list.name))
    button = f'<p><a href="{escape(link)}">{escape(link)}</a></p>' if link else ""
    html = f"<p>{said}</p>{button}"
    text = message.format(name=mailing_list.name) + (f"\n\n{link}\n" if link else "\n")
    email_editors(mailing_list, subject, html, text)


def run_list(mailing_list: MailingList, now: datetime) -> Issue | None:
    slot = due_send_time(mailing_list, now)
    if slot is None:
        return None
    mailing_list.autopilot_at = slot
    mailing_list.autopilot_week = slot_week(mailing_list, slot)
    db.session.commit()
    try:
        issue = compose_issue(mailing_list, _since(mailing_list, slot), now)
    except ComposeError:
        _tell_editors(
            mailing_list,
            f"{mailing_list.name}: no new posts this week",
            "Autopilot found no new posts for {name}, so no issue was composed.",
        )
        return None
    link = f"{current_app.config['BASE_URL']}/admin/issues/{issue.id}"
    if mailing_list.autopilot_send and slot > now:
        lifecycle.schedule_issue(issue, slot)
        note = f"Issue {issue.number} is scheduled for {shown(slot, mailing_list.timezone)}."
    else:
        note = f"Issue {issue.number} is a draft waiting for your review."
    _tell_editors(mailing_list, f"{mailing_list.name}: issue {issue.number} is ready", note, link)
    return issue


def run_autopilot(now: datetime | None = None) -> list[int]:
    """What beat runs: every list on autopilot whose compose time has come; one list's
    failure is logged and does not keep the others from theirs."""
    now = now or utcnow()
    lists = db.session.scalars(sa.select(MailingList).where(MailingList.autopilot.is_(True)))
    composed = []
    for mailing_list in lists.all():
        try:
            issue = run_list(mailing_list, now)
        except Exception:
            db.session.rollback()
            logger.exception("autopilot failed for %s", mailing_list.slug)
            continue
        if issue is not None:
            composed.append(issue.id)
    return composed
