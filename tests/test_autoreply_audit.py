"""An audit of what comes back to our return path and is no bounce: auto-replies, ticket
systems' receipts, challenge-response filters, leavers' notices, read receipts and delivery
notices; and real bounces that look like auto-replies (RFC 3834 asks a DSN to carry
Auto-Submitted: auto-replied), which must still count.

Each message is built after its software's documented or publicly quoted format: RFC 3834
(Auto-Submitted, In-Reply-To, "Auto:"), RFC 5230 (Sieve vacation) and Dovecot Pigeonhole's
defaults, vacation(1), Gmail's vacation responder (the Gmail API's VacationSettings: the
reader's subject, else a reply's), Outlook's and Exchange's automatic replies in the
languages Outlook writes them in (and their X-Auto-Response-Suppress), Zimbra's
"auto-replied (zimbra; vacation)", Thunderbird's "Reply with Template" filter action,
Zendesk's, Freshdesk's and Help Scout's default acknowledgements, Boxbe's, SpamArrest's and
MailWasher-style challenges, RFC 8098 disposition notifications, RFC 3464 success notices
(delivered, relayed, expanded) and Amazon SES's Delivery notification. Each replies to a
copy of ours: our VERP return path (bounces+<delivery>-<MAC>@) and our Message-ID
(<delivery>.<MAC>.<issue>.<random>@).

Expectations were written before running them; a leaver's own words ("I have left the
company, write to ...") are an auto-reply, not a bounce: the mailbox took our mail, and a
mailbox that is really closed soon answers with a server's 5.1.1.
"""

from __future__ import annotations

import base64
import json
import re
from email.header import Header

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN
from bounce_samples import _crlf, classified, ses_delivery, sns_email
from builders import deliver, send_one_batch, stored_subscriber

from newsletter import macs, message_ids
from newsletter.extensions import db
from newsletter.models import Bounce

SECRET = "audit-secret"
DELIVERY = 4711
# The return path and Message-ID our copy went out with, as verp.return_path and
# message_ids.make write them.
VERP = f"bounces+{DELIVERY}-{macs.short_mac(b'newsletter-verp', DELIVERY, SECRET)}@{BOUNCE_DOMAIN}"
OUR_ID = message_ids.make(DELIVERY, "12.a1b2c3d4e5f6@example.org", SECRET)
READER = "mina@example.com"
SUBJECT = "Weekly Digest #12: spring gardens"
DATE = "Tue, 14 Jan 2025 09:31:40 +0000"
OUR_HEADERS = (
    f"Return-Path: <{VERP}>\n"
    "From: Example Weekly <news@example.org>\n"
    f"To: {READER}\nSubject: {SUBJECT}\nDate: Tue, 14 Jan 2025 09:30:12 +0000\n"
    f"Message-ID: {OUR_ID}\n"
    "List-Id: Example Weekly <weekly.example.org>\n"
    "List-Unsubscribe: <https://example.org/unsubscribe/abc>, "
    f"<mailto:unsubscribe+abc@{BOUNCE_DOMAIN}?subject=unsubscribe%20abc>\n"
)


def encoded(text: str, charset: str = "utf-8") -> str:
    return Header(text, charset).encode() if not text.isascii() else text


def reply(
    subject: str,
    body: str | bytes,
    *,
    headers: str = "",
    sender: str = READER,
    content_type: str = "text/plain; charset=utf-8",
    encoding: str = "8bit",
    return_path: str = "<>",
    charset: str = "utf-8",
    threaded: bool = True,
) -> bytes:
    """A message from the reader's mailbox answering our copy: to our return path, with
    In-Reply-To and References naming our Message-ID unless not `threaded`."""
    thread = f"In-Reply-To: {OUR_ID}\nReferences: {OUR_ID}\n" if threaded else ""
    head = (
        f"Return-Path: {return_path}\n"
        f"From: {sender}\nTo: <{VERP}>\nSubject: {encoded(subject, charset)}\nDate: {DATE}\n"
        f"Message-ID: <auto-{len(subject)}@mx.example.com>\n{thread}"
        f"{headers}MIME-Version: 1.0\nContent-Type: {content_type}\n"
        f"Content-Transfer-Encoding: {encoding}\n\n"
    )
    if isinstance(body, str):
        body = body.encode(charset) if encoding == "8bit" else body.encode("ascii")
    return _crlf(head) + body.replace(b"\n", b"\r\n")


