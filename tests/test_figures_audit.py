"""What editors see of what readers did with an issue, as the real world produces it.

Mail gateways' link scanners (Microsoft Defender's Safe Links, Mimecast, Proofpoint,
Barracuda) fetch every link of a copy seconds after delivery, often from an HTTP library or
all links at once; Apple Mail Privacy Protection loads every open pixel as "Mozilla/5.0".
Every click and open still counts in the figures the public contract names; beside them the
API and the issue page say how many look like a machine's, and the human figures are what
the A/B test decides by."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from builders import (
    add_subscribers,
    counted,
    draft,
    needs_queue,
    path_of,
    start_sending,
    tracked_links,
)

from newsletter import analytics
from newsletter.digest.compose import edit_issue
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, Subscriber, Subscription
from newsletter.sending import ab, loop

LIBRARY = {"User-Agent": "python-requests/2.32.3"}
BROWSER = {
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
}
APPLE_PRIVACY_PROXY = {"User-Agent": "Mozilla/5.0"}
GMAIL_IMAGE_PROXY = {
    "User-Agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
    "(via ggpht.com GoogleImageProxy)"
}
REPORT, POST = "https://example.org/report?a=1&b=2", "https://example.org/p1"
PIXEL = re.compile(r'src="https?://[^"]+(/o/[^"]+\.gif)"')


@pytest.fixture(params=["queued", "written-as-they-come"])
def reader(request, app, make_app):
    """A reader's browser (or a scanner) against the redirect in front of Flask, with
    clicks queued in Redis, or against Flask's views, which write each click at once."""
    if request.param == "queued":
        needs_queue(app)
        return app.test_client()
    return make_app(BROKER_URL="filesystem://").test_client()


def sent_to(
    mailing_list, inbox, readers: int = 2, intro: str | None = None, url: str | None = None
):
    """An issue with an intro link and one item, sent to `readers` subscribers just now."""
    add_subscribers(mailing_list, readers)
    issue = draft(mailing_list)
    issue.intro = intro or f"Read [the report]({REPORT}) first."
    if url:
        issue.items[0].url = url
    db.session.commit()
    start_sending(issue)
    loop.send_batch(issue.id)
    inbox.wait_for(readers)
    return issue


def sent_an_hour_ago(*emails: str) -> None:
    """These readers' copies went out an hour ago: a click now is no gateway's scan."""
    ids = sa.select(Subscriber.id).where(Subscriber.email.in_(emails))
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.subscriber_id.in_(ids.scalar_subquery()))
        .values(sent_at=datetime.now(UTC) - timedelta(hours=1))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def links_of(inbox, email: str) -> list[str]:
    return [path_of(url) for url, *_ in tracked_links(inbox.to(email)[0])]


def pixel_of(inbox, email: str) -> str:
    return PIXEL.search(inbox.to(email)[0].part("html")).group(1)


def figures_of(api, issue: Issue) -> dict:
    counted()
    return api.get(f"/issues/{issue.id}").json


# The contract's figures count every click and open; `people` leaves out machines'. These
# give what the two say apart.
def clicks_split(body: dict) -> dict:
    clicks, people = body["clicks"], body["people"]
    return {
        **clicks,
        "likely_machine": clicks["total"] - people["clicks"],
        "unique_human": people["unique"],
    }


def links_split(body: dict) -> list[int]:
    """Each link's clicks that look like a machine's."""
    people = {link["url"]: link["clicks"] for link in body["people"]["links"]}
    return [link["clicks"] - people[link["url"]] for link in body["links"]]


def opens_split(body: dict) -> dict:
    opens = body["opens"]
    return {**opens, "likely_machine": opens["unique"] - body["people"]["opens"]}


