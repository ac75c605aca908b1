"""Hostile text against the regular expressions that read it, through each entry point that
strangers reach: the bounce reader (anyone can mail the bounce address), posts by email (the
posts+ address takes anyone's mail and holds it), feeds (a feed's server writes what it
likes) and the public forms. Each case must finish: the timeout is the guard against minutes
of backtracking, and a CPU budget of a second (the audit's line between slow and fine) holds
the cases that cost seconds. Each comment names the pattern a case aims at and what it cost
when the audit wrote it (one core; "timeout" is past 30 s). The fine cases keep them so."""

import time
import types

import pytest
from pydantic import ValidationError

from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.api.subscribers import NewSubscriber
from newsletter.bounces import reasons
from newsletter.bounces.reports import classify
from newsletter.bounces.verdict import Verdict
from newsletter.posts import entries, inbound
from newsletter.subscriptions.service import clean_name
from newsletter.text import SUBJECT_PREFIXES

CPU_BUDGET = 1.0  # seconds


def within_budget(call, *args):
    started = time.process_time()
    result = call(*args)
    spent = time.process_time() - started
    assert spent < CPU_BUDGET, f"{spent:.1f} s of CPU"
    return result


# --- The bounce reader: reports.classify on what comes back to the bounce address ------------


def bounce(text: str = "", subject: str = "Undelivered Mail", headers: str = "") -> bytes:
    """A plain-text bounce from a mail server, its words `text`."""
    return (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces+1-0123456789abcdef@news.example.org\n"
        f"Subject: {subject}\n{headers}Content-Type: text/plain; charset=utf-8\n\n{text}\n"
    ).encode()


def report(
    human: str = "The message could not be delivered.", diagnostic: str = "", final: str = ""
):
    """A multipart/report (RFC 3464): words, one recipient's status fields, our headers."""
    return (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces+1-0123456789abcdef@news.example.org\n"
        "Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain; charset=utf-8\n\n{human}\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {final or 'ann@example.org'}\nAction: failed\n"
        f"Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 {diagnostic or 'user unknown'}\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\nFrom: news@example.org\nTo: ann@example.org\n"
        "Subject: Hello\n\n--B--\n"
    ).encode()


BOUNCES = [
    # text_part.py:134 _NAMING, fullmatch: a run of non-word characters after a reply code,
    # tried again for each address after it on the line. 10 KB: 124 s (62 s as a report).
    pytest.param(
        bounce(("bob@example.com\n550 " + "!" * 4_900 + "x " + "ann@example.org " * 300)[:9_990]),
        id="reply-code-then-non-words-then-addresses",
    ),
    # text_part.py _in_server_words and _is_message_id: each address's line start read again
    # for each address, 25 lines of 700 after a long reply. 250 KB: 2.6 s; now 0.2 s.
    pytest.param(
        bounce(
            (
                (
                    "bob@example.com\n550 "
                    + "!" * 3_000
                    + "x "
                    + "".join(f"a{n}@e.org " for n in range(700))
                )[:10_000]
                + "\n"
            )
            * 25
        ),
        id="many-addresses-after-a-long-reply",
    ),
    # quoted.py:40 SUBJECT_LINE, findall: "(.+?)\s*$" over a line's spaces. 20 KB: 1.7 s.
    pytest.param(bounce("subject: a" + " " * 19_980 + "x"), id="subject-line-of-spaces"),
    # text_part.py:76 GENERATED_FROM, match: "\S+@\S+?\)" over a line of "@". 20 KB: 2.2 s.
    pytest.param(
        bounce("bob@example.com\n" + ("(generated from a" + "@G" * 4_990 + "!\n") * 2),
        id="generated-from-of-ats",
    ),
    # fine: scan.py:50 ORIGINAL_STARTS (possessive rule), 250 KB of dashes: 0.1 s
    pytest.param(bounce("**" + "-" * 250_000), id="dashes"),
    # fine: scan.py:33 ADDRESS, a domain of 9,000 labels: 0.1 s
    pytest.param(bounce("a@" + "b." * 9_000 + "!"), id="address-of-labels"),
    # fine: text.py:80 SUBJECT_PREFIXES and reasons.py:169 _ANSWER, fifty subjects read
    # whitespace-collapsed: 0.01 s
    pytest.param(
        bounce("550 5.1.1 bob@example.com unknown", "Re:" * 600, "Subject: Re: Fwd:\n" * 49),
        id="fifty-subjects",
    ),
    # fine: providers.py:692 a provider's ".{0,120}?" rules and phrases.py:1773, 8 KB of
    # status codes in the server's words: 0.01 s
    pytest.param(report(diagnostic="5.1.1 " * 1_300), id="codes-in-diagnostic"),
    # fine: providers.py:692 a provider's domain pattern "live\.[a-z.]+$": 0.01 s
    pytest.param(report(final="ann@" + "live.e." * 280 + "e5"), id="provider-domain"),
    # fine: phrases.py:1773 the phrase tables (their ".{0,120}?" gaps) over 20 KB of words: 0.1 s
    pytest.param(bounce("user " * 4_000), id="phrase-tables"),
]