def b64(text: str, charset: str) -> str:
    return base64.encodebytes(text.encode(charset)).decode()


def html(text: str, direction: str = "ltr") -> str:
    return f'<html><body><div dir="{direction}"><p>{text}</p></div></body></html>\n'


def alternative(text: str, markup: str) -> str:
    return (
        '--alt\nContent-Type: text/plain; charset="UTF-8"\n\n'
        f'{text}\n--alt\nContent-Type: text/html; charset="UTF-8"\n\n{markup}\n--alt--\n'
    )


ALT = 'multipart/alternative; boundary="alt"'
RFC3834 = "Auto-Submitted: auto-replied\n"
EXCHANGE = (
    "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n"
    "X-MS-Exchange-Inbox-Rules-Loop: mina@example.com\n"
    "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n"
    "Thread-Topic: {topic}\nContent-Language: {language}\n"
)
AWAY = "I am out of the office until 20 January with limited access to e-mail.\n"


def outlook(prefix: str, body: str, language: str, *, charset: str = "utf-8") -> bytes:
    """Outlook's automatic reply: its localised prefix before our subject, Exchange's marks,
    the reader's text base64-encoded in the charset Outlook picked."""
    return reply(
        f"{prefix} {SUBJECT}",
        b64(body, charset),
        headers=EXCHANGE.format(topic=SUBJECT, language=language),
        content_type=f'text/plain; charset="{charset}"',
        encoding="base64",
        charset=charset,
    )


