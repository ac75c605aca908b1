"""SpamAssassin's view of the emails readers get. Each kind is built as the suite sends it
(through real SMTP, DKIM-signed) and scored by Debian's spamassassin offline: -L, local
tests only, so no DNS, no DKIM or SPF check and no Bayes (score set 0).

Each must stay under the score measured (plus a margin, to be lowered as we fix things),
and no rule may fire but those of the test environment and the informational ones. Skipped
without spamassassin; under CI=true that fails (.ci/run installs Debian's spamassassin)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
from builders import SAMPLE, confirmed_subscriber, start_sending
from conftest import IN_CI

from newsletter import each_post
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.lists import update_list
from newsletter.lists.shapes import ListChanges
from newsletter.models import Post, Subscriber, Subscription
from newsletter.posts import feeds
from newsletter.posts.service import add_feed
from newsletter.sending import loop
from newsletter.subscriptions import notices

pytestmark = pytest.mark.slow  # about a second of spamassassin per message

# Measured with SpamAssassin 4.0.1 and the rules Debian 12 ships: every kind -0.0.
FLOOR = {"digest_en": 0.0, "digest_fa": 0.0, "each_post": 0.0, "proof": 0.0}
FLOOR |= {"confirm": 0.0, "welcome": 0.0, "goodbye": 0.0}
MARGIN = 0.5
# Fired only because of where the test runs: no mail server on the way added Received.
ENVIRONMENT = {"NO_RECEIVED", "NO_RELAYS"}
# Informational (0.001): every text + HTML email has it.
INFORMATIONAL = {"HTML_MESSAGE"}
# Rules about our content and structure that mail like ours risks: none fired when
# measured, and none may (their causes would be in templates/email/ or newsletter/mailer.py).
OURS = {
    "MIME_HTML_ONLY", "MIME_HTML_MOSTLY", "MPART_ALT_DIFF", "MPART_ALT_DIFF_COUNT",
    "HTML_IMAGE_ONLY_04", "HTML_IMAGE_ONLY_08", "HTML_IMAGE_ONLY_12", "HTML_IMAGE_ONLY_16",
    "HTML_IMAGE_ONLY_20", "HTML_IMAGE_ONLY_24", "HTML_IMAGE_ONLY_28", "HTML_IMAGE_ONLY_32",
    "HTML_IMAGE_RATIO_02", "HTML_IMAGE_RATIO_04", "HTML_IMAGE_RATIO_06", "HTML_IMAGE_RATIO_08",
    "HTML_SHORT_LINK_IMG_1", "HTML_SHORT_LINK_IMG_2", "HTML_SHORT_LINK_IMG_3", "T_REMOTE_IMAGE",
    "BODY_URI_ONLY", "HTML_TEXT_INVISIBLE_STYLE", "HTML_TEXT_INVISIBLE_FONT",
    "HTML_FONT_LOW_CONTRAST", "HTML_MIME_NO_HTML_TAG", "HTML_TAG_BALANCE_BODY",
    "HTML_TAG_BALANCE_HEAD", "HTML_EXTRA_CLOSE", "MISSING_DATE", "MISSING_MID", "MISSING_FROM",
    "MISSING_SUBJECT", "MISSING_HEADERS", "MISSING_MIME_HB_SEP", "INVALID_DATE", "INVALID_MSGID",
    "MSGID_RANDY", "SUBJECT_NEEDS_ENCODING", "FROM_EXCESS_BASE64", "SUBJ_ALL_CAPS",
    "MIME_QP_LONG_LINE", "MIME_BASE64_TEXT", "MIME_HEADER_CTYPE_ONLY", "MIME_CHARSET_FARAWAY",
    "CHARSET_FARAWAY_HEADER", "EMPTY_MESSAGE", "TRACKER_ID",
}  # fmt: skip
SINCE, UNTIL = datetime(2019, 7, 20, tzinfo=UTC), datetime(2019, 8, 20, tzinfo=UTC)
PERSIAN_POSTS = [
    ("گزارش Reuters: تحریم‌های جدید EU علیه ایران", "خلاصه‌ای از خبر دربارهٔ تحریم‌ها."),
    ("گزارش تازه: بحران آب تهران", "تهران با کم‌آبی بی‌سابقه‌ای روبه‌روست."),
]


def spamassassin(raw: bytes, home) -> tuple[float, dict[str, float], str]:
    """The score, the rules that fired with their points, and the report's table."""
    program = shutil.which("spamassassin")
    if program is None:
        if IN_CI:
            pytest.fail("CI=true but spamassassin is missing (apt-get install spamassassin)")
        pytest.skip("spamassassin is not installed (apt-get install spamassassin)")
    options = ["use_bayes 0", "bayes_auto_learn 0", "add_header all Rules _TESTSSCORES(,)_"]
    run = subprocess.run(
        [program, "-t", "-L", *(f"--cf={option}" for option in options)],
        input=raw,
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},  # no user prefs, no Bayes files of ours
    )
    assert run.returncode in (0, 1), run.stderr.decode(errors="replace")
    scored = message_from_bytes(run.stdout)
    status = " ".join(scored["X-Spam-Status"].split())
    score = float(re.search(r"score=(-?[\d.]+)", status).group(1))
    rules = " ".join(scored["X-Spam-Rules"].split()).replace(" ", "")
    fired = {name: float(points) for name, points in re.findall(r"(\w+)=(-?[\d.]+)", rules)}
    report = run.stdout.decode(errors="replace").partition("Content analysis details:")[2]
    return score, fired, report


