"""Composing and rendering: once per issue, then cheap and safe per reader."""

import re
from datetime import UTC, datetime

import pytest

from newsletter import mailer
from newsletter.digest import render
from newsletter.digest.compose import ComposeError, compose_issue, edit_issue
from newsletter.extensions import db
from newsletter.models import Issue, Post

SINCE = datetime(2019, 8, 1, tzinfo=UTC)
UNTIL = datetime(2019, 8, 8, tzinfo=UTC)


def post(mailing_list, guid, title, excerpt="", day=2, source="Example"):
    item = Post(
        list_id=mailing_list.id,
        guid=guid,
        url=f"https://example.org/{guid}",
        title=title,
        source=source,
        excerpt=excerpt,
        published_at=datetime(2019, 8, day, tzinfo=UTC),
    )
    db.session.add(item)
    db.session.commit()
    return item


def test_compose_numbers_issues_per_list_newest_first(app, weekly, make_list):
    other = make_list(slug="other", name="Iran Interlink")
    post(weekly, "a", "Older", day=2)
    post(weekly, "b", "Newer", day=5)
    post(other, "c", "Elsewhere", day=3)
    first = compose_issue(weekly, SINCE, UNTIL)
    second = compose_issue(weekly, SINCE, UNTIL)
    elsewhere = compose_issue(other, SINCE, UNTIL)
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert [i.title for i in first.items] == ["Newer", "Older"]
    # The range ends before August 8: its last day names it.
    assert first.subject == "Weekly Digest – August 7, 2019"
    assert elsewhere.subject == "Iran Interlink Weekly Digest – August 7, 2019"


def test_a_persian_list_s_default_subject_is_persian_in_its_own_calendar(
    app, persian_list, make_list
):
    named = make_list(slug="hafte", name="گزیده‌ی هفته", language="fa", timezone="Asia/Tehran")
    for mailing_list in (persian_list, named):
        post(mailing_list, "a", "خبر", day=5)
    # Midnight in Tehran (summer time, +04:30 in 2019), 19:30 UTC the day before: the
    # range's last day is August 7 there.
    until = datetime(2019, 8, 7, 19, 30, tzinfo=UTC)
    assert compose_issue(persian_list, SINCE, until).subject == (
        "ایران اینترلینک — Weekly گزیدهٔ هفتگی – ۱۶ مرداد ۱۳۹۸"
    )
    assert compose_issue(named, SINCE, until).subject == "گزیده‌ی هفته – ۷ اوت ۲۰۱۹"


def test_compose_with_no_posts_is_an_error_and_makes_no_issue(app, weekly):
    with pytest.raises(ComposeError, match="no posts"):
        compose_issue(weekly, SINCE, UNTIL)
    assert Issue.query.count() == 0


def test_a_subject_with_a_line_break_is_refused(app, weekly):
    post(weekly, "a", "A post")
    with pytest.raises(ComposeError):
        compose_issue(weekly, SINCE, UNTIL, subject="Hi\r\nBcc: everyone@example.org")
    issue = compose_issue(weekly, SINCE, UNTIL)
    with pytest.raises(ComposeError):
        edit_issue(issue, {"subject": "Hi\nthere"})
    with pytest.raises(mailer.HeaderInjection):
        mailer.encode_header("Hi\r\nBcc: x@example.org")


def test_editing_reorders_and_sections_items(app, weekly):
    a = post(weekly, "a", "Alpha", day=2)
    b = post(weekly, "b", "Beta", day=3)
    issue = compose_issue(weekly, SINCE, UNTIL)
    edit_issue(
        issue,
        {
            "items": [
                {"post_id": a.id, "section": "Analysis", "title": "Alpha, edited"},
                {"post_id": b.id, "section": "News"},
                {"title": "By hand", "url": "https://example.org/hand", "section": "News"},
            ]
        },
    )
    assert [(i.section, i.title) for i in issue.items] == [
        ("Analysis", "Alpha, edited"),
        ("News", "Beta"),
        ("News", "By hand"),
    ]
    assert db.session.get(Post, a.id).title == "Alpha"
    with pytest.raises(ComposeError):
        edit_issue(issue, {"items": [{"title": "x", "url": "javascript:alert(1)"}]})


