"""Every route of the web app, as a visitor and as a signed-in editor, with what the world
may send in its place: ids past any row, words, Persian, emoji, a long value, a NUL, a path
that climbs; forms full of the same. Nothing answers with a server error, and every answer
carries the security headers. The API has its own fuzzing from its spec (test_api_fuzz.py);
this covers the pages and forms beside it."""

import re
from collections import Counter

import pytest
from builders import add_subscribers, draft, three_posts

from newsletter.extensions import db, limiter

pytestmark = pytest.mark.slow

IN_THE_PATH = ["0", "999999", "abc", "🎉", "تست", "x" * 3000, "-1", "1.5", "%00", "..%2F..%2Fetc"]
IN_A_FORM = [
    "",
    "تست‌ها 🎉 <script>alert(1)</script>",
    "x" * 20000,
    "\x00",
    "-1",
    "2026-13-45T99:99",
    "a@b",
    "999999999999999999999",
]
FIELDS = (
    "email", "name", "subject", "title", "url", "send_at", "slug", "language", "timezone",
    "password", "body", "excerpt", "from_email", "postal_address", "q", "status", "action",
    "mode", "rhythm", "position", "file",
)  # fmt: skip
QUERY = {"q": "🎉" * 100, "page": "abc", "status": "x", "sort": "x", "since": "bad", "until": "x"}
# Headers as clients get them wrong, or as an attacker sends them.
HEADERS = [
    {"Accept-Language": "fa-IR;q=abc, 🎉;q=2, *;q=-1"},
    {"Accept-Language": "x" * 5000},
    {"Accept-Language": "ar-SA,zh-CN;q=0.9"},
    {"Cookie": "session=" + "A" * 4000},
    {"Cookie": "session=تست; lang=🎉"},
    {"User-Agent": "\u202e" * 100},
    {"X-Forwarded-For": "not-an-ip, 999.999.1.1"},
    {"Referer": "http://تست.ایران/"},
    {"Accept": "application/json;q=abc"},
    {"Content-Type": "multipart/form-data; boundary="},
    {"Content-Type": "application/json"},
    {"If-Modified-Since": "yesterday"},
    {"Range": "bytes=9999999-"},
]
# Signing out would end the editor's half of the walk.
SIGNING_OUT = re.compile(r"logout|sign-?out")


def _paths(rule, good: dict) -> list[str]:
    """The rule's path with good values, then with each argument in turn replaced by junk."""
    values = [{name: str(good.get(name, 1)) for name in rule.arguments}]
    values += [{**values[0], name: junk} for junk in IN_THE_PATH for name in sorted(rule.arguments)]
    paths = []
    for each in values if rule.arguments else [{}]:
        paths.append(re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m, each=each: each[m[1]], rule.rule))
    return paths


def _tries(method: str, token: str) -> list[dict]:
    """A GET's query, or a form of each junk value in every field (with a CSRF token that
    holds for the editor, so their forms reach the checks behind it)."""
    if method == "GET":
        return [{"query_string": QUERY}]
    return [{"data": {"csrf_token": token, **dict.fromkeys(FIELDS, junk)}} for junk in IN_A_FORM]


def _routes(app):
    """Every route but the static files and signing out."""
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/static") or SIGNING_OUT.search(rule.rule)):
            yield rule


def _requests(app, good: dict, token: str):
    """(path, method, what to send) for every route."""
    for rule in _routes(app):
        for path in _paths(rule, good):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for kwargs in _tries(method, token):
                    yield path, method, kwargs


def _guarded(answer) -> bool:
    """Security headers on every answer, errors and redirects too; a policy on every page."""
    headers = answer.headers
    page = answer.mimetype == "text/html"
    return headers.get("X-Content-Type-Options") == "nosniff" and (
        not page or "frame-ancestors" in headers.get("Content-Security-Policy", "")
    )


def _walk(requests, clients: dict) -> tuple[Counter, list[str]]:
    """Each request by each client, the rate limits off (counted elsewhere; here every request
    must reach its view): answers by who and status class, and what answered with a server
    error or without its security headers."""
    answers: Counter = Counter()
    errors = []
    limiter.enabled = False
    try:
        for path, method, kwargs in requests:
            for who, client in clients.items():
                answer = client.open(path, method=method, **kwargs)
                answers[who, answer.status_code // 100] += 1
                if answer.status_code >= 500 or not _guarded(answer):
                    errors.append(
                        f"{who} {method} {path[:100]} {str(kwargs)[:150]}: {answer.status_code}"
                    )
                answer.close()
                db.session.rollback()
    finally:
        limiter.enabled = True
    return answers, errors


def test_no_route_answers_junk_with_a_server_error(app, editor_client, weekly):
    subscriber = add_subscribers(weekly, 2)[0]
    three_posts(weekly)
    issue = draft(weekly)
    db.session.commit()
    good = {
        "slug": weekly.slug,
        "list_id": weekly.id,
        "issue_id": issue.id,
        "subscriber_id": subscriber.id,
    }
    clients = {"editor": editor_client, "visitor": app.test_client()}
    answers, errors = _walk(_requests(app, good, editor_client.token), clients)
    # A status under 500 here means an answer without its security headers.
    assert not errors, "\n".join(errors[:40])
    # The walk reached the views, signed in and not: pages were shown and forms answered.
    # (A visitor's 2xx were over 20 while the tests' shared g handed it the editor's user:
    # the public pages alone give 16.)
    assert answers["editor", 2] > 30 and answers["visitor", 2] > 10, answers
    assert answers["editor", 4] > 1000 and answers["visitor", 4] > 1000, answers


def test_no_route_answers_odd_headers_with_a_server_error(app, editor_client, weekly):
    issue = draft(weekly)
    db.session.commit()
    good = {"slug": weekly.slug, "list_id": weekly.id, "issue_id": issue.id, "subscriber_id": 1}
    requests = [
        (_paths(rule, good)[0], method, {"headers": headers, "data": b"{not json"})
        for rule in _routes(app)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        for headers in HEADERS
    ]
    answers, errors = _walk(requests, {"editor": editor_client, "visitor": app.test_client()})
    assert not errors, "\n".join(errors[:40])
    assert answers["editor", 2] > 30, answers