AUTO_REPLIES = {
    "rfc3834": reply(f"Auto: {SUBJECT}", AWAY, headers=RFC3834),
    "gmail-vacation-reply-subject": reply(
        f"Re: {SUBJECT}",
        alternative(AWAY, html(AWAY)),
        headers=RFC3834,
        content_type=ALT,
        sender=f"Mina Rahimi <{READER}>",
    ),
    "gmail-vacation-own-subject": reply(
        "Away until 20 January", AWAY + "Mina\n", headers=RFC3834, return_path="<>"
    ),
    "outlook-english": outlook("Automatic reply:", AWAY, "en-US"),
    "outlook-german": outlook(
        "Automatische Antwort:",
        "Ich bin bis zum 20. Januar nicht im Büro und habe keinen Zugriff auf E-Mails.\n",
        "de-DE",
        charset="iso-8859-1",
    ),
    "outlook-french": outlook(
        "Réponse automatique :",
        "Je suis absente du bureau jusqu'au 20 janvier. Pour toute urgence, écrivez à "
        "accueil@example.com.\n",
        "fr-FR",
        charset="windows-1252",
    ),
    "outlook-spanish": outlook(
        "Respuesta automática:",
        "Estoy fuera de la oficina hasta el 20 de enero, sin acceso al correo.\n",
        "es-ES",
    ),
    "outlook-russian": outlook(
        "Автоматический ответ:",
        "Я в отпуске до 20 января. По срочным вопросам пишите office@example.com.\n",
        "ru-RU",
        charset="koi8-r",
    ),
    "outlook-persian-html-only": reply(
        f"پاسخ خودکار: {SUBJECT}",
        html("با سلام، تا ۲۰ دی در مرخصی هستم و به ایمیل دسترسی ندارم. سپاس", "rtl"),
        content_type="text/html; charset=utf-8",
    ),
    "outlook-arabic": outlook(
        "رد تلقائي:", "شكراً لرسالتك. أنا خارج المكتب حتى ٢٠ يناير.\n", "ar-SA"
    ),
    "outlook-chinese": outlook(
        "自动答复:",
        "您好，我正在休假，1月20日返回。急事请联系 office@example.com。\n",
        "zh-CN",
        charset="gb2312",
    ),
    "outlook-japanese": reply(
        f"自動応答: {SUBJECT}",
        "ただいま不在にしております。1月20日以降に返信いたします。\n".encode("iso-2022-jp"),
        headers=EXCHANGE.format(topic=SUBJECT, language="ja-JP"),
        content_type='text/plain; charset="iso-2022-jp"',
        encoding="7bit",
        charset="iso-2022-jp",
    ),
    "icloud-vacation": reply(f"Re: {SUBJECT}", AWAY, headers=RFC3834 + "X-Apple-Auto-Reply: yes\n"),
    "yahoo-vacation": reply("On vacation", AWAY, headers="X-Autoreply: yes\n"),
    "zimbra-ooo": reply(
        f"Re: {SUBJECT}",
        AWAY,
        headers="Auto-Submitted: auto-replied (zimbra; vacation)\nPrecedence: bulk\n"
        "X-Mailer: Zimbra 9.0.0_GA_4546 (zclient/9.0.0_GA_4546)\n",
    ),
    "thunderbird-template": reply(
        "Thanks for your mail",
        "This is an automatic answer: I read my mail once a week.\n",
        headers=RFC3834 + "User-Agent: Mozilla Thunderbird\n",
        return_path=f"<{READER}>",
    ),
    "sieve-vacation": reply(
        f"Auto: {SUBJECT}",
        AWAY,
        headers="Auto-Submitted: auto-replied (vacation)\nPrecedence: bulk\n"
        "X-Sieve: Pigeonhole Sieve 0.5.21\n",
    ),
    "sieve-vacation-default-subject": reply(
        "Automated reply", AWAY, headers="Auto-Submitted: auto-replied (vacation)\n"
    ),
    "unix-vacation": reply(
        "away from my mail",
        "I will not be reading my mail for a while. Your mail concerning\n"
        f'"{SUBJECT}"\nwill be read when I\'m back.\n',
        headers="Precedence: bulk\n",
    ),
    "outlook-html-only": reply(
        f"Automatic reply: {SUBJECT}",
        html(AWAY),
        headers=EXCHANGE.format(topic=SUBJECT, language="en-GB"),
        content_type='text/html; charset="us-ascii"',
    ),
    "out-of-office-subject-only": reply(f"Out of Office: {SUBJECT}", AWAY),
    "ooo-speaking-of-a-full-mailbox": reply(
        f"Automatic reply: {SUBJECT}",
        "I am travelling until 20 January. My mailbox is full and I cannot reply to your\n"
        "message; it will not be delivered to anyone else. Please resend it after I return.\n",
        headers=RFC3834,
    ),
    "ooo-attaching-our-copy": reply(
        f"Out of office: {SUBJECT}",
        "--mix\nContent-Type: text/plain; charset=utf-8\n\n"
        + AWAY
        + "--mix\nContent-Type: message/rfc822\n\n"
        + OUR_HEADERS
        + "\nHello, here is this week's issue.\n--mix--\n",
        headers=RFC3834,
        content_type='multipart/mixed; boundary="mix"',
    ),
    "zendesk-request-received": reply(
        f"Request received: {SUBJECT}",
        "##- Please type your reply above this line -##\n\n"
        "Your request (4712) has been received and is being reviewed by our support staff.\n\n"
        "To add additional comments, reply to this email.\n",
        headers="Auto-Submitted: auto-generated\nX-Mailer: Zendesk Mailer\n",
        sender="Example Support <support@example.zendesk.com>",
    ),
    "freshdesk-ticket-received": reply(
        f"Ticket Received - {SUBJECT}",
        "Dear Mina,\n\nWe would like to acknowledge that we have received your request and a\n"
        "ticket has been created. A support representative will be reviewing your request\n"
        "and will send you a personal response (usually within 24 hours).\n",
        headers="Auto-Submitted: auto-generated\n",
        sender="Example Helpdesk <support@example.freshdesk.com>",
    ),
    "help-scout-received": reply(
        f"Re: {SUBJECT}",
        "Hi there,\n\nWe received your request #123 and will get back to you shortly.\n",
        headers="Auto-Submitted: auto-replied\n",
        sender="Example Support <help@example.com>",
    ),
    # Ticket systems that do not thread their receipt, and say so in words alone
    "service-desk-receipt-unthreaded": reply(
        f"[SUP-12] {SUBJECT}",
        f"Your request SUP-12 has been received. We will reply to {READER} soon.\n",
        headers="Auto-Submitted: auto-generated\n",
        sender="Example Support <support@example.atlassian.net>",
        threaded=False,
    ),
    "autoresponder-address-unthreaded": reply(
        "Thank you for your email",
        f"Thank you. {READER} is out of the office and your message will not be delivered\n"
        "to them until 20 January.\n",
        sender="Auto Reply <autoreply@example.com>",
        threaded=False,
    ),
    "boxbe-html-only": reply(
        "Request to join my Guest List (Action Required)",
        html(
            f"Hello, {READER} is using Boxbe to manage their inbox. You will need to be on my "
            'Guest List for your message to be delivered. <a href="https://www.boxbe.com/anno">'
            "Click here to add yourself</a>."
        ),
        content_type="text/html; charset=utf-8",
        sender="Boxbe <notify@boxbe.com>",
    ),
    "spamarrest": reply(
        "Please verify your message",
        f"The person you sent mail to ({READER}) uses Spam Arrest. To have your message\n"
        "delivered, please verify your email: https://www.spamarrest.com/v/1\n",
        sender="SpamArrest <noreply@spamarrest.com>",
    ),
    "verify-you-are-human": reply(
        f"Re: {SUBJECT}",
        f"Hello, I ({READER}) protect my inbox from spam. Please verify you are human by\n"
        "clicking the link below; your message will be delivered once you do.\n"
        "https://verify.example.net/c/7f3a\n",
        headers="Auto-Submitted: auto-replied\n",
    ),
    "choicemail-verification": reply(
        f"Sender verification request: {SUBJECT}",
        "I am using ChoiceMail, a spam blocking service which only accepts mail from known\n"
        "senders. Please click the link below to request permission to email me.\n"
        "https://www.digiportal.com/r/abc\n",
    ),
    "leaver-rfc3834": reply(
        f"Automatic reply: {SUBJECT}",
        "I have left Example Ltd and this mailbox is no longer monitored.\n"
        "Please write to manager@example.com instead.\n",
        headers=RFC3834,
    ),
    "no-longer-monitored": outlook(
        "Automatic reply:",
        "This address is no longer monitored. Please resend your email to info@example.com.\n",
        "en-GB",
    ),
    "leaver-without-marks": reply(
        f"Re: {SUBJECT}",
        "I no longer work at Example Ltd; this address will be closed soon.\n"
        "Please resend your email to manager@example.com.\n",
        return_path=f"<{READER}>",
    ),
}


