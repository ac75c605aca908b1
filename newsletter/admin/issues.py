"""The issue editor: compose, edit, preview, test, schedule, send, and watch it go out."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from newsletter import analytics, bounce_history
from newsletter.admin import bp, issue_charts, times
from newsletter.admin.users import LANGUAGES
from newsletter.bounces import breaker
from newsletter.digest import render
from newsletter.digest.compose import compose_issue, edit_issue, posts_between
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.hardening import EMAIL_HTML, content_policy, database_int
from newsletter.lists import get_list
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending import ab, holds, ledger, lifecycle
from newsletter.sending.proofs import send_proof
from newsletter.statuses import DeliveryStatus

PREVIEW_POLICY = "sandbox; " + EMAIL_HTML
# The live preview writes the email into sandboxed frames (srcdoc), which take this page's
# policy: the email's inline styles and remote images must pass. Scripts stay 'self' only.
EDITOR_POLICY = content_policy(style_src="'self' 'unsafe-inline'", img_src="* data:")
ACTIONS = {
    "send": lifecycle.send_issue_now,
    "pause": lifecycle.pause_issue,
    "resume": lifecycle.resume_issue,
    "cancel": lifecycle.cancel_issue,
    "unschedule": lifecycle.unschedule_issue,
}
# Moves that cannot be undone wait for a ticked box.
CONFIRMED = {
    "send": "Tick the box to confirm sending now.",
    "cancel": "Not cancelled: tick the box to confirm.",
}
RANGE_FIELDS = (("since", "Posts from"), ("until", "Until"))


def _issue(issue_id: int) -> Issue:
    return db.session.get(Issue, issue_id) or abort(404)


def _to_editor(issue: Issue):
    return redirect(url_for("admin.issue", issue_id=issue.id))


@bp.get("/issues")
def issues():
    recent = db.session.scalars(sa.select(Issue).order_by(Issue.id.desc()).limit(100)).all()
    return render_template("admin/issues.html", issues=recent)


@bp.route("/lists/<slug>/compose", methods=["GET", "POST"])
def compose(slug: str):
    """The range's days are the list's days: from midnight to midnight in its time zone."""
    mailing_list = get_list(slug)
    zone = mailing_list.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    values = {
        # From the form, or the posts page's range (its link), or the week to today.
        "since": request.values.get("since", str(today - timedelta(days=7))),
        "until": request.values.get("until", str(today + timedelta(days=1))),
        "subject": request.form.get("subject", ""),
    }
    error = read = None
    try:
        read = [times.read_local(values[key], zone, label) for key, label in RANGE_FIELDS]
        if request.method == "POST":
            since, until = (reading.at for reading in read)
            issue = compose_issue(mailing_list, since, until, values["subject"] or None)
            for note in filter(None, (reading.note for reading in read)):
                flash(note)
            return _to_editor(issue)
    except (NewsletterError, ValueError) as exc:  # a ComposeError, or a bad date
        error = str(exc)
    return render_template(
        "admin/compose.html", mailing_list=mailing_list, values=values, error=error, read=read
    ), (422 if error else 200)


@bp.get("/issues/<int:issue_id>")
def issue(issue_id: int):
    return _issue_page(_issue(issue_id))


def _issue_page(found: Issue, schedule_error: str = "", status: int = 200, edit_error: str = ""):
    """The issue's page; after a refused schedule or edit, with the error and what was typed."""
    failures = db.session.execute(
        sa.select(Subscriber.email, Delivery.last_error)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.issue_id == found.id, Delivery.status == DeliveryStatus.FAILED)
        .order_by(Subscriber.email)
        .limit(500)
    ).all()
    preview_html, preview_text = render.preview(found)
    page = render_template(
        "admin/issue.html",
        issue=found,
        mailing_list=found.mailing_list,
        counts=ledger.counts(found.id),
        failures=failures,
        bounce_counts=bounce_history.counts_for_issue(found.id),
        bounces=bounce_history.for_issue(found.id),
        refused_by=bounce_history.refusals_for_issue(found.id),
        held_now=holds.held(found),
        held_dead=breaker.held_count(found),
        mass_bounce_reason=breaker.reason(found.mass_bounce) if found.mass_bounce else "",
        clicks=analytics.issue_stats(found) if found.started_at else None,
        charts=issue_charts.for_issue(found),
        waves=ledger.waves(found.id) if found.local_time else [],
        ab_results=ab.results(found),
        schedule_error=schedule_error,
        edit_error=edit_error,
        typed=request.form,
        edit=_typed_edit() if edit_error else _saved_edit(found),
        preview_text=preview_text,
        html_size=render.issue_html_size(found, preview_html),
        clipped_past=render.CLIPPED_PAST,
        languages=LANGUAGES,
    )
    return page, status, {"Content-Security-Policy": EDITOR_POLICY}


