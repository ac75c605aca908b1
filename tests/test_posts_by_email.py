"""Posts by email: mail to posts+<list>@<bounce domain>, through the real `bounces serve`."""

from __future__ import annotations

import email
import email.policy
import logging
import smtplib
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, INBOUND_MX, POSTS, dsn
from builders import deliver, send_one_batch, stored_subscriber, user
from hypothesis import given
from hypothesis import strategies as st

from newsletter.bounces.server import MAX_SIZE
from newsletter.extensions import db
from newsletter.models import AllowedSender, Bounce, HeldPost, Post
from newsletter.posts import forwarded, inbound

MX = INBOUND_MX
PERSIAN_SUBJECT = "خبرهای این هفته 🎉"
PERSIAN_BODY = "سلام دوستان! مقاله‌ی تازه را بخوانید 🌷 https://example.org/fa/article.\n"


def mail(
    sender="Maryam <maryam@example.org>",
    subject="A post by email",
    body="Read this: https://example.org/a-story\n",
    results: list[str] | None = None,
    html: str | None = None,
) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    for value in results if results is not None else [f"{MX}; dkim=pass header.d=example.org"]:
        message["Authentication-Results"] = value
    message["From"] = sender
    message["To"] = POSTS
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def post_by_email(server, message: EmailMessage) -> None:
    deliver(server, message.as_bytes(), to=POSTS)


def held() -> list[HeldPost]:
    db.session.expire_all()
    return db.session.scalars(sa.select(HeldPost).order_by(HeldPost.id)).all()


def posts() -> list[Post]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Post).order_by(Post.id)).all()


def test_an_authenticated_editors_mail_becomes_a_post_of_the_week(inbound_server):
    post_by_email(inbound_server, mail("مریم <maryam@example.org>", PERSIAN_SUBJECT, PERSIAN_BODY))

    [post] = posts()
    assert post.title == PERSIAN_SUBJECT
    assert post.url == "https://example.org/fa/article"
    assert post.source == "مریم"
    assert "مقاله‌ی تازه" in post.excerpt and "🌷" in post.excerpt
    assert post.first_seen_at is not None
    [record] = held()
    assert (record.status, record.post_id) == ("published", post.id)


@pytest.mark.parametrize(
    "results",
    [
        [f"{MX}; spf=pass smtp.mailfrom=maryam@example.org"],
        [f"{MX}; dmarc=pass (p=reject) header.from=example.org"],
        [f"{MX} 1; dkim=fail header.d=example.org; spf=pass smtp.mailfrom=example.org"],
        [f"{MX.upper()}; dkim=pass header.d=example.org header.s=sel"],
    ],
)
def test_spf_dmarc_or_dkim_passing_for_the_from_domain_is_enough(inbound_server, results):
    post_by_email(inbound_server, mail(results=results))
    assert len(posts()) == 1


def test_relaxed_alignment_takes_a_signature_of_the_parent_domain(inbound_server):
    user("ali@news.example.org")
    post_by_email(inbound_server, mail(sender="ali@news.example.org"))
    assert len(posts()) == 1


@pytest.mark.parametrize(
    "results",
    [
        [],  # no word from our MTA
        ["evil.example.net; dkim=pass header.d=example.org"],  # someone else's authserv-id
        [f"{MX}.evil.example.net; dkim=pass header.d=example.org"],
        [f"{MX}; dkim=pass header.d=attacker.example.net"],  # a signature of another domain
        [f"{MX}; dkim=fail header.d=example.org; spf=softfail smtp.mailfrom=example.org"],
        [f"{MX}; dkim=pass header.d=org"],  # a bare top-level domain aligns nothing
        [f"{MX}; dkim=pass (header.d=example.org) header.d=other.example"],  # in a comment
    ],
)
def test_an_editors_mail_without_trusted_alignment_is_held(inbound_server, results):
    post_by_email(inbound_server, mail(results=results))

    assert posts() == []
    [record] = held()
    assert record.status == "held"
    assert "Authentication-Results" in record.reason


def test_without_an_authserv_id_every_message_is_held(app, inbound_server):
    app.config["INBOUND_AUTHSERV_ID"] = None
    post_by_email(inbound_server, mail())
    assert posts() == [] and held()[0].status == "held"


