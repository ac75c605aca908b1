"""The emails as the big mail programs and receivers take them: Gmail's clipping of long
HTML, Outlook's Word engine, the plain-text part, SMTP's and MIME's line limits, and which
emails carry one-click unsubscribe, for realistic Persian and English issues."""

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from html import unescape

import pytest
from builders import add_subscribers, confirmed_subscriber, start_sending, user

from newsletter.digest import render
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Post
from newsletter.sending import loop
from newsletter.sending.proofs import send_proof
from newsletter.subscriptions import notices

# A news paragraph as Persian sites write them, half-spaces (ZWNJ) and Persian digits among it.
PERSIAN_PARAGRAPH = (
    "گزارش تازهٔ سازمان ملل دربارهٔ وضعیت حقوق بشر در ایران نشان می‌دهد که شمار اعدام‌ها در "
    "سال ۱۴۰۲ به بالاترین رقم در یک دههٔ اخیر رسیده است و نگرانی‌های جدی دربارهٔ روند دادرسی "
    "منصفانه، دسترسی به وکیل و شرایط زندان‌ها وجود دارد. "
)
# What feeds give: an excerpt cut at 600 characters (posts.service.EXCERPT_MAX).
PERSIAN_EXCERPT = (PERSIAN_PARAGRAPH * 4)[:599].rsplit(" ", 1)[0] + "…"
ENGLISH_EXCERPT = (
    "Over the years, the self-described “pro-American” John Bolton has fostered a close "
    "relationship with the MEK, which the U.S. designated a Foreign Terrorist Organization "
    "partially for assassinating six American citizens during the Iranian Revolution. "
) * 3


def week_of_posts(mailing_list, count: int, persian: bool = True) -> None:
    """`count` posts of the last week, newest first, each with a long title and excerpt."""
    now = datetime.now(UTC)
    for i in range(count):
        if persian:
            title = f"گزارش {i}: وضعیت حقوق بشر در ایران و واکنش‌های بین‌المللی به آن"
            url = f"https://interlink.example/fa/{i}/گزارش-تازهٔ-سازمان-ملل"
            source, excerpt = "ایران اینترلینک، گزارش ویژه", PERSIAN_EXCERPT
        else:
            title = f"John Bolton MEK Desperate Attempt to Awaken the U.S. War Machine, part {i}"
            url = f"https://interlink.example/john-bolton-mek-desperate-attempt-{i}/"
            source, excerpt = "Zeng Ziyi, CGTN", ENGLISH_EXCERPT[:599]
        db.session.add(
            Post(
                list_id=mailing_list.id,
                guid=f"post-{i}",
                url=url,
                title=title,
                source=source,
                excerpt=excerpt,
                published_at=now - timedelta(hours=i + 1),
            )
        )
    db.session.commit()


def issue_of(mailing_list, posts: int, persian: bool = True):
    week_of_posts(mailing_list, posts, persian)
    return compose_issue(mailing_list, datetime.now(UTC) - timedelta(days=7), datetime.now(UTC))


# --- Gmail clips the HTML past about 102 KB ------------------------------------------------


def test_a_long_persian_issue_tells_the_api_that_gmail_will_clip_it(app, persian_list, api):
    issue = issue_of(persian_list, 60)
    size = api.get(f"/issues/{issue.id}").json["html_size"]
    assert size["clipped"] is True
    assert size["bytes"] > 102_000
    # As it travels: quoted-printable writes each Persian byte as "=D8".
    assert size["sent_bytes"] > 2 * size["bytes"]


def test_a_weeks_issue_of_ordinary_size_is_not_flagged(app, weekly, api):
    issue = issue_of(weekly, 30, persian=False)
    size = api.get(f"/issues/{issue.id}").json["html_size"]
    assert size["clipped"] is False
    assert 20_000 < size["bytes"] < render.CLIPPED_PAST


def test_a_draft_that_cannot_be_rendered_is_still_answered_without_its_size(
    app, weekly, api, templates
):
    """Measuring a draft renders it; a template that is not there (an operator's own, left
    half-installed) stops the render, its send would pause saying why, but not the API's
    answer about the issue."""
    issue = issue_of(weekly, 3, persian=False)
    templates(missing={"email/digest.html"})
    answer = api.get(f"/issues/{issue.id}")
    assert answer.status_code == 200
    assert answer.json["html_size"] is None and answer.json["status"] == "draft"


