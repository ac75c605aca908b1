"""What screen readers and keyboards are told, read from the pages' HTML (WCAG 2.2 AA; the
audit's findings, in English and Persian). A refused form names its field and focuses it, and
its title says so; words in another language than the page's carry their own `lang`. The
browser's own reading (axe-core, the keyboard) is in test_accessibility_browser.py."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pytest
from builders import confirmed_subscriber, csrf, draft, sectioned_issue, staged_import

from newsletter import links
from newsletter.digest import render
from newsletter.extensions import db
from newsletter.subscriptions import service
from newsletter.subscriptions.embed import embed_snippet


class Elements(HTMLParser):
    """Every element's tag and attributes, in document order, and the page's title."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.title, self._in_title = "", False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def by_id(self, element_id: str) -> dict:
        return next(attrs for _tag, attrs in self.found if attrs.get("id") == element_id)

    def autofocused(self) -> list[str]:
        return [attrs.get("id", tag) for tag, attrs in self.found if "autofocus" in attrs]


def refused_field(page: Elements, field: str) -> None:
    """The field says it is refused, names the message, and takes the focus alone."""
    attrs = page.by_id(field)
    assert attrs.get("aria-invalid") == "true"
    assert attrs.get("aria-describedby") == "form-error"
    assert page.by_id("form-error")
    assert page.autofocused() == [field]


def refused_form(page: Elements) -> None:
    """Refused as a whole: the message takes the focus; no field is marked."""
    assert page.autofocused() == ["form-error"]
    assert page.by_id("form-error").get("tabindex") == "-1"
    assert not [attrs for _tag, attrs in page.found if "aria-invalid" in attrs]


def _path(purpose: str, subscription) -> str:
    version = subscription.version if purpose == links.CONFIRM else None
    token = links.make(purpose, subscription.subscriber_id, subscription.list_id, version)
    return f"/{purpose}/{token}"


# --- 1. Form errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug, title",
    [("weekly", "Error: Subscribe to Weekly Digest"), ("interlink", "خطا: عضویت در «")],
)
def test_a_refused_address_is_named_focused_and_in_the_title(
    client, weekly, persian_list, slug, title
):
    form = client.get(f"/subscribe/{slug}")
    assert Elements(form.text).autofocused() == []
    answer = client.post(f"/subscribe/{slug}", data={"email": "a@b", "csrf_token": csrf(form.text)})
    assert answer.status_code == 400
    page = Elements(answer.text)
    assert page.title.startswith(title)
    refused_field(page, "email")


def test_a_stale_subscribe_form_focuses_its_message(client, weekly):
    answer = client.post("/subscribe/weekly", data={"email": "a@example.org", "csrf_token": "x"})
    assert answer.status_code == 400
    page = Elements(answer.text)
    assert page.title == "Error: Subscribe to Weekly Digest"
    refused_form(page)


@pytest.mark.slow
@pytest.mark.parametrize(
    "field, value", [("time_zone", "Mars/Olympus"), ("locale", "klingon"), ("delivery", "x")]
)
def test_a_refused_preference_names_its_field(client, make_list, field, value):
    each = make_list(slug="posts", name="Every post", each_post=True)
    reader = service.subscribe(each, "sara@example.org", "", preconfirmed=True)
    path = _path(links.PREFERENCES, reader)
    name = f"delivery-{each.id}" if field == "delivery" else field
    answer = client.post(path, data={"csrf_token": csrf(client.get(path).text), name: value})
    assert answer.status_code == 400
    page = Elements(answer.text)
    assert page.title == "Error: Your preferences"
    refused_field(page, name)


def test_a_refused_delivery_the_page_does_not_show_focuses_the_message(client, weekly):
    reader = service.subscribe(weekly, "sara@example.org", "", preconfirmed=True)
    path = _path(links.PREFERENCES, reader)
    form = {"csrf_token": csrf(client.get(path).text), f"delivery-{weekly.id}": "each"}
    answer = client.post(path, data=form)
    assert answer.status_code == 400
    refused_form(Elements(answer.text))


def test_the_embed_s_check_address_page_focuses_its_message(client, persian_list):
    answer = client.post("/embed/interlink", data={"email": "a@b"})
    assert answer.status_code == 400
    page = Elements(answer.text)
    assert page.title == "خطا: نشانی را بررسی کنید"
    refused_form(page)


# --- 2. Saved preferences -------------------------------------------------------------------


def test_saved_preferences_are_focused_so_they_are_read_out(client, weekly):
    reader = service.subscribe(weekly, "sara@example.org", "", preconfirmed=True)
    path = _path(links.PREFERENCES, reader)
    assert Elements(client.get(path).text).autofocused() == []
    answer = client.post(path, data={"csrf_token": csrf(client.get(path).text), "name": "Sara"})
    page = Elements(answer.text)
    assert page.autofocused() == ["form-saved"]
    assert page.by_id("form-saved").get("tabindex") == "-1"
    assert page.title == "Your preferences"


