"""What every request and answer gets: ids the database can hold, no NUL characters,
security headers, and access logs without link tokens."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from werkzeug.routing import IntegerConverter

from newsletter import logs

# The largest id a PostgreSQL integer column holds; a larger one in a path is a 404, not a 500.
MAX_ID = 2**31 - 1

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    # The admin shows previews in frames of its own pages; no other site may frame ours.
    "frame-ancestors": "'self'",
}


def content_policy(**changes: str) -> str:
    """POLICY with some directives replaced: content_policy(img_src="* data:")."""
    directives = POLICY | {name.replace("_", "-"): value for name, value in changes.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


# Email HTML shown as a page (archive, previews): its own inline styles and remote images,
# and nothing that runs.
EMAIL_HTML = content_policy(
    default_src="'none'", script_src="'none'", style_src="'unsafe-inline'", img_src="* data:"
)

HEADERS = {
    "Content-Security-Policy": content_policy(),
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: Flask-WTF checks the Referer of form posts over HTTPS.
    "Referrer-Policy": "same-origin",
}


class DatabaseInt(IntegerConverter):
    """<int:…> for ids: a number no integer column can hold is read as 0, which no row has,
    so each view answers its own 404. (A converter that refused it would make the router
    answer 405 for the rules of the same path with other methods.)"""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def database_int(value: str) -> int:
    """For request.args.get(name, default, type=database_int): a whole number an integer
    column can hold; any other (one past 2**31 failed the query) reads as the default."""
    number = int(value)
    if not -MAX_ID <= number <= MAX_ID:
        raise ValueError(f"{value} is past any id")
    return number


def has_nul(value) -> bool:
    """A NUL anywhere in a string, or in the keys and values of parsed JSON; walked without
    recursion, as JSON may nest as deep as its parser allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return False


# What a stranger may send to a public form: an address, a name, a few choices. The app's
# limit (64 MB, for editors' imports) let anyone make every worker parse 64 MB a request.
PUBLIC_BODY_MAX = 64 * 1024
PUBLIC_BLUEPRINTS = {"subscriptions", "embed"}


def _refuse_nul():
    if request.blueprint in PUBLIC_BLUEPRINTS:
        request.max_content_length = PUBLIC_BODY_MAX  # Werkzeug answers 413 past it
    # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    try:
        body = request.get_json(silent=True) if request.is_json else None
    except RecursionError:  # 30 KB of "[[[[…": Python's parser gives up, on any address
        abort(400, "The JSON body is nested too deeply.")
    if has_nul(request.path) or has_nul(dict(fields)) or has_nul(body):
        abort(400, "The request contains a NUL character.")


def secure(response: Response) -> Response:
    """The security headers on an answer (also on those redirects.py gives before Flask)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # A page may show an editor's readers or a reader's own address and links: no cache
    # keeps it, the browser's own included (Back after signing out at a shared computer),
    # unless its view says it is public (the archive) or it is a static file.
    response.headers.setdefault("Cache-Control", "no-store")
    if response.status_code == 204:
        # No content, so no content type (Flask adds text/html to every response).
        response.headers.pop("Content-Type", None)
    return response


def init_app(app: Flask) -> None:
    """Call before blueprints are registered: their int rules take the converter then."""
    app.url_map.converters["int"] = DatabaseInt
    app.before_request(_refuse_nul)
    app.after_request(secure)
    logs.keep_tokens_out()
