"""Subscribers: search, a page per subscriber, and what editors may do to a subscription."""

import re
import unicodedata

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from newsletter import bounce_history
from newsletter.addresses import InvalidEmail, unicode_domain
from newsletter.admin import bp
from newsletter.extensions import db
from newsletter.hardening import database_int
from newsletter.lists import ListNotFound, get_list
from newsletter.models import Import, MailingList, Subscriber, Subscription
from newsletter.statuses import ImportStatus
from newsletter.subscriptions import columns, csv_reading, importer, service
from newsletter.subscriptions.export import attribute_text, csv_rows, data_download, deliveries_of
from newsletter.subscriptions.importer import stage_import
from newsletter.subscriptions.shapes import with_subscriptions
from newsletter.text import PERSIAN_FOR_ARABIC

PAGE = 100
ATTRIBUTE_COLUMNS = 8
# Actions that cannot be undone wait for a confirm field, so one stray click changes nothing.
CONFIRMED = {
    "blocklist": "Not blocklisted: tick the box to confirm.",
    "delete": "Not erased: type the address to confirm.",
}


def _confirmed(action: str, subscriber: Subscriber) -> bool:
    typed = request.form.get("confirm", "").strip().lower()
    return typed == subscriber.email.lower() if action == "delete" else typed == "yes"


def _subscriber(subscriber_id: int) -> Subscriber:
    return db.session.get(Subscriber, subscriber_id) or abort(404)


# Persian's yeh and kaf and Arabic's, which names are stored in as typed: either matches.
_YEH_KAF = str.maketrans(dict.fromkeys({*PERSIAN_FOR_ARABIC, *PERSIAN_FOR_ARABIC.values()}, "_"))


def _either_form(query: str) -> str:
    """A LIKE pattern matching the query's yeh and kaf in either form ("کریمی" finds the
    "كريمي" of a Windows-1256 file); `_` is LIKE's one character. A domain's ASCII form, as
    a bounce report shows it ("xn--exmple-cua"), finds the Unicode form addresses are kept in."""
    query = unicodedata.normalize("NFC", query).lower()
    query = re.sub(r"xn--[a-z0-9-]+", lambda label: unicode_domain(label[0]), query)
    return query.translate(_YEH_KAF)


@bp.get("/subscribers")
def subscribers(typed: dict | None = None, answer: int = 200):
    """The search and its page; `typed`, an add form refused, shown again as it was typed."""
    query, slug, status = (request.args.get(k, "").strip() for k in ("q", "list", "status"))
    after = request.args.get("after", 0, type=database_int)
    select = sa.select(Subscriber)
    if query:
        pattern = f"%{_either_form(query)}%"
        select = select.where(
            sa.or_(Subscriber.email.like(pattern), sa.func.lower(Subscriber.name).like(pattern))
        )
    if status:
        select = select.where(Subscriber.status == status)
    if slug:
        try:
            mailing_list = get_list(slug)
        except ListNotFound:
            pass  # an unknown list filters nothing out
        else:
            select = select.join(Subscription).where(Subscription.list_id == mailing_list.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(select.subquery()))
    subscribers = db.session.scalars(
        with_subscriptions(select.where(Subscriber.id > after).order_by(Subscriber.id).limit(PAGE))
    ).all()
    lists = db.session.scalars(sa.select(MailingList).order_by(MailingList.name)).all()
    return render_template(
        "admin/subscribers.html",
        subscribers=subscribers,
        total=total,
        attribute_keys=_attribute_keys(subscribers),
        attribute_text=attribute_text,
        lists=lists,
        q=query,
        slug=slug,
        status=status,
        next_after=subscribers[-1].id if len(subscribers) == PAGE else None,
        typed=typed or {},
    ), answer


def _attribute_keys(subscribers: list[Subscriber]) -> list[str]:
    """The attributes' keys on this page, as columns; a wide import shows the first few."""
    keys = {key for s in subscribers if isinstance(s.attributes, dict) for key in s.attributes}
    return sorted(keys)[:ATTRIBUTE_COLUMNS]


@bp.post("/subscribers")
def add_subscriber():
    mailing_list = get_list(request.form.get("list", ""))
    try:
        added = service.subscribe(
            mailing_list,
            request.form.get("email", ""),
            request.form.get("name", ""),
            ip=request.remote_addr,
            source="admin",
            preconfirmed=request.form.get("preconfirm") == "on",
        )
        # Editors may know what the public form does not tell.
        flash("Added." if added else "Not added: the address is on the suppression list.")
    except InvalidEmail as exc:
        flash(f"Not added: {exc}")
        return subscribers(typed=request.form, answer=422)  # what was typed stays
    return redirect(url_for("admin.subscribers"))


