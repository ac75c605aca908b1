"""The API on tracking: an issue's opens where its list counts them, and a subscriber's
no_tracking, read and written."""

import re

import pytest
from builders import error_of, send_one_batch

from newsletter import analytics
from newsletter.extensions import db
from newsletter.models import Subscriber


def test_an_issue_has_opens_only_where_the_list_counts_them(api, client, weekly, inbox):
    issue = send_one_batch(weekly, 3)
    assert api.get(f"/issues/{issue.id}").json["opens"] is None

    weekly.track_opens = True
    db.session.commit()
    assert api.get(f"/issues/{issue.id}").json["opens"] == {"total": None, "unique": 0}


@pytest.mark.slow
def test_opens_count_each_copy_once(api, client, make_list, inbox):
    counting = make_list(track_opens=True)
    issue = send_one_batch(counting, 2)
    tokens = [re.search(r"/o/([^\"]+)\.gif", m.part("html"))[1] for m in inbox.wait_for(2)]
    # What the pixel's view has written, now or from its queue: each copy's first open.
    for token in (tokens[0], tokens[0], tokens[1]):
        analytics.record_open(token)
    assert api.get(f"/issues/{issue.id}").json["opens"] == {"total": None, "unique": 2}
    listed = api.get("/issues").json["items"]
    assert [i["opens"] for i in listed] == [{"total": None, "unique": 2}]
    # Opened seconds after the send: counted above, but no person's open.
    assert listed[0]["people"]["opens"] == 0


def test_no_tracking_is_read_and_written(api, weekly):
    made = api.post("/subscribers", json={"email": "ana@example.org", "no_tracking": True})
    assert made.status_code == 201 and made.json["no_tracking"] is True
    other = api.post("/subscribers", json={"email": "bob@example.org", "lists": ["weekly"]})
    assert other.json["no_tracking"] is False

    path = f"/subscribers/{made.json['id']}"
    assert api.patch(path, {"name": "Ana"}).json["no_tracking"] is True  # left as it was
    assert api.patch(path, {"no_tracking": False}).json["no_tracking"] is False
    assert api.patch(path, {"no_tracking": None}).json["no_tracking"] is False
    assert api.patch(path, {"no_tracking": True}).json["no_tracking"] is True
    db.session.expire_all()
    assert db.session.get(Subscriber, made.json["id"]).no_tracking is True


@pytest.mark.parametrize("value", ["maybe", "yes", 1, [], {"a": 1}])
def test_a_no_tracking_that_is_not_a_boolean_is_refused(api, weekly, value):
    made = api.post("/subscribers", json={"email": "ana@example.org"})
    answer = api.patch(f"/subscribers/{made.json['id']}", {"no_tracking": value})
    assert answer.status_code == 422 and "no_tracking" in error_of(answer)["fields"]
    refused = api.post("/subscribers", json={"email": "bob@example.org", "no_tracking": value})
    assert refused.status_code == 422 and "no_tracking" in error_of(refused)["fields"]