def judge(kind: str, raw: bytes, home) -> None:
    assert b"\r\nDKIM-Signature: " in b"\r\n" + raw, "not signed: the `dns` fixture is missing"
    score, fired, report = spamassassin(raw, home)
    assert score < FLOOR[kind] + MARGIN, f"{kind} scores {score}:{report}"
    ours = sorted(set(fired) & OURS)
    assert not ours, f"{kind} trips {ours}:{report}"
    unknown = sorted(set(fired) - ENVIRONMENT - INFORMATIONAL)
    assert not unknown, f"{kind} trips rules not seen before, {unknown}:{report}"


def fetch_sample(mailing_list, web_files) -> None:
    web_files.files["/feed.xml"] = SAMPLE
    feeds.fetch_feed(add_feed(mailing_list, web_files.url + "/feed.xml"))


def sent(issue, inbox) -> bytes:
    start_sending(issue)
    loop.send_batch(issue.id)
    [received] = inbox.wait_for(1)
    return received.data


@pytest.fixture
def english_issue(weekly, web_files):
    """A week of the sample feed with an intro and a preheader, opens tracked (the pixel)."""
    update_list(weekly, ListChanges(track_opens=True))
    fetch_sample(weekly, web_files)
    issue = compose_issue(weekly, SINCE, UNTIL, intro="A note from the editors on this week.")
    issue.preheader = "Bolton, the MEK and a week of news about Iran"
    db.session.commit()
    return issue


def test_the_weekly_digest_to_an_english_reader(app, english_issue, weekly, inbox, dns, tmp_path):
    confirmed_subscriber(weekly, "ana.reader@example.org", "Ana Reader")
    judge("digest_en", sent(english_issue, inbox), tmp_path)


def test_the_weekly_digest_to_a_persian_reader(app, persian_list, inbox, dns, web_files, tmp_path):
    persian = persian_list
    persian.from_name = "ایران اینترلینک"
    db.session.commit()
    fetch_sample(persian, web_files)
    for n, (title, excerpt) in enumerate(PERSIAN_POSTS):
        db.session.add(
            Post(
                list_id=persian.id,
                guid=f"fa{n}",
                url=f"https://interlink.example/fa/{n}",
                title=title,
                source="ایران اینترلینک",
                excerpt=excerpt,
                published_at=datetime(2019, 8, 5 + n, tzinfo=UTC),
            )
        )
    db.session.commit()
    confirmed_subscriber(persian, "maryam@example.org", "مریم حسینی‌زاده")
    issue = compose_issue(persian, SINCE, UNTIL, subject="گزیدهٔ هفته: Iran & the EU")
    judge("digest_fa", sent(issue, inbox), tmp_path)


def test_a_post_on_its_own(app, weekly, inbox, dns, web_files, tmp_path):
    reader = confirmed_subscriber(weekly, "ana.reader@example.org", "Ana Reader")
    reader.subscriptions[0].delivery = "each"
    db.session.commit()
    update_list(weekly, ListChanges(each_post=True, each_post_hold=0))
    fetch_sample(weekly, web_files)
    # A feed's first fetch is its site's back catalogue, never sent post by post: one of its
    # posts made news, published as it was first seen.
    news = Post.query.order_by(Post.id).first()
    news.each_post_skipped, news.published_at = None, news.first_seen_at
    db.session.commit()
    later = datetime.now(UTC) + timedelta(minutes=1)
    first = each_post.send_new_posts(later)[0]
    loop.claim_due_issues(later)
    loop.send_batch(first)
    [received] = inbox.wait_for(1)
    judge("each_post", received.data, tmp_path)


def test_an_editors_test_send(app, english_issue, editor_client, inbox, dns, tmp_path):
    answer = editor_client.post(
        f"/admin/issues/{english_issue.id}/test", data={"csrf_token": editor_client.token}
    )
    assert answer.status_code == 302
    [received] = inbox.wait_for(1)
    assert received.recipients == ["writer@example.org"]
    judge("proof", received.data, tmp_path)


@pytest.mark.parametrize(
    "kind, status",
    [("confirm", "unconfirmed"), ("welcome", "confirmed"), ("goodbye", "unsubscribed")],
)
def test_the_joining_and_leaving_emails(app, weekly, inbox, dns, tmp_path, kind, status):
    reader = Subscriber(email="ana.reader@example.org", name="Ana Reader", attributes={})
    reader.subscriptions.append(Subscription(list_id=weekly.id, status=status))
    db.session.add(reader)
    db.session.commit()
    assert notices.send_notice(kind, reader.subscriptions[0].id)
    [received] = inbox.wait_for(1)
    judge(kind, received.data, tmp_path)
