"""Charts in the admin: SVG drawn on the server that parses as XML, says what it shows to
screen readers, escapes every label, and costs the dashboard no statement per list."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from builders import counting_statements, user
from flask import get_template_attribute

from newsletter.admin import charts, issue_charts
from newsletter.admin.overview import WEEKS, weekly_movements
from newsletter.extensions import db
from newsletter.models import (
    Bounce,
    Delivery,
    Issue,
    IssueLink,
    LinkClick,
    Subscriber,
    Subscription,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"
NOW = datetime.now(UTC)


def svgs(html: str) -> list[ET.Element]:
    """Every <svg> in the page, parsed as XML: a chart that is not well-formed fails here."""
    return [ET.fromstring(found) for found in re.findall(r"<svg.*?</svg>", html, re.S)]


def drawn(chart, macro: str) -> str:
    return str(get_template_attribute("admin/_charts.html", macro)(chart))


def texts(svg: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in svg.iter(SVG + "text")]


def test_a_line_chart_has_a_point_per_value_and_says_what_it_shows(app):
    labels = [f"week {i}" for i in range(12)]
    chart = charts.line_chart(
        "growth",
        "Weekly: the last 12 weeks",
        labels,
        {"joins": list(range(12)), "leaves": [1] * 12, "bounces": [0] * 12},
        y_title="subscribers a week",
    )
    html = drawn(chart, "line_chart")
    [svg] = svgs(html)
    assert svg.get("role") == "img"
    assert svg.find(SVG + "title").text == "Weekly: the last 12 weeks"
    assert "joins: 66 in all, at most 11" in svg.find(SVG + "desc").text
    assert len(svg.findall(f".//{SVG}circle")) == 36
    assert len(svg.findall(f".//{SVG}path")) == 3
    shown = texts(svg)
    assert {"week 0", "week 6", "week 11", "subscribers a week", "0", "10", "20"} <= set(shown)
    five = charts.line_chart("five", "Five", ["a", "b"], {"joins": [5, 3]})
    assert [tick.text for tick in five.y_ticks] == ["0", "5"]
    assert html.count("<tr>") == 13  # the table screen readers read: a heading and 12 weeks


def test_one_point_sits_in_the_middle_and_zeros_still_get_an_axis(app):
    chart = charts.line_chart("one", "One", ["today"], {"clicks": [0]})
    [point] = chart.lines[0].points
    left, right = charts.MARGIN["left"], charts.MARGIN["right"]
    assert point.x == left + (charts.WIDTH - left - right) / 2
    [svg] = svgs(drawn(chart, "line_chart"))
    assert len(svg.findall(f".//{SVG}circle")) == 1
    assert "0" in texts(svg) and "1" in texts(svg)


def test_large_numbers_are_grouped_and_axis_ticks_stay_short():
    assert charts.number(1234567) == "1,234,567"
    assert [charts.short(n) for n in (950, 1000, 1500, 12_400, 3_400_000)] == [
        "950",
        "1k",
        "1.5k",
        "12k",
        "3.4M",
    ]
    assert [charts.nice_top(n) for n in (0, 1, 3, 7, 11, 2_000_001)] == [1, 1, 5, 10, 20, 5_000_000]
    chart = charts.bar_chart("big", "Big", [("example.org", 1_250_000)])
    assert chart.bars[0].text == "1,250,000"


def test_a_bar_chart_has_a_bar_per_label_largest_first_and_sums_the_rest(app):
    items = [(f"d{i}.example", i + 1) for i in range(10)]
    chart = charts.bar_chart("domains", "By receiving domain", items, "Domain", "Bounces", most=5)
    [svg] = svgs(drawn(chart, "bar_chart"))
    assert len(svg.findall(f"{SVG}rect")) == 5
    assert [bar.label for bar in chart.bars] == [
        "d9.example",
        "d8.example",
        "d7.example",
        "d6.example",
        "others",
    ]
    assert chart.bars[-1].value == sum(range(1, 7))
    assert "d9.example" in texts(svg) and "10" in texts(svg)


def test_hostile_labels_stay_text(app):
    bars = charts.bar_chart("evil", HOSTILE, [(HOSTILE, 3), ('"><svg onload=alert(1)>', 2)])
    html = drawn(bars, "bar_chart")
    line = charts.line_chart("evil-line", HOSTILE, [HOSTILE], {"joins": [1]})
    html += drawn(line, "line_chart")
    assert "<script>" not in html and "<svg onload" not in html
    parsed = svgs(html)
    assert len(parsed) == 2
    for svg in parsed:
        assert not [node for node in svg.iter() if node.tag.endswith("script")]
        assert all(not name.startswith("on") for node in svg.iter() for name in node.attrib)
    assert HOSTILE in "".join(parsed[0].itertext())


def test_an_empty_bar_chart_says_so(app):
    chart = charts.bar_chart("none", "Nothing", [])
    html = drawn(chart, "bar_chart")
    assert chart.desc == "No data." and svgs(html) == [] and "Nothing yet." in html


# --- The dashboard ------------------------------------------------------------------------


def _subscriber(mailing_list, email, joined=None, left=None, status="active"):
    subscriber = Subscriber(email=email, status=status)
    subscriber.subscriptions.append(
        Subscription(
            list_id=mailing_list.id,
            status="unsubscribed" if left else "confirmed",
            confirmed_at=joined,
            unsubscribed_at=left,
        )
    )
    db.session.add(subscriber)
    db.session.flush()
    return subscriber


def _busy_list(make_list, slug, name="Weekly Digest"):
    """Two joins this week, one three weeks ago, a leave last week, a hard bounce today."""
    mailing_list = make_list(slug=slug, name=name)
    _subscriber(mailing_list, f"a@{slug}.example", joined=NOW - timedelta(days=1))
    _subscriber(mailing_list, f"b@{slug}.example", joined=NOW - timedelta(days=2))
    _subscriber(mailing_list, f"c@{slug}.example", joined=NOW - timedelta(days=20))
    _subscriber(
        mailing_list,
        f"d@{slug}.example",
        joined=NOW - timedelta(days=200),
        left=NOW - timedelta(days=10),
    )
    gone = _subscriber(
        mailing_list, f"e@{slug}.example", joined=NOW - timedelta(days=300), status="bounced"
    )
    db.session.add(Bounce(subscriber_id=gone.id, kind="hard", received_at=NOW - timedelta(hours=3)))
    issue = Issue(list_id=mailing_list.id, number=1, subject="Sent", status="sent", started_at=NOW)
    db.session.add(issue)
    db.session.flush()
    db.session.add(Delivery(issue_id=issue.id, subscriber_id=gone.id, status="sent"))
    db.session.add(
        Issue(
            list_id=mailing_list.id,
            number=2,
            subject="Next",
            status="scheduled",
            send_at=NOW + timedelta(days=2),
        )
    )
    db.session.commit()
    return mailing_list


def test_weekly_movements_count_joins_leaves_and_bounces_in_their_weeks(make_list):
    mailing_list = _busy_list(make_list, "weekly")
    make_list(slug="quiet", name="Quiet")
    starts = [NOW - timedelta(days=7 * (WEEKS - i)) for i in range(WEEKS)]
    moved = weekly_movements(starts)
    assert list(moved) == [mailing_list.id]  # nothing moved on the quiet list
    series = moved[mailing_list.id]
    assert series["joins"][-1] == 2 and series["joins"][-3] == 1 and sum(series["joins"]) == 3
    assert series["leaves"][-2] == 1 and sum(series["leaves"]) == 1
    assert series["bounces"][-1] == 1 and sum(series["bounces"]) == 1


def test_the_dashboard_draws_each_lists_weeks_and_says_when_nothing_moved(editor_client, make_list):
    _busy_list(make_list, "weekly", name="هفته‌نامه <b>")
    make_list(slug="quiet", name="Quiet")
    html = editor_client.get("/admin/").text
    [svg] = svgs(html)
    assert len(svg.findall(f".//{SVG}circle")) == 3 * WEEKS
    assert svg.find(SVG + "title").text == "هفته‌نامه <b>: The last 12 weeks"
    assert '<caption dir="auto">هفته‌نامه &lt;b&gt;: The last 12 weeks</caption>' in html
    assert "No joins, leaves or bounces in the last 12 weeks." in html
    assert "charts.css" in html and " style=" not in html


def _statements_for_dashboard(client) -> int:
    db.session.expire_all()  # as in a fresh request: everything read again
    with counting_statements() as seen:
        answer = client.get("/admin/")
    assert answer.status_code == 200
    return len(seen)


@pytest.mark.slow
def test_the_dashboard_costs_the_same_statements_for_six_lists_as_for_one(editor_client, make_list):
    _busy_list(make_list, "list0")
    few = _statements_for_dashboard(editor_client)
    for i in range(1, 6):
        _busy_list(make_list, f"list{i}")
    many = _statements_for_dashboard(editor_client)
    assert many == few, f"{few} statements for one list, {many} for six"
    html = editor_client.get("/admin/").text
    assert (
        len(svgs(html)) == 6
        and html.count('#2 <bdi dir="auto">Next</bdi>') == 6
        and html.count('#1 <bdi dir="auto">Sent</bdi>') == 6
    )


# --- The issue page -----------------------------------------------------------------------


def _sent_issue(mailing_list, bounces):
    """A sent issue; bounces are (domain, reason, kind) triples, one subscriber each."""
    issue = Issue(
        list_id=mailing_list.id,
        number=7,
        subject="Sent",
        status="sent",
        started_at=NOW - timedelta(hours=5),
    )
    db.session.add(issue)
    db.session.flush()
    for i, (domain, reason, kind) in enumerate(bounces):
        subscriber = _subscriber(mailing_list, f"r{i}@{i}.example", joined=NOW)
        delivery = Delivery(issue_id=issue.id, subscriber_id=subscriber.id, status="sent")
        db.session.add(delivery)
        db.session.flush()
        db.session.add(
            Bounce(
                subscriber_id=subscriber.id,
                delivery_id=delivery.id,
                kind=kind,
                reason=reason,
                domain=domain,
            )
        )
    db.session.commit()
    return issue


def test_the_issue_page_charts_bounces_by_domain_and_reason(editor_client, weekly):
    issue = _sent_issue(
        weekly,
        [
            ("gmail.com", "mailbox_full", "soft"),
            ("gmail.com", "no_such_user", "hard"),
            ("example.net", "spam", "complaint"),
            (f"{HOSTILE}.example", HOSTILE, "hard"),
        ],
    )
    html = editor_client.get(f"/admin/issues/{issue.id}").text
    by_domain, by_reason = svgs(html)
    assert len(by_domain.findall(f"{SVG}rect")) == 3 and len(by_reason.findall(f"{SVG}rect")) == 4
    assert texts(by_domain)[:2] == ["gmail.com", "2"]
    assert "mailbox full" in texts(by_reason)
    assert HOSTILE + ".example: 1" in [title.text for title in by_domain.iter(SVG + "title")]
    assert "<script>" not in html
    assert "No bounces yet." not in html


def test_an_issue_without_bounces_says_so_and_a_draft_shows_no_charts(editor_client, weekly):
    issue = _sent_issue(weekly, [])
    html = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "No bounces yet." in html and "No clicks yet." in html and svgs(html) == []
    draft = Issue(list_id=weekly.id, number=8, subject="Draft")
    db.session.add(draft)
    db.session.commit()
    assert 'id="issue-charts"' not in editor_client.get(f"/admin/issues/{draft.id}").text


def _clicks(issue, hours_after_send: list[int]) -> None:
    link = IssueLink(issue_id=issue.id, position=0, url="https://example.org/report")
    db.session.add(link)
    db.session.flush()
    start = issue.started_at.replace(minute=30, second=0, microsecond=0)
    for hours in hours_after_send:
        db.session.add(LinkClick(link_id=link.id, clicked_at=start + timedelta(hours=hours)))
    db.session.commit()


def test_the_issue_page_charts_clicks_per_hour_since_the_send(editor_client, weekly):
    issue = _sent_issue(weekly, [])
    _clicks(issue, [0, 0, 0, 1, 4])
    html = editor_client.get(f"/admin/issues/{issue.id}").text
    [clicks] = svgs(html)  # no bounces: no bar charts
    assert len(clicks.findall(f".//{SVG}circle")) == 5  # the send's hour and four after it
    assert "clicks: 5 in all, at most 3" in clicks.find(SVG + "desc").text
    assert "No bounces yet." in html and "No clicks yet." not in html


def test_clicks_since_the_send_fill_quiet_hours_with_zeros(app, weekly, monkeypatch):
    issue = _sent_issue(weekly, [])
    hour = issue.started_at.replace(minute=0, second=0, microsecond=0)
    counted = [(hour, 5), (hour + timedelta(hours=3), 1_200)]
    monkeypatch.setattr(issue_charts, "clicks_over_time", lambda issue_id, by: counted)
    chart = issue_charts.click_chart(issue)
    assert [p.value for p in chart.lines[0].points] == [5, 0, 0, 1_200]
    assert chart.y_title == "clicks an hour"
    monkeypatch.setattr(issue_charts, "clicks_over_time", lambda issue_id, by: [])
    assert issue_charts.click_chart(issue) is None
    weekly.track_clicks = False
    assert issue_charts.for_issue(issue).clicks_tracked is False


@pytest.mark.slow
def test_a_browser_shows_the_dashboard_and_an_issue_with_charts(page, live_server, make_list):

    _busy_list(make_list, "weekly", name="Weekly Digest")
    _busy_list(make_list, "persian", name="هفته‌نامه")
    issue = _sent_issue(
        make_list(slug="third", name="Third"),
        [
            ("gmail.com", "mailbox_full", "soft"),
            ("gmail.com", "no_such_user", "hard"),
            ("yahoo.com", "no_such_user", "hard"),
            ("example.net", "spam", "complaint"),
        ],
    )
    _clicks(issue, [0, 0, 0, 0, 1, 1, 2, 4])
    user("writer@example.org")
    page.goto(live_server.url + "/admin/")
    page.fill("#email", "writer@example.org")
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    assert page.locator("figure.chart svg circle").count() == 3 * 3 * WEEKS  # three lists
    box = page.locator("figure.chart svg").first.bounding_box()
    assert box["width"] > 200 and box["height"] > 80
    page.screenshot(path="test-artifacts/charts-dashboard.png", full_page=True)
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    assert page.locator("#bounces-by-domain svg rect").count() == 3
    assert page.locator("#clicks svg circle").count() == 5
    page.locator("#issue-charts").screenshot(path="test-artifacts/charts-issue.png")