# A mailbox's answers with none of RFC 3834's marks and a null return path (which RFC 3834
# asks an autoresponder to use, and Exchange and Sieve send from), under a subject our table
# does not know: their words were read as a server's report, and any address in them (the
# one to write to instead, the reader's own) counted as a soft failure against the reader.
LEFT = (
    "Thank you for your message. Mina has left Example Ltd and this mailbox is no longer\n"
    "monitored. Please resend your email to manager@example.com.\n"
)
HELP_DESK = "Example Help Desk <help@example.com>"
UNMARKED = {
    "leaver-null-return-path": reply(f"Re: {SUBJECT}", LEFT),
    "leaver-prefix-we-do-not-know": reply(f"Automaatvastus: {SUBJECT}", LEFT),
    "leaver-own-subject": reply("No longer with Example Ltd", LEFT),
    "leaver-persian": reply(
        f"Re: {SUBJECT}",
        f"با سلام، نشانی {READER} دیگر استفاده نمی‌شود. لطفا به manager@example.com بنویسید.\n",
    ),
    "leaver-arabic-html": reply(
        f"Re: {SUBJECT}",
        html(f"هذا البريد {READER} لم يعد مستخدما. يرجى مراسلة manager@example.com", "rtl"),
        content_type="text/html; charset=utf-8",
    ),
    "on-leave-not-read": reply(
        "On leave",
        f"I am on leave. Messages to {READER} will not be read or forwarded until 20 January.\n",
    ),
    "challenge-from-the-mailbox": reply(
        f"Re: {SUBJECT}",
        f"Your message to {READER} has not been delivered yet. Please verify you are human:\n"
        "https://verify.example.net/c/1\n",
    ),
    "quarantine-challenge-from-the-mailbox": reply(
        f"Re: {SUBJECT}",
        f"Hi, your email to {READER} is waiting in a quarantine. I use a spam filter; please\n"
        "confirm you sent it by clicking https://verify.example.net/c/2\n",
    ),
    "shared-mailbox-not-monitored": reply(
        "Thanks for your message",
        "Your message was received, but this address is not monitored. Undeliverable\n"
        "requests should be sent to support@example.com.\n",
        sender=HELP_DESK,
    ),
    "help-desk-no-account-yet": reply(
        f"Re: {SUBJECT}",
        f"We received your request #123. We could not find an account for {READER}, so we\n"
        "created one.\n",
        sender=HELP_DESK,
    ),
}


