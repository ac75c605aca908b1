"""The subscribe form pasted on the organisation's own site: one step, posted straight to
/embed/<slug>, without a CSRF token but with the honeypot and the rate limit, the same answer
for every address, and back to the site only at an address the editor allowed."""

import http.server
import os
import re
import threading

import pytest
from conftest import wait_until

from newsletter import suppression
from newsletter.extensions import db, limiter
from newsletter.models import MailingList, Subscriber, Subscription
from newsletter.subscriptions.embed import embed_snippet

THANKS = "Check your inbox"
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")
ALLOWED = "https://example.org/newsletter/\nhttp://localhost:8000/thanks"


def embed(client, email, slug="weekly", **fields):
    return client.post(f"/embed/{slug}", data={"email": email, "name": "", **fields})


# --- The endpoint -------------------------------------------------------------------------


def test_one_post_without_a_csrf_token_subscribes_and_sends_the_confirmation(
    client, weekly, inbox, worker
):
    answer = embed(client, "ana@example.org", name="Ana")
    assert answer.status_code == 200 and THANKS in answer.text
    subscription = Subscription.query.one()
    assert subscription.status == "unconfirmed"
    assert subscription.consent_source.startswith("embed:")
    [mail] = inbox.wait_for(1, recipient="ana@example.org")
    assert "/confirm/" in mail.part("plain")


def test_every_address_gets_the_same_answer(client, weekly, inbox, worker):
    db.session.add(Subscriber(email="known@example.org", attributes={}))
    suppression.suppress("bounced@example.org", reason="bounced")
    db.session.commit()
    answers = [
        embed(client, "new@example.org"),
        embed(client, "known@example.org"),
        embed(client, "new@example.org"),  # again
        embed(client, "bounced@example.org"),
        embed(client, "bot@example.org", website="https://spam.example"),
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    inbox.wait_for(1, recipient="new@example.org")
    assert inbox.to("bounced@example.org") == [] and inbox.to("bot@example.org") == []
    emails = {s.subscriber.email for s in Subscription.query}
    assert emails == {"new@example.org", "known@example.org"}


def test_a_filled_honeypot_stores_nothing_and_is_sent_back_like_a_subscriber(client, make_list):
    make_list(embed_return_urls=ALLOWED)
    back = "https://example.org/newsletter/thanks"
    bot = embed(client, "bot@example.org", website="x", return_to=back)
    person = embed(client, "ana@example.org", return_to=back)
    assert (bot.status_code, bot.location) == (person.status_code, person.location) == (303, back)
    assert [s.email for s in Subscriber.query] == ["ana@example.org"]


@pytest.mark.parametrize("typed", ["", "   ", "not-an-address", "a@b", "x" * 300 + "@example.org"])
def test_an_address_that_cannot_be_one_gets_a_page_to_correct_it(client, weekly, typed):
    answer = embed(client, typed, name="Ana", return_to="https://example.org/newsletter/")
    assert answer.status_code == 400 and "Check the address" in answer.text
    link = re.search(r'href="(/subscribe/weekly\?[^"]*)"', answer.text).group(1)
    form = client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200 and 'value="Ana"' in form.text
    assert Subscriber.query.count() == 0


@pytest.mark.parametrize(
    "return_to",
    [
        "https://example.org/newsletter/",
        "https://example.org/newsletter/thanks?from=embed#top",
        "https://EXAMPLE.ORG/newsletter/x",  # host names are not case-sensitive
        "http://localhost:8000/thanks",
    ],
)
def test_return_to_under_an_allowed_address_sends_subscribers_back(client, make_list, return_to):
    make_list(embed_return_urls=ALLOWED)
    answer = embed(client, "ana@example.org", return_to=return_to)
    assert (answer.status_code, answer.location.lower()) == (303, return_to.lower())


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/newsletter/",
        "https://example.org.evil.example/newsletter/",
        "https://example.org@evil.example/newsletter/",
        "https://example.org\\@evil.example/newsletter/",
        "http://example.org/newsletter/",  # another scheme
        "https://example.org:8443/newsletter/",  # another port
        "https://example.org/other/",
        "//evil.example/newsletter/",
        "/newsletter/",
        "javascript:alert(1)//https://example.org/newsletter/",
        "https://example.org/newsletter/\r\nSet-Cookie: a=b",
        "https://example.org/newsletter/\t",
        "https://[example.org/newsletter/",
        "https://example.org/newsletter/" + "x" * 3000,
    ],
)
def test_any_other_return_to_gets_our_thank_you_page(client, make_list, return_to):
    make_list(embed_return_urls=ALLOWED)
    answer = embed(client, "ana@example.org", return_to=return_to)
    assert answer.status_code == 200 and THANKS in answer.text
    assert "Location" not in answer.headers