@pytest.mark.slow
@pytest.mark.timeout(30)
@pytest.mark.parametrize("raw", BOUNCES)
def test_the_bounce_reader_finishes(raw):
    verdict = within_budget(classify, raw)
    assert isinstance(verdict, Verdict) and isinstance(verdict.reason, str)


# --- Posts by email: inbound.read on a stranger's mail to posts+<list>@ ---------------------


def post(text="hello", html=None, subject="A post", headers="") -> bytes:
    head = (
        "From: Ana <ana@example.org>\nTo: posts+weekly@bounces.example.org\n"
        f"Subject: {subject}\nMessage-ID: <1@example.org>\n{headers}MIME-Version: 1.0\n"
    )
    if html is None:
        return (head + f"Content-Type: text/plain; charset=utf-8\n\n{text}\n").encode()
    return (
        head + 'Content-Type: multipart/alternative; boundary="A"\n\n--A\n'
        f"Content-Type: text/plain; charset=utf-8\n\n{text}\n--A\n"
        f"Content-Type: text/html; charset=utf-8\n\n{html}\n--A--\n"
    ).encode()


AUTHSERV = "mx.example.org"
# A header anyone can write, naming our MTA's authserv-id.
AUTH_RESULTS = f"Authentication-Results: {AUTHSERV}; dkim=pass {'-' * 15_000}\n"

POSTS = [
    # entries.py:28 _TAG (depth), findall: "[^\s/>]*[^>]*?" over "<A<A<A..." with no ">",
    # cubic. 1,200 of them (2.7 KB): 27 s; these 2,000: timeout.
    pytest.param(post("hi", "<A" * 2_000), None, id="html-of-open-tags"),
    # inbound.py:54 _PROPERTY, findall: "[a-z0-9-]+\." over dashes, per header. 15 KB: 1.3 s;
    # 8 headers: 8.8 s; these 30 (450 KB): timeout.
    pytest.param(post(headers=AUTH_RESULTS * 30), AUTHSERV, id="authentication-results"),
    # forwarded.py:25 _MARK_THEN_HEADERS (and :18 _FORWARD_MARK, 0.4 s): each way of a dashed
    # mark, then "\s*" over the spaces after it. 99 KB: 2.7 s.
    pytest.param(post("-" * 60 + " " * 99_000 + "x"), None, id="dashes-then-spaces"),
    # fine: forwarded.py:36 _SENT_FROM, fullmatch, 99 KB: 0.1 s
    pytest.param(post("sent from a" + " " * 99_000 + "x"), None, id="sent-from-then-spaces"),
    # fine: forwarded.py:33 _ADDRESS_AND_COLON and :27 _HEADER_LINE, 2,000 header lines: 0.01 s
    pytest.param(post("From: a <a@b.example>:\n" * 2_000), None, id="header-lines"),
    # fine: text.py:80 SUBJECT_PREFIXES, a subject of 3,000 "Fwd:": 0.02 s
    pytest.param(post(subject="Fwd: " * 3_000), None, id="subject-prefixes"),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("raw", "authserv_id"), POSTS)
def test_a_post_by_email_is_read_in_time(raw, authserv_id):
    mail = within_budget(inbound.read, raw, authserv_id)
    assert isinstance(mail, inbound.Mail) and mail.sender == "ana@example.org"


# --- Feeds: what a feed's server answers, read in the worker --------------------------------


def rss(item: str) -> bytes:
    return (
        "<rss version='2.0'><channel><title>t</title><item>"
        f"{item}<link>https://example.org/1</link></item></channel></rss>"
    ).encode()


# An XML declaration whose encoding feedparser cannot take (it raises), which the pattern
# that takes it out does not find: it is looked for in the rest.
UNNAMED = b"<?xml version='1.0'/encoding='\x00'?>"

FEEDS = [
    # entries.py:28 _TAG (depth), a title of "<A" with no ">", cubic. 600 of them (1.2 KB):
    # 3 s for each of a feed's 200 items; these 2,000: timeout.
    pytest.param(rss("<title><![CDATA[" + "<A" * 2_000 + "]]></title>"), id="title-of-open-tags"),
    # entries.py:80 _ENCODING_NAMED, sub: "[^>]*?\s+encoding" over runs of spaces after each
    # "<?xml" with no ">". 162 KB: 14 s.
    pytest.param(UNNAMED + (b"<?xml" + b" " * 400) * 400, id="declarations-never-closed"),
    # feedparser (a dependency) mixin.py:746, its author's address pattern, quadratic on
    # dashes. 32 KB: 3.7 s; these 64 KB: 15 s.
    pytest.param(rss("<title>t</title><author>" + "-" * 64_000 + "</author>"), id="author"),
    # fine: entries.py:203 _TRAILER, 32 KB of "Read more about": 0.07 s
    pytest.param(
        rss("<title>t</title><description>" + "Read more about " * 2_000 + "</description>"),
        id="trailers",
    ),
    # fine: dates.py:23 _JALALI and :19 _IRAN_ZONE, a date of a million spaces: 0.04 s
    pytest.param(rss("<title>t</title><pubDate>1403" + " " * 1_000_000 + "x</pubDate>"), id="date"),
]