def dsn(
    recipient: str,
    status: str,
    said: str,
    *,
    action: str = "",
    subject: str = "Undelivered Mail Returned to Sender",
    sender: str = "MAILER-DAEMON@mx.example.com (Mail Delivery System)",
    headers: str = "",
    text: str = "",
) -> bytes:
    """An RFC 3464 report of our copy, quoting its headers, as Postfix writes one."""
    action = action or ("failed" if status.startswith("5") else "delayed")
    diagnostic = f"Diagnostic-Code: smtp; {said}\n" if said else ""
    return _crlf(
        f"Return-Path: <>\nFrom: {sender}\nTo: <{VERP}>\nSubject: {encoded(subject)}\n"
        f"Date: {DATE}\n{headers}MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        "--r\nContent-Type: text/plain; charset=utf-8\n\n"
        + (text or f"Your message to <{recipient}> could not be delivered.\n")
        + "\n--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.com\n\n"
        f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822; {recipient}\n"
        f"Action: {action}\nStatus: {status}\n{diagnostic}"
        "\n--r\nContent-Type: text/rfc822-headers\n\n" + OUR_HEADERS + "\n--r--\n"
    )


def mdn(disposition: str) -> bytes:
    """An RFC 8098 disposition notification from the reader's mail program."""
    return reply(
        f"Read: {SUBJECT}",
        "--m\nContent-Type: text/plain; charset=utf-8\n\n"
        f"This is a Return Receipt for the mail that you sent to {READER}.\n"
        "--m\nContent-Type: message/disposition-notification\n\n"
        f"Reporting-UA: mx.example.com; Mozilla Thunderbird\nFinal-Recipient: rfc822;{READER}\n"
        f"Original-Message-ID: {OUR_ID}\nDisposition: {disposition}\n"
        "--m\nContent-Type: text/rfc822-headers\n\n" + OUR_HEADERS + "\n--m--\n",
        content_type='multipart/report; report-type=disposition-notification; boundary="m"',
        return_path=f"<{READER}>",
    )


def ses_delivered() -> bytes:
    notice = ses_delivery(READER)
    notice["mail"]["headers"] = [{"name": "Message-ID", "value": OUR_ID}]
    notice["mail"]["commonHeaders"]["messageId"] = OUR_ID
    return sns_email(notice)


