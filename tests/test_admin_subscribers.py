"""Subscribers in the admin: search, a person's page, actions, data export, CSV in and out."""

import csv
import io
import json

from builders import staged_import
from conftest import wait_until

from newsletter.extensions import db
from newsletter.models import Delivery, Import, Issue, IssueItem, Subscriber, Subscription


def person(mailing_list, email, name="", status="confirmed", subscriber_status="active"):
    made = Subscriber(email=email, name=name, status=subscriber_status, attributes={})
    made.subscriptions.append(
        Subscription(
            list_id=mailing_list.id,
            status=status,
            consent_source="form:/subscribe/weekly",
            consent_ip="203.0.113.9",
        )
    )
    db.session.add(made)
    db.session.commit()
    return made


def test_search_by_address_or_name_and_filter_by_status(editor_client, weekly):
    person(weekly, "ana@example.org", "Ana Lima")
    person(weekly, "bob@example.org", "Bob", subscriber_status="blocklisted")
    by_name = editor_client.get("/admin/subscribers?q=lima").text
    assert "ana@example.org" in by_name and "bob@example.org" not in by_name
    blocked = editor_client.get("/admin/subscribers?status=blocklisted&list=weekly").text
    assert "bob@example.org" in blocked and "ana@example.org" not in blocked


def test_a_subscribers_page_shows_consent_and_deliveries(editor_client, weekly):
    ana = person(weekly, "ana@example.org", "Ana")
    issue = Issue(
        list_id=weekly.id,
        number=1,
        subject="First issue",
        status="sent",
        items=[IssueItem(position=0, title="T", url="https://example.org/t")],
    )
    db.session.add(issue)
    db.session.commit()
    db.session.add(
        Delivery(
            issue_id=issue.id, subscriber_id=ana.id, status="failed", last_error="550 no such user"
        )
    )
    db.session.commit()
    page = editor_client.get(f"/admin/subscribers/{ana.id}").text
    assert "203.0.113.9" in page and "form:/subscribe/weekly" in page
    assert (
        '#1 <bdi dir="auto">First issue</bdi>' in page
        and '<td dir="auto">550 no such user</td>' in page
    )


def test_editors_add_edit_unsubscribe_blocklist_and_erase(editor_client, weekly):
    token = {"csrf_token": editor_client.token}
    editor_client.post(
        "/admin/subscribers",
        data=token
        | {"email": "New@Example.org", "name": "New", "list": "weekly", "preconfirm": "on"},
    )
    added = Subscriber.query.one()
    assert added.email == "new@example.org" and added.subscriptions[0].status == "confirmed"
    base = f"/admin/subscribers/{added.id}"
    editor_client.post(base + "/edit", data=token | {"name": "Renamed\r\nX"})
    editor_client.post(base + "/unsubscribe", data=token | {"list_id": weekly.id})
    editor_client.post(base + "/blocklist", data=token | {"confirm": "yes"})
    db.session.expire_all()
    added = db.session.get(Subscriber, added.id)
    assert added.name == "Renamed X" and added.status == "blocklisted"
    assert added.subscriptions[0].status == "unsubscribed"
    editor_client.post(base + "/reactivate", data=token)
    db.session.expire_all()
    assert db.session.get(Subscriber, added.id).status == "active"
    editor_client.post(base + "/delete", data=token | {"confirm": "new@example.org"})
    assert Subscriber.query.count() == 0 and Subscription.query.count() == 0
    again = editor_client.post(
        "/admin/subscribers",
        data=token | {"email": "new@example.org", "list": "weekly"},
        follow_redirects=True,
    )
    assert "Not added: the address is on the suppression list." in again.text
    assert Subscriber.query.count() == 0


def test_one_subscribers_data_exports_as_json(editor_client, weekly):
    ana = person(weekly, "ana@example.org", "Ana")
    answer = editor_client.get(f"/admin/subscribers/{ana.id}/export.json")
    data = json.loads(answer.data)
    assert data["email"] == "ana@example.org"
    assert data["subscriptions"][0]["consent_ip"] == "203.0.113.9"
    assert data["deliveries"] == []


def test_the_mapping_says_what_an_export_s_own_columns_do(editor_client, weekly):
    text = b"email,name,status,consent_ip,city,timezone\nana@example.org,Ana,active,,Rasht,\n"
    page = editor_client.get(staged_import(editor_client, text)).text
    assert ">time zone</option>" in page
    assert "who not to subscribe (left, bounced)" in page
    assert 'our export\'s "consent_ip" (not kept)' in page
    assert 'attribute "city"' in page


def test_csv_import_reports_bad_rows_and_export_gives_them_back(editor_client, weekly, worker):
    upload = io.BytesIO(b"email,name\nana@example.org,Ana\nnot-an-address,Bad\n")
    answer = editor_client.post(
        "/admin/lists/weekly/import",
        data={"csrf_token": editor_client.token, "preconfirm": "on", "file": (upload, "a.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    mapping = editor_client.get(answer.headers["Location"])
    assert "not-an-address" in mapping.text  # the first rows are shown
    confirmed = editor_client.post(
        answer.headers["Location"],
        data={"csrf_token": editor_client.token, "column_0": "email", "column_1": "name"},
    )
    report_url = confirmed.headers["Location"]
    wait_until(lambda: Import.query.one().status == "done")
    report = editor_client.get(report_url).text
    assert "not-an-address" in report and "invalid address" in report
    assert editor_client.get(report_url + "?format=json").json == {
        "status": "done",
        "total": 2,
        "imported": 1,
        "rejected": 1,
    }
    exported = editor_client.get("/admin/lists/weekly/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["email"], r["subscription_status"]) for r in rows] == [
        ("ana@example.org", "confirmed")
    ]


def test_columns_can_be_mapped_before_importing(editor_client, weekly, worker):
    location = staged_import(
        editor_client, b"Full name,E-mail address,Town\nAna Lima,ana@example.org,Lisbon\n"
    )
    page = editor_client.get(location).text
    assert 'value="email" selected' in page and 'value="name" selected' in page
    none = editor_client.post(
        location,
        data={
            "csrf_token": editor_client.token,
            "column_0": "name",
            "column_1": "ignore",
            "column_2": "town",
        },
    )
    assert none.status_code == 422 and "exactly one column" in none.text
    editor_client.post(
        location,
        data={
            "csrf_token": editor_client.token,
            "column_0": "name",
            "column_1": "email",
            "column_2": "town",
        },
    )
    wait_until(lambda: Import.query.one().status == "done")
    ana = Subscriber.query.one()
    assert (ana.email, ana.name, ana.attributes) == (
        "ana@example.org",
        "Ana Lima",
        {"town": "Lisbon"},
    )
