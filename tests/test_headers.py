"""Headers in any script and of any length: Subject, display names and the List-Id phrase
come back whole from a standard parser, in every kind of email we send."""

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import dkim
import pytest
from builders import as_rfc2047_reads_it, send_one_batch, user
from flask_babel import force_locale
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from newsletter import autopilot, mailer
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Post, Subscriber, Subscription
from newsletter.sending import alerts, lifecycle, loop
from newsletter.sending.proofs import send_proof
from newsletter.subscriptions import notices

SINCE = datetime(2019, 8, 1, tzinfo=UTC)
UNTIL = datetime(2019, 8, 8, tzinfo=UTC)

PERSIAN_LIST = "ایران اینترلینک، خبرنامهٔ هفتگی «گزیده» <ویژه>"
PERSIAN_FROM = 'تحریریهٔ ایران اینترلینک, "دفتر تهران"'
PERSIAN_READER = "مریم حسینی‌زاده (خوانندهٔ قدیمی), تهران"
PERSIAN_SUBJECT = "گزارش هفتگی ایران اینترلینک: خبرهای مهم این هفته از سراسر جهان و ایران"

# Letters of many scripts, marks that combine, emoji sequences and the characters that mean
# something in headers; drawn on alongside any character at all.
TRICKY = (
    "گزارشهفتگیایران،ءًٌٍَُِّْ"
    "עברית"
    "漢字かなカナ한국어"
    "👩🏽‍💻🇮🇷✨"
    "éé̃"
    "\"'\\,;:<>()[]@.=?_ \u200c\u200d\u00a0\u3000"
)
ONE_LINE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
TEXT = st.text(st.one_of(ONE_LINE, st.sampled_from(TRICKY)), min_size=1, max_size=300)
EXAMPLES = [
    "Spoof <other.example.net>, x",
    "A 75-character English subject with one en dash – and that is all it needs!",
    PERSIAN_SUBJECT,
    "=?utf-8?q?not_an_encoded_word?=",
    "  leading and trailing spaces, and  two inside  ",
    '"quoted" \\ backslash',
    "x" * 300,
    "ش" * 300,
    "👩🏽‍💻" * 60,
]


def parsed(headers: list[tuple[str, str]]):
    raw = mailer.mime_bytes(headers, "text\n", "<p>html</p>")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    return message_from_bytes(raw, policy=policy.default)


def examples(test):
    for value in EXAMPLES:
        test = example(value)(test)
    return test


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(TEXT)
@examples
def test_any_subject_comes_back_whole(value):
    message = parsed([("Subject", mailer.encode_header(value))])
    assert message["Subject"] == value


# Plain words, of every length around the one line they may share with the address.
PLAIN_NAMES = st.from_regex(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,30}( [A-Za-z0-9.-]{1,30}){0,4}", fullmatch=True
)


@given(
    st.one_of(PLAIN_NAMES, TEXT),
    st.from_regex(r"[a-z0-9.]{1,40}@[a-z0-9]{1,20}\.org", fullmatch=True),
)
@example("Reader Number One Of The Weekly Digest", "a.very.long.address.of.a.reader@example.org")
@example("A" * 30 + " " + "B" * 17, "ana@example.org")  # the line exactly full
@example("A" * 30 + " " + "B" * 18, "ana@example.org")  # one more: the address folds
def test_a_plain_name_on_one_line_is_the_folded_header_unchanged(name, email):
    # The short way for the names most readers have gives what folding gives.
    assume(not mailer.has_line_break(name))
    folded = mailer._fold([*mailer.phrase_words(name), f"<{email}>"]) if name else email
    assert mailer.address_header(name, email) == folded


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(TEXT)
@examples
def test_any_display_name_comes_back_whole(name):
    message = parsed(
        [
            ("From", mailer.address_header(name, "news@example.org")),
            ("To", mailer.address_header(name, "ana@bücher.example")),
            ("Reply-To", mailer.address_header(name, "desk@example.org")),
        ]
    )
    for field, address in (
        ("From", "news@example.org"),
        ("To", "ana@xn--bcher-kva.example"),
        ("Reply-To", "desk@example.org"),
    ):
        [parsed_address] = message[field].addresses
        assert parsed_address.addr_spec == address
        assert as_rfc2047_reads_it(dict(message.raw_items())[field]) == name
        # CPython's address parser reads a space and any whitespace after it (a no-break
        # space too) as one space, and puts a space between encoded words, which end where
        # the name's words do: it reads the name's words, spaced alike or wider.
        words = parsed_address.display_name.split()
        assert words == name.split() or "".join(words) == "".join(name.split())
        if len(name.encode()) <= mailer.WORD_BYTES:
            assert parsed_address.display_name == re.sub(r" \s*", " ", name)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(TEXT)
@examples
def test_any_list_name_comes_back_whole_in_list_id(name):
    value = mailer.list_id_header(name, "weekly.newsletter.test")
    message = parsed([("List-Id", value)])
    assert message["List-Id"] == f"{name} <weekly.newsletter.test>"
    # Whatever the name holds, the only angle brackets on the wire are the id's own.
    unfolded = value.replace("\r\n", "")
    assert unfolded.count("<") == 1 and unfolded.endswith("<weekly.newsletter.test>")