# --- Clicks ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_link_scanner_is_redirected_and_counted_and_told_apart_from_the_reader(
    api, reader, weekly, inbox
):
    issue = sent_to(weekly, inbox)
    for path, expected in zip(links_of(inbox, "reader0@example.org"), [REPORT, POST], strict=True):
        answer = reader.get(path, headers=LIBRARY)
        assert (answer.status_code, answer.headers["Location"]) == (302, expected)
    sent_an_hour_ago("reader1@example.org")
    reader.get(links_of(inbox, "reader1@example.org")[1], headers=BROWSER)

    body = figures_of(api, issue)
    # The contract's figures count every click, as they always did.
    assert body["clicks"]["total"] == 3 and body["clicks"]["unique"] == 2
    assert [(link["url"], link["clicks"]) for link in body["links"]] == [(POST, 2), (REPORT, 1)]
    # Beside them: which look like a machine's.
    assert clicks_split(body) == {"total": 3, "unique": 2, "likely_machine": 2, "unique_human": 1}
    assert links_split(body) == [1, 1]


def test_a_browser_that_clicks_seconds_after_the_send_is_likely_a_gateways_scan(
    api, reader, weekly, inbox
):
    """Safe Links' detonation and its kind fetch with a browser's user agent, before any
    reader has seen the copy."""
    issue = sent_to(weekly, inbox, readers=1)
    reader.get(links_of(inbox, "reader0@example.org")[0], headers=BROWSER)
    assert clicks_split(figures_of(api, issue)) == {
        "total": 1,
        "unique": 1,
        "likely_machine": 1,
        "unique_human": 0,
    }


def scanned_then_read(reader, inbox, scanned: int = 2) -> None:
    """A gateway scans the first `scanned` links of reader0's copy as it arrives; an hour
    later the reader clicks the second link."""
    for path in links_of(inbox, "reader0@example.org")[:scanned]:
        reader.get(path, headers=LIBRARY)
    counted()
    sent_an_hour_ago("reader0@example.org")
    reader.get(links_of(inbox, "reader0@example.org")[1], headers=BROWSER)


@pytest.mark.slow
def test_a_reader_who_clicks_after_the_scanner_is_a_human_clicker(api, reader, weekly, inbox):
    issue = sent_to(weekly, inbox, readers=1)
    scanned_then_read(reader, inbox)
    assert clicks_split(figures_of(api, issue)) == {
        "total": 3,
        "unique": 1,
        "likely_machine": 2,
        "unique_human": 1,
    }


def test_every_link_of_a_copy_at_once_is_a_machine_however_late_and_a_double_click_is_not(
    app, api, client, weekly, inbox
):
    """A gateway that holds the copy a while (Defender's Dynamic Delivery) scans it long
    after our send: its links all within a second give it away. The queue sees them."""
    needs_queue(app)
    issue = sent_to(weekly, inbox)
    sent_an_hour_ago("reader0@example.org", "reader1@example.org")
    for path in links_of(inbox, "reader0@example.org"):
        client.get(path, headers=BROWSER)
    twice = links_of(inbox, "reader1@example.org")[0]
    client.get(twice, headers=BROWSER)
    client.get(twice, headers=BROWSER)
    assert clicks_split(figures_of(api, issue)) == {
        "total": 4,
        "unique": 2,
        "likely_machine": 2,
        "unique_human": 1,
    }


@pytest.mark.slow
def test_the_issue_page_shows_human_figures_beside_all_and_says_why(
    editor_client, client, weekly, inbox
):
    issue = sent_to(weekly, inbox)
    for path in links_of(inbox, "reader0@example.org"):
        client.get(path, headers=LIBRARY)
    sent_an_hour_ago("reader1@example.org")
    client.get(links_of(inbox, "reader1@example.org")[1], headers=BROWSER)
    counted()
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    stats = re.search(r'<p id="click-stats">(.*?)</p>', page, re.S).group(1)
    assert "3 clicks" in stats and "2 unique clickers" in stats
    human = re.search(r'<p id="human-click-stats">(.*?)</p>', page, re.S).group(1)
    assert re.search(r"\b1 clicks? from people\b", human) and "1 unique clicker" in human
    assert "2 look like mail scanners" in human


@pytest.mark.slow
def test_a_reader_with_tracking_off_counts_on_the_link_and_never_as_a_clicker(
    api, reader, weekly, inbox
):
    issue = sent_to(weekly, inbox, readers=1)
    db.session.execute(sa.update(Subscriber).values(no_tracking=True))
    db.session.commit()
    scanned_then_read(reader, inbox, scanned=1)
    assert clicks_split(figures_of(api, issue)) == {
        "total": 2,
        "unique": 0,
        "likely_machine": 1,
        "unique_human": 0,
    }