# --- 4. The embed snippet -------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["weekly", "interlink"])
def test_the_embed_snippet_s_fields_have_labels_and_autocomplete(app, weekly, persian_list, slug):
    snippet = Elements(embed_snippet(weekly if slug == "weekly" else persian_list))
    labelled = {attrs["for"] for tag, attrs in snippet.found if tag == "label"}
    fields = {
        attrs["name"]: attrs
        for tag, attrs in snippet.found
        if tag == "input" and attrs.get("type") != "hidden" and attrs["name"] != "website"
    }
    assert {name: attrs.get("id") in labelled for name, attrs in fields.items()} == {
        "email": True,
        "name": True,
    }
    assert {name: attrs.get("autocomplete") for name, attrs in fields.items()} == {
        "email": "email",
        "name": "name",
    }
    # A text field: Chromium rewrites an email field's domain the IDNA 2003 way.
    assert (fields["email"]["type"], fields["email"]["inputmode"]) == ("text", "email")


# --- 5. Words in another language than the page's -------------------------------------------


def test_a_list_s_name_and_description_carry_its_language_in_a_page_of_another(
    client, weekly, persian_list
):
    reader = service.subscribe(persian_list, "sara@example.org", "", preconfirmed=True)
    persian = client.get(_path(links.PREFERENCES, reader)).text
    assert '<span dir="auto" lang="en">Weekly Digest</span>' in persian
    assert '<span dir="auto">ایران اینترلینک — Weekly</span>' in persian  # the page's own
    english = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<strong dir="auto" lang="fa">ایران اینترلینک — Weekly</strong>' in english
    assert '<div class="muted" dir="auto" lang="fa">گزیدهٔ هفتگی' in english
    reader.subscriber.locale = "en"
    db.session.commit()
    leave = client.get(_path(links.UNSUBSCRIBE, reader)).text
    assert 'Unsubscribe from <bdi dir="auto" lang="fa">ایران اینترلینک — Weekly</bdi>' in leave


def test_the_dashboard_sets_direction_and_language_on_the_list_s_name_only(
    editor_client, persian_list
):
    page = editor_client.get("/admin/").text
    assert '<section class="card">' in page  # its English words read left to right
    assert '<h2 dir="auto" lang="fa">ایران اینترلینک — Weekly</h2>' in page
    lists = editor_client.get("/admin/lists").text
    assert '<tr><td dir="auto" lang="fa">ایران اینترلینک — Weekly</td>' in lists


# --- 6 and 7. The digest: headings in order, a separator Persian does not read as zero ------


def headings(html: str) -> list[int]:
    return [int(tag[1]) for tag, _attrs in Elements(html).found if re.fullmatch(r"h[1-6]", tag)]


def test_a_digest_s_sections_rank_above_their_items(app, weekly):
    """Sections were h3 and their items h2: screen readers' lists of headings put each item
    above the section it is in. An item outside any section ranks with the sections."""
    issue = sectioned_issue(weekly)
    assert [item.section for item in issue.items] == ["", "Top stories", "Top stories"]
    for html in (render.render_issue(issue)[0], render.render_page(issue, personal=False)):
        assert headings(html) == [1, 2, 2, 3, 3]
    for item in issue.items:
        item.section = ""
    assert headings(render.render_issue(issue)[0]) == [1, 2, 2, 2]


def test_persian_separates_an_issue_s_facts_with_a_comma_not_a_dot_read_as_zero(
    client, persian_list, weekly
):
    sectioned_issue(persian_list)
    sectioned_issue(weekly)
    for page in (client.get("/archive/interlink").text, client.get("/archive/interlink/1").text):
        assert "شمارهٔ ۱ – ۱۳ آذر ۱۴۰۵" in page and "·" not in page
    assert "Example News</span> – " in client.get("/archive/interlink/1").text  # source, date
    assert "Issue 1 · December 4, 2026" in client.get("/archive/weekly").text


# --- 8. The archive's issue page ------------------------------------------------------------


def test_an_archived_issue_is_a_page_with_a_main_and_a_way_back(client, persian_list):
    issue = sectioned_issue(persian_list)
    page = Elements(client.get("/archive/interlink/1").text)
    assert [tag for tag, _attrs in page.found].count("main") == 1
    back = '<a href="http://newsletter.test/archive/interlink">همهٔ شماره‌ها</a>'
    assert back in client.get("/archive/interlink/1").text
    email = render.render_issue(issue)[0]  # the email itself is no page of ours
    assert "<main" not in email and "همهٔ شماره‌ها" not in email


# --- 9. The lesser public items -------------------------------------------------------------


def test_the_preferences_name_field_says_it_is_a_name(client, weekly):
    reader = service.subscribe(weekly, "sara@example.org", "", preconfirmed=True)
    page = Elements(client.get(_path(links.PREFERENCES, reader)).text)
    assert page.by_id("name").get("autocomplete") == "name"