NOTICES = {
    "mdn-displayed": mdn("manual-action/MDN-sent-manually; displayed"),
    "mdn-deleted": mdn("manual-action/MDN-sent-manually; deleted"),
    "outlook-read-receipt": reply(
        f"Read: {SUBJECT}",
        f"Your message\n\n  To: {READER}\n  Subject: {SUBJECT}\n  Sent: 14 January 2025 09:30\n\n"
        "was read on 14 January 2025 10:02.\n",
        sender=READER,
    ),
    "dsn-delivered": dsn(
        READER,
        "2.0.0",
        "250 2.0.0 Ok: queued as 4Yx1",
        action="delivered",
        subject="Successful Mail Delivery Report",
    ),
    "dsn-relayed": dsn(
        READER, "2.0.0", "250 2.0.0 Ok", action="relayed", subject="Successful Mail Delivery Report"
    ),
    "dsn-expanded": dsn(
        READER, "2.0.0", "", action="expanded", subject="Successful Mail Delivery Report"
    ),
    "ses-delivery": ses_delivered(),
    # Postfix's success notice (bounce.cf's success_template) whose status part was lost
    "postfix-success-in-words": reply(
        "Successful Mail Delivery Report",
        "This is the mail system at host mx.example.com.\n\n"
        "Your message was successfully delivered to the destination(s)\nlisted below. If the "
        "message was delivered to mailbox you will\nreceive no further notifications.\n\n"
        f"<{READER}>: delivery via mx.example.com[192.0.2.1]:25: 250 2.0.0 Ok: queued\n",
        sender="MAILER-DAEMON@mx.example.com (Mail Delivery System)",
        threaded=False,
    ),
}


UNKNOWN = f"550 5.1.1 <{READER}>: Recipient address rejected: User unknown in virtual mailbox table"

DRESSED = {
    "dsn-auto-submitted": (
        dsn(READER, "5.1.1", UNKNOWN, headers="Auto-Submitted: auto-replied\n"),
        ("hard", "user_unknown"),
    ),
    "dsn-auto-reply-subject": (
        dsn(READER, "5.1.1", UNKNOWN, subject="Auto-reply: Undelivered Mail Returned to Sender"),
        ("hard", "user_unknown"),
    ),
    "dsn-automatic-reply-subject-full": (
        dsn(
            READER,
            "5.2.2",
            f"552 5.2.2 <{READER}>: Mailbox full: quota exceeded",
            subject=f"Automatic reply: {SUBJECT}",
            sender="postmaster@example.com",
            headers="Auto-Submitted: auto-replied\n",
        ),
        ("soft", "mailbox_full"),
    ),
    "exchange-ndr-with-oof-marks": (
        dsn(
            READER,
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            subject=f"Undeliverable: {SUBJECT}",
            sender="Microsoft Outlook <postmaster@example.onmicrosoft.com>",
            headers="Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n"
            "X-MS-Exchange-Message-Is-Ndr:\n",
            text=f"Your message to {READER} couldn't be delivered.\n"
            "mina wasn't found at example.com.\n",
        ),
        ("hard", "user_unknown"),
    ),
    "dsn-x-autogenerated": (
        dsn(READER, "5.1.1", UNKNOWN, headers="X-Autogenerated: Reply\n"),
        ("hard", "user_unknown"),
    ),
    "server-says-address-no-longer-in-use": (
        dsn(
            READER,
            "5.1.1",
            f"550 5.1.1 <{READER}>: This address is no longer in use",
            subject="Mail delivery failed: address no longer in use",
        ),
        ("hard", "user_unknown"),
    ),
    "plain-text-auto-reply-from-the-daemon": (
        _crlf(
            f"Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n"
            f"To: {VERP}\nSubject: Auto-Reply: Mail delivery failed: returning message to sender\n"
            f"Date: {DATE}\nAuto-Submitted: auto-replied\nX-Autoreply: yes\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  {READER}\n    host mx.example.com [192.0.2.7]\n"
            f"    SMTP error from remote mail server after RCPT TO:<{READER}>:\n"
            "    550 5.1.1 User unknown\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            + OUR_HEADERS
        ),
        ("hard", "user_unknown"),
    ),
}