def test_the_list_id_phrase_cannot_name_another_list(app, make_list):
    from newsletter.lists import list_headers

    spoof = make_list(name="Spoof <other.example.net>, x")
    [(_, value), *_] = list_headers(spoof, "http://newsletter.test/unsubscribe/t")
    assert "<other.example.net>" not in value
    assert parsed([("List-Id", value)])["List-Id"] == (
        "Spoof <other.example.net>, x <weekly.newsletter.test>"
    )


def test_line_breaks_are_still_refused_before_encoding():
    for value in ("Hi\r\nBcc: x@example.org", "Hi\nthere", "a\rb", "a\u2028b"):
        with pytest.raises(mailer.HeaderInjection):
            mailer.encode_header(value)
        with pytest.raises(mailer.HeaderInjection):
            mailer.address_header(value, "ana@example.org")
        with pytest.raises(mailer.HeaderInjection):
            mailer.list_id_header(value, "weekly.newsletter.test")
    with pytest.raises(mailer.HeaderInjection):
        mailer.mime_bytes([("Subject", "folded\r\n  fine\r\nBcc: x@example.org")], "", "")


# Every kind of email, with a long Persian subject and names


@pytest.fixture
def persian(make_list):
    return make_list(
        slug="interlink",
        name=PERSIAN_LIST,
        from_name=PERSIAN_FROM,
        language="fa",
        direction="rtl",
        reply_to="desk@example.org",
    )


def stored_subscriber(mailing_list, status: str = "confirmed") -> Subscription:
    subscriber = Subscriber(email="maryam@example.org", name=PERSIAN_READER, attributes={})
    subscription = Subscription(list_id=mailing_list.id, status=status)
    subscriber.subscriptions.append(subscription)
    db.session.add(subscriber)
    db.session.commit()
    return subscription


def persian_issue(mailing_list, subject: str | None = PERSIAN_SUBJECT):
    db.session.add(
        Post(
            list_id=mailing_list.id,
            guid="p1",
            url="https://example.org/p1",
            title="گزارش ویژه",
            published_at=datetime(2019, 8, 2, tzinfo=UTC),
        )
    )
    db.session.commit()
    return compose_issue(mailing_list, SINCE, UNTIL, subject=subject)


def assert_headers(received, subject: str, to_name: str = "", list_name: str | None = None):
    message = received.message
    assert message["Subject"] == subject
    # Names as mail programs read them (RFC 2047: adjacent encoded words joined as they are).
    raw = dict(message.raw_items())
    assert as_rfc2047_reads_it(raw["From"]) == PERSIAN_FROM
    assert as_rfc2047_reads_it(raw["To"]) == to_name if to_name else "<" not in raw["To"]
    assert len(message["From"].addresses) == len(message["To"].addresses) == 1
    encoded = re.findall(
        r"=\?[^?]+\?[bBqQ]\?[^?]*\?=", received.data.split(b"\r\n\r\n")[0].decode()
    )
    assert all(len(word) <= 75 for word in encoded)  # RFC 2047 2
    if list_name is not None:
        assert message["List-Id"] == f"{list_name} <interlink.newsletter.test>"
    assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))


@pytest.mark.slow
def test_a_digest_with_a_long_persian_subject_is_sent_and_signed(app, persian, inbox, dns):
    stored_subscriber(persian)
    issue = persian_issue(persian)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()
    outcome = loop.send_batch(issue.id)
    assert outcome.sent == 1
    [received] = inbox.messages
    assert_headers(received, PERSIAN_SUBJECT, PERSIAN_READER, PERSIAN_LIST)
    assert received.message["Reply-To"].addresses[0].addr_spec == "desk@example.org"
    assert dkim.verify(received.data, dnsfunc=dns)


def test_the_lists_own_default_persian_subject_is_sent(app, persian, inbox):
    stored_subscriber(persian)
    issue = persian_issue(persian, subject=None)
    assert len(issue.subject.encode()) > 70
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()
    assert loop.send_batch(issue.id).sent == 1
    assert_headers(inbox.messages[0], issue.subject, PERSIAN_READER, PERSIAN_LIST)


def test_a_test_send_with_a_long_persian_subject(app, persian, inbox):
    issue = persian_issue(persian)
    assert send_proof(issue, ["editor@example.org"]) == 1
    assert_headers(inbox.messages[0], f"[Test] {PERSIAN_SUBJECT}", list_name=PERSIAN_LIST)


@pytest.mark.parametrize(
    "kind, status",
    [("confirm", "unconfirmed"), ("welcome", "confirmed"), ("goodbye", "unsubscribed")],
)
def test_notices_to_a_persian_subscriber_of_a_persian_list(app, persian, inbox, kind, status):
    subscription = stored_subscriber(persian, status)
    assert notices.send_notice(kind, subscription.id)
    [received] = inbox.messages
    with force_locale("fa"):  # the list's language
        subject = notices.notice_subject(kind, PERSIAN_LIST)
    assert subject.startswith(("لطفاً", "به «", "اشتراک"))
    # A confirmation names no one: the name may be a stranger's words.
    to_name = "" if kind == "confirm" else PERSIAN_READER
    assert_headers(received, subject, to_name, PERSIAN_LIST if kind == "welcome" else None)