@bp.get("/subscribers/<int:subscriber_id>")
def subscriber(subscriber_id: int):
    subscriber = _subscriber(subscriber_id)
    return render_template(
        "admin/subscriber.html",
        subscriber=subscriber,
        deliveries=deliveries_of(subscriber),
        bounces=bounce_history.for_subscriber(subscriber.id),
    )


@bp.post("/subscribers/<int:subscriber_id>/<action>")
def change_subscriber(subscriber_id: int, action: str):
    subscriber = _subscriber(subscriber_id)
    back = redirect(url_for("admin.subscriber", subscriber_id=subscriber.id))
    if action in CONFIRMED and not _confirmed(action, subscriber):
        flash(CONFIRMED[action])  # and nothing changes
        return back
    if action == "edit":
        subscriber.name = service.clean_name(request.form.get("name"))
        db.session.commit()
    elif action == "unsubscribe":
        list_id = request.form.get("list_id", type=database_int)
        subscription = service.get_subscription(subscriber.id, list_id)
        if subscription:
            service.unsubscribe(subscription, "by an editor", notify=False)
    elif action == "blocklist":
        service.blocklist(subscriber)
    elif action == "reactivate":
        service.reactivate(subscriber)
    elif action == "delete":
        service.erase(subscriber)
        flash("Erased.")
        return redirect(url_for("admin.subscribers"))
    else:
        abort(404)
    flash("Saved.")
    return back


@bp.get("/subscribers/<int:subscriber_id>/export.json")
def export_subscriber(subscriber_id: int):
    """Everything held about one subscriber, for a data request."""
    return data_download(_subscriber(subscriber_id))


@bp.route("/lists/<slug>/import", methods=["GET", "POST"])
def import_csv(slug: str):
    mailing_list = get_list(slug)
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a CSV file.")
        else:
            record = stage_import(mailing_list, upload, request.form.get("preconfirm") == "on")
            return redirect(url_for("admin.map_import", import_id=record.id))
    return render_template("admin/import.html", mailing_list=mailing_list)


@bp.route("/imports/<int:import_id>/map", methods=["GET", "POST"])
def map_import(import_id: int):
    """The first rows of the file, and which column is the address, the name, or kept."""
    record = db.session.get(Import, import_id) or abort(404)
    if record.status != ImportStatus.STAGED:
        return redirect(url_for("admin.import_report", import_id=record.id))
    # The encoding the editor chose to read the file in: a link's, then the form's.
    chosen = request.values.get("encoding") or None
    if chosen not in (None, *csv_reading.NAMES):
        chosen = None  # an unknown one: as found in the file
    try:
        found = importer.preview(record, chosen)
    except (importer.UnreadableFile, UnicodeError, OSError) as exc:
        flash(f"This file cannot be read: {exc}")
        return redirect(url_for("admin.import_csv", slug=get_list(list_id=record.list_id).slug))
    error = None
    if request.method == "POST":
        mapping = {
            name: request.form.get(f"column_{i}", "ignore") for i, name in enumerate(found.header)
        }
        try:
            importer.queue_import(record, mapping, chosen)
            return redirect(url_for("admin.import_report", import_id=record.id))
        except importer.UnreadableFile as exc:
            error = str(exc)
    return render_template(
        "admin/import_map.html",
        record=record,
        found=found,
        encodings=csv_reading.NAMES,
        guess=columns.guess_mapping(found.header, found.rows),
        exported=columns.EXPORTED,
        says_who_left=columns.SAYS_WHO_LEFT,
        choice_labels=columns.CHOICE_LABELS,
        error=error,
    ), (422 if error else 200)


@bp.get("/imports/<int:import_id>")
def import_report(import_id: int):
    record = db.session.get(Import, import_id) or abort(404)
    if request.args.get("format") == "json":
        return {
            "status": record.status,
            "total": record.total,
            "imported": record.imported,
            "rejected": record.rejected,
        }
    return render_template("admin/import_report.html", record=record)


@bp.get("/lists/<slug>/export.csv")
def export_csv(slug: str):
    mailing_list = get_list(slug)
    for_excel = request.args.get("for") == "excel"
    rows = stream_with_context(csv_rows(mailing_list.id, request.args.get("status"), for_excel))
    return Response(
        rows,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={mailing_list.slug}-subscribers.csv"
        },
    )