@pytest.mark.parametrize("raw, expected", DRESSED.values(), ids=DRESSED.keys())
def test_a_real_bounce_dressed_as_an_auto_reply_still_counts(raw, expected):
    v = classified(raw)
    assert (v.kind, v.as_json("f")["reason"]) == expected
    assert READER in [f.address for f in v.recipients]


QUOTED_BOUNCE = reply(
    f"Re: {SUBJECT}",
    "Hi, I tried to pass this issue on to my friend and got this back:\n\n"
    "> This is the mail system at host mx.example.net.\n"
    "> I'm sorry to have to inform you that your message could not\n"
    "> be delivered to one or more recipients.\n>\n"
    "> <friend@example.net>: host mx.example.net[198.51.100.7] said: 550 5.1.1\n"
    ">     <friend@example.net>: Recipient address rejected: User unknown in local\n"
    ">     recipient table (in reply to RCPT TO command)\n\n"
    "Is the address wrong? Mina\n",
    return_path=f"<{READER}>",
)


FRIEND_BOUNCE = (
    "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\nTo: {to}\n"
    "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
    "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
    "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
    "Final-Recipient: rfc822; friend@example.net\nAction: failed\nStatus: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <friend@example.net>: Recipient address rejected: "
    "User unknown\n\n--b\nContent-Type: text/rfc822-headers\n\n{original}\n--b--\n"
)
THEIR_FORWARD = (
    "Return-Path: <{to}>\nFrom: {to}\nTo: friend@example.net\nSubject: Fwd: Weekly\n"
    "Message-ID: <fwd-1@example.com>\n"
)


def forwarding(sender: str, bounce: str, to: str = VERP) -> bytes:
    """A person forwarding a bounce they got, attached, to `to`."""
    return _crlf(
        f"From: {sender}\nTo: {to}\nSubject: Fwd: Undelivered Mail Returned to Sender\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="m"\n\n'
        "--m\nContent-Type: text/plain; charset=utf-8\n\n"
        "I tried to pass your issue on to a friend; is their address wrong?\n"
        "--m\nContent-Type: message/rfc822\n\n" + bounce + "\n--m--\n"
    )


def their_own_bounce(reader: str) -> str:
    return FRIEND_BOUNCE.format(to=reader, original=THEIR_FORWARD.format(to=reader))


FORWARDED_INLINE = reply(
    "Fwd: Undelivered Mail Returned to Sender",
    "Is my friend's address wrong?\n\n---------- Forwarded message ---------\n"
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
    f"Date: Tue, 14 Jan 2025 at 10:02\nSubject: Undelivered Mail Returned to Sender\n"
    f"To: <{READER}>\n\nThis is the mail system at host mx.example.net.\n\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients.\n\n"
    "<friend@example.net>: host mx.example.net[198.51.100.7] said: 550 5.1.1\n"
    "    <friend@example.net>: Recipient address rejected: User unknown in local\n"
    "    recipient table (in reply to RCPT TO command)\n",
    return_path=f"<{READER}>",
    threaded=False,
)

NOTHING = {
    **AUTO_REPLIES,
    **UNMARKED,
    **NOTICES,
    "reader-quoting-a-bounce-they-got": QUOTED_BOUNCE,
}


@pytest.mark.parametrize(
    "raw",
    [forwarding(READER, their_own_bounce(READER)), FORWARDED_INLINE],
    ids=["attached", "in-their-text"],
)
def test_a_bounce_a_reader_forwards_of_their_own_mail_is_not_about_our_copy(raw):
    """The friend's address is dead, as the bounce says; the reader's copy, which its
    return path names, is not what failed (intake leaves the reader alone: end to end below)."""
    v = classified(raw)
    assert [(f.address, f.kind) for f in v.recipients] == [("friend@example.net", "hard")]
    assert v.of_their_own_mail