@pytest.mark.slow
def test_a_subscribers_clicks_say_which_were_likely_their_gateways(
    editor_client, client, make_list, inbox
):
    keeping = make_list(track_subscribers=True)
    sent_to(keeping, inbox, readers=1)
    scanned_then_read(client, inbox, scanned=1)
    counted()
    subscriber = db.session.scalars(sa.select(Subscriber)).one()
    page = editor_client.get(f"/admin/subscribers/{subscriber.id}/clicks").text
    rows = re.findall(r"<tr><td class=\"muted\">.*?</tr>", page, re.S)
    assert len(rows) == 2
    newest, oldest = rows
    assert POST in newest and "likely a mail scanner" not in newest
    assert "example.org/report" in oldest and "likely a mail scanner" in oldest


# --- Opens -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_apple_privacy_and_at_once_opens_count_and_are_said_to_be_machines(
    api, reader, weekly, inbox
):
    weekly.track_opens = True
    db.session.commit()
    issue = sent_to(weekly, inbox, readers=4)
    sent_an_hour_ago(*(f"reader{n}@example.org" for n in range(3)))
    reader.get(pixel_of(inbox, "reader0@example.org"), headers=APPLE_PRIVACY_PROXY)
    reader.get(pixel_of(inbox, "reader1@example.org"), headers=GMAIL_IMAGE_PROXY)
    reader.get(pixel_of(inbox, "reader2@example.org"), headers={"User-Agent": "YahooMailProxy"})
    reader.get(pixel_of(inbox, "reader3@example.org"), headers=BROWSER)  # seconds after
    assert opens_split(figures_of(api, issue)) == {
        "total": None,
        "unique": 4,
        "likely_machine": 2,
    }


# --- Around the figures ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_scanner_on_the_unsubscribe_and_preferences_links_changes_nothing(
    api, client, weekly, inbox
):
    issue = sent_to(weekly, inbox, readers=1)
    html = inbox.messages[0].part("html")
    own = [
        path_of(u)
        for u in re.findall(r'href="(https?://[^"]+/(?:unsubscribe|preferences)/[^"]+)"', html)
    ]
    header = inbox.messages[0].message["List-Unsubscribe"]
    own.append(path_of(re.search(r"<(https?://[^>]+)>", header).group(1)))
    assert len(own) == 3
    for path in own:
        assert client.get(path, headers=LIBRARY).status_code == 200
        assert client.head(path, headers=LIBRARY).status_code == 200
    assert set(db.session.scalars(sa.select(Subscription.status))) == {"confirmed"}
    assert analytics.unsubscribes(issue) == 0


@pytest.mark.slow
def test_bounces_are_counted_by_reason_on_their_issue(api, weekly, inbox):
    issue = sent_to(weekly, inbox, readers=3)
    copies = db.session.scalars(sa.select(Delivery).order_by(Delivery.id)).all()
    for copy, kind, reason in zip(
        copies,
        ["hard", "soft", "soft"],
        ["no_such_user", "mailbox_full", "mailbox_full"],
        strict=True,
    ):
        db.session.add(
            Bounce(subscriber_id=copy.subscriber_id, delivery_id=copy.id, kind=kind, reason=reason)
        )
    db.session.commit()
    bounces = figures_of(api, issue)["bounces"]
    assert (bounces["hard"], bounces["soft"]) == (1, 2)
    assert bounces["by_reason"] == {"no_such_user": 1, "mailbox_full": 2}


