"""A/B subjects: a share of the subscribers tries two to four subjects, the rest waits and
gets the one with the most unique clickers; through pause, resume and a second decider."""

import html
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import add_subscribers, draft, start_sending, states
from conftest import wait_until

from newsletter.digest.compose import ComposeError, edit_issue
from newsletter.digest.render import retitle
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending import ab, lifecycle, loop
from newsletter.sending.proofs import send_proof

SUBJECTS = ["Subject A", "Subject B", "Subject C"]


def ab_issue(weekly, readers: int = 300) -> Issue:
    add_subscribers(weekly, readers)
    issue = draft(weekly)
    edit_issue(issue, {"subjects": SUBJECTS, "ab_share": 20, "ab_wait_minutes": 120})
    return issue


def send_all_due(issue_id: int) -> int:
    sent = 0
    for _ in range(20):
        outcome = loop.send_batch(issue_id)
        if not outcome.sent:
            return sent
        sent += outcome.sent
    raise AssertionError("the send did not stop")


def send_the_rest(issue_id: int, inbox, count: int) -> None:
    """What a dispatch or a resume queued, sent here, or by the session's test worker when
    an earlier test started one (it takes queued batches at once): the mail tells."""
    send_all_due(issue_id)
    inbox.wait_for(count)
    wait_until(lambda: db.session.get(Issue, issue_id).status == "sent")


def subjects_received(inbox) -> Counter:
    return Counter(m.message["Subject"] for m in inbox.messages)


def titles_received(inbox) -> Counter:
    """The <title> of each message's HTML, as a mail client shows it in a tab or window."""
    return Counter(
        html.unescape(re.search(r"<title>(.*?)</title>", m.part("html"), re.S)[1])
        for m in inbox.messages
    )


def click(issue: Issue, position: int, copies: int) -> None:
    """`copies` of a variant's copies clicked (their first click)."""
    variant = issue.variants[position - 1]
    some = (
        sa.select(Delivery.id)
        .where(Delivery.variant_id == variant.id)
        .order_by(Delivery.id)
        .limit(copies)
    )
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id.in_(some.scalar_subquery()))
        .values(clicked_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@pytest.mark.slow
def test_the_share_tries_each_subject_and_the_rest_gets_the_winner(app, weekly, inbox):
    issue = ab_issue(weekly)
    start_sending(issue)
    db.session.refresh(issue)
    assert issue.ab_decide_at == issue.started_at + timedelta(hours=2)
    by_variant = Counter(db.session.scalars(sa.select(Delivery.variant_id)))
    assert sorted(by_variant.values()) == [20, 20, 20, 240]
    assert by_variant[None] == 240

    # Only the share goes before the decision, a third each.
    assert send_all_due(issue.id) == 60
    assert sorted(subjects_received(inbox).items()) == [(s, 20) for s in SUBJECTS]
    assert states(issue.id)["pending"] == 240
    assert loop.stalled_issues() == []  # it waits for the decision: beat wakes it then

    click(issue, 2, 6)
    click(issue, 1, 2)
    # The clock moves past the decision time: beat decides, once, and wakes the send.
    later = issue.ab_decide_at + timedelta(minutes=1)
    assert ab.decide_due(issue.ab_decide_at - timedelta(minutes=1)) == []
    inbox.clear()
    loop.dispatch(later)
    assert ab.decide_due(later) == []
    db.session.refresh(issue)
    assert issue.ab_winner == issue.variants[1].id
    assert ab.decide_if_due(issue.id, later) is False

    send_the_rest(issue.id, inbox, 240)
    assert subjects_received(inbox) == Counter({"Subject B": 240})
    assert titles_received(inbox) == Counter({"Subject B": 240})
    results = ab.results(issue)
    assert [(r.subject, r.sent, r.clicks, r.winner) for r in results] == [
        ("Subject A", 20, 2, False),
        ("Subject B", 20, 6, True),
        ("Subject C", 20, 0, False),
    ]


def move_decision_to_the_past(issue: Issue) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.issue_id == issue.id, Delivery.variant_id.is_(None))
        .values(retry_at=past)
    )
    db.session.execute(sa.update(Issue).where(Issue.id == issue.id).values(ab_decide_at=past))
    db.session.commit()


@pytest.mark.slow
def test_paused_before_the_decision_it_decides_on_resume(app, weekly, inbox):
    issue = ab_issue(weekly, readers=100)
    start_sending(issue)
    assert send_all_due(issue.id) == 20
    click(issue, 3, 2)
    lifecycle.pause_issue(issue)
    move_decision_to_the_past(issue)
    # Paused: nothing is decided or sent, whatever the clock says.
    assert ab.decide_due() == []
    assert loop.send_batch(issue.id).sent == 0
    assert db.session.get(Issue, issue.id).ab_winner is None

    inbox.clear()
    lifecycle.resume_issue(issue)
    send_the_rest(issue.id, inbox, 80)
    db.session.refresh(issue)
    assert issue.ab_winner == issue.variants[2].id
    assert subjects_received(inbox) == Counter({"Subject C": 80})