def test_the_paused_alert_of_a_persian_list(app, persian, inbox):
    user("editor@example.org")
    stored_subscriber(persian)
    issue = persian_issue(persian)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()
    loop.pause_itself(issue.id, "Something went wrong.")
    assert alerts.tell_editors(issue.id) == 1
    subject = f"Issue {issue.number} of {PERSIAN_LIST} paused: sending failed"
    # A worker running for other tests may send the alert that pausing queued as well.
    alert = inbox.to("editor@example.org")[0]
    assert_headers(alert, subject)
    # In the English sentence the Persian name and subject keep their own direction, and the
    # name, whose language is known, its language.
    html = alert.part("html")
    assert f'<bdi dir="auto" lang="fa">{escape(PERSIAN_LIST)}</bdi>' in html
    assert f'<bdi dir="auto">{escape(PERSIAN_SUBJECT)}</bdi>' in html


def test_autopilot_notices_of_a_persian_list(app, persian, inbox):
    user("editor@example.org")
    persian.autopilot = True
    db.session.commit()
    now = datetime(2030, 3, 1, 7, 0, tzinfo=UTC)
    assert autopilot.run_list(persian, now) is None  # no posts: the editors are told
    [received] = inbox.wait_for(1)
    assert_headers(received, f"{PERSIAN_LIST}: no new posts this week")
    assert f'no new posts for <bdi dir="auto">{escape(PERSIAN_LIST)}</bdi>' in received.part("html")


def test_an_internationalised_domain_goes_out_in_its_ascii_form(
    app, weekly, inbox, monkeypatch, tmp_path
):
    """A Persian organisation's own domain: every send stopped on its Message-ID until the
    settings carried it as mail does (xn--…), and what comes back is read the same way."""
    from newsletter import config, verp

    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://خبر.example:8443/")
    monkeypatch.setenv("NEWSLETTER_BOUNCE_DOMAIN", "برگشتی.example")
    monkeypatch.delenv("NEWSLETTER_MAIL_DOMAIN", raising=False)
    monkeypatch.delenv("NEWSLETTER_DKIM_DOMAIN", raising=False)
    settings = config.load(tmp_path)
    ascii_host = "xn--ngblk.example"  # as Python's own IDNA codec writes it
    assert settings["BASE_URL"] == f"https://{ascii_host}:8443"
    assert settings["MAIL_DOMAIN"] == settings["DKIM_DOMAIN"] == ascii_host
    assert settings["BOUNCE_DOMAIN"] == "xn--ngbeum82dqf.example"
    for name in ("BASE_URL", "MAIL_DOMAIN", "BOUNCE_DOMAIN"):
        app.config[name] = settings[name]

    send_one_batch(weekly, 2)
    assert len(inbox.messages) == 2
    for received in inbox.messages:
        head = received.data.split(b"\r\n\r\n", 1)[0]
        assert head.isascii()
        assert received.message["Message-ID"].endswith(f"@{ascii_host}>")
        assert received.message["List-Id"].endswith(f".{ascii_host}>")
        assert f"https://{ascii_host}:8443/" in received.message["List-Unsubscribe"]
        assert verp.delivery_id(received.sender) is not None
    monkeypatch.setenv("NEWSLETTER_MAIL_DOMAIN", "خبر..example")
    with pytest.raises(ValueError, match="NEWSLETTER_MAIL_DOMAIN is not a domain name"):
        config.load(tmp_path)


def test_a_list_at_an_internationalised_domain_sends_all_its_mail(app, weekly, inbox):
    """Its own address in Unicode, as the admin keeps it: the one-click header's mailto: once
    stopped every send of the list."""
    weekly.from_email, weekly.reply_to = "news@خبر.example", "editor@خبر.example"
    subscriber = Subscriber(email="reader@مثال.example", name="", attributes={})
    subscriber.subscriptions.append(Subscription(list_id=weekly.id, status="confirmed"))
    db.session.add(subscriber)
    db.session.commit()
    assert notices.send_notice("welcome", subscriber.subscriptions[0].id)
    issue = send_one_batch(weekly, 1)
    assert send_proof(issue, ["editor@خبر.example"]) == 1
    assert len(inbox.messages) == 4  # the welcome, two copies of the issue, the test
    for received in inbox.messages:
        head = received.data.split(b"\r\n\r\n", 1)[0]
        assert head.isascii(), head
        assert "news@xn--ngblk.example" in received.message["From"]
    copy = inbox.to("reader@xn--mgbh0fb.example")[-1]
    assert "mailto:news@xn--ngblk.example?" in copy.message["List-Unsubscribe"]
    assert "editor@xn--ngblk.example" in copy.message["Reply-To"]
