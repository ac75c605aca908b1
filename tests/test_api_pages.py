"""The API's lists a page at a time: issues and posts newest first (?before=, next_before),
subscribers by id (?after=, next_after), and each list's query parameters in openapi.json.
An integrator syncing four years of weekly issues got the newest 200 and no way on."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import error_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.extensions import db
from newsletter.models import Issue, Post


def pages(client, headers, path: str, cursor: str, limit: int, **params) -> list[list[dict]]:
    """Every page of `path`, following its cursor to the end."""
    found, at = [], None
    while True:
        query = {**params, "limit": limit, **({cursor.removeprefix("next_"): at} if at else {})}
        answer = client.get(path, headers=headers, query_string=query)
        assert answer.status_code == 200, answer.json
        found.append(answer.json["items"])
        at = answer.json[cursor]
        if at is None:
            return found
        assert len(found) < 1000, "the pages never end"


@pytest.mark.slow
def test_issues_come_a_page_at_a_time_past_the_first_200(client, api_headers, weekly):
    db.session.add_all(
        Issue(list_id=weekly.id, number=n, subject=f"شماره {n} 🗞") for n in range(1, 231)
    )
    db.session.commit()
    first = client.get("/api/v1/issues", headers=api_headers).json
    assert len(first["items"]) == 200 and first["next_before"] == first["items"][-1]["id"]
    walked = pages(client, api_headers, "/api/v1/issues", "next_before", 70)
    assert [len(page) for page in walked] == [70, 70, 70, 20]
    numbers = [issue["number"] for page in walked for issue in page]
    assert numbers == list(range(230, 0, -1))


def test_a_filtered_list_of_issues_pages_within_its_filter(client, api_headers, weekly, make_list):
    other = make_list(slug="other")
    for n in range(1, 11):
        db.session.add(Issue(list_id=(weekly if n % 2 else other).id, number=n, subject=f"{n}"))
    db.session.commit()
    walked = pages(client, api_headers, "/api/v1/issues", "next_before", 2, list="weekly")
    assert [i["number"] for page in walked for i in page] == [9, 7, 5, 3, 1]
    assert walked[-1] and len(walked) == 3  # a full last page says so by an empty next


MOMENTS = st.lists(st.integers(0, 3), min_size=0, max_size=14)  # few days: many ties


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days=MOMENTS, undated=st.lists(st.booleans(), min_size=14, max_size=14), limit=st.integers(1, 5)
)
def test_posts_page_through_ties_without_losing_or_repeating_one(
    client, api_headers, weekly, days, undated, limit
):
    """Posts dated alike (a feed gives a day, not a time) or undated (they take when they
    were first seen) are each on exactly one page, in the order of one long page."""
    db.session.execute(sa.delete(Post))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n, day in enumerate(days):
        when = start + timedelta(days=day)
        db.session.add(
            Post(
                list_id=weekly.id,
                guid=f"g{n}",
                url=f"https://example.org/{n}",
                title=f"خبر {n}",
                published_at=None if undated[n] else when,
                first_seen_at=when,
            )
        )
    db.session.commit()
    whole = client.get("/api/v1/posts", headers=api_headers, query_string={"limit": 1000})
    walked = pages(client, api_headers, "/api/v1/posts", "next_before", limit)
    assert [p["id"] for page in walked for p in page] == [p["id"] for p in whole.json["items"]]
    assert len(whole.json["items"]) == len(days)


def test_a_page_after_a_post_that_is_gone_says_to_start_again(client, api_headers, weekly):
    answer = client.get("/api/v1/posts?before=999999", headers=api_headers)
    assert answer.status_code == 422
    assert "start again" in error_of(answer)["fields"]["before"]


def test_a_wrong_query_value_is_a_422_naming_it(client, api_headers, weekly):
    cases = {
        "/api/v1/issues?limit=0": "limit",
        "/api/v1/issues?before=x": "before",
        "/api/v1/issues?status=nonsense": "status",
        "/api/v1/posts?limit=5000": "limit",
        "/api/v1/subscribers/export?for=exel": "for",
        "/api/v1/subscribers/export?status=gone": "status",
        "/api/v1/subscribers?stauts=bounced": "stauts",  # misspelt: every subscriber came
        "/api/v1/posts?page=2": "page",
    }
    for path, name in cases.items():
        answer = client.get(path, headers=api_headers)
        assert answer.status_code == 422, path
        assert name in error_of(answer)["fields"], path


def test_the_export_for_excel_still_puts_the_byte_order_mark_first(client, api_headers, weekly):
    answer = client.get("/api/v1/subscribers/export?for=excel", headers=api_headers)
    assert answer.status_code == 200 and answer.data.startswith("\ufeff".encode())
    plain = client.get("/api/v1/subscribers/export?status=active", headers=api_headers)
    assert plain.status_code == 200 and plain.data.startswith(b"email,")


def test_openapi_names_each_list_s_query_parameters_and_cursor(client):
    spec = client.get("/api/v1/openapi.json").json["paths"]
    expected = {
        "/api/v1/issues": ({"list", "status", "before", "limit"}, "next_before"),
        "/api/v1/posts": ({"list", "since", "until", "before", "limit"}, "next_before"),
        "/api/v1/subscribers": ({"email", "list", "status", "after", "limit"}, "next_after"),
        "/api/v1/subscribers/export": ({"list", "status", "for"}, None),
    }
    for path, (names, cursor) in expected.items():
        operation = spec[path]["get"]
        query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert set(query) == names, path
        assert not any(p["required"] for p in query.values()), path
        if cursor:
            body = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert body["properties"][cursor] == {"type": ["integer", "null"]}
    limit = {p["name"]: p for p in spec["/api/v1/issues"]["get"]["parameters"]}["limit"]
    assert limit["schema"]["maximum"] == 1000 and limit["schema"]["default"] == 200