def _other_posts(issue: Issue) -> list:
    """Posts of the issue's range that it does not include, to add back by ticking them."""
    if issue.since is None or issue.until is None:
        return []
    included = {item.post_id for item in issue.items}
    return [
        post
        for post in posts_between(issue.mailing_list, issue.since, issue.until)
        if post.id not in included
    ]


ROW_FIELDS = ("post_id", "url", "source", "section", "title", "excerpt")


def _saved_edit(issue: Issue) -> dict:
    """The editor's form as stored: the issue's items, then the range's other posts unticked."""
    rows = [{**{f: getattr(item, f) for f in ROW_FIELDS}, "kept": True} for item in issue.items]
    for post in _other_posts(issue):
        rows.append(
            {
                "post_id": post.id,
                "url": post.url,
                "source": post.source,
                "section": "",
                "title": post.title,
                "excerpt": post.excerpt,
                "kept": False,
            }
        )
    return {
        "subject": issue.subject,
        "preheader": issue.preheader,
        "intro": issue.intro,
        "rows": rows,
    }


def _typed_edit() -> dict:
    """The editor's form as it was sent, in its order: a refused save loses nothing typed."""
    form = request.form
    keep = set(form.getlist("item_keep"))
    columns = [form.getlist(f"item_{name}") for name in ("position", *ROW_FIELDS)]
    rows = []
    for index, (position, *values) in enumerate(zip(*columns, strict=False)):
        row = {**dict(zip(ROW_FIELDS, values, strict=True)), "kept": str(index) in keep}
        rows.append((_position(position, index), index, row))
    return {
        **{key: form.get(key, "") for key in ("subject", "preheader", "intro")},
        "rows": [row for *_, row in sorted(rows, key=lambda r: r[:2])],
    }


def _position(text: str, index: int) -> float:
    try:
        return float(text)
    except ValueError:
        return index + 1


def _items_from_form() -> list[dict]:
    """The editor's rows, in the order of their position fields; unticked rows are dropped."""
    fields = ("post_id", "position", "section", "title", "excerpt", "url", "source")
    columns = [request.form.getlist(f"item_{name}") for name in fields]
    keep = set(request.form.getlist("item_keep"))
    rows = []
    for index, values in enumerate(zip(*columns, strict=True)):
        row = dict(zip(fields, values, strict=True))
        if str(index) not in keep:
            continue
        position = float(row.pop("position") or 0)
        post_id = row.pop("post_id")
        row["post_id"] = database_int(post_id) if post_id else None
        rows.append((position, index, row))
    return [row for *_, row in sorted(rows, key=lambda r: r[:2])]


def _changes_from_form() -> dict:
    changes = {k: request.form.get(k, "") for k in ("subject", "preheader", "intro")}
    changes["items"] = _items_from_form()
    return changes


@bp.post("/issues/<int:issue_id>")
def save(issue_id: int):
    found = _issue(issue_id)
    try:
        edit_issue(found, _changes_from_form())
    except (NewsletterError, ValueError) as exc:  # a ComposeError, or a bad position
        db.session.rollback()
        # The page again with what was typed, to mend (a redirect would show the stored one).
        return _issue_page(
            found, status=getattr(exc, "status", 422), edit_error=f"Not saved: {exc}"
        )
    flash("Saved.")
    return _to_editor(found)


@bp.post("/issues/<int:issue_id>/ab")
def ab_test(issue_id: int):
    """The A/B test's subjects (empty ones left out), share and wait."""
    found = _issue(issue_id)
    changes = {"subjects": [s for s in request.form.getlist("ab_subject") if s.strip()]}
    try:
        for field in ("ab_share", "ab_wait_minutes"):
            changes[field] = int(request.form.get(field) or 0) or None
        edit_issue(found, changes)
        flash("A/B test saved." if found.variants else "No A/B test.")
    except (NewsletterError, ValueError) as exc:
        db.session.rollback()
        flash(f"A/B test not saved: {exc}")
        return _issue_page(found, status=422)  # the form as it was typed, to mend
    return _to_editor(found)


@bp.post("/issues/<int:issue_id>/live-preview")
def live_preview(issue_id: int):
    """The editor's unsaved form rendered as subscribers would get it; nothing is stored."""
    found = _issue(issue_id)
    try:
        edit_issue(found, _changes_from_form(), commit=False)
        html, text = render.preview(found)
    except (NewsletterError, ValueError) as exc:
        return {"error": str(exc)}, 422
    finally:
        db.session.rollback()
    size = render.html_size(html)
    return {
        "html": html,
        "text": text,
        "kilobytes": round(size.bytes / 1000),
        "clipped": size.clipped,
    }