@pytest.mark.slow
def test_the_editor_is_warned_on_the_issue_page_and_in_the_live_preview(
    app, persian_list, editor_client
):
    issue = issue_of(persian_list, 60)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    warning = re.search(r'<p class="flash" role="alert" id="clipped">(.*?)</p>', page, re.S)
    assert warning and "Gmail" in warning[1] and "unsubscribe" in warning[1]
    rows = [
        {
            "post_id": item.post_id,
            "position": item.position,
            "section": "",
            "title": item.title,
            "excerpt": item.excerpt,
            "url": item.url,
            "source": item.source,
        }
        for item in issue.items
    ]
    form = {f"item_{name}": [row[name] for row in rows] for name in rows[0]}
    form |= {"csrf_token": editor_client.token, "subject": issue.subject, "intro": ""}
    form["item_keep"] = [str(index) for index in range(len(rows))]
    live = editor_client.post(f"/admin/issues/{issue.id}/live-preview", data=form).json
    assert live["clipped"] is True and live["kilobytes"] > 102


def test_the_open_pixel_comes_before_the_content_so_clipping_cannot_hide_it(app, make_list, inbox):
    mailing_list = make_list(track_opens=True)
    add_subscribers(mailing_list, 1)
    issue = issue_of(mailing_list, 3, persian=False)
    start_sending(issue)
    loop.send_batch(issue.id)
    html = inbox.wait_for(1)[0].part("html")
    pixel = re.search(r'<img src="[^"]+/o/[^"]+\.gif"', html)
    assert pixel and pixel.start() < html.index("part 0") < html.index("Unsubscribe")


# --- The inbox's preview after the preheader -------------------------------------------------


def preview(html: str, length: int = 200) -> str:
    """What an inbox shows beside the subject: the body's first text as it comes, tags and
    style left out, spaces run together (as Gmail, Apple Mail and Outlook build it)."""
    body = html[html.index("<body") :]
    text = re.sub(r"<style.*?</style>|<[^>]+>", " ", body, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", unescape(text)).strip()[:length]


def test_the_preview_shows_the_preheader_and_then_nothing_of_the_masthead(app, persian_list):
    issue = issue_of(persian_list, 2)
    issue.preheader = "اعدام‌ها در سال ۱۴۰۲ 📈 — and what the UN asks of Tehran"
    db.session.commit()
    html, text = render.render_issue(issue)
    shown = preview(html)
    assert shown.startswith(issue.preheader)
    # What follows it in the first 200 characters is only the invisible filler.
    assert set(shown[len(issue.preheader) :]) <= {"\u034f", "\u200c", "\u00a0"}
    assert persian_list.name not in shown
    # The text part has the preheader with its half-space, and none of the filler.
    assert issue.preheader in text and "\u034f" not in text


def test_without_a_preheader_there_is_no_filler(app, persian_list):
    html, _ = render.render_issue(issue_of(persian_list, 2))
    assert "\u034f" not in html and "&#847;" not in html


# --- Outlook for Windows (Word) ignores max-width on a div ----------------------------------


def test_outlook_holds_the_digest_and_the_notices_to_a_640px_column(app, persian_list):
    subscription = confirmed_subscriber(persian_list, "maryam@example.org").subscriptions[0]
    digest_html, _ = render.render_issue(issue_of(persian_list, 2))
    welcome = notices.build_notice("welcome", subscription.id).message.decode()
    for html in (digest_html, welcome.replace("=\r\n", "").replace("=3D", "=")):
        opened = html.index('<!--[if mso]><table role="presentation" width="640"')
        closed = html.index("<!--[if mso]></td></tr></table><![endif]-->")
        assert opened < html.index('class="container"') < html.index('class="footer"') < closed


# --- The plain-text part --------------------------------------------------------------------


def test_the_text_part_shows_numbered_and_dashed_lines_as_they_were_written(app, weekly):
    week_of_posts(weekly, 1, persian=False)
    post = db.session.scalar(db.select(Post))
    post.excerpt = "2019. A year of talks\n1. First point\n- a dash\n+ a plus\n۱. نکتهٔ نخست"
    db.session.commit()
    issue = compose_issue(weekly, datetime.now(UTC) - timedelta(days=7), datetime.now(UTC))
    _, text = render.render_issue(issue)
    for line in ("2019. A year of talks", "1. First point", "- a dash", "+ a plus", "۱. نکتهٔ"):
        assert line in text
    assert "\\" not in text


def test_the_text_part_lists_every_item_in_order_with_its_link_and_no_markup(app, persian_list):
    issue = issue_of(persian_list, 40)
    issue.items[0].title = "AT&T و «تحریم‌ها» — ۱۰۰٪ 😀 漢字 1 < 2"
    db.session.commit()
    html, text = render.preview(issue)
    place = 0
    for item in issue.items:
        place = text.index(item.title, place)
        place = text.index(item.url, place)
    assert not re.search(r"&(?:[a-z]+|#\d+|#x[0-9a-f]+);|<(?:p|a|div|br|b)\b", text, re.I)
    # No direction marks put in that the items did not have.
    assert not re.search("[\u200e\u200f\u202a-\u202e]", text)
    assert text.count("\u200c") >= sum(i.excerpt.count("\u200c") for i in issue.items)


# --- RFC 5322 and 2045 line limits, whatever the content -----------------------------------

OWN_DATA = ("data", "erase")
NO_SPACES = "ایران" * 100  # 500 letters and no space: a title nobody can fold


@pytest.mark.slow
def test_every_line_of_an_issue_of_hostile_values_fits_smtp_and_mime(app, persian_list, inbox):
    add_subscribers(persian_list, 1)
    issue = issue_of(persian_list, 3)
    issue.items[0].title = NO_SPACES
    issue.items[1].title = "👩🏽‍💻🇮🇷" * 40 + "漢字かなカナ한국어" * 20
    issue.items[2].url = "https://interlink.example/" + "%D8%A7" * 329  # 2,000 characters
    issue.items[2].excerpt = "ش" * 4_000
    db.session.commit()
    start_sending(issue)
    loop.send_batch(issue.id)
    received = inbox.wait_for(1)[0]
    head, _, body = received.data.partition(b"\r\n\r\n")
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))  # RFC 5322 2.1.1
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))  # RFC 2045 6.7
    message = received.message
    assert message["Date"] and message["Message-ID"]
    boundary = message.get_boundary()
    html, text = received.part("html"), received.part("plain")
    assert boundary not in html and boundary not in text
    for part in (html, text):
        assert NO_SPACES in part and "👩🏽‍💻🇮🇷" * 40 in part and "ش" * 4_000 in part