def test_of_two_deciders_only_one_writes_the_winner(app, weekly, monkeypatch):
    issue = ab_issue(weekly, readers=30)
    start_sending(issue)
    move_decision_to_the_past(issue)
    first, second = issue.variants[0].id, issue.variants[1].id
    tally = ab.winner

    def another_worker_decides_meanwhile(issue):
        # The other worker's guarded UPDATE commits between our read and our write.
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Issue).where(Issue.id == issue.id).values(ab_winner=second)
            )
        return tally(issue)

    monkeypatch.setattr(ab, "winner", another_worker_decides_meanwhile)
    assert ab.decide_if_due(issue.id) is False
    assert db.session.get(Issue, issue.id).ab_winner == second != first
    # The loser released nothing: the rest is still held until the winner's decider does.
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Delivery.variant_id.is_(None), Delivery.retry_at.is_(None)
            )
        )
        == 0
    )


def test_without_clicks_opens_decide_where_the_list_counts_them(app, weekly):
    weekly.track_opens = True
    issue = ab_issue(weekly, readers=40)
    start_sending(issue)
    send_all_due(issue.id)
    second = issue.variants[1].id
    db.session.execute(
        sa.update(Delivery).where(Delivery.variant_id == second).values(opened_at=datetime.now(UTC))
    )
    db.session.commit()
    move_decision_to_the_past(issue)
    assert ab.decide_if_due(issue.id)
    assert db.session.get(Issue, issue.id).ab_winner == second


def test_a_plain_issue_is_sent_as_before(app, weekly, inbox):
    add_subscribers(weekly, 5)
    issue = draft(weekly)
    start_sending(issue)
    assert db.session.get(Issue, issue.id).ab_decide_at is None
    assert send_all_due(issue.id) == 5
    assert subjects_received(inbox) == Counter({issue.subject: 5})
    assert set(db.session.scalars(sa.select(Delivery.variant_id))) == {None}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subjects": ["Only one"]}, "subjects"),
        ({"subjects": ["Same", "Same"]}, "subjects"),
        ({"subjects": ["A", ""]}, "subject"),
        ({"subjects": ["A", "B", "C", "D", "E"]}, "subjects"),
        ({"subjects": ["A", "B"], "ab_share": 60}, "ab_share"),
        ({"subjects": ["A", "B"], "ab_share": 4}, "ab_share"),
        ({"subjects": ["A", "B"], "ab_wait_minutes": 5}, "ab_wait_minutes"),
        ({"subjects": ["A", "B"], "ab_wait_minutes": 49 * 60}, "ab_wait_minutes"),
    ],
)
def test_the_api_refuses_a_bad_test_naming_the_field(api, weekly, changes, field):
    issue = draft(weekly)
    answer = api.patch(f"/issues/{issue.id}", changes)
    assert answer.status_code == 422, answer.json
    assert field in str(answer.json)
    assert db.session.get(Issue, issue.id).variants == []


def test_the_api_sets_a_test_and_shows_its_results(api, weekly):
    issue = draft(weekly)
    answer = api.patch(
        f"/issues/{issue.id}", {"subjects": ["One", "Two"], "ab_share": 10, "ab_wait_minutes": 60}
    )
    assert answer.status_code == 200, answer.json
    test = answer.json["ab"]
    assert (test["share"], test["wait_minutes"], test["winner"]) == (10, 60, None)
    assert [(v["subject"], v["sent"], v["unique_clicks"]) for v in test["variants"]] == [
        ("One", 0, 0),
        ("Two", 0, 0),
    ]
    composed = api.post(
        "/issues/compose",
        {"list": weekly.slug, "since": "2019-08-01", "until": "2019-08-08", "subjects": ["X"]},
    )
    assert composed.status_code == 422 and "subjects" in str(composed.json)
    assert api.patch(f"/issues/{issue.id}", {"subjects": []}).json["ab"] is None


def test_a_test_cannot_change_once_the_send_started(app, weekly):
    issue = ab_issue(weekly, readers=3)
    start_sending(issue)
    lifecycle.pause_issue(issue)
    with pytest.raises(ComposeError) as refused:
        edit_issue(issue, {"subjects": ["New", "Newer"]})
    assert refused.value.field == "subjects"


@pytest.mark.slow
def test_the_migration_goes_down_and_up_again(app, weekly):
    """On the database this run uses (PostgreSQL when there is one, else SQLite)."""
    from flask_migrate import downgrade, upgrade

    issue_id = ab_issue(weekly, readers=3).id
    db.session.remove()
    downgrade(revision="0013")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("deliveries")}
    assert "variant_id" not in columns
    assert "issue_variants" not in sa.inspect(db.engine).get_table_names()
    upgrade()
    assert db.session.get(Issue, issue_id).variants == []
    assert "variant_id" in {c["name"] for c in sa.inspect(db.engine).get_columns("deliveries")}


