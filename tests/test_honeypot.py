"""The subscribe form's honeypot: a field people never see or reach, which bots fill in."""

import re

from builders import csrf

from newsletter.models import Subscriber


def _post(client, email, honeypot=""):
    form = client.get("/subscribe/weekly")
    return client.post(
        "/subscribe/weekly",
        data={"email": email, "website": honeypot, "csrf_token": csrf(form.text)},
    )


def test_the_honeypot_is_hidden_from_subscribers_and_their_tools(client, weekly):
    page = client.get("/subscribe/weekly").text
    field = re.search(r"<input[^>]*name=\"website\"[^>]*>", page).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field
    wrapper = re.search(r'<div class="([^"]+)" aria-hidden="true">\s*<label', page)
    assert wrapper, "the field sits in a wrapper hidden from screen readers"
    css = client.get("/static/site.css").text
    rule = re.search(r"\." + wrapper.group(1) + r"\s*\{([^}]*)\}", css).group(1)
    assert "position: absolute" in rule and "display: none" not in rule


def test_a_filled_honeypot_sends_nothing_yet_answers_the_same(client, weekly, inbox, worker):
    strip = lambda page: re.sub(r'value="[^"]+"', "", page.text)  # noqa: E731
    bot = _post(client, "bot-target@example.org", honeypot="https://spam.example")
    person = _post(client, "person@example.org")
    assert bot.status_code == person.status_code == 200
    assert strip(bot) == strip(person)
    # The person's mail arriving means a mail for the bot's address would have come by now.
    inbox.wait_for(1, recipient="person@example.org")
    assert inbox.to("bot-target@example.org") == []
    assert {s.email for s in Subscriber.query} == {"person@example.org"}
