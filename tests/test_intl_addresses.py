"""Internationalised addresses and headers, end to end: the form, the API, imports, the
admin's search, sending (a real SMTP server with and without SMTPUTF8), reports and leaving.
From an audit whose expectations were written first; 16 of its 48 cases failed before.

EAI: RFC 6530-6533 (refused on entry: we do not use SMTPUTF8; one stored from older data
fails alone). IDN: IDNA 2008 (RFC 5890-5893) with UTS 46 non-transitional mapping.
Headers: RFC 2047 (encoded words at most 75 characters, their lines at most 76), RFC 5322.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from email.header import decode_header, make_header
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from bounce_mail import BOUNCE_DOMAIN, complaint
from builders import (
    add_subscribers,
    confirmed_subscriber,
    csrf,
    deliver,
    draft,
    post_import,
    start_sending,
    stored_subscriber,
    submit,
)
from conftest import RecordingHandler, free_port, wait_until

from newsletter import verp
from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.bounces.reports import classify
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber, Subscription
from newsletter.sending import loop

# The same domains as U-labels and as A-labels.
IDN = "ana@exämple.com"
IDN_ASCII = "ana@xn--exmple-cua.com"
PERSIAN_DIGIT = "y@شبکه۱.ایران"  # U+06F1, PVALID in IDNA 2008
PERSIAN_DIGIT_ASCII = "y@xn--ngbx2d5uul.xn--mgba3a4f16a"
ZWNJ = "x@نامه\u200cنگار.ایران"  # ZWNJ under CONTEXTJ: PVALID in IDNA 2008
ZWNJ_DROPPED = "x@نامهنگار.ایران"  # another domain: xn--mgba4a4edcg74f, not ...fu38n
EAI = ["مریم@example.ir", "用户@例子.广告", "josé@exämple.com"]


def _emails() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(Subscriber.email)))


@contextmanager
def smtp_server(smtputf8: bool, pipelining: bool = True):
    """A real aiosmtpd server that offers SMTPUTF8 or not."""
    handler = RecordingHandler()
    handler.pipelining = pipelining
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def _send(weekly) -> Issue:
    issue = draft(weekly)
    start_sending(issue)
    loop.send_batch(issue.id)
    db.session.expire_all()
    return db.session.get(Issue, issue.id)


def _import(client, api_headers, data: bytes, **form) -> dict:
    url = f"/api/v1/imports/{post_import(client, api_headers, data, **form)}"

    def finished():
        body = client.get(url, headers=api_headers).json
        return body if body["status"] in ("done", "failed") else None

    return wait_until(finished, message="the import did not finish")


def _rfc2047(value: str) -> str:
    """A header value as an RFC 2047 reader reads it (adjacent encoded words joined)."""
    return str(make_header(decode_header(value.replace("\r\n ", " "))))


def _encoded_words(value: str) -> list[str]:
    return re.findall(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=", value)


# --- 1. Entry: form, API, import, admin ----------------------------------------------------


@pytest.mark.parametrize("address", EAI)
def test_an_eai_address_is_refused_everywhere_with_a_reason_that_says_so(
    client, api, weekly, address
):
    """Not supported is a fair choice (no SMTPUTF8 in the sender); "not valid" is untrue."""
    page = submit(client, address)
    assert page.status_code == 400
    assert "Please enter a valid email address." not in page.text, "the address is valid"
    assert "This address is valid, but we cannot send to it yet." in page.text
    answer = api.post("/subscribers", {"email": address, "lists": ["weekly"]})
    assert answer.status_code == 422
    assert _emails() == []


@pytest.mark.slow
def test_u_label_a_label_case_and_full_width_are_one_subscriber(client, api, weekly):
    for typed in (IDN, IDN_ASCII, "ANA@EXÄMPLE.COM", "ana@ｅｘäｍｐｌｅ．ｃｏｍ"):
        assert submit(client, typed).status_code == 200
    assert _emails() == [IDN]
    answer = api.post("/subscribers", {"email": IDN_ASCII, "lists": ["weekly"]})
    assert answer.status_code == 409
    for query in (IDN_ASCII, "ANA@EXÄMPLE.COM"):
        found = api.get("/subscribers", query_string={"email": query}).json["items"]
        assert [item["email"] for item in found] == [IDN]


def test_sharp_s_is_kept_as_idna_2008_does():
    assert normalise_email("v@faß.de") == "v@faß.de"  # xn--fa-hia.de, not fass.de
    assert normalise_email("v@xn--fa-hia.de") == "v@faß.de"


def test_persian_digits_in_a_persian_label_are_that_domain_not_another():
    """The A-label keeps U+06F1; the U-label was mapped to ASCII 1 (xn--1-0mc9aze7y…)."""
    assert normalise_email(PERSIAN_DIGIT_ASCII) == PERSIAN_DIGIT
    assert normalise_email(PERSIAN_DIGIT) == normalise_email(PERSIAN_DIGIT_ASCII)


def test_a_zwnj_in_a_persian_domain_is_not_silently_dropped():
    """Keep it (IDNA 2008 CONTEXTJ) or refuse the address; never mail another domain."""
    try:
        kept = normalise_email(ZWNJ)
    except InvalidEmail:
        return
    assert kept != ZWNJ_DROPPED


def test_a_label_mixing_latin_and_cyrillic_is_refused(client, persian_list):
    """ "аpple.com" with Cyrillic а (U+0430): UTS 39 mixed script, refused by registries."""
    with pytest.raises(InvalidEmail) as raised:
        normalise_email("z@аpple.com")
    assert raised.value.kind == "lookalike"
    for whole in ("z@раураl.com", "z@gοοgle.com"):  # all Cyrillic but "l"; Greek omicrons
        with pytest.raises(InvalidEmail):
            normalise_email(whole)
    for fine in ("z@яндекс.рф", "z@παράδειγμα.ελ", "z@bücher.de", "z@例子.广告"):
        assert normalise_email(fine) == fine  # one alphabet a label: a real domain
    page = submit(client, "z@аpple.com", slug=persian_list.slug)
    assert page.status_code == 400 and "الفباهای گوناگون" in page.text


def test_the_admin_search_finds_a_reader_by_the_ascii_form_a_report_shows(editor_client, weekly):
    confirmed_subscriber(weekly, IDN, "Ana")
    for query in ("exämple", "EXÄMPLE", "xn--exmple-cua", IDN_ASCII):
        page = editor_client.get("/admin/subscribers", query_string={"q": query}).text
        assert IDN in page, query


def test_an_import_merges_u_and_a_labels_and_refuses_eai_with_its_reason(
    client, api_headers, weekly, worker
):
    data = f"email,name\r\n{IDN},A\r\n{IDN_ASCII},B\r\n{EAI[0]},M\r\n".encode()
    body = _import(client, api_headers, data)
    assert (body["imported"], body["rejected"]) == (1, 2)
    reasons = {error["email"]: error["reason"] for error in body["errors"]}
    assert reasons[IDN_ASCII] == "duplicate in this file"
    assert "before the @-sign are not supported" in reasons[EAI[0]]
    assert _emails() == [IDN]


def test_a_windows_1256_persian_file_keeps_an_arabic_domain_s_own_letters(
    client, api_headers, weekly, worker
):
    """Persian names' yeh and kaf are fixed; an address's are its domain (السعودية is a TLD,
    السعودیة with Persian yeh is not)."""
    data = "email,name\r\nsara@example.السعودية,سارا كريمي\r\nk@بنك.example,پري\r\n"
    body = _import(client, api_headers, data.encode("cp1256"))
    assert body["encoding"] == "cp1256" and body["imported"] == 2
    assert _emails() == sorted(["k@بنك.example", "sara@example.السعودية"])


def test_the_importer_checks_an_address_s_local_part_as_the_form_does(
    client, api_headers, weekly, worker
):
    """RFC 5321 4.5.3.1.1: 64 octets at most. The per-domain shortcut skipped it."""
    long_local = "a" * 70 + "@example.org"
    with pytest.raises(InvalidEmail):
        normalise_email(long_local)
    body = _import(client, api_headers, f"email\r\nx@example.org\r\n{long_local}\r\n".encode())
    assert (body["imported"], body["rejected"]) == (1, 1)


def test_csv_export_imports_back_as_it_was(client, api_headers, weekly, worker):
    confirmed_subscriber(weekly, IDN, "آنا 😀")
    confirmed_subscriber(weekly, normalise_email(PERSIAN_DIGIT_ASCII))
    confirmed_subscriber(weekly, "v@faß.de", "王小明")
    before = {s.email: s.name for s in db.session.scalars(sa.select(Subscriber))}
    exported = client.get(
        "/api/v1/subscribers/export", query_string={"for": "excel"}, headers=api_headers
    ).data
    db.session.execute(sa.delete(Subscription))
    db.session.execute(sa.delete(Subscriber))
    db.session.commit()
    body = _import(client, api_headers, exported, preconfirm="true")
    assert body["rejected"] == 0, body["errors"]
    db.session.expire_all()
    assert {s.email: s.name for s in db.session.scalars(sa.select(Subscriber))} == before


# --- 2. The browser's own handling of the form ---------------------------------------------


@pytest.mark.slow  # a browser
@pytest.mark.parametrize("typed", ["v@faß.de", PERSIAN_DIGIT])
def test_the_public_form_in_chromium_keeps_the_domain_as_typed(live_server, page, weekly, typed):
    """<input type=email> makes Chromium send IDNA 2003 (transitional) punycode: faß.de went
    in as fass.de, another registered domain."""
    page.goto(f"{live_server.url}/subscribe/weekly")
    page.fill("#email", typed)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert _emails() == [typed]


# --- 3. Headers ----------------------------------------------------------------------------


LONG_NAME = "سیده فاطمه‌زهرا حسینی‌نژاد طباطبایی اصفهانی"
LONG_LIST = "خبرنامهٔ هفتگی ایران اینترلینک — گزیدهٔ خبرها"
SUBJECT = "گزیدهٔ هفتگی خبرها و تحلیل‌ها دربارهٔ ایران، اقتصاد، فرهنگ و جامعه 🇮🇷🎉👩‍👩‍👧 " * 3


def test_names_list_id_and_subject_are_rfc_2047_within_its_limits(app, make_list, inbox):
    persian = make_list(name=LONG_LIST, from_name=LONG_LIST, reply_to="desk@خبر.example")
    confirmed_subscriber(persian, IDN, LONG_NAME)
    issue = draft(persian)
    issue.subject = SUBJECT.strip()
    db.session.commit()
    start_sending(issue)
    loop.send_batch(issue.id)
    [received] = inbox.messages
    head = received.data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    for line in head.split(b"\r\n"):
        assert len(line) <= 998
        if b"=?" in line:
            assert len(line) <= 76, line[:60]
    raw = dict(received.message.raw_items())
    for field, expected in (
        ("To", LONG_NAME),
        ("From", LONG_LIST),
        ("List-Id", LONG_LIST),
        ("Subject", SUBJECT.strip()),
    ):
        for word in _encoded_words(raw[field]):
            assert len(word) <= 75, (field, len(word))
        phrase = raw[field].rsplit("<", 1)[0] if field != "Subject" else raw[field]
        assert _rfc2047(phrase).strip() == expected, field
    assert IDN_ASCII in raw["To"]
    assert "desk@xn--ngblk.example" in raw["Reply-To"]


def test_list_headers_stay_ascii_with_a_persian_list_name(app, persian_list, inbox):
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    confirmed_subscriber(persian_list, IDN, "آنا")
    _send(persian_list)
    [received] = inbox.messages
    raw = dict(received.message.raw_items())
    assert raw["List-Id"].endswith(f"<interlink.{app.config['MAIL_DOMAIN']}>")
    assert _rfc2047(raw["List-Id"].rsplit("<", 1)[0]).strip() == persian_list.name
    header = " ".join(raw["List-Unsubscribe"].split())
    assert header.isascii() and f"@{BOUNCE_DOMAIN}?subject=unsubscribe%20" in header
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- 4. Sending ----------------------------------------------------------------------------


@pytest.mark.parametrize("smtputf8", [True, False], ids=["smtputf8", "no-smtputf8"])
def test_an_idn_reader_goes_out_in_ascii_with_an_ascii_return_path(app, weekly, smtputf8):
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    confirmed_subscriber(weekly, IDN, "مریم")
    with smtp_server(smtputf8) as (handler, url):
        app.config["SMTP_URL"] = url
        issue = _send(weekly)
        [received] = handler.messages
    assert issue.status == "sent"
    assert received.recipients == [IDN_ASCII]
    assert received.sender.isascii() and verp.delivery_id(received.sender) is not None
    assert received.data.split(b"\r\n\r\n", 1)[0].isascii()


@pytest.mark.parametrize("smtputf8", [True, False], ids=["smtputf8", "no-smtputf8"])
@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-at-a-time"])
def test_a_stored_eai_reader_fails_alone_and_the_issue_goes_on(app, weekly, smtputf8, pipelining):
    """An address no form takes, from older data or another program's database: one
    reader's failure, never the issue's pause."""
    add_subscribers(weekly, 2)
    confirmed_subscriber(weekly, EAI[0], "مریم")
    with smtp_server(smtputf8, pipelining) as (handler, url):
        app.config["SMTP_URL"] = url
        issue = _send(weekly)
        received = handler.messages
    assert issue.status == "sent", issue.pause_reason
    assert sorted(r for m in received for r in m.recipients if r.isascii()) == [
        "reader0@example.org",
        "reader1@example.org",
    ]
    eai = db.session.scalar(sa.select(Delivery).join(Subscriber).where(Subscriber.email == EAI[0]))
    if eai.status == "sent":  # delivered as RFC 6531 says, or not at all
        assert smtputf8
        [copy] = [m for m in received if EAI[0] in m.recipients]
    else:
        assert eai.status == "failed" and eai.last_error


# --- 5. Bounces, complaints and leaving ----------------------------------------------------

RP = "bounces+12-0123456789ab@" + BOUNCE_DOMAIN


def postfix_smtputf8_dsn(address: str, return_path: str = RP, kind: str = "utf-8") -> bytes:
    """As Postfix 3 writes a DSN for an SMTPUTF8 message (message/global-delivery-status)."""
    return (
        "From: MAILER-DAEMON@mx.example.ir (Mail Delivery System)\r\n"
        f"To: {return_path}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="4ABC"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "--4ABC\r\nContent-Description: Notification\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "This is the mail system at host mx.example.ir.\r\n\r\n"
        f"<{address}>: host mx2.example.ir[192.0.2.7] said: 550 5.1.1\r\n"
        f"    <{address}>: Recipient address rejected: User unknown in virtual mailbox\r\n"
        "    table (in reply to RCPT TO command)\r\n\r\n"
        "--4ABC\r\nContent-Description: Delivery report\r\n"
        "Content-Type: message/global-delivery-status\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.ir\r\nX-Postfix-Sender: rfc822; {return_path}\r\n\r\n"
        f"Final-Recipient: {kind}; {address}\r\nOriginal-Recipient: {kind};{address}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx2.example.ir\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: User\r\n"
        "    unknown in virtual mailbox table\r\n\r\n"
        "--4ABC\r\nContent-Description: Undelivered Message Headers\r\n"
        "Content-Type: message/global-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"Return-Path: <{return_path}>\r\nTo: <{address}>\r\nSubject: x\r\n\r\n--4ABC--\r\n"
    ).encode()


def exim_smtputf8_dsn(address: str, return_path: str = RP) -> bytes:
    return (
        f"X-Failed-Recipients: {address}\r\nAuto-Submitted: auto-replied\r\n"
        "From: Mail Delivery System <Mailer-Daemon@mx.example.ir>\r\n"
        f"To: {return_path}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=eximdsn\r\n"
        "Subject: Mail delivery failed: returning message to sender\r\n\r\n"
        "--eximdsn\r\nContent-type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        f"  {address}\r\n    host mx2.example.ir [192.0.2.7]\r\n"
        f"    SMTP error from remote mail server after RCPT TO:<{address}>:\r\n"
        "    550 5.1.1 User unknown\r\n\r\n"
        "--eximdsn\r\nContent-type: message/global-delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.ir\r\n\r\n"
        f"Action: failed\r\nFinal-Recipient: rfc822;{address}\r\nStatus: 5.0.0\r\n"
        "Remote-MTA: dns; mx2.example.ir\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        "--eximdsn\r\nContent-type: message/global-headers\r\n\r\n"
        f"Return-path: <{return_path}>\r\nTo: <{address}>\r\nSubject: x\r\n\r\n--eximdsn--\r\n"
    ).encode()


def gmail_dsn(address: str, return_path: str = RP) -> bytes:
    return (
        f"Delivered-To: {return_path}\r\n"
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        f"To: {return_path}\r\nAuto-Submitted: auto-replied\r\n"
        "Subject: Delivery Status Notification (Failure)\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; boundary="g0"; report-type=delivery-status\r\n\r\n'
        '--g0\r\nContent-Type: text/plain; charset="UTF-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n\r\n** Address not found **\r\n\r\n"
        f"Your message wasn't delivered to {address} because the address couldn't be found, "
        "or is unable to receive mail.\r\n\r\n"
        "--g0\r\nContent-Type: message/global-delivery-status\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "Reporting-MTA: dns; googlemail.com\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; The email account that you tried to reach does not exist.\r\n"
        " a1-20020a0000000000.123 - gsmtp\r\n\r\n"
        "--g0\r\nContent-Type: message/global-headers\r\n\r\n"
        f"To: {address}\r\nSubject: hi\r\n\r\n--g0--\r\n"
    ).encode()


@pytest.mark.parametrize("report", [postfix_smtputf8_dsn, exim_smtputf8_dsn, gmail_dsn])
@pytest.mark.parametrize("address", [*EAI, IDN, IDN_ASCII])
def test_an_smtputf8_report_names_its_recipient_exactly(report, address):
    verdict = classify(report(address))
    assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [
        (address, "hard", "user_unknown")
    ]


def test_rfc_6533_escapes_in_an_ascii_report_name_the_address():
    escaped = "".join(c if c.isascii() else f"\\x{{{ord(c):X}}}" for c in EAI[0])
    raw = (
        postfix_smtputf8_dsn(escaped)
        .replace(b"message/global-delivery-status", b"message/delivery-status")
        .replace(b"message/global-headers", b"text/rfc822-headers")
        .replace(f"To: <{escaped}>".encode(), b"To: undisclosed-recipients:;")
    )
    assert [f.address for f in classify(raw).recipients] == [EAI[0]]


@pytest.mark.slow
@pytest.mark.parametrize("report", [postfix_smtputf8_dsn, exim_smtputf8_dsn, gmail_dsn])
@pytest.mark.parametrize("written", [IDN, IDN_ASCII])
def test_a_bounce_to_an_idn_reader_s_return_path_stops_that_reader(
    app, weekly, inbox, bounce_server, report, written
):
    server = bounce_server()
    confirmed_subscriber(weekly, IDN, "مریم")
    add_subscribers(weekly, 1)
    _send(weekly)
    [copy] = inbox.to(IDN_ASCII)
    deliver(server, report(written, copy.sender), to=copy.sender)
    assert stored_subscriber(IDN).status == "bounced"
    assert stored_subscriber("reader0@example.org").status == "active"


def test_a_complaint_naming_an_idn_reader_in_utf8_finds_them(app, weekly, bounce_server):
    app.config["BOUNCES_BY_ADDRESS"] = True
    server = bounce_server()
    confirmed_subscriber(weekly, IDN)
    confirmed_subscriber(weekly, "ana@example.com")
    deliver(server, complaint(IDN))
    assert stored_subscriber(IDN).status == "complained"
    assert stored_subscriber("ana@example.com").status == "active"


@pytest.mark.slow
def test_one_click_and_mailto_unsubscribe_work_for_an_idn_reader(
    app, weekly, make_list, client, inbox, bounce_server
):
    server = bounce_server()
    confirmed_subscriber(weekly, IDN, "مریم")
    daily = make_list(slug="daily", name="روزانه")
    confirmed_subscriber(daily, "b@faß.de")
    db.session.add(
        Subscription(subscriber=stored_subscriber(IDN), list_id=daily.id, status="confirmed")
    )
    db.session.commit()
    _send(weekly)
    _send(daily)
    weekly_copy = inbox.to(IDN_ASCII)[0]
    one_click = re.search(r"<(https?://[^>]+)>", weekly_copy.message["List-Unsubscribe"]).group(1)
    path = one_click.split("newsletter.test", 1)[1]
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    daily_copy = [m for m in inbox.to("b@xn--fa-hia.de")][0]
    header = " ".join(daily_copy.message["List-Unsubscribe"].split())
    mailto = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", header)
    assert mailto.group(1).isascii()
    letter = (
        f"From: b@xn--fa-hia.de\r\nTo: {mailto.group(1)}\r\n"
        f"Subject: {unquote(mailto.group(2))}\r\n\r\nunsubscribe\r\n"
    ).encode()
    deliver(server, letter, to=mailto.group(1))
    by_list = {s.list_id: s.status for s in stored_subscriber(IDN).subscriptions}
    assert by_list == {weekly.id: "unsubscribed", daily.id: "confirmed"}
    assert stored_subscriber("b@faß.de").subscriptions[0].status == "unsubscribed"


# --- 6. Enumeration ------------------------------------------------------------------------


def test_the_form_answers_the_same_for_known_and_unknown_idn_addresses(client, weekly):
    confirmed_subscriber(weekly, IDN)

    def answer(address: str) -> str:
        page = client.get("/subscribe/weekly")
        form = {"email": address, "name": "", "csrf_token": csrf(page.text)}
        text = client.post("/subscribe/weekly", data=form).text
        return re.sub(r'name="csrf_token" value="[^"]+"', "", text)

    assert answer(IDN_ASCII) == answer(IDN) == answer("nobody@exämple.com")