@pytest.mark.slow
def test_a_strangers_mail_is_held_then_approved_as_a_post(inbound_server, editor_client):
    post_by_email(inbound_server, mail("Sam <sam@example.net>", "News from Sam"))
    [record] = held()
    assert (record.status, record.sender, record.reason) == (
        "held",
        "sam@example.net",
        "The sender is neither an editor nor always allowed.",
    )
    assert posts() == []

    page = editor_client.get("/admin/lists/weekly/held")
    assert "News from Sam" in page.text and "sam@example.net" in page.text
    assert "Held mail (1)" in editor_client.get("/admin/").text
    assert "Nothing is held" not in editor_client.get("/admin/held").text
    approved = editor_client.post(
        f"/admin/held/{record.id}/approve",
        data={"csrf_token": editor_client.token, "title": "Sam’s news", "url": ""},
    )
    assert approved.status_code == 302

    [post] = posts()
    assert (post.title, post.url, post.source) == (
        "Sam’s news",
        "https://example.org/a-story",
        "Sam",
    )
    assert held()[0].status == "approved"
    again = editor_client.post(
        f"/admin/held/{record.id}/approve", data={"csrf_token": editor_client.token}
    )
    assert again.status_code == 302 and len(posts()) == 1  # approved once only


def test_a_message_without_a_link_points_to_the_archive(inbound_server, editor_client):
    post_by_email(inbound_server, mail("sam@example.net", "", body="No link here.\nSecond line."))
    [record] = held()
    editor_client.post(f"/admin/held/{record.id}/approve", data={"csrf_token": editor_client.token})
    [post] = posts()
    assert post.title == "No link here."
    assert post.url == f"http://newsletter.test/archive/weekly#by-email-{record.id}"


def test_forms_need_the_csrf_token(inbound_server, editor_client):
    post_by_email(inbound_server, mail("sam@example.net"))
    [record] = held()
    for action in ("approve", "reject", "allow"):
        answer = editor_client.post(f"/admin/held/{record.id}/{action}", data={"confirm": "yes"})
        assert answer.status_code == 400
    assert held()[0].status == "held" and posts() == []


def test_rejecting_needs_confirmation_and_emails_the_reply(inbound_server, editor_client, inbox):
    post_by_email(inbound_server, mail("Sam <sam@example.net>", "خبر"))
    [record] = held()
    url = f"/admin/held/{record.id}/reject"
    reply = "ممنون، ولی این هفته جا نداریم 🙏\n\nNext week perhaps."

    editor_client.post(url, data={"csrf_token": editor_client.token, "reply": reply})
    assert held()[0].status == "held"  # not ticked "I am sure"
    editor_client.post(
        url, data={"csrf_token": editor_client.token, "reply": reply, "confirm": "yes"}
    )

    assert held()[0].status == "rejected" and posts() == []
    [sent] = inbox.wait_for(1, recipient="sam@example.net")
    message = email.message_from_bytes(sent.data, policy=email.policy.default)
    assert message["Subject"] == "Re: خبر"
    assert "جا نداریم 🙏" in message.get_body(("plain",)).get_content()
    assert sent.sender == "digest@example.org"


def test_always_allowing_a_sender_publishes_their_next_authenticated_mail(
    inbound_server, editor_client
):
    post_by_email(inbound_server, mail("Sam <sam@example.net>", results=[]))
    [record] = held()
    editor_client.post(f"/admin/held/{record.id}/allow", data={"csrf_token": editor_client.token})
    assert db.session.get(AllowedSender, (record.list_id, "sam@example.net")) is not None

    post_by_email(inbound_server, mail("sam@example.net", "Unsigned", results=[]))
    assert posts() == []  # allowed senders still need our MTA's word, like editors
    signed = [f"{MX}; dkim=pass header.d=example.net"]
    post_by_email(inbound_server, mail("sam@example.net", "Signed", results=signed))
    assert [p.title for p in posts()] == ["Signed"]


def test_attachments_are_dropped_with_a_note(inbound_server):
    message = mail()
    message.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="a.pdf")
    message.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="b.png")
    post_by_email(inbound_server, message)

    [record] = held()
    assert record.status == "published"
    assert record.note == "2 attachments were dropped"
    assert "PDF" not in posts()[0].excerpt

    one = mail("sam@example.net")
    one.add_attachment(b"data", maintype="application", subtype="octet-stream", filename="x")
    post_by_email(inbound_server, one)
    assert held()[1].note == "1 attachment was dropped"


