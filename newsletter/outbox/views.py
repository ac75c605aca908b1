"""Pages to read the local outbox the way a subscriber would see each email."""

from __future__ import annotations

import ipaddress
import mailbox
import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

bp = Blueprint("outbox", __name__)


@bp.before_request
def _this_machine_only():
    """Every reader's links are in the outbox: `newsletter dev --host 0.0.0.0` (a phone on
    the same network, say) served it to anyone who could reach the port."""
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        abort(404)


SHOWN_HEADERS = (
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
# Mail HTML runs in a sandbox: no script, and links open outside the frame.
HTML_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; "
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
)
LINK = re.compile(r"""https?://[^\s"'<>)\]]+""")
LIST_LIMIT = 500


def _maildir() -> mailbox.Maildir:
    return mailbox.Maildir(current_app.config["OUTBOX_DIR"], create=True)


def _read(key: str) -> EmailMessage:
    try:
        raw = _maildir().get_bytes(key)
    except (KeyError, OSError):
        abort(404)
    return message_from_bytes(raw, policy=policy.default)


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return body.get_content() if body is not None else ""


def _summary(key: str, message: EmailMessage) -> dict:
    return {
        "key": key,
        "received": message.get("X-Outbox-Received", ""),
        "to": message.get("X-Outbox-To") or message.get("To", ""),
        "sender": message.get("From", ""),
        "subject": message.get("Subject", "(no subject)"),
    }


@bp.get("/")
def index():
    folder = _maildir()
    # Maildir keys start with the delivery time in seconds, so newest sorts first.
    keys = sorted(folder.keys(), reverse=True)
    messages = [
        _summary(key, message_from_bytes(folder.get_bytes(key), policy=policy.default))
        for key in keys[:LIST_LIMIT]
    ]
    return render_template("outbox/index.html", messages=messages, total=len(keys))


@bp.get("/<key>")
def show(key: str):
    message = _read(key)
    text = _part(message, "plain")
    html = _part(message, "html")
    links = list(dict.fromkeys(LINK.findall(html + "\n" + text)))
    headers = [(name, message[name]) for name in SHOWN_HEADERS if message[name]]
    return render_template(
        "outbox/show.html",
        key=key,
        summary=_summary(key, message),
        headers=headers,
        text=text,
        has_html=bool(html),
        links=links,
    )


@bp.get("/<key>/html")
def html(key: str):
    body = _part(_read(key), "html")
    if not body:
        abort(404)
    page = Response('<base target="_blank">' + body, mimetype="text/html")
    page.headers["Content-Security-Policy"] = HTML_POLICY
    return page


@bp.get("/<key>/raw")
def raw(key: str):
    _read(key)
    return Response(_maildir().get_bytes(key), mimetype="text/plain")


@bp.post("/clear")
def clear():
    _maildir().clear()
    return redirect(url_for("outbox.index"))
