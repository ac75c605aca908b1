"""The subscribe form pasted on the organisation's own site (embed_snippet, which the admin
shows) and POST /embed/<slug>, where it posts.

A form on another site cannot carry our CSRF token, so this view goes without one; the
honeypot and the subscribe form's rate limit stand in for it, and as on our own form every
address gets the same answer, so nobody learns who is subscribed.
"""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape

from newsletter.addresses import InvalidEmail
from newsletter.extensions import csrf, limiter
from newsletter.i18n import direction, in_language_of, use_locale
from newsletter.lists import get_list
from newsletter.models import MailingList
from newsletter.subscriptions.views import (
    HONEYPOT,
    address_error,
    subscribe_from_form,
    subscribe_limit,
)

bp = Blueprint("embed", __name__)

RETURN_TO_MAX = 2000


def allowed_return(mailing_list: MailingList, return_to: str) -> str | None:
    """return_to when it lies under one of the list's embed_return_urls, else None.

    Compared by parts, not as text: a prefix "https://example.org" must not let
    "https://example.org.evil.test/" or "https://example.org@evil.test/" through."""
    if not return_to or len(return_to) > RETURN_TO_MAX:
        return None
    # Browsers drop or reinterpret these (a backslash reads as a slash), so the URL we check
    # would not be the URL they open.
    if any(c.isspace() or c == "\\" or ord(c) < 32 for c in return_to):
        return None
    try:
        target = urlsplit(return_to)
        prefixes = [urlsplit(line.strip()) for line in mailing_list.embed_return_urls.splitlines()]
    except ValueError:  # such as an unclosed [IPv6] host
        return None
    if target.scheme not in ("http", "https") or not target.hostname or target.username:
        return None
    for prefix in prefixes:
        if (
            prefix.scheme == target.scheme
            and prefix.netloc.lower() == target.netloc.lower()
            and (target.path or "/").startswith(prefix.path or "/")
        ):
            return return_to
    return None


def _thanks(mailing_list: MailingList):
    return_to = allowed_return(mailing_list, request.form.get("return_to", ""))
    if return_to:
        return redirect(return_to, 303)
    return render_template("subscribed.html", mailing_list=mailing_list)


@bp.get("/embed/<slug>")
def embed_form(slug: str):
    # Nothing to show here: someone who opens the address gets our own form.
    return redirect(url_for("subscriptions.subscribe_form", slug=slug))


@bp.post("/embed/<slug>")
@csrf.exempt
@limiter.limit(subscribe_limit, methods=["POST"])
def embed_subscribe(slug: str):
    mailing_list = get_list(slug, public=True)
    use_locale(mailing_list=mailing_list)
    email, name = request.form.get("email", ""), request.form.get("name", "")
    if request.form.get(HONEYPOT):
        # A bot: nothing is stored or sent, and it gets the answer a person gets.
        return _thanks(mailing_list)
    try:
        subscribe_from_form(
            mailing_list, email, name, f"embed:{request.headers.get('Origin') or request.path}"
        )
    except InvalidEmail as exc:
        values = {"email": email[:254], "name": name[:200]}
        error = address_error(exc)
        page = render_template(
            "embed_check_address.html", mailing_list=mailing_list, values=values, error=error
        )
        return page, 400
    return _thanks(mailing_list)


def embed_snippet(mailing_list: MailingList) -> str:
    """Plain HTML for the organisation's own site, in the list's language and direction: it
    subscribes in one step. (It was in English on a Persian list, the address left to the
    page's direction.)

    It posts to /embed/<slug>, which needs no CSRF token; the hidden field out of sight is the
    honeypot bots fill in. With return addresses set, people come back to the first one.
    """
    action = f"{current_app.config['BASE_URL']}/embed/{mailing_list.slug}"
    with in_language_of(mailing_list) as locale:
        address, name, button = (str(_(words)) for words in ("Email address", "Name", "Subscribe"))
    # Labels shown, for each field's id: named by the list, as a page may hold two forms.
    field = escape(f"newsletter-{mailing_list.slug}")
    lines = [
        f'<form method="post" action="{escape(action)}" lang="{locale}" dir="{direction(locale)}">',
        f'  <label for="{field}-email">{escape(address)}</label>',
        # Not type="email": Chromium rewrites its domain the IDNA 2003 way (faß.de: fass.de).
        f'  <input id="{field}-email" type="text" inputmode="email" name="email" '
        'autocomplete="email" spellcheck="false" autocapitalize="off" '
        'placeholder="you@example.org" dir="ltr" required>',
        f'  <label for="{field}-name">{escape(name)}</label>',
        f'  <input id="{field}-name" type="text" name="name" autocomplete="name" dir="auto">',
        # Clipped, not moved off screen: on a right-to-left page that widens the page.
        '  <div style="position:absolute;width:1px;height:1px;overflow:hidden;'
        'clip-path:inset(50%)" aria-hidden="true">'
        f'<input type="text" name="{HONEYPOT}" tabindex="-1" autocomplete="off"></div>',
    ]
    return_urls = (mailing_list.embed_return_urls or "").split()
    if return_urls:
        lines.append(f'  <input type="hidden" name="return_to" value="{escape(return_urls[0])}">')
    lines += [f'  <button type="submit">{escape(button)}</button>', "</form>"]
    return "\n".join(lines)