@pytest.mark.slow
def test_the_issue_page_sets_a_test_and_shows_the_results(editor_client, weekly, inbox):
    issue = draft(weekly)
    form = {
        "csrf_token": editor_client.token,
        "ab_subject": ["<b>First</b>", "Second", ""],
        "ab_share": "50",
        "ab_wait_minutes": "30",
    }
    editor_client.post(f"/admin/issues/{issue.id}/ab", data=form)
    db.session.refresh(issue)
    assert [v.subject for v in issue.variants] == ["<b>First</b>", "Second"]
    assert (issue.ab_share, issue.ab_wait_minutes) == (50, 30)
    refused = editor_client.post(
        f"/admin/issues/{issue.id}/ab", data={**form, "ab_share": "80"}, follow_redirects=True
    )
    assert "A/B test not saved" in refused.text and "ab_share" in refused.text

    add_subscribers(weekly, 10)
    start_sending(issue)
    send_all_due(issue.id)
    click(issue, 2, 1)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    table = page.split('id="ab-results"')[1].split("</table>")[0]
    assert "&lt;b&gt;First&lt;/b&gt;" in table and "<b>First" not in table
    # 5 tried: 3 and 2; unique clicks, by people
    assert "Second</td><td>2</td><td>1</td><td>1</td>\n  <td>50.0%</td>" in table
    assert 'id="ab-form"' not in page  # the send has started


def test_a_subscriber_reading_another_language_gets_the_variant_in_it(app, weekly, inbox):
    readers = add_subscribers(weekly, 4)
    for reader in readers:
        reader.locale = "fa"
    db.session.commit()
    issue = draft(weekly)
    edit_issue(issue, {"subjects": ["One", "Two"], "ab_share": 50, "ab_wait_minutes": 10})
    start_sending(issue)
    # Of the two who try the subjects, one reads the list's language.
    tried = db.session.scalars(
        sa.select(Delivery.subscriber_id).where(Delivery.variant_id.is_not(None))
    ).all()
    english = db.session.get(Subscriber, tried[0])
    english.locale = weekly.language
    db.session.commit()
    assert send_all_due(issue.id) == 2
    for message in inbox.messages:
        html = message.part("html")
        assert ('lang="fa"' in html) == (message.recipients[0] != english.email)
    assert sorted(m.message["Subject"] for m in inbox.messages) == ["One", "Two"]


@pytest.mark.slow
def test_each_variants_copy_has_its_subject_in_the_title(app, weekly, inbox):
    issue = ab_issue(weekly, readers=30)
    start_sending(issue)
    send_all_due(issue.id)
    assert titles_received(inbox) == subjects_received(inbox)


def test_a_subject_in_the_title_is_escaped_and_names_no_marker():
    page = "<html><head><title>Old</title></head><body>@@NLNAME@@</body></html>"
    assert retitle(page, "<b> & @@NLNAME@@") == (
        "<html><head><title>&lt;b&gt; &amp; &#64;@NLNAME@@</title></head>"
        "<body>@@NLNAME@@</body></html>"
    )


def test_a_test_send_of_an_ab_issue_is_one_per_subject(app, weekly, inbox):
    issue = ab_issue(weekly, readers=0)
    assert send_proof(issue, ["writer@example.org", "boss@example.org"]) == 6
    mails = inbox.wait_for(3, recipient="writer@example.org")
    assert [m.message["Subject"] for m in mails] == [
        "[Test A] Subject A",
        "[Test B] Subject B",
        "[Test C] Subject C",
    ]
    assert titles_received(inbox) == Counter({s: 2 for s in SUBJECTS})

    # Once decided, the test is what the rest gets: the winner's subject.
    issue.ab_winner = issue.variants[2].id
    db.session.commit()
    inbox.clear()
    assert send_proof(issue, ["writer@example.org"]) == 1
    assert subjects_received(inbox) == Counter({"[Test] Subject C": 1})
    assert titles_received(inbox) == Counter({"Subject C": 1})


def test_a_test_send_without_ab_has_the_issues_subject(app, weekly, inbox):
    issue = draft(weekly)
    edit_issue(issue, {"subject": "Plain <one>"})
    assert send_proof(issue, ["writer@example.org"]) == 1
    assert subjects_received(inbox) == Counter({"[Test] Plain <one>": 1})
    assert titles_received(inbox) == Counter({"Plain <one>": 1})


def test_the_editor_is_told_there_is_a_test_per_subject(editor_client, weekly, inbox):
    issue = ab_issue(weekly, readers=0)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "Send a test to me (one per subject)" in page
    answer = editor_client.post(
        f"/admin/issues/{issue.id}/test",
        data={"csrf_token": editor_client.token},
        follow_redirects=True,
    )
    assert "3 tests, one per A/B subject, are on their way to writer@example.org." in answer.text
    assert len(inbox.wait_for(3, recipient="writer@example.org")) == 3


def test_the_api_test_send_counts_messages(api, weekly, inbox):
    issue = ab_issue(weekly, readers=0)
    answer = api.post(f"/issues/{issue.id}/test", json={"emails": ["ed@example.org"]})
    assert answer.status_code == 200 and answer.json == {"sent": 3}