def test_hostile_html_is_sanitised_and_shown_as_text(inbound_server, editor_client):
    hostile = (
        '<p onclick="steal()">Hi <img src="x" onerror="alert(1)">'
        '<a href="javascript:alert(2)">click</a> <a href="https://example.org/ok">ok</a></p>'
        "<script>alert(3)</script><iframe src='https://evil.example'></iframe>"
    )
    post_by_email(
        inbound_server,
        mail('"<b>Sam</b>" <sam@example.net>', "Hi", "<script>alert(4)</script>", html=hostile),
    )

    [record] = held()
    cleaned = record.html_sanitised
    for bad in ("script", "onerror", "onclick", "javascript:", "iframe", "alert(3)"):
        assert bad not in cleaned
    assert 'href="https://example.org/ok"' in cleaned
    assert record.link == "https://example.org/ok"
    page = editor_client.get("/admin/lists/weekly/held").text
    assert "<script>alert(4)" not in page and "&lt;script&gt;alert(4)" in page
    assert "<b>Sam" not in page and "&lt;b&gt;Sam" in page
    assert "<img" not in page.split("<h1>", 1)[1]


def test_an_html_only_message_becomes_text(inbound_server):
    message = EmailMessage()
    message["Authentication-Results"] = f"{MX}; dkim=pass header.d=example.org"
    message["From"] = "maryam@example.org"
    message["Subject"] = "HTML only"
    message.set_content(
        "<p>Hello <b>world</b> <a href='https://example.org/h'>read</a></p>", "html"
    )
    post_by_email(inbound_server, message)

    [post] = posts()
    assert "Hello" in post.excerpt and "<b>" not in post.excerpt
    assert post.url == "https://example.org/h"


def test_what_mail_programs_write_outside_the_standard_is_read(inbound_server):
    """Eight-bit Persian with no charset named (RFC 2045's default is ASCII) is UTF-8, as
    mail programs write it; a NUL in a subject or a text, which the database keeps in no
    text, failed the write, and the bounce server answered 451 to the message for ever."""
    head = (
        f"Authentication-Results: {MX}; dkim=pass header.d=example.org\r\n"
        f"From: Maryam <maryam@example.org>\r\nTo: {POSTS}\r\n"
    )
    unlabelled = f"{head}Subject: no charset\r\n\r\n{PERSIAN_BODY}".encode()
    with_nul = f"{head}Subject: a\x00b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    with_nul += "x\x00y https://example.org/nul\r\n"
    # A charset name no codec has, a NUL in it: read as UTF-8 too, not dropped.
    odd_charset = (
        f'{head}Subject: odd charset\r\nContent-Type: text/plain; charset="utf\x008"\r\n\r\n'
    )
    odd_charset += "سلام https://example.org/charset\r\n"
    for raw in (unlabelled, with_nul.encode(), odd_charset.encode()):
        deliver(inbound_server, raw, to=POSTS)
    assert [(p.title, p.url, p.excerpt) for p in posts()] == [
        ("no charset", "https://example.org/fa/article", PERSIAN_BODY.strip()),
        ("ab", "https://example.org/nul", "xy https://example.org/nul"),
        ("odd charset", "https://example.org/charset", "سلام https://example.org/charset"),
    ]


@pytest.mark.slow
def test_a_huge_message_is_refused_and_a_long_text_is_cut(inbound_server):
    huge = mail(body="x" * (MAX_SIZE + 1024))
    with pytest.raises(smtplib.SMTPException) as refused:
        post_by_email(inbound_server, huge)
    assert "552" in str(refused.value) or getattr(refused.value, "smtp_code", 0) == 552
    assert held() == []

    post_by_email(inbound_server, mail(body="word " * 40_000))
    [record] = held()
    assert len(record.text) <= inbound.TEXT_MAX
    assert record.note == f"The text was cut at {inbound.TEXT_MAX:,} characters"


@pytest.mark.slow
def test_a_message_far_past_an_editors_email_is_dropped_unread(inbound_server, caplog):
    """Within the server's 10 MB, shapes the modern header parser takes quadratic memory or
    time over are dropped before it reads them (a Subject of 50,000 encoded words took
    24 GB, and the kernel killed the server); an ordinary message still becomes a post."""
    # Folded, as SMTP's line limit asks: 20 encoded words, or addresses, a line.
    words = "\r\n ".join(["=?utf-8?b?2KfbjNmF24zZhA==?= " * 20] * 2_500)
    subject = mail().as_bytes().replace(b"Subject: A post by email", f"Subject: {words}".encode())
    many = "\r\n ".join(["a@example.net, " * 20] * 3_000)
    senders = mail().as_bytes().replace(b"From: Maryam", f"From: {many}Maryam".encode())
    attachments = mail()
    attachments.make_mixed()
    for _ in range(inbound.PARTS_MAX):
        attachments.add_attachment(b"x", maintype="application", subtype="octet-stream")
    nested = "Content-Type: text/plain\n\nhttps://example.org/nested\n"
    for n in range(2000):
        nested = f'Content-Type: multipart/mixed; boundary="b{n}"\n\n--b{n}\n{nested}\n--b{n}--\n'
    deep = f"From: maryam@example.org\nTo: {POSTS}\nMIME-Version: 1.0\n{nested}".encode()
    caplog.set_level(logging.INFO, logger=inbound.__name__)
    for raw in (subject, senders, attachments.as_bytes(), deep):
        deliver(inbound_server, raw, to=POSTS)
    assert held() == [] and posts() == []
    assert "more than 200 parts" in caplog.text and "parts nested too deep" in caplog.text
    assert f"a header over {inbound.HEADER_MAX:,} characters" in caplog.text
    assert "Traceback" not in caplog.text
    post_by_email(inbound_server, mail())
    assert [post.title for post in posts()] == ["A post by email"]