def posts_of_feed(body: bytes):
    try:
        parsed = entries.parse(body)
    except entries.NotAFeed:
        return None
    feed = types.SimpleNamespace(id=1, list_id=1, title="A feed")
    return entries.posts_of(feed, parsed, 200, "https://example.org/")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("body", FEEDS)
def test_a_feed_is_read_in_time(body):
    found = within_budget(posts_of_feed, body)
    assert found is None or isinstance(found, dict)


PAGES = [
    # entries.py:62 _LINK, findall: "<link\b([^>]*)>" from each "<link", never closed.
    # 80 KB: 3.9 s; these 256 KB: timeout.
    pytest.param(b"<link" * 52_000, id="links-never-closed"),
    # entries.py:63 _ATTRIBUTE, findall: "([\w-]+)\s*=" from each dash. 16 KB: 3.4 s; these
    # 60 KB: timeout.
    pytest.param(b"<link " + b"-" * 60_000 + b">", id="attribute-of-dashes"),
    # fine: 20,000 closed link tags, the feed named by the last: 0.02 s
    pytest.param(
        b"<link rel=icon href=/i>" * 20_000
        + b'<link rel="alternate" type="application/rss+xml" href="/feed/">',
        id="many-links",
    ),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("page", PAGES)
def test_a_web_page_given_for_a_feed_is_read_in_time(page):
    named = within_budget(entries.feed_named_by, page, "https://example.org/")
    assert named in (None, "https://example.org/feed/")


# --- The public forms and the API: an address and a name as anyone types them -------------

FORM_VALUES = [
    # fine: email_validator (no pattern of ours), each of these: under 0.01 s
    "a" * 64 + "@" + "b." * 90 + "c",
    "-" * 300,
    "a@" + "-" * 250,
    "mailto:" + "<" * 200 + "a@b.example" + ">" * 40,
    "ａ" * 100 + "＠" + "ｂ．" * 70,
    "\u200f" * 200 + "a@b.example",
    '"' + "\\ " * 120 + '"@b.example',
    # fine: text.py:11 _SPACES and :10 _CONTROL (single_line), a name of 100,000 spaces
    " \t" * 50_000 + "x",
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("value", FORM_VALUES, ids=range(len(FORM_VALUES)))
def test_a_form_field_is_read_in_time(value):
    def read(value):
        try:
            email = normalise_email(value)
        except InvalidEmail:
            email = None
        try:  # the API's shape of a new subscriber: a name of one line
            shape = NewSubscriber(email="a@b.example", name=value[:200])
        except ValidationError:
            shape = None
        return email, clean_name(value), shape

    email, name, shape = within_budget(read, value)
    assert email is None or "@" in email
    assert isinstance(name, str) and len(name) <= 200
    assert shape is None or isinstance(shape, NewSubscriber)


# --- Below the entry points' cuts ------------------------------------------------------------
# The readers collapse a subject's whitespace before these see it, so no stranger reaches
# them with a long run today; a reader that forgets to must not make them minutes.
# text.py SUBJECT_PREFIXES and reasons.py _ANSWER, match: "\s*(?:\[\d+\])?\s*[:：]" shared
# a run of spaces between its two "\s*" every way. 40 KB: 8 s each.
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "pattern", [SUBJECT_PREFIXES, reasons._ANSWER], ids=["SUBJECT_PREFIXES", "_ANSWER"]
)
@pytest.mark.parametrize("space", [" ", "\t", "\u3000"])
def test_a_prefix_pattern_reads_spaces_once(pattern, space):
    assert within_budget(pattern.match, "Re" + space * 40_000 + "x") is None
    assert within_budget(pattern.match, "Re" + space * 40_000 + "[2]" + space * 40_000 + ":")


# csv_reading.py _ADDRESS, finditer: "[^\s,;]+@" restarted at each letter of a run with no
# "@" after it, in a Windows-1256 Persian file. A field of 131,072 characters: about 30 s.
@pytest.mark.timeout(30)
def test_a_persian_windows_1256_import_reads_a_long_field_once():
    import io

    from newsletter.subscriptions.csv_reading import reader

    data = ("email,name\nana@example.org,پري\n@" + "a" * 131_000 + ",x\n").encode("cp1256")
    rows = within_budget(lambda: list(reader(io.BufferedReader(io.BytesIO(data)))))
    assert rows[0]["name"] == "پري".replace("ي", "ی") and len(rows) == 2