def test_a_bounce_of_our_copy_forwarded_from_the_lists_own_address_still_counts():
    """Without a bounce domain our copies' bounces come back to the list's address; one its
    owner forwards on is a report of our copy (its quoted headers say so)."""
    ours = "news@example.org"
    bounce = FRIEND_BOUNCE.format(to=ours, original=OUR_HEADERS).replace(
        "friend@example.net", READER
    )
    v = classified(forwarding(ours, bounce, to=f"bounces@{BOUNCE_DOMAIN}"))
    assert [(f.address, f.kind) for f in v.recipients] == [(READER, "hard")]


@pytest.mark.parametrize("raw", NOTHING.values(), ids=NOTHING.keys())
def test_what_reports_no_failure_does_nothing(raw):
    v = classified(raw)
    assert (v.kind, [f for f in v.recipients if f.kind != "none"]) == ("none", [])


WHY = {
    **{name: "auto_reply" for name in AUTO_REPLIES if name != "leaver-without-marks"},
    **dict.fromkeys(NOTICES, "delivered"),
}


@pytest.mark.parametrize("name, reason", WHY.items(), ids=WHY.keys())
def test_it_says_why(name, reason):
    assert classified(NOTHING[name]).as_json("f")["reason"] == reason


# End to end: the bounce server, copies as the send loop wrote them.


def answer_to(copy, subject: str, body: str, headers: str = "") -> bytes:
    """A reply from the reader's mailbox to a copy we sent, to its return path, with the
    null return path autoresponders use."""
    message_id = re.search(rb"(?im)^message-id:\s*(\S+)", copy.data).group(1).decode()
    return _crlf(
        f"Return-Path: <>\nFrom: {copy.recipients[0]}\nTo: {copy.sender}\nSubject: {subject}\n"
        f"Date: {DATE}\nIn-Reply-To: {message_id}\nReferences: {message_id}\n{headers}"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body
    )


@pytest.mark.slow
def test_auto_replies_to_real_copies_change_nothing_and_a_bounce_like_one_counts(
    app, weekly, inbox, bounce_server
):
    server = bounce_server()
    send_one_batch(weekly, 5)
    away, marked, unmarked, gone, passing_on = (
        next(m for m in inbox.messages if m.recipients == [f"reader{i}@example.org"])
        for i in range(5)
    )
    office = EXCHANGE.format(topic="Weekly", language="en-US")
    deliver(server, answer_to(away, "Automatic reply: Weekly", AWAY, office), to=away.sender)
    deliver(server, answer_to(marked, "Auto: Weekly", LEFT, RFC3834), to=marked.sender)
    deliver(server, answer_to(unmarked, "Re: Weekly", LEFT), to=unmarked.sender)
    said = "550 5.1.1 <reader3@example.org>: Recipient address rejected: User unknown"
    head = gone.data.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n", "\n")
    bounce = _crlf(
        "From: MAILER-DAEMON@mx.example.org\nTo: " + gone.sender + "\n"
        "Subject: Auto-reply: Undelivered Mail Returned to Sender\n"
        "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nUndeliverable.\n"
        "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; reader3@example.org\nAction: failed\nStatus: 5.1.1\n"
        f"Diagnostic-Code: smtp; {said}\n\n"
        "--r\nContent-Type: text/rfc822-headers\n\n" + head + "\n\n--r--\n"
    )
    deliver(server, bounce, to=gone.sender)
    asking = forwarding("reader4@example.org", their_own_bounce("reader4@example.org"))
    deliver(server, asking.replace(VERP.encode(), passing_on.sender.encode()), to=passing_on.sender)
    readers = [stored_subscriber(f"reader{i}@example.org") for i in range(5)]
    assert [(r.status, r.bounce_score) for r in readers] == [
        ("active", 0),
        ("active", 0),
        ("active", 0),
        ("bounced", 0),
        ("active", 0),
    ]
    assert db.session.scalars(sa.select(Bounce.kind)).all() == ["hard"]


def test_classify_prints_none_for_an_auto_reply(runner, tmp_path):
    path = tmp_path / "ooo.eml"
    path.write_bytes(AUTO_REPLIES["outlook-persian-html-only"])
    result = runner.invoke(args=["bounces", "classify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert (printed["kind"], printed["reason"]) == ("none", "auto_reply")