def test_no_list_no_posts_address(inbound_server):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(inbound_server, mail().as_bytes(), to=f"posts+nosuch@{BOUNCE_DOMAIN}")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(inbound_server, mail().as_bytes(), to="posts+weekly@elsewhere.example")


def test_automatic_mail_and_mail_without_a_sender_are_dropped(inbound_server):
    auto = mail()
    auto["Auto-Submitted"] = "auto-replied"
    post_by_email(inbound_server, auto)
    post_by_email(inbound_server, mail(sender="not an address"))
    assert held() == [] and posts() == []


def test_bounces_still_work_beside_posts_in_one_lmtp_session(
    inbound_server, weekly, inbox, bounce_server
):
    server = bounce_server(lmtp=True)
    send_one_batch(weekly, 1)
    [sent] = inbox.messages
    report = dsn("reader0@example.org", "5.1.1", sent.data.split(b"\r\n\r\n", 1)[0] + b"\r\n")
    with smtplib.LMTP(server.hostname, server.port) as client:
        client.sendmail("", [sent.sender], report)
        client.sendmail("", [POSTS], mail().as_bytes())

    assert stored_subscriber("reader0@example.org").status == "bounced"
    assert db.session.scalar(sa.select(sa.func.count(Bounce.id))) == 1
    assert [p.title for p in posts() if p.source == "Maryam"] == ["A post by email"]


def test_a_second_post_of_the_same_link_waits_for_an_editor(inbound_server, editor_client):
    post_by_email(inbound_server, mail(subject="First"))
    post_by_email(inbound_server, mail(subject="Same link"))
    first, second = held()
    assert (first.status, second.status) == ("published", "held")
    assert second.reason == "This list already has a post with that URL."

    taken = "https://example.org/a-story"
    editor_client.post(
        f"/admin/held/{second.id}/approve", data={"csrf_token": editor_client.token, "url": taken}
    )
    assert held()[1].status == "held"  # refused, and still there to decide
    editor_client.post(
        f"/admin/held/{second.id}/approve",
        data={"csrf_token": editor_client.token, "url": "https://example.org/another"},
    )
    assert [p.title for p in posts()] == ["First", "Same link"]