# --- One-click unsubscribe on bulk mail only (RFC 8058, Gmail and Yahoo 2024) ---------------


@pytest.mark.slow
def test_list_emails_carry_one_click_unsubscribe_and_personal_ones_do_not(
    app, client, persian_list, inbox
):
    """The issue, its test send, the welcome and the confirmation (a stranger may have
    typed the address: its one-click ends the pending subscription); not the goodbye, nor
    the emails with a link to the reader's own data."""
    user("editor@example.org")
    subscription = confirmed_subscriber(persian_list, "maryam@example.org").subscriptions[0]
    issue = issue_of(persian_list, 2)
    send_proof(issue, ["editor@example.org"])
    start_sending(issue)
    loop.send_batch(issue.id)
    # The test send and the reader's copy, then the welcome.
    listed = [received.data for received in inbox.wait_for(2)]
    listed.append(notices.build_notice("welcome", subscription.id).message)
    personal = [notices.build_notice(kind, subscription.id).message for kind in OWN_DATA]
    subscription.status = "unconfirmed"
    db.session.commit()
    listed.append(notices.build_notice("confirm", subscription.id).message)
    for raw in listed:
        message = message_from_bytes(raw, policy=policy.default)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.fullmatch(r"<http[^>]+>, <mailto:[^>]+>", message["List-Unsubscribe"])
        assert message["List-Id"].endswith("<interlink.newsletter.test>")
    # The confirmation's one-click: the pending subscription ends, and no goodbye is sent.
    one_click = re.match(r"<http://newsletter\.test([^>]+)>", message["List-Unsubscribe"])[1]
    answer = client.post(one_click, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    db.session.refresh(subscription)
    assert subscription.status == "unsubscribed"
    personal.append(notices.build_notice("goodbye", subscription.id).message)
    for raw in personal:
        assert message_from_bytes(raw, policy=policy.default)["List-Unsubscribe-Post"] is None


# --- DMARC: the sender's domain aligned with the DKIM signature's d= (Gmail, Yahoo 2024) ----


@pytest.mark.parametrize(
    "sender, aligned",
    [
        ("digest@example.org", True),  # d=example.org itself
        ("digest@news.example.org", True),  # under it: relaxed alignment
        ("digest@EXAMPLE.ORG", True),
        ("digest@example.net", False),
        ("digest@notexample.org", False),  # a suffix of letters is not a parent domain
    ],
)
def test_the_api_says_whether_a_lists_sender_is_aligned_with_the_dkim_signature(
    app, make_list, api, dns, sender, aligned
):
    mailing_list = make_list(from_email=sender)
    assert api.get(f"/lists/{mailing_list.id}").json["dkim_aligned"] is aligned


def test_the_list_page_warns_when_bulk_mail_would_fail_dmarc(app, make_list, editor_client, dns):
    make_list(from_email="digest@example.net")
    page = editor_client.get("/admin/lists/weekly/edit").text
    assert 'id="dkim-alignment"' in page and "example.org" in page
    app.config.update(DKIM_KEY_FILE="")  # nothing signed: nothing to align with
    assert 'id="dkim-alignment"' not in editor_client.get("/admin/lists/weekly/edit").text
