"""Each post on its own, for subscriptions that want it: after the hold, through the same
engine and ledger as a digest, never twice, numbered apart from the digests."""

from datetime import UTC, datetime, timedelta

from builders import add_subscribers, draft

from newsletter import each_post
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.lists import update_list
from newsletter.lists.shapes import ListChanges
from newsletter.models import Delivery, Issue, Post
from newsletter.sending import loop

TITLE = "گزارش تازه: Tehran's water crisis 🌊"


def post(weekly, guid: str, seen: datetime, title: str = TITLE) -> Post:
    row = Post(
        list_id=weekly.id,
        guid=guid,
        url=f"https://example.org/{guid}",
        title=title,
        source="Interlink",
        excerpt="…",
        published_at=None,  # a post with no date, as the organisation's site has
        first_seen_at=seen,
    )
    db.session.add(row)
    db.session.commit()
    return row


def readers_by_mode(weekly) -> dict[str, int]:
    readers = add_subscribers(weekly, 3)
    for reader, mode in zip(readers, ("digest", "each", "both"), strict=True):
        reader.subscriptions[0].delivery = mode
    db.session.commit()
    return {mode: r.id for r, mode in zip(readers, ("digest", "each", "both"), strict=True)}


def test_a_new_post_goes_on_its_own_after_the_hold_once(app, weekly, inbox):
    modes = readers_by_mode(weekly)
    post(weekly, "before", datetime.now(UTC) - timedelta(days=1))  # before it was turned on
    update_list(weekly, ListChanges(each_post=True, each_post_hold=30))
    assert weekly.each_post_since is not None
    fresh = post(weekly, "fresh", datetime.now(UTC))
    soon = datetime.now(UTC) + timedelta(minutes=10)
    assert each_post.send_new_posts(soon) == []  # still inside the hold: maybe being edited
    later = datetime.now(UTC) + timedelta(minutes=31)
    [issue_id] = each_post.send_new_posts(later)
    issue = db.session.get(Issue, issue_id)
    assert (issue.kind, issue.post_id, issue.number, issue.subject) == ("post", fresh.id, 1, TITLE)
    assert each_post.send_new_posts(later + timedelta(hours=1)) == []  # never twice

    loop.claim_due_issues(later)
    got = {d.subscriber_id for d in Delivery.query.filter_by(issue_id=issue_id)}
    assert got == {modes["each"], modes["both"]}
    assert loop.send_batch(issue_id).sent == 2
    for message in inbox.wait_for(2):
        assert message.message["Subject"] == TITLE  # Persian, English and emoji, decoded
    # The digests keep their own numbers.
    digest = compose_issue(
        weekly, datetime.now(UTC) - timedelta(days=30), datetime.now(UTC) + timedelta(days=1)
    )
    assert (digest.kind, digest.number) == ("digest", 1)


def test_a_list_without_each_post_sends_none_and_turning_it_on_sends_nothing_old(app, weekly):
    readers_by_mode(weekly)
    post(weekly, "old", datetime.now(UTC) - timedelta(hours=2))
    assert each_post.send_new_posts(datetime.now(UTC) + timedelta(hours=1)) == []
    update_list(weekly, ListChanges(each_post=True, each_post_hold=0))
    assert each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1)) == []
    assert Issue.query.count() == 0


def test_digest_subscribers_get_digests_only(app, weekly):
    modes = readers_by_mode(weekly)
    issue = draft(weekly)
    from newsletter.sending import lifecycle

    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()
    got = {d.subscriber_id for d in Delivery.query.filter_by(issue_id=issue.id)}
    assert got == {modes["digest"], modes["both"]}


def test_post_issues_stay_out_of_the_archive(app, client, weekly, inbox):
    readers_by_mode(weekly)
    update_list(weekly, ListChanges(each_post=True, each_post_hold=0))
    post(weekly, "fresh", datetime.now(UTC) + timedelta(seconds=1))
    [issue_id] = each_post.send_new_posts(datetime.now(UTC) + timedelta(minutes=1))
    loop.claim_due_issues(datetime.now(UTC) + timedelta(minutes=1))
    loop.send_batch(issue_id)
    assert db.session.get(Issue, issue_id).status == "sent"
    assert client.get("/archive/weekly/1").status_code == 404  # post issue 1 is no digest
    assert "گزارش تازه" not in client.get("/archive/weekly").text  # (unescaped part)