def test_a_reply_the_mail_server_refuses_still_rejects_and_says_so(
    inbound_server, editor_client, inbox
):
    post_by_email(inbound_server, mail("sam@example.net"))
    [record] = held()
    inbox.stop()  # the fixture starts it again afterwards
    answer = editor_client.post(
        f"/admin/held/{record.id}/reject",
        data={"csrf_token": editor_client.token, "reply": "No, thanks.", "confirm": "yes"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "the mail server did not take the reply" in answer.text
    assert held()[0].status == "rejected"


GMAIL_FORWARD = (
    ("Worth a place in this week's issue.\n\n-- \nMaryam Ahmadi\nPress officer, +44 20 7946 0000\n")
    + """
---------- Forwarded message ---------
From: Ana Lima <ana.lima@example.net>
Date: Mon, 30 Nov 2026 at 10:02
Subject: Sanctions and medicine
To: <maryam@example.org>


Sanctions keep medicine from patients, a new report finds.
https://example.org/report
"""
)
APPLE_FORWARD = """Begin forwarded message:

From: Ana Lima <ana.lima@example.net>
Subject: تحریم و دارو
Date: 30 November 2026 at 10:02:11 GMT
To: maryam@example.org

تحریم‌ها دارو را از بیماران دور می‌کنند.
https://example.org/fa/report
"""
OUTLOOK_FORWARD = """See below.

________________________________
From: Ana Lima <ana.lima@example.net>
Sent: Monday, November 30, 2026 10:02 AM
To: Maryam Ahmadi <maryam@example.org>
Subject: Sanctions and medicine

Sanctions keep medicine from patients.
https://example.org/report
"""


@pytest.mark.parametrize(
    "subject, body, title, words",
    [
        ("Fwd: Sanctions and medicine", GMAIL_FORWARD, "Sanctions and medicine", "new report"),
        ("Fwd: تحریم و دارو", APPLE_FORWARD, "تحریم و دارو", "بیماران"),
        ("FW: RE: Sanctions and medicine", OUTLOOK_FORWARD, "Sanctions and medicine", "See below"),
    ],
)
def test_a_forwarded_article_is_published_without_what_the_mail_program_added(
    inbound_server, subject, body, title, words
):
    """An editor forwarding an article: the post is the article. "Fwd:" leaves the title;
    the forwarded header lines (other people's addresses, the date) and the editor's
    signature (a phone number) leave the excerpt, which the digest and the public archive
    show."""
    post_by_email(inbound_server, mail(subject=subject, body=body))
    [post] = posts()
    assert post.title == title
    assert words in post.excerpt
    for private in ("ana.lima@example.net", "maryam@example.org", "+44 20", "From:", "Sent:"):
        assert private not in post.excerpt, private
    assert post.url.startswith("https://example.org/")


@given(st.text(max_size=60))
def test_taking_fwd_off_a_subject_never_empties_it_and_is_done_once(value):
    title = forwarded.subject(value)
    assert title == title.strip()
    assert bool(title) == bool(value.strip())
    assert forwarded.subject(title) == title


@given(st.text(max_size=300))
def test_taking_the_wrapping_off_a_text_only_ever_removes_lines(value):
    lines = {line.strip() for line in value.split("\n")}
    kept = forwarded.text(value)
    # All of it may go ("--" alone is a signature's mark): nothing is left, not an empty line.
    assert all(line.strip() in lines for line in (kept.split("\n") if kept else []))


def _without_link(message: EmailMessage) -> EmailMessage:
    """A post with no link: its URL is the archive's anchor for its row, so two rows of one
    message made two posts of the week."""
    message.set_content("بدون پیوند، فقط متن 🌷\n")
    return message


@pytest.mark.parametrize("message_id", [True, False], ids=["message-id", "none"])
def test_the_same_message_delivered_again_is_one_post(inbound_server, message_id):
    """A server that missed our answer (a timeout after the data) delivers the message again."""
    message = _without_link(mail(subject=PERSIAN_SUBJECT))
    message["Date"] = "Mon, 07 Dec 2026 10:00:00 +0330"
    if message_id:
        message["Message-ID"] = "<fa.1@example.org>"
    post_by_email(inbound_server, message)
    post_by_email(inbound_server, message)
    assert len(posts()) == 1 and len(held()) == 1


def test_a_redelivered_stranger_s_message_is_held_once(inbound_server):
    message = mail("Sam <sam@example.net>", "News from Sam")
    message["Message-ID"] = "<sam.1@example.net>"
    for _ in range(3):
        post_by_email(inbound_server, message)
    assert [record.status for record in held()] == ["held"]


def test_a_rejected_message_delivered_again_stays_rejected(inbound_server):
    message = mail("Sam <sam@example.net>", "News from Sam")
    message["Message-ID"] = "<sam.2@example.net>"
    post_by_email(inbound_server, message)
    assert inbound.reject(held()[0], "")
    post_by_email(inbound_server, message)
    assert [record.status for record in held()] == ["rejected"]


def test_two_messages_alike_but_for_their_message_id_are_two(inbound_server):
    """Writing the same words twice is two messages; only a redelivery repeats the ID."""
    for n in (1, 2):
        message = _without_link(mail())
        message["Message-ID"] = f"<same.{n}@example.org>"
        post_by_email(inbound_server, message)
    assert len(posts()) == 2


def test_the_same_message_to_two_lists_is_a_post_of_each(inbound_server, make_list):
    other = make_list(slug="monthly", name="Monthly")
    message = _without_link(mail())
    message["Message-ID"] = "<both@example.org>"
    post_by_email(inbound_server, message)
    deliver(inbound_server, message.as_bytes(), to=f"posts+{other.slug}@{BOUNCE_DOMAIN}")
    assert len(posts()) == 2


def test_one_message_on_several_connections_at_once_is_one_post(inbound_server):
    from concurrent.futures import ThreadPoolExecutor

    message = _without_link(mail())
    message["Message-ID"] = "<race@example.org>"
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: post_by_email(inbound_server, message), range(6)))
    assert len(posts()) == 1 and len(held()) == 1
