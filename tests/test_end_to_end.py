"""The whole weekly digest on real parts: web form, SMTP server, Celery worker and beat
processes, PostgreSQL and Redis (or their embedded stand-ins)."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import wait_until

from newsletter.extensions import db
from newsletter.models import Issue

pytestmark = pytest.mark.slow

FEED = (Path(__file__).parent / "data" / "interlink-feed.xml").read_bytes()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _link(text: str, kind: str) -> str:
    return re.search(rf"http://newsletter\.test(/{kind}/[^\s>)\]]+)", text).group(1)


def _subscribe_and_confirm(client, inbox, email: str, name: str) -> None:
    form = client.get("/subscribe/weekly")
    answer = client.post(
        "/subscribe/weekly", data={"email": email, "name": name, "csrf_token": _csrf(form.text)}
    )
    assert answer.status_code == 200
    confirmation = inbox.wait_for(1, recipient=email)[0]
    assert "confirm" in confirmation.message["Subject"].lower()
    path = _link(confirmation.part("plain"), "confirm")
    page = client.get(path)
    assert "Yes, subscribe me" in page.text
    assert client.post(path, data={"csrf_token": _csrf(page.text)}).status_code == 200
    welcome = inbox.wait_for(2, recipient=email)[1]
    assert welcome.message["Subject"] == "Welcome to Weekly Digest"


def _schedule_soon(client, api_headers, issue_id: int) -> None:
    send_at = (datetime.now(UTC) + timedelta(seconds=2)).astimezone().isoformat()
    answer = client.post(
        f"/api/v1/issues/{issue_id}/schedule", json={"send_at": send_at}, headers=api_headers
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "scheduled"


def _wait_sent(client, api_headers, issue_id: int) -> dict:
    def sent():
        body = client.get(f"/api/v1/issues/{issue_id}", headers=api_headers).json
        return body if body["status"] == "sent" else None

    return wait_until(sent, timeout=60, message="the issue was not sent")


def test_subscribe_confirm_compose_schedule_deliver_and_leave(
    app, client, weekly, inbox, api_headers, worker_process, web_files
):
    worker_process("--beat", NEWSLETTER_BEAT_INTERVAL="1", NEWSLETTER_FEED_ALLOW_HOSTS="127.0.0.1")
    web_files.files["/feed.xml"] = FEED

    _subscribe_and_confirm(client, inbox, "ana@example.org", "Ana")
    _subscribe_and_confirm(client, inbox, "bob@example.org", "Bob <b>Builder</b>")

    feed = client.post(
        "/api/v1/feeds",
        json={"url": web_files.url + "/feed.xml", "list": "weekly"},
        headers=api_headers,
    )
    assert feed.status_code == 201
    client.application.config["FEED_FETCH_WAIT"] = 20  # the README's "fetch now": {new}
    fetched = client.post(f"/api/v1/feeds/{feed.json['id']}/fetch", headers=api_headers)
    assert fetched.status_code == 200  # the worker fetched it while the request waited
    assert fetched.json["new"] == 10

    composed = client.post(
        "/api/v1/issues/compose",
        json={"list": "weekly", "since": "2019-07-25", "until": "2019-08-16"},
        headers=api_headers,
    )
    assert composed.status_code == 201
    assert composed.json["number"] == 1
    assert len(composed.json["items"]) == 9  # the undated post was first seen today
    _schedule_soon(client, api_headers, composed.json["id"])

    first = _wait_sent(client, api_headers, composed.json["id"])
    assert first["counts"] == {"total": 2, "sent": 2, "failed": 0, "pending": 0}
    digest_to_ana = inbox.wait_for(3, recipient="ana@example.org")[2]
    digest_to_bob = inbox.wait_for(3, recipient="bob@example.org")[2]
    message = digest_to_ana.message
    assert message["Subject"] == composed.json["subject"]
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].endswith("<weekly.newsletter.test>")
    html = digest_to_ana.part("html")
    assert "Hello Ana," in html
    assert "OIAC aka MEK Deceptive Tactics in USA" in html
    assert "1 Main Street" in html
    assert "Hello Bob &lt;b&gt;Builder&lt;/b&gt;," in digest_to_bob.part("html")
    assert "Hello Ana," in digest_to_ana.part("plain")

    # One click, from the mail provider: no cookie, no form token.
    unsubscribe = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
    fresh = app.test_client()
    left = fresh.post(
        unsubscribe.replace("http://newsletter.test", ""),
        data={"List-Unsubscribe": "One-Click"},
    )
    assert left.status_code == 200

    post = client.post(
        "/api/v1/posts",
        json={
            "list": "weekly",
            "title": "A second week",
            "url": "https://interlink.example/week-2/",
            "source": "Iran Interlink",
            "published_at": "2019-08-20T10:00:00+00:00",
            "excerpt": "What happened next.",
        },
        headers=api_headers,
    )
    assert post.status_code == 201
    second = client.post(
        "/api/v1/issues/compose",
        json={"list": "weekly", "since": "2019-08-16", "until": "2019-08-23"},
        headers=api_headers,
    )
    assert second.json["number"] == 2
    _schedule_soon(client, api_headers, second.json["id"])
    done = _wait_sent(client, api_headers, second.json["id"])
    assert done["counts"] == {"total": 1, "sent": 1, "failed": 0, "pending": 0}
    inbox.wait_for(4, recipient="bob@example.org")
    ana_mail = [m.message["Subject"] for m in inbox.to("ana@example.org")]
    assert second.json["subject"] not in ana_mail
    assert db.session.get(Issue, second.json["id"]).status == "sent"