@pytest.mark.slow
def test_pruned_copies_keep_the_human_figures(app, api, runner, client, weekly, inbox):
    weekly.track_opens = True
    db.session.commit()
    issue = sent_to(weekly, inbox)
    for path in links_of(inbox, "reader0@example.org"):
        client.get(path, headers=LIBRARY)
    client.get(pixel_of(inbox, "reader0@example.org"), headers=APPLE_PRIVACY_PROXY)
    sent_an_hour_ago("reader1@example.org")
    client.get(links_of(inbox, "reader1@example.org")[1], headers=BROWSER)
    client.get(pixel_of(inbox, "reader1@example.org"), headers=BROWSER)
    long_ago = datetime.now(UTC) - timedelta(days=100)
    issue.status, issue.started_at, issue.finished_at = "sent", long_ago, long_ago
    db.session.commit()
    before = figures_of(api, issue)
    assert before["people"]["unique"] == 1 and opens_split(before)["likely_machine"] == 1
    result = runner.invoke(args=["prune", "--older-than", "90", "--deliveries"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0
    db.session.expire_all()
    after = figures_of(api, issue)
    figures = ("clicks", "links", "opens", "people")
    assert [after[name] for name in figures] == [before[name] for name in figures]


@pytest.mark.slow
def test_persian_links_redirect_to_a_valid_uri_of_the_same_page(api, reader, weekly, inbox):
    article = "https://example.org/مقاله/۱?q=سلام"
    idn = "https://ایران.example/خبر"
    issue = sent_to(weekly, inbox, readers=1, intro=f"[خبر]({idn})", url=article)
    first, second = links_of(inbox, "reader0@example.org")
    answer = reader.get(first, headers=BROWSER)
    assert answer.headers["Location"] == (
        "https://" + "ایران".encode("idna").decode() + ".example/" + quote("خبر")
    )
    answer = reader.get(second, headers=BROWSER)
    assert answer.headers["Location"] == (
        "https://example.org/" + quote("مقاله/۱") + "?q=" + quote("سلام")
    )
    assert answer.headers["Location"].isascii()
    # The editors see the links as they wrote them.
    assert {link["url"] for link in figures_of(api, issue)["links"]} == {idn, article}


def test_a_link_twice_in_an_issue_is_one_link_and_both_count(api, client, weekly, inbox):
    issue = sent_to(weekly, inbox, readers=1, intro=f"Start with [the first post]({POST}).")
    paths = links_of(inbox, "reader0@example.org")
    assert len(paths) == 2 and paths[0] == paths[1]
    for path in paths:
        assert client.get(path).headers["Location"] == POST
    body = figures_of(api, issue)
    assert [(link["url"], link["clicks"]) for link in body["links"]] == [(POST, 2)]


# --- A/B subjects ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_ab_winner_has_the_most_human_clickers_not_the_most_scanned(
    app, api, client, weekly, inbox
):
    add_subscribers(weekly, 20)
    issue = draft(weekly)
    edit_issue(
        issue, {"subjects": ["Subject A", "Subject B"], "ab_share": 50, "ab_wait_minutes": 10}
    )
    start_sending(issue)
    while loop.send_batch(issue.id).sent:
        pass
    first, second = issue.variants

    def copies(variant) -> list[Delivery]:
        return db.session.scalars(
            sa.select(Delivery).where(Delivery.variant_id == variant.id).order_by(Delivery.id)
        ).all()

    for copy in copies(first)[:3]:  # a company's gateway scans its three readers' copies
        client.get(f"/r/{analytics.token(copy.id)}/1", headers=LIBRARY)
    counted()
    assert ab.winner(issue) == first.id  # nobody human yet: all clicks decide, as before
    person = copies(second)[0]
    person.sent_at = datetime.now(UTC) - timedelta(hours=1)
    db.session.commit()
    client.get(f"/r/{analytics.token(person.id)}/1", headers=BROWSER)
    counted()
    assert ab.winner(issue) == second.id
    variants = api.get(f"/issues/{issue.id}").json["ab"]["variants"]
    assert [(v["unique_clicks"], v["unique_human_clicks"]) for v in variants] == [(3, 0), (1, 1)]


def test_only_an_agents_first_characters_are_read_and_kept():
    """The redirect asks of every click's agent, through a cache of 4,096: an agent is read
    (and kept) only so far, or a stranger's 8 KB headers would hold 32 MB of it."""
    padding = "x" * 8000
    assert analytics.machine_agent("python-requests/2.31 " + padding) is True
    browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 "
    assert analytics.machine_agent(browser + padding) is False
    # A machine's word past what is read is not seen: what is kept is that much at most.
    assert analytics.machine_agent(browser + " " * analytics.AGENT_READ + "curl/8.0") is False