def _preview(issue_id: int) -> tuple[str, str]:
    """?lang=: the letter its readers of that language get (the send renders one each)."""
    return render.preview(_issue(issue_id), request.args.get("lang"))


@bp.get("/issues/<int:issue_id>/preview.html")
def preview_html(issue_id: int):
    page = Response(_preview(issue_id)[0], mimetype="text/html")
    page.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return page


@bp.get("/issues/<int:issue_id>/preview.txt")
def preview_text(issue_id: int):
    return Response(_preview(issue_id)[1], mimetype="text/plain")


@bp.post("/issues/<int:issue_id>/test")
def test(issue_id: int):
    found = _issue(issue_id)
    try:
        # The letter readers of that language get: each reads the issue in their own.
        sent = send_proof(found, [current_user.email], request.form.get("language"))
        flash(
            f"{sent} tests, one per A/B subject, are on their way to {current_user.email}."
            if sent > 1
            else f"A test is on its way to {current_user.email}."
        )
    except OSError as exc:  # smtplib errors are OSErrors
        flash(f"The test could not be sent: {exc}")
    return _to_editor(found)


@bp.post("/issues/<int:issue_id>/schedule")
def schedule(issue_id: int):
    """At a moment in the list's zone, or at an hour in each subscriber's own zone."""
    found = _issue(issue_id)
    try:
        by_zone = request.form.get("when") == "local"
        done = _schedule_local(found) if by_zone else _schedule_moment(found)
    except (NewsletterError, ValueError) as exc:  # a bad time, ScheduleError or StateError
        db.session.rollback()
        return _issue_page(found, f"Not scheduled: {exc}", getattr(exc, "status", 422))
    flash(done)
    return _to_editor(found)


def _schedule_moment(issue: Issue) -> str:
    zone = issue.mailing_list.timezone
    reading = times.read_local(request.form.get("send_at"), zone, "Send at")
    lifecycle.schedule_issue(issue, reading.at, reschedule=True)
    return f"Scheduled for {times.shown(issue.send_at, zone)}. {reading.note}".strip()


def _schedule_local(issue: Issue) -> str:
    zone = issue.mailing_list.timezone
    day = times.read_day(request.form.get("local_date"), "Date")
    at = request.form.get("local_time", "").strip()
    lifecycle.schedule_local(issue, day, at, reschedule=True)
    # The list's own zone stands for the rest: its clock change is the one worth saying.
    note = times.from_wall(datetime.combine(day, time.fromisoformat(at)), zone).note
    return (
        f"Scheduled for {at} on {times.day_text(day)} in each subscriber's time zone; "
        f"the first wave goes out {times.shown(issue.send_at, zone)}. {note}"
    ).strip()


@bp.post("/issues/<int:issue_id>/<action>")
def act(issue_id: int, action: str):
    found = _issue(issue_id)
    change = ACTIONS.get(action) or abort(404)
    if action in CONFIRMED and request.form.get("confirm") != "yes":
        flash(CONFIRMED[action])  # and nothing changes
        return _to_editor(found)
    try:
        change(found)
        flash(f"Issue {found.number} is {found.status}.")
    except lifecycle.StateError as exc:
        flash(str(exc))
    return _to_editor(found)


@bp.post("/issues/<int:issue_id>/release")
def release(issue_id: int):
    """A held domain's copies sent now."""
    found = _issue(issue_id)
    domain = request.form.get("domain", "")
    try:
        lifecycle.release_hold(found, domain)
        flash(f"{domain}'s copies are sent now.")
    except holds.NotHeld as exc:
        flash(str(exc))
    return _to_editor(found)


@bp.post("/issues/<int:issue_id>/dead-addresses")
def dead_addresses(issue_id: int):
    """The editors' word on subscribers held after the issue's copies came back dead en masse."""
    found = _issue(issue_id)
    decision = request.form.get("decision", "")
    if decision == "dropped" and request.form.get("confirm") != "yes":
        flash("Nobody dropped: tick the box to confirm.")
        return _to_editor(found)
    try:
        dropped = breaker.decide(found, decision)
        flash(f"Dropped: {dropped}." if decision == "dropped" else "Kept: nobody is dropped.")
    except NewsletterError as exc:
        flash(exc.message)
    return _to_editor(found)


@bp.get("/issues/<int:issue_id>/progress.json")
def progress(issue_id: int):
    found = _issue(issue_id)
    return {"status": found.status, "counts": ledger.counts(found.id)}