def test_the_archive_s_feed_is_named_in_the_head(client, weekly):
    head = client.get("/archive/weekly").text.split("</head>")[0]
    assert '<link rel="alternate" type="application/rss+xml"' in head
    assert 'href="/archive/weekly/feed.xml"' in head


@pytest.mark.parametrize("language, words", [("en", "The home page"), ("fa", "صفحهٔ نخست")])
def test_the_missing_page_links_to_the_home_page(client, language, words):
    answer = client.get("/no-such-page", headers={"Accept-Language": language})
    assert answer.status_code == 404
    assert f'<a href="/">{words}</a>' in answer.text


@pytest.mark.parametrize(
    "limit, language, words",
    [
        ("1 per hour", "en", "Please wait 60 minutes and try again."),
        ("1 per minute", "en", "Please wait a minute and try again."),
        ("1 per hour", "fa", "لطفاً ۶۰ دقیقه صبر کنید و دوباره بکوشید."),
    ],
)
def test_the_too_many_requests_page_says_how_long_to_wait(
    app, client, weekly, limit, language, words
):
    app.config["SUBSCRIBE_RATE_LIMIT"] = limit
    refused = {"email": "x"}  # refused before the list's language is known: the browser's
    headers = {"Accept-Language": language}
    answers = [client.post("/embed/weekly", data=refused, headers=headers) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [400, 429]
    assert words in answers[1].text
    # What the Retry-After header says, in the page's whole minutes.
    minutes = math.ceil(int(answers[1].headers["Retry-After"]) / 60)
    assert minutes == (60 if limit == "1 per hour" else 1)


# --- 10 to 17. The admin ---------------------------------------------------------------------


def test_a_refused_list_names_its_fields_by_their_labels_and_links_to_them(editor_client):
    form = {"csrf_token": editor_client.token, "opt_in": "double", "send_weekday": "4"}
    answer = editor_client.post("/admin/lists/new", data=form)
    assert answer.status_code == 422
    page = Elements(answer.text)
    assert page.title.startswith("Error: ")
    assert page.autofocused() == ["form-error"]
    assert '<a href="#from_email">Sender address</a>: ' in answer.text
    assert "from_email:" not in answer.text
    field = page.by_id("from_email")
    assert (field["aria-invalid"], field["aria-describedby"]) == ("true", "error-from_email")
    assert page.by_id("error-from_email")
    assert "aria-invalid" not in page.by_id("description")


def test_the_admin_s_bars_come_before_the_main_landmark_with_a_link_past_them(editor_client):
    html = editor_client.get("/admin/").text
    before_main, _main = html.split("<main", 1)
    assert '<nav class="admin"' in before_main
    assert before_main.index('<a class="skip-link" href="#main">') < before_main.index("<nav")
    assert 'id="main"' in _main.split(">", 1)[0]


def test_every_admin_table_names_its_columns(editor_client, weekly):
    reader = confirmed_subscriber(weekly, "reader@example.org")
    issue = draft(weekly)
    unnamed = {}
    for path in ("/admin/lists", "/admin/lists/weekly/posts", f"/admin/subscribers/{reader.id}",
                 f"/admin/issues/{issue.id}"):  # fmt: skip
        html = editor_client.get(path).text
        unnamed[path] = re.findall(r"<th[^>]*>\s*</th>", html)
    assert unnamed == dict.fromkeys(unnamed, [])


def test_the_issue_page_names_its_progress_groups_its_schedule_and_lets_the_text_scroll(
    editor_client, weekly
):
    issue = draft(weekly)
    html = editor_client.get(f"/admin/issues/{issue.id}").text
    page = Elements(html)
    assert page.by_id("bar").get("aria-label") == "Copies sent"
    assert '<p role="status"><span id="sent">' in html  # the counts, as they change
    text = page.by_id("text-preview")
    assert (text.get("tabindex"), text.get("role"), text.get("dir")) == ("0", "region", "auto")
    assert page.by_id(text["aria-labelledby"])
    schedule = html.split(f'action="/admin/issues/{issue.id}/schedule"')[1].split("</form>")[0]
    fieldset = schedule.split("<fieldset", 1)[1].split("</fieldset>")[0]
    assert "<legend" in fieldset and fieldset.count('type="radio"') == 2


def test_an_import_s_progress_is_named(editor_client, weekly):
    mapping = staged_import(editor_client, b"email\nana@example.org\n")
    html = editor_client.get(mapping.removesuffix("/map")).text
    assert Elements(html).by_id("bar").get("aria-label") == "Rows read"
    assert '<p role="status"><span id="imported">' in html


def test_the_development_outbox_says_it_is_english_to_a_persian_browser(make_app, tmp_path):
    outbox = make_app(OUTBOX_DIR=str(tmp_path / "outbox")).test_client()
    page = outbox.get("/outbox/", headers={"Accept-Language": "fa"})
    assert page.status_code == 200 and '<html lang="en" dir="ltr">' in page.text
