"""The issue list costs the same number of SQL statements for 5 issues as for 50."""

import pytest
from builders import counting_statements, issues_sent_to

from newsletter.extensions import db
from newsletter.models import Issue, Subscriber


def _add_rendered(list_id: int, number: int) -> None:
    issue = Issue(list_id=list_id, number=number, subject="Rendered", status="sent")
    issue.html, issue.text = "<p>" + "x" * 50_000 + "</p>", "x" * 20_000
    db.session.add(issue)
    db.session.commit()


def _statements_for_listing(client, api_headers) -> tuple[int, dict]:
    db.session.expunge_all()  # as in a fresh request: nothing already loaded
    with counting_statements() as seen:
        answer = client.get("/api/v1/issues", headers=api_headers)
    assert answer.status_code == 200
    return len(seen), answer.json


@pytest.mark.slow
def test_listing_issues_runs_as_many_statements_for_50_issues_as_for_5(client, api_headers, weekly):
    reader = Subscriber(email="reader@example.org")
    db.session.add(reader)
    db.session.commit()
    list_id, reader_id = weekly.id, reader.id

    issues_sent_to(list_id, reader_id, 1, 5)
    few, listed = _statements_for_listing(client, api_headers)
    assert len(listed["items"]) == 5

    issues_sent_to(list_id, reader_id, 6, 45)
    many, listed = _statements_for_listing(client, api_headers)
    assert len(listed["items"]) == 50

    assert many == few, f"{few} statements for 5 issues, {many} for 50"
    # The frozen renders (tens of KB an issue) are loaded only where they are read.
    _add_rendered(list_id, 56)
    db.session.expunge_all()
    with counting_statements() as seen:
        assert client.get("/api/v1/issues", headers=api_headers).status_code == 200
    assert not [sql for sql in seen if "issues.html" in sql]
    first = listed["items"][0]
    assert first["counts"] == {"sent": 1, "failed": 0, "pending": 0, "total": 1}
    assert first["bounces"]["soft"] == 1 and first["bounces"]["by_reason"] == {"unknown": 1}
    assert [item["position"] for item in first["items"]] == [0, 1]