def test_personal_fields_are_escaped_in_html_and_plain_in_text(app, weekly):
    post(weekly, "a", "A <b>bold</b> & title", excerpt="Fish & chips")
    issue = compose_issue(weekly, SINCE, UNTIL, intro="**Welcome** <script>alert(1)</script>")
    html, text = render.render_issue(issue)
    assert "<script>" not in html
    assert "<strong>Welcome</strong>" in html
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; title" in html
    person = render.Personal("Ana <i>x</i>", "https://u/unsub", "https://u/prefs")
    personal_html = render.Personaliser(html, escape_values=True).fill(person)
    personal_text = render.Personaliser(text, escape_values=False).fill(person)
    assert "Hello Ana &lt;i&gt;x&lt;/i&gt;," in personal_html
    assert "Hello Ana <i>x</i>," in personal_text
    assert "https://u/unsub" in personal_html and "https://u/prefs" in personal_text
    assert "@@NL" not in personal_html + personal_text


def test_css_is_inlined_once_per_issue(app, weekly):
    post(weekly, "a", "A post")
    html, _ = render.render_issue(compose_issue(weekly, SINCE, UNTIL))
    assert 'class="item"' in html and "style=" in html


def test_right_to_left_posts_are_marked_rtl(app, weekly):
    post(weekly, "fa", "گزارش هفتگی ایران اینترلینک", excerpt="این یک خلاصه است.")
    post(weekly, "en", "An English post", day=3)
    html = render.render_page(compose_issue(weekly, SINCE, UNTIL), personal=False)
    persian = html.index("گزارش هفتگی")
    english = html.index("An English post")
    assert html.rfind('dir="rtl"', 0, persian) > html.rfind('dir="ltr"', 0, persian)
    assert html.rfind('dir="ltr"', 0, english) > html.rfind('dir="rtl"', 0, english)


def test_a_right_to_left_list_renders_rtl(app, make_list):
    persian = make_list(slug="fa", name="خبرنامه", language="fa", direction="rtl")
    post(persian, "a", "خبر")
    html = render.render_page(compose_issue(persian, SINCE, UNTIL), personal=False)
    assert '<html lang="fa" dir="rtl">' in html


def test_a_date_keeps_the_readers_direction_in_a_post_of_the_other(app, persian_list):
    """A Persian date in an English post's line read "آذر ۱۴۰۵ ۱۶", its day moved to the end."""
    post(persian_list, "en", "An English post", source="Reuters")
    html = render.render_page(compose_issue(persian_list, SINCE, UNTIL), personal=False)
    line = html[html.index('<p class="meta">') : html.index("</p>", html.index('class="meta"'))]
    assert re.search(r'<bdi dir="rtl">[^<]*۱۳۹۸</bdi>', line)  # 2019 in the Solar Hijri
    assert line.count('dir="rtl"') == 1 and "Reuters" in line


def test_the_archive_version_has_no_personal_links(app, weekly):
    post(weekly, "a", "A post")
    html = render.render_page(compose_issue(weekly, SINCE, UNTIL), personal=False)
    assert "@@NL" not in html and "unsubscribe" not in html.lower()
    assert "/subscribe/weekly" in html


def test_every_email_carries_the_footer_and_list_links(app, weekly):
    post(weekly, "a", "A post")
    html, text = render.render_issue(compose_issue(weekly, SINCE, UNTIL))
    for body in (html, text):
        assert "1 Main Street" in body
        assert "because you subscribed to it" in " ".join(body.split())
        assert render.UNSUBSCRIBE_URL in body and render.PREFERENCES_URL in body
        assert "http://newsletter.test/archive/weekly/1" in body


def test_the_editors_preview_greets_a_sample_reader_in_the_list_s_language(
    app, weekly, persian_list
):
    for mailing_list, name in ((weekly, "Reader"), (persian_list, "خواننده")):
        post(mailing_list, "a", "A post", day=5)
        html, text = render.preview(compose_issue(mailing_list, SINCE, UNTIL))
        assert name in html and name in text
        if name != "Reader":
            assert "Reader" not in html and "Reader" not in text