def test_a_list_without_return_addresses_never_redirects(client, weekly):
    answer = embed(client, "ana@example.org", return_to="https://example.org/")
    assert answer.status_code == 200 and THANKS in answer.text


def test_the_thank_you_page_speaks_the_lists_language(client, make_list):
    make_list(language="fa", direction="rtl")
    answer = embed(client, "ana@example.org")
    assert answer.status_code == 200 and '<html lang="fa" dir="rtl">' in answer.text
    assert THANKS not in answer.text


def test_opening_the_embed_address_leads_to_our_form(client, weekly):
    answer = client.get("/embed/weekly")
    assert answer.status_code == 302 and answer.location.endswith("/subscribe/weekly")


def test_a_list_that_is_not_public_cannot_be_joined_from_elsewhere(client, make_list):
    make_list(public=False)
    assert embed(client, "ana@example.org").status_code == 404
    assert embed(client, "ana@example.org", slug="nope").status_code == 404
    assert Subscriber.query.count() == 0


def test_the_embed_endpoint_shares_the_subscribe_rate_limit_setting(app, client, weekly):
    limiter.reset()
    app.config["SUBSCRIBE_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [embed(client, f"r{i}@example.org") for i in range(5)]
    finally:
        app.config["SUBSCRIBE_RATE_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert "<html" in answers[-1].text and "Retry-After" in answers[-1].headers
    assert Subscriber.query.count() == 3


def test_the_security_headers_still_apply(client, weekly):
    for answer in (embed(client, "ana@example.org"), embed(client, "bad")):
        assert "form-action 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_the_subscribe_form_still_needs_its_csrf_token(client, weekly):
    answer = client.post("/subscribe/weekly", data={"email": "ana@example.org"})
    assert answer.status_code == 400
    assert Subscriber.query.count() == 0


# --- The editor's side --------------------------------------------------------------------


def test_the_snippet_posts_to_us_with_the_honeypot_and_the_first_return_address(
    editor_client, make_list
):
    make_list(embed_return_urls='https://example.org/a?"<b>')  # not valid, but escaped anyway
    snippet = embed_snippet(db.session.scalar(db.select(MailingList)))
    assert (
        '<form method="post" action="http://newsletter.test/embed/weekly" lang="en" dir="ltr">'
        in snippet
    )
    assert 'name="website" tabindex="-1" autocomplete="off"' in snippet
    assert 'name="return_to" value="https://example.org/a?&#34;&lt;b&gt;"' in snippet
    page = editor_client.get("/admin/lists/weekly/edit").text
    assert "method=&#34;post&#34;" in page and "/embed/weekly" in page


def test_the_editor_sets_the_return_addresses_and_bad_ones_are_refused(editor_client, weekly):
    form = editor_client.get("/admin/lists/weekly/edit").text
    fields = dict(re.findall(r'<input id="(\w+)" name="\w+" type="\w+" value="([^"]*)"', form))
    fields |= {"opt_in": "double", "send_weekday": "4", "direction": "ltr", "public": "on"}
    fields["csrf_token"] = editor_client.token
    saved = editor_client.post(
        "/admin/lists/weekly/edit",
        data=fields | {"embed_return_urls": " https://example.org/a/ \r\n\r\nhttp://b.example "},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert weekly.embed_return_urls == "https://example.org/a/\nhttp://b.example"
    assert "https://example.org/a/" in editor_client.get("/admin/lists/weekly/edit").text
    for bad in ("ftp://example.org/", "example.org", "https://example.org/?q=1"):
        refused = editor_client.post(
            "/admin/lists/weekly/edit", data=fields | {"embed_return_urls": bad}
        )
        assert refused.status_code == 422 and "embed_return_urls" in refused.text
    many = "\n".join(f"https://example.org/{i}" for i in range(21))
    refused = editor_client.post(
        "/admin/lists/weekly/edit", data=fields | {"embed_return_urls": many}
    )
    assert refused.status_code == 422
    db.session.expire_all()
    assert weekly.embed_return_urls == "https://example.org/a/\nhttp://b.example"


def test_the_api_reads_and_changes_the_return_addresses(api, weekly):
    assert api.get(f"/lists/{weekly.id}").json["embed_return_urls"] == ""
    changed = api.patch(f"/lists/{weekly.id}", json={"embed_return_urls": "https://example.org/"})
    assert changed.status_code == 200
    assert changed.json["embed_return_urls"] == "https://example.org/"
    refused = api.patch(f"/lists/{weekly.id}", json={"embed_return_urls": "javascript:x"})
    assert refused.status_code == 422


# --- In a browser, from another site ------------------------------------------------------


@pytest.fixture
def their_site():
    """The organisation's own site: another origin (localhost, another port) serving pages."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.pages = pages
    server.url = f"http://localhost:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def paste(site, snippet: str, path: str = "/") -> str:
    site.pages[path] = f"<!doctype html><title>Our site</title><h1>Our site</h1>{snippet}"
    site.pages["/thanks"] = "<!doctype html><title>Thanks</title><h1>Back on our site</h1>"
    return site.url + path


@pytest.fixture
def pasted(app, live_server, their_site, make_list):
    """The admin's snippet for a list, pasted on their site; the list allows /thanks there."""
    app.config["BASE_URL"] = live_server.url
    mailing_list = make_list(embed_return_urls=f"{their_site.url}/thanks")
    return their_site, embed_snippet(mailing_list)


@pytest.mark.slow
def test_from_their_site_one_press_subscribes_and_lands_on_their_thanks(
    pasted, page, inbox, worker
):
    site, snippet = pasted
    page.goto(paste(site, snippet))
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=name]", "Ana")
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/thanks")
    assert page.inner_text("h1") == "Back on our site"
    [mail] = inbox.wait_for(1, recipient="ana@example.org")
    assert "/confirm/" in mail.part("plain")
    assert Subscription.query.one().status == "unconfirmed"


@pytest.mark.slow
def test_from_their_site_without_an_allowed_return_lands_on_our_thank_you(
    pasted, page, live_server, inbox, worker
):
    site, snippet = pasted
    snippet = re.sub(r'value="[^"]*/thanks"', 'value="https://evil.example/"', snippet)
    page.goto(paste(site, snippet))
    page.fill("input[name=email]", "ben@example.org")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/embed/weekly")
    assert page.inner_text("h1") == THANKS
    inbox.wait_for(1, recipient="ben@example.org")


@pytest.mark.slow
def test_from_their_site_a_bot_gets_the_same_answer_and_nothing_is_made(pasted, page):
    site, snippet = pasted
    page.goto(paste(site, snippet))
    # Out of sight: its box a pixel at most, and that pixel clipped away.
    holder = page.locator("input[name=website]").locator("xpath=..")
    box = holder.bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1
    assert holder.evaluate("e => getComputedStyle(e).clipPath") == "inset(50%)"
    page.fill("input[name=email]", "bot@example.org")
    page.locator("input[name=website]").fill("https://spam.example", force=True)
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/thanks")
    assert Subscriber.query.count() == 0


@pytest.mark.slow
def test_from_their_site_too_many_presses_get_the_429_page(app, pasted, page, live_server):
    site, snippet = pasted
    app.config["SUBSCRIBE_RATE_LIMIT"] = "1 per minute"
    limiter.reset()
    url = paste(site, snippet)
    for email, expected in (("c1@example.org", site.url + "/thanks"), ("c2@example.org", None)):
        page.goto(url)
        page.fill("input[name=email]", email)
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        if expected:
            assert page.url == expected
    assert navigation.value.status == 429
    assert page.url == live_server.url + "/embed/weekly"
    assert "too many requests" in page.inner_text("h1").lower()
    wait_until(lambda: Subscriber.query.count() == 1)


@pytest.mark.slow
def test_opening_the_embed_address_in_a_browser_shows_our_form(pasted, page, live_server):
    page.goto(live_server.url + "/embed/weekly")
    assert page.url == live_server.url + "/subscribe/weekly"
    assert page.locator("form input[name=csrf_token]").count() == 1


@pytest.mark.slow
def test_from_their_site_an_address_we_cannot_send_to_gets_a_page_to_correct_it(pasted, page):
    site, snippet = pasted
    page.goto(paste(site, snippet))
    page.fill("input[name=email]", "ana@localhost")  # the browser's check lets it through
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check the address")
    page.screenshot(path=os.path.join(ARTIFACTS, "embed-check-the-address.png"))
    page.click("text=Try again")
    assert page.input_value("#email") == "ana@localhost"
    assert Subscriber.query.count() == 0


def test_a_persian_list_s_snippet_is_persian_and_right_to_left(app, persian_list):
    """It said "Subscribe" and "Your name" on a Persian list, the address field left to the
    page's direction."""
    snippet = embed_snippet(persian_list)
    assert 'lang="fa" dir="rtl"' in snippet
    assert (
        'type="text" inputmode="email" name="email"' in snippet and 'dir="ltr" required' in snippet
    )
    assert '<label for="newsletter-interlink-name">نام</label>' in snippet
    assert ">عضویت</button>" in snippet and "Your name" not in snippet
