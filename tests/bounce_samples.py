"""Returned mail as real servers write it, for tests/test_bounce_reasons.py.

One builder per format, each after the format its software or provider documents:
- RFC 3464 delivery status notifications (Postfix, Exchange/Office 365, OpenSMTPD, Courier);
- the plain-text bounces of Exim, Sendmail, qmail, MDaemon and Zoho;
- RFC 5965 feedback reports, and Microsoft's complaint (the original attached as message/rfc822);
- Amazon SES notifications through SNS (by mail, and the bare HTTP JSON);
- RFC 3834 auto-replies; forwarded bounces.

Every builder takes the recipient, the status and the server's words, and returns bytes (CRLF).
Each message also carries addresses that are *not* failed recipients: the original sender
(news@example.org), the original's Message-ID (abc123@mail.example.com), the daemon that writes
the report and the VERP return path. A classifier must name none of them.
"""

from __future__ import annotations

import base64
import json
import logging
import textwrap
from email.header import Header
from pathlib import Path

from bounce_mail import BOUNCE_DOMAIN, complaint, dsn  # noqa: F401  (re-exported for the tests)

from newsletter.bounces.reports import classify

SENDER = "news@example.org"
SENDER_NAME = "Example Weekly"
MESSAGE_ID = "<abc123@mail.example.com>"
MESSAGE_ID_ADDRESS = "abc123@mail.example.com"
DATE = "Tue, 14 Jan 2025 09:30:12 +0000"
SOURCE_IP = "192.0.2.25"


def verp(recipient: str) -> str:
    """The return path our mail went out with: the reader in it, @ as '='."""
    return f"bounces+{recipient.replace('@', '=')}@{BOUNCE_DOMAIN}"


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def _encoded(text: str) -> str:
    """An RFC 2047 encoded word (for display names and subjects in other scripts)."""
    return Header(text, "utf-8").encode()


def original(
    recipient: str,
    *,
    subject: str = "This week: spring issue",
    display_name: str = "",
    message_id: str = MESSAGE_ID,
    extra: str = "",
    body: bool = True,
) -> str:
    """The newsletter we sent, as a bounce quotes it (headers, and a body when `body`)."""
    to = f"{_encoded(display_name)} <{recipient}>" if display_name else recipient
    text = (
        f"Return-Path: <{verp(recipient)}>\n"
        f"Received: from out1.example.org (out1.example.org [{SOURCE_IP}])\n"
        f"\tby mx.example.net with ESMTPS id 4Yx1; {DATE}\n"
        f"From: {SENDER_NAME} <{SENDER}>\n"
        f"Reply-To: editor@example.org\n"
        f"To: {to}\n"
        f"Subject: {subject}\n"
        f"Date: {DATE}\n"
        f"Message-ID: {message_id}\n"
        f"List-Unsubscribe: <mailto:unsubscribe+{recipient.replace('@', '=')}@example.org>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        f"{extra}"
    )
    if body:
        text += "\nHello, here is this week's issue. Write to editor@example.org with questions.\n"
    return text


def delivery_status(
    recipients: list[dict],
    *,
    reporting_mta: str = "dns; mx.example.net",
    extra_message_fields: str = "",
) -> str:
    """A message/delivery-status body: one per-message block, one block per recipient.

    Each recipient: address, status, action (failed), diagnostic (without 'smtp; '),
    remote_mta, original (an Original-Recipient), diagnostic_type (smtp), extra (fields).
    """
    blocks = [f"Reporting-MTA: {reporting_mta}\n{extra_message_fields}Arrival-Date: {DATE}\n"]
    for r in recipients:
        status = r["status"]
        action = r.get("action") or ("failed" if status.startswith("5") else "delayed")
        block = ""
        if r.get("original"):
            block += f"Original-Recipient: rfc822;{r['original']}\n"
        block += f"Final-Recipient: {r.get('address_type', 'rfc822')}; {r['address']}\n"
        block += f"Action: {action}\nStatus: {status}\n"
        if r.get("remote_mta"):
            block += f"Remote-MTA: dns; {r['remote_mta']}\n"
        if r.get("diagnostic"):
            # Folded as Postfix and Exchange fold it: continuation lines indented.
            said = f"Diagnostic-Code: {r.get('diagnostic_type', 'smtp')}; {r['diagnostic']}"
            lines = said.split("\n")
            folded = []
            for line in lines:
                folded += textwrap.wrap(
                    line, 78, break_long_words=False, break_on_hyphens=False
                ) or [""]
            block += "\n    ".join(folded) + "\n"
        if action == "delayed":
            block += "Will-Retry-Until: Tue, 21 Jan 2025 09:30:12 +0000\n"
        block += r.get("extra", "")  # a sending MTA's own per-recipient fields
        blocks.append(block)
    return "\n".join(blocks)


def report(
    *,
    from_: str,
    subject: str,
    text: str,
    status_part: str,
    quoted: str,
    to: str = "",
    recipient: str = "",
    headers: str = "",
    quoted_type: str = "text/rfc822-headers",
    text_charset: str = "us-ascii",
    text_encoding: str = "",
    boundary: str = "7BE5F2A1C3.1736847012/mx.example.net",
) -> bytes:
    """A multipart/report; report-type=delivery-status message around its three parts."""
    to = to or verp(recipient)
    cte = f"Content-Transfer-Encoding: {text_encoding}\n" if text_encoding else ""
    msg = (
        f"Return-Path: <>\n"
        f"Delivered-To: {to}\n"
        f"Date: {DATE}\n"
        f"From: {from_}\n"
        f"Subject: {subject}\n"
        f"To: {to}\n"
        "Auto-Submitted: auto-replied\n"
        f"{headers}"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        f'\tboundary="{boundary}"\n'
        f"Message-Id: <20250114093012.7BE5F2A1C3@mx.example.net>\n"
        "\n"
        "This is a MIME-encapsulated message.\n"
        "\n"
        f"--{boundary}\n"
        "Content-Description: Notification\n"
        f"Content-Type: text/plain; charset={text_charset}\n"
        f"{cte}"
        "\n"
        f"{text}\n"
        f"--{boundary}\n"
        "Content-Description: Delivery report\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        f"{status_part}\n"
        f"--{boundary}\n"
        f"Content-Description: {'Undelivered Message Headers' if quoted_type == 'text/rfc822-headers' else 'Undelivered Message'}\n"
        f"Content-Type: {quoted_type}\n"
        "\n"
        f"{quoted}\n"
        f"--{boundary}--\n"
    )
    return _crlf(msg)


def _postfix_wrap(line: str) -> str:
    """Postfix's bounce text: the first line flush, the rest indented by four spaces."""
    return (
        "\n    ".join(textwrap.wrap(line, 76, break_long_words=False, break_on_hyphens=False))
        + "\n"
    )


# --- Postfix ------------------------------------------------------------------------------------


def postfix(
    recipient: str,
    status: str,
    diagnostic: str,
    *,
    remote: str = "mx.example.net[198.51.100.7]",
    action: str = "",
    in_reply_to: str = "RCPT TO",
    display_name: str = "",
    diagnostic_type: str = "smtp",
    host: str = "out1.example.org",
) -> bytes:
    """Postfix's bounce(8) report: 'This is the mail system at host ...', RFC 3464 parts.

    `diagnostic` is the remote server's reply, as it said it (lines of a multi-line reply
    separated by '\\n'; Postfix joins them with spaces in the text and folds the field).
    `in_reply_to`: the command refused, or "greeting" for a server that refused us at once.
    """
    action = action or ("failed" if status.startswith("5") else "delayed")
    said = " ".join(diagnostic.split("\n"))
    remote_host = remote.split("[")[0]
    if diagnostic_type == "smtp" and in_reply_to == "greeting":  # refused before any command
        notice = f"host {remote} refused to talk to me: {said}"
    elif diagnostic_type == "smtp":
        notice = f"host {remote} said: {said} (in reply to {in_reply_to} command)"
    else:
        notice = said
    if action == "delayed":
        subject = "Delayed Mail (still being retried)"
        text = (
            f"This is the mail system at host {host}.\n\n"
            "####################################################################\n"
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
            "####################################################################\n\n"
            "Your message could not be delivered for more than 4 hour(s).\n"
            "It will be retried until it is 5 day(s) old.\n\n"
            "For further assistance, please send mail to postmaster.\n\n"
            "If you do so, please include this problem report. You can\n"
            "delete your own text from the attached returned message.\n\n"
            "                   The mail system\n\n" + _postfix_wrap(f"<{recipient}>: {notice}")
        )
    else:
        subject = "Undelivered Mail Returned to Sender"
        text = (
            f"This is the mail system at host {host}.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients. It's attached below.\n\n"
            "For further assistance, please send mail to postmaster.\n\n"
            "If you do so, please include this problem report. You can\n"
            "delete your own text from the attached returned message.\n\n"
            "                   The mail system\n\n" + _postfix_wrap(f"<{recipient}>: {notice}")
        )
    rcpt = {
        "address": recipient,
        "original": recipient,
        "status": status,
        "action": action,
        "diagnostic": said if diagnostic_type == "smtp" else diagnostic,
        "diagnostic_type": diagnostic_type,
    }
    if diagnostic_type == "smtp":
        rcpt["remote_mta"] = remote_host
    fields = f"X-Postfix-Queue-ID: 7BE5F2A1C3\nX-Postfix-Sender: rfc822; {verp(recipient)}\n"
    return report(
        from_=f"MAILER-DAEMON@{host} (Mail Delivery System)",
        subject=subject,
        text=text,
        status_part=delivery_status(
            [rcpt], reporting_mta=f"dns; {host}", extra_message_fields=fields
        ),
        quoted=original(recipient, display_name=display_name, body=False),
        recipient=recipient,
    )


def postfix_many(failures: list[tuple[str, str, str]], host: str = "out1.example.org") -> bytes:
    """One Postfix report naming several recipients: (address, status, remote reply)."""
    lines, rcpts = [], []
    for address, status, said in failures:
        lines.append(
            f"<{address}>: host mx.example.net[198.51.100.7] said: {said} (in reply to RCPT TO command)"
        )
        rcpts.append(
            {
                "address": address,
                "original": address,
                "status": status,
                "diagnostic": said,
                "remote_mta": "mx.example.net",
            }
        )
    text = (
        f"This is the mail system at host {host}.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "                   The mail system\n\n" + "\n\n".join(lines) + "\n"
    )
    return report(
        from_=f"MAILER-DAEMON@{host} (Mail Delivery System)",
        subject="Undelivered Mail Returned to Sender",
        text=text,
        status_part=delivery_status(rcpts, reporting_mta=f"dns; {host}"),
        quoted=original(failures[0][0], body=False),
        to=f"bounces@{BOUNCE_DOMAIN}",
    )


def rfc3464(
    recipient: str,
    status: str,
    diagnostic: str = "",
    *,
    action: str = "",
    text: str = "",
    from_: str = "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
    subject: str = "Delivery Status Notification",
    routed_to: str = "",
) -> bytes:
    """A plain RFC 3464 report, as its section 10 examples show one (the original attached).

    `routed_to`: the final address an alias or forward took the recipient to; the report
    then gives the recipient as its Original-Recipient."""
    action = action or ("failed" if status.startswith("5") else "delayed")
    rcpt = {
        "address": routed_to or recipient,
        "original": recipient if routed_to else "",
        "status": status,
        "action": action,
        "diagnostic": diagnostic,
        "remote_mta": "mx.example.net" if diagnostic else "",
    }
    return report(
        from_=from_,
        subject=subject,
        text=text or f"Your message was {action} for the following recipient: {recipient}\n",
        status_part=delivery_status([rcpt], reporting_mta="dns; mx.example.net"),
        quoted=original(recipient),
        quoted_type="message/rfc822",
        recipient=recipient,
    )


# --- Microsoft Exchange / Office 365 --------------------------------------------------------------


def exchange(
    recipient: str,
    status: str,
    diagnostic: str,
    *,
    generating: str = "BN8PR12MB3346.namprd12.prod.outlook.com",
    routed_to: str = "",
    subject: str = "This week: spring issue",
) -> bytes:
    """An Exchange Online NDR: 'Your message to ... couldn't be delivered', RFC 3464 parts,
    the original attached as message/rfc822; From is the tenant's MicrosoftExchange mailbox.
    `subject`: ours, which it quotes in its own subject and below.

    `routed_to`: the address the recipient resolved to (a proxy or routing address); the
    fields then name only it, with no Original-Recipient, as Exchange writes them."""
    boundary = "ae2f9a1b-0c3d-4e5f-8a9b-1c2d3e4f5a6b"
    text = (
        f"Your message to {recipient} couldn't be delivered.\n\n"
        f"{recipient.split('@')[1]} suspects your email is from a problem sender or the address\n"
        "wasn't found. Check the address and try again.\n\n"
        "Diagnostic information for administrators:\n\n"
        f"Generating server: {generating}\n\n"
        f"{recipient}\n"
        f"Remote Server returned '{diagnostic}'\n\n"
        "Original message headers:\n\n"
        f"From: {SENDER_NAME} <{SENDER}>\nSubject: {subject}\nMessage-ID: {MESSAGE_ID}\n"
    )
    status_part = delivery_status(
        [
            {
                "address": routed_to or recipient,
                "original": "" if routed_to else recipient,
                "status": status,
                "action": "failed",
                "diagnostic": diagnostic,
            }
        ],
        reporting_mta=f"dns;{generating}",
        extra_message_fields="Received-From-MTA: dns;out1.example.org\n",
    )
    return report(
        from_="Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.onmicrosoft.com>",
        subject=f"Undeliverable: {subject}",
        text=text,
        status_part=status_part,
        quoted=original(recipient, subject=subject),
        quoted_type="message/rfc822",
        recipient=recipient,
        headers="X-MS-Exchange-Message-Is-Ndr: \nContent-Language: en-US\n",
        boundary=boundary,
    )


def outlook_html(recipient: str, diagnostic: str) -> bytes:
    """Exchange Online's NDR as some tenants' relays pass it on: the HTML part alone, no
    delivery-status part. The address first in "Your message to ... couldn't be delivered",
    the server's reply far below under "Diagnostic information for administrators"."""
    html = (
        f'<html><body>\n<p><b>Your message to <a href="mailto:{recipient}">{recipient}</a> '
        "couldn't be delivered.</b></p>\n"
        "<p>A problem occurred while delivering your message to this email address.</p>\n"
        f"<table><tr><td>news</td><td>Office 365</td><td>{recipient.split('@')[0]}</td></tr>\n"
        "<tr><td>Sender</td><td></td><td>Action Required</td></tr></table>\n"
        "<p><b>How to Fix It</b></p>\n<p>Try to resend your message.</p>\n"
        "<p>More information for email admins.</p>\n<p>Status code: see below</p>\n"
        "<p>Was this helpful? Send feedback to Microsoft.</p>\n<hr>\n"
        "<p><b>Diagnostic information for administrators:</b></p>\n"
        "<p>Generating server: DM6PR12MB1234.namprd12.prod.outlook.com</p>\n"
        f"<p>{recipient}<br>\nRemote Server returned '{diagnostic}'</p>\n"
        "<p>Original message headers:</p>\n"
        f"<pre>From: {SENDER_NAME} &lt;{SENDER}&gt;\nTo: &lt;{recipient}&gt;\n"
        f"Message-ID: {MESSAGE_ID.replace('<', '&lt;').replace('>', '&gt;')}</pre>\n"
        "</body></html>\n"
    )
    return _crlf(
        "From: Microsoft Outlook <postmaster@example.onmicrosoft.com>\n"
        f"To: {verp(recipient)}\n"
        "Subject: Undeliverable: This week: spring issue\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\n\n" + html
    )


def microsoft_ndr_text(recipient: str, headline: str, title: str, error: str) -> bytes:
    """Microsoft 365's NDR as its plain-text part reads, with no status part: the headline
    of why under the address, the server's reply far below under "Error Details"."""
    domain = recipient.rpartition("@")[2]
    return _crlf(
        "From: Microsoft Outlook <postmaster@example.onmicrosoft.com>\n"
        f"To: {verp(recipient)}\nSubject: Undeliverable: This week: spring issue\n"
        f"Date: {DATE}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
        f"Your message to {recipient} couldn't be delivered.\n{headline}\n"
        f"news   Office 365      {domain}\nSender          Action Required\n{title}\n\n"
        "How to Fix It\nCheck the Reported error below.\n\n"
        f"More Info for Email Admins\nStatus code: {error[:9]}\n\n"
        f"Original Message Details\nSender Address: {SENDER}\n"
        f"Recipient Address:      {recipient}\nSubject:        This week: spring issue\n\n"
        f"Error Details\nError:  {error}\nMessage rejected by:    mx.{domain}\n\n"
        f"Original Message Headers\n\n{original(recipient)}"
    )


# --- PowerMTA -------------------------------------------------------------------------------------


def powermta(
    recipient: str, status: str, diagnostic: str, category: str, *, host: str = "mta1.example.org"
) -> bytes:
    """PowerMTA's delivery report: a short notice, then RFC 3464 fields in which each
    recipient's group carries PowerMTA's own X-PowerMTA-BounceCategory (bad-mailbox,
    quota-issues, spam-related...)."""
    rcpt = {
        "address": recipient,
        "status": status,
        "diagnostic": diagnostic,
        "remote_mta": "mx.example.net",
        "extra": f"X-PowerMTA-BounceCategory: {category}\n",
    }
    return report(
        from_=f"Mail Delivery Subsystem <mailer-daemon@{host}>",
        subject="Delivery report",
        text=(
            f"Hello, this is the mail server on {host}.\n\n"
            "This report is about a message you sent; the delivery status of each\n"
            "recipient is attached in standard form.\n\n"
            f"  <{recipient}>  delivery failed; will not continue trying\n"
        ),
        status_part=delivery_status(
            [rcpt],
            reporting_mta=f"dns;{host}",
            extra_message_fields=f"X-PowerMTA-VirtualMTA: {host}\n",
        ),
        quoted=original(recipient, body=False),
        recipient=recipient,
    )


# --- Oracle Communications Messaging Server (PMDF) ------------------------------------------------


def messaging_server(recipient: str, status: str, diagnostic: str) -> bytes:
    """Messaging Server's notice as a single text part: each recipient with the reason and
    the remote reply, then the RFC 3464 fields in one group per recipient, where Action and
    Status come before the recipient fields."""
    body = (
        "This report relates to a message you sent with the following header fields:\n\n"
        f"  Message-id: {MESSAGE_ID}\n  Subject: This week: spring issue\n\n"
        "Your message cannot be delivered to the following recipients:\n\n"
        f"  Recipient address: {recipient}\n"
        "  Reason: Remote SMTP server has rejected address\n"
        f"  Diagnostic code: smtp;{diagnostic}\n\n"
        "Reporting-MTA: dns;mta.example.net\n\n"
        "Action: failed\n"
        "Status: 5.0.0 (Remote SMTP server has rejected address)\n"
        f"Original-recipient: rfc822;{recipient}\n"
        f"Final-recipient: rfc822;{recipient}\n"
        "Remote-MTA: dns;mx.example.net\n"
        f"Diagnostic-code: smtp;{diagnostic}\n"
    )
    return _crlf(
        "Return-Path: <>\n"
        "From: Messaging Server <MAILER-DAEMON@mta.example.net>\n"
        f"To: {verp(recipient)}\n"
        "Subject: Delivery Notification: Delivery has failed\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n" + body
    )


# --- Exim -----------------------------------------------------------------------------------------


def exim(
    recipient: str,
    diagnostic: str,
    *,
    host: str = "mx.example.net [198.51.100.7]",
    after: str = "RCPT TO",
    routed_to: str = "",
    cut: bool = False,
    local: bool = False,
) -> bytes:
    """Exim's plain-text bounce ('This message was created automatically by mail delivery
    software.'), with X-Failed-Recipients, the failing address indented, the SMTP error below it.

    `routed_to`: the recipient was redirected (an alias, a forward) and the address it became
    failed; Exim names that one, "(ultimately generated from <recipient>)" under it. `cut`: the
    message was over Exim's bounce_return_size_limit, and Exim says so under its marker.
    `local`: Exim's own failure, no remote server's (its router's or transport's words)."""
    said = diagnostic.replace("\n", "\n    ")
    failed = routed_to or recipient
    generated = f"    (ultimately generated from {recipient})\n" if routed_to else ""
    note = (
        "------ The body of the message is 5384741 characters long; only the first\n"
        "------ 106496 or so are included here.\n"
        if cut
        else ""
    )
    body = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {failed}\n"
        f"{generated}"
        + ("" if local else f"    host {host}\n")
        + ("" if local else f"    SMTP error from remote mail server after {after}:<{failed}>:\n")
        + f"    {said}\n\n"
        "------ This is a copy of the message, including all the headers. ------\n"
        f"{note}\n" + original(recipient)
    )
    return _crlf(
        f"Return-path: <>\n"
        f"Envelope-to: {verp(recipient)}\n"
        f"Delivery-date: {DATE}\n"
        "From: Mail Delivery System <Mailer-Daemon@out1.example.org>\n"
        f"To: {verp(recipient)}\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        f"Message-Id: <E1tXa2b-0003Ab-Cd@out1.example.org>\n"
        f"X-Failed-Recipients: {failed}\n"
        "Auto-Submitted: auto-replied\n"
        f"Date: {DATE}\n\n" + body
    )


def aol_airmail(screen_name: str, why: str) -> bytes:
    """AOL's own notice (its AIRmail system): no report fields, the recipients by their AOL
    screen names, one a line, tab-indented, under the reason."""
    return _crlf(
        "Return-Path: <>\n"
        "From: Mail Delivery Subsystem <MAILER-DAEMON@aol.com>\n"
        f"Date: {DATE}\n"
        f"To: <{verp(screen_name + '@aol.com')}>\n"
        "Subject: Mail Delivery Problem\n"
        "Mailer: AIRmail [v125.7]\n"
        "Message-ID: <200608011400.844cf96c82d4@omr-m07.mx.aol.com>\n\n"
        f"Sorry {verp(screen_name + '@aol.com')}. Your mail to the following recipients could"
        f" not be delivered because {why}:\n\n"
        f"\t{screen_name}\n"
    )


def telekom(failures: list[tuple[str, str]]) -> bytes:
    """Deutsche Telekom's (T-Online) bounce: each failed address between rules, the
    server's reply indented under it, then the original's headers after a rule of their own."""
    listed = "".join(f" <{address}>\n   {said}\n" for address, said in failures)
    recipients = [address for address, _ in failures]
    return _crlf(
        "From: Mail Delivery System <Mailer-Daemon@t-online.de>\n"
        f"To: {verp(recipients[0])}\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        "Message-Id: <bounce-1wUpJD@mailin42.aul.t-online.de>\n"
        f"X-Failed-Recipients: {', '.join(recipients)}\n"
        f"Date: {DATE}\n\n"
        "|------------------------- Failed addresses follow: ---------------------|\n"
        + listed
        + "\n|------------------------- Message header follows: ----------------------|\n"
        "Received: from out1.example.org ([192.0.2.25]) by mailin42.t-online.de\n"
        "\twith (TLSv1.3:TLS_AES_256_GCM_SHA384 encrypted)\n"
        "\tesmtp id 1wUpJD-0ZWsnR0; Tue, 14 Jan 2025 09:30:10 +0000\n"
        + original(recipients[0], body=False)
    )


def mail_ru(recipient: str, diagnostic: str) -> bytes:
    """Mail.ru's own bounce, Russian first: the address, the server's reply under it, and no
    word of the SMTP command it answered."""
    said = diagnostic.replace("\n", "\n    ")
    return _crlf(
        "From: Mail Delivery System <MAILER-DAEMON@corp.mail.ru>\n"
        f"To: {verp(recipient)}\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        f"X-Failed-Recipients: {recipient}\n"
        f"X-Mailer-Daemon-Recipients: {recipient}\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "Это письмо создано автоматически сервером Mail.ru, отвечать на него не нужно.\n\n"
        "К сожалению, Ваше письмо не может быть доставлено одному или нескольким получателям:\n\n"
        f"  {recipient}\n    {said}\n\n"
        "Рекомендуем Вам проверить корректность указания адресов получателей.\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        + original(recipient)
    )


def exim_delay(
    recipient: str,
    diagnostic: str = "Connection timed out",
    *,
    subject: str = "This week: spring issue",
    after: str = "",
) -> bytes:
    """Exim's delay warning ('has not yet been delivered ... No action is required'), our
    subject quoted in its text; `after`, the command the error answered (RCPT TO)."""
    after = after or f"RCPT TO:<{recipient}>"
    body = (
        "This message was created automatically by mail delivery software.\n"
        "A message that you sent has not yet been delivered to one or more of its\n"
        "recipients after more than 24 hours on the queue on out1.example.org.\n\n"
        "The message identifier is:     1tXa2b-0003Ab-Cd\n"
        f"The subject of the message is: {subject}\n"
        f"The date of the message is:    {DATE}\n\n"
        "The address to which the message has not yet been delivered is:\n\n"
        f"  {recipient}\n"
        f"    Delay reason: SMTP error from remote mail server after {after}:\n"
        f"    {diagnostic}\n\n"
        "No action is required on your part. Delivery attempts will continue for\n"
        "some time, and this warning may be repeated at intervals if the message\n"
        "remains undelivered. Eventually the mail delivery software will give up,\n"
        "and when that happens, the message will be returned to you.\n"
    )
    return _crlf(
        "Return-path: <>\n"
        "From: Mail Delivery System <Mailer-Daemon@out1.example.org>\n"
        f"To: {verp(recipient)}\n"
        "Subject: Warning: message 1tXa2b-0003Ab-Cd delayed 24 hours\n"
        f"References: {MESSAGE_ID}\n"
        f"X-Failed-Recipients: {recipient}\n"
        "Auto-Submitted: auto-replied\n"
        f"Date: {DATE}\n\n" + body
    )


def hmailserver(recipient: str, said: str, *, subject: str = "This week: spring issue") -> bytes:
    """hMailServer's own notice (its default template): 'Message undeliverable: <our
    subject>', our subject again in its text, the remote reply below; no original."""
    text = (
        "Your message did not reach some or all of the intended recipients.\n\n"
        f"   Sent: {DATE}\n"
        f"   Subject: {subject}\n\n"
        "The following recipient(s) could not be reached:\n\n"
        f"{recipient}\n"
        "   Error Type: SMTP\n"
        "   Remote server (198.51.100.7) issued an error.\n"
        f"   hMailServer sent: RCPT TO:<{recipient}>\n"
        f"   Remote server replied: {said}\n\n\nhMailServer\n"
    )
    return plain_notice(
        recipient, f"Message undeliverable: {subject}", text, from_="mailer-daemon@mail.example.net"
    )


# --- Sendmail -------------------------------------------------------------------------------------


def sendmail(recipient: str, diagnostic: str, *, permanent: bool = True) -> bytes:
    """Sendmail's text bounce: '----- The following addresses had permanent fatal errors -----',
    then the transcript of the session (plain text, no delivery-status part)."""
    heading = "had permanent fatal errors" if permanent else "had transient non-fatal errors"
    body = (
        f"The original message was received at {DATE}\n"
        f"from out1.example.org [{SOURCE_IP}]\n\n"
        f"   ----- The following addresses {heading} -----\n"
        f"<{recipient}>\n"
        f"    (reason: {diagnostic})\n\n"
        "   ----- Transcript of session follows -----\n"
        "... while talking to mx.example.net.:\n"
        f">>> RCPT To:<{recipient}>\n"
        f"<<< {diagnostic}\n"
        f"{diagnostic.split(' ')[0]} {recipient}... {diagnostic.split(' ', 2)[-1]}\n\n"
        "   ----- Original message follows -----\n\n" + original(recipient)
    )
    return _crlf(
        "Return-Path: <>\n"
        f"From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>\n"
        f"To: <{verp(recipient)}>\n"
        "Subject: Returned mail: see transcript for details\n"
        "Auto-Submitted: auto-generated (failure)\n"
        f"Date: {DATE}\n\n" + body
    )


# --- Lotus Notes / HCL Domino ----------------------------------------------------------------------


def lotus_notes(recipient: str, reason: str, charset: str = "iso-8859-1") -> bytes:
    """Lotus Notes' plain report: '------- Failure Reasons --------', the reason, the address.
    Its Japanese edition writes the reason in ISO-2022-JP."""
    body = (
        "------- Failure Reasons  --------\n\n"
        f"{reason}\n{recipient}\n\n"
        "------- Returned Message --------\n" + original(recipient)
    )
    head = (
        "From: Postmaster <postmaster@notes.example.co.jp>\n"
        f"To: <{verp(recipient)}>\n"
        "Subject: Undeliverable Message\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset={charset}\n"
        "Content-Transfer-Encoding: 7bit\n\n"
    )
    return (head + body).replace("\n", "\r\n").encode(charset)


# --- qmail ----------------------------------------------------------------------------------------


def qmail(
    recipient: str,
    diagnostic: str,
    *,
    permanent: bool = True,
    ip: str = "198.51.100.7",
    banner: str = "",
    stage: str = "",
) -> bytes:
    """qmail-send's bounce: 'Hi. This is the qmail-send program at ...', '<addr>:' then the
    reply; `banner`, the lines a provider adds to the template before the first recipient;
    `stage`, qmail-remote's line before the reply ("Connected to 198.51.100.7 but sender was
    rejected."), by default its refusal of RCPT TO."""
    if permanent:
        intro = (
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n"
        )
        tail = f"Giving up on {ip}.\n"
    else:
        intro = "I'm not going to try again; this message has been in the queue too long.\n"
        tail = ""
    body = (
        "Hi. This is the qmail-send program at out1.example.org.\n" + intro + banner + "\n"
        f"<{recipient}>:\n"
        f"{stage or ip + ' does not like recipient.'}\n"
        f"Remote host said: {diagnostic}\n"
        + tail
        + "\n--- Below this line is a copy of the message.\n\n"
        + original(recipient)
    )
    return _crlf(
        f"Return-Path: <>\n"
        f"Date: 14 Jan 2025 09:30:12 -0000\n"
        "From: MAILER-DAEMON@out1.example.org\n"
        f"To: {verp(recipient)}\n"
        "Subject: failure notice\n\n" + body
    )


def to_themselves(address: str, said: str, *, qsbmf: bool = True) -> bytes:
    """Mail someone sent to their own address, bounced: the report comes back to that address
    and quotes an original from it. The failed address stands alone on its line: "<address>:"
    as QSBMF (qmail-send's bounce format) opens a recipient's paragraph, or bare "address:"
    with the reply below it (1&1 and others)."""
    if qsbmf:
        head = (
            "Hi. This is the qmail-send program at mx.example.jp.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            f"<{address}>:\n198.51.100.7 does not like recipient.\nRemote host said: {said}\n"
            "Giving up on 198.51.100.7.\n\n--- Below this line is a copy of the message.\n\n"
        )
    else:
        head = (
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"{address}:\nSMTP error from remote server after end of data: {said}\n\n"
            "------ This is a copy of the message's headers. ------\n\n"
        )
    quoted = (
        f"Return-Path: <{address}>\nFrom: Reader <{address}>\nTo: {address}\n"
        f"Subject: a note to self\nDate: {DATE}\nMessage-ID: {MESSAGE_ID}\n\nRemember the milk.\n"
    )
    return _crlf(
        "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.jp\n"
        f"To: {address}\nSubject: failure notice\nDate: {DATE}\n\n" + head + quoted
    )


# --- OpenSMTPD ------------------------------------------------------------------------------------


def opensmtpd(recipient: str, diagnostic: str) -> bytes:
    """OpenSMTPD's bounce: 'Hi!  This is the MAILER-DAEMON, please DO NOT REPLY to this email.'"""
    boundary = "16522363841.8c1e4a1a.out1.example.org"
    text = (
        "Hi!\n\n"
        "This is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\n"
        "An error has occurred while attempting to deliver a message for\n"
        "the following list of recipients:\n\n"
        f"{recipient}: {diagnostic}\n\n"
        "Below is a copy of the original message:\n"
    )
    rcpt = {
        "address": recipient,
        "status": _enhanced(diagnostic) or "5.0.0",
        "action": "failed",
        "diagnostic": diagnostic,
    }
    return report(
        from_="Mailer Daemon <MAILER-DAEMON@out1.example.org>",
        subject="Delivery status notification: error",
        text=text,
        status_part=delivery_status([rcpt], reporting_mta="dns; out1.example.org"),
        quoted=original(recipient),
        quoted_type="message/rfc822",
        recipient=recipient,
        boundary=boundary,
    )


def opensmtpd_plain(recipient: str, diagnostic: str) -> bytes:
    """Older OpenSMTPD (no report part): text/plain, 'Error is:' and the reply indented."""
    body = (
        "Hi!\n\n"
        "This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
        "An error has occurred while attempting to deliver a message for\n"
        "the following list of recipients:\n\n"
        f"{recipient}\n\n"
        "Error is:\n"
        f"  {diagnostic}\n\n"
        "Below is a copy of the original message:\n\n" + original(recipient)
    )
    return _crlf(
        "Return-Path: <>\n"
        "From: Mailer Daemon <MAILER-DAEMON@out1.example.org>\n"
        f"To: {verp(recipient)}\n"
        "Subject: Delivery status notification: error\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n" + body
    )


def _enhanced(diagnostic: str) -> str:
    import re

    found = re.search(r"\b([245]\.\d{1,3}\.\d{1,3})\b", diagnostic)
    return found.group(1) if found else ""


# --- Courier --------------------------------------------------------------------------------------


def courier(recipient: str, diagnostic: str) -> bytes:
    """Courier's 'This is a delivery status notification from ..., running the Courier mail
    server', the SMTP dialogue ('>>> RCPT TO' / '<<< 550 ...') and RFC 3464 parts."""
    text = (
        "This is a delivery status notification from out1.example.org,\n"
        "running the Courier mail server, version 1.1.2.\n\n"
        f"The original message was received on {DATE}\n"
        f"from out1.example.org [{SOURCE_IP}]\n\n"
        "---------------------------------------------------------------------------\n\n"
        "                           UNDELIVERABLE MAIL\n\n"
        "Your message to the following recipients cannot be delivered:\n\n"
        f"<{recipient}>:\n"
        "    mx.example.net [198.51.100.7]:\n"
        f">>> RCPT TO:<{recipient}>\n"
        f"<<< {diagnostic}\n\n"
        "---------------------------------------------------------------------------\n"
    )
    rcpt = {
        "address": recipient,
        "status": _enhanced(diagnostic) or "5.0.0",
        "action": "failed",
        "diagnostic": diagnostic,
        "remote_mta": "mx.example.net",
    }
    return report(
        from_="Courier mail server at out1.example.org <@>",
        subject="DELIVERY FAILURE: " + diagnostic.split("\n")[0][:60],
        text=text,
        status_part=delivery_status([rcpt], reporting_mta="dns; out1.example.org"),
        quoted=original(recipient, body=False),
        recipient=recipient,
    )


# --- MDaemon --------------------------------------------------------------------------------------


def mdaemon(recipient: str, diagnostic: str) -> bytes:
    """MDaemon's 'Permanent Delivery Failure' with its session transcript."""
    body = (
        "The attached message had PERMANENT fatal delivery errors!\n\n"
        "After one or more unsuccessful delivery attempts the attached message has\n"
        "been removed from the mail queue on this server.  The number and frequency\n"
        "of delivery attempts are determined by local configuration parameters.\n\n"
        "YOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\n"
        "--- Session Transcript ---\n"
        " Tue 2025-01-14 09:30:12: Parsing message <out1.example.org\\pd50000012345.msg>\n"
        f" Tue 2025-01-14 09:30:12: *  From: {verp(recipient)}\n"
        f" Tue 2025-01-14 09:30:12: *  To: {recipient}\n"
        " Tue 2025-01-14 09:30:12: Attempting SMTP connection to [mx.example.net]\n"
        " Tue 2025-01-14 09:30:12: Connected to [198.51.100.7:25]\n"
        f" Tue 2025-01-14 09:30:12: --> MAIL From:<{verp(recipient)}>\n"
        " Tue 2025-01-14 09:30:12: <-- 250 2.1.0 Ok\n"
        f" Tue 2025-01-14 09:30:12: --> RCPT To:<{recipient}>\n"
        f" Tue 2025-01-14 09:30:12: <-- {diagnostic}\n"
        "--- End Transcript ---\n\n" + original(recipient)
    )
    return _crlf(
        "Return-Path: <>\n"
        "From: MDaemon@out1.example.org\n"
        f"To: {verp(recipient)}\n"
        "Subject: Permanent Delivery Failure\n"
        "X-MDDSN-Message: Yes\n"
        "X-MDaemon-Deliver-To: " + verp(recipient) + "\n"
        f"Date: {DATE}\n\n" + body
    )


def mdaemon_local(recipient: str) -> bytes:
    """MDaemon's own notice for an address it hosts and does not have: a 'Warning' from
    MDaemon@host, no status, the original attached."""
    return _crlf(
        "Return-Path: <MDaemon@mail.example.net>\n"
        "From: MDaemon@mail.example.net\nPrecedence: bulk\n"
        f"To: {verp(recipient)}\nSubject: Warning: {recipient} - User unknown!\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="0114-0930-12-PART-BREAK"\n\n'
        "--0114-0930-12-PART-BREAK\nContent-Type: text/plain; charset=US-ASCII\n\n"
        f"{recipient} - no such user here.\n\nThere is no user by that name at this server.\n\n"
        ": Message contains [1] file attachments\n\n"
        "--0114-0930-12-PART-BREAK\nContent-Type: message/rfc822\n\n"
        f"{original(recipient)}\n--0114-0930-12-PART-BREAK--\n"
    )


# --- Zoho -----------------------------------------------------------------------------------------


def zoho(recipient: str, diagnostic: str) -> bytes:
    """Zoho Mail's bounce: 'addr, ERROR CODE :550 - <text>' (text/html and text/plain)."""
    boundary = "----=_Part_123456_789.1736847012"
    plain = (
        "This message was created automatically by mail delivery software.\n"
        "A message that you sent could not be delivered to one or more of its recipients. "
        "This is a permanent error.\n\n"
        f"{recipient}, ERROR CODE :{diagnostic.split(' ', 1)[0]} - {diagnostic.split(' ', 1)[1]}\n\n"
        "Received: from out1.example.org by mx.zohomail.com\n"
        f"Message-ID: {MESSAGE_ID}\nFrom: {SENDER}\n"
    )
    html = plain.replace("\n", "<br>\n")
    return _crlf(
        "Return-Path: <>\n"
        "From: mailer-daemon@mail.zoho.com\n"
        f"To: {verp(recipient)}\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{plain}\n"
        f"--{boundary}\nContent-Type: text/html; charset=utf-8\n\n<html><body>{html}</body></html>\n"
        f"--{boundary}--\n"
    )


# --- Auto-replies, delivery notices ----------------------------------------------------------------


def vacation(recipient: str, *, text: str = "", display_name: str = "") -> bytes:
    """An RFC 3834 auto-reply from the reader's mailbox (Auto-Submitted: auto-replied)."""
    frm = f"{_encoded(display_name)} <{recipient}>" if display_name else recipient
    body = text or (
        "I am out of the office until 20 January with no access to e-mail.\n"
        "For urgent matters please contact office@example.com.\n"
    )
    return _crlf(
        f"Return-Path: <>\n"
        f"From: {frm}\n"
        f"To: {verp(recipient)}\n"
        f"Subject: {_encoded('Automatische Antwort: This week: spring issue')}\n"
        f"Date: {DATE}\n"
        f"In-Reply-To: {MESSAGE_ID}\n"
        f"References: {MESSAGE_ID}\n"
        "Auto-Submitted: auto-replied (vacation)\n"
        "X-Autoreply: yes\n"
        "Precedence: bulk\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n" + body
    )


_GMAIL_WORDS = {
    "en": (
        "** Address not found **\n\nYour message wasn't delivered to {r} because the address "
        "couldn't be found, or is unable to receive mail.\n\nLearn more here: "
        "https://support.google.com/mail/?p=NoSuchUser\n\nThe response from the remote server "
        "was:\n{reply}\n"
    ),
    "fr": (
        "** Adresse introuvable **\n\nVotre message n'a pas été distribué à {r} car l'adresse "
        "est introuvable ou ne peut pas recevoir de messages.\n\nEn savoir plus : "
        "https://support.google.com/mail/?p=NoSuchUser\n\nLa réponse du serveur distant a été "
        ":\n{reply}\n"
    ),
}


def gmail_text(recipient: str, reply: str, language: str = "en") -> bytes:
    """Gmail's "Address not found" notice as plain text alone, as a bounce arrives whose
    status part was lost on the way: its words around whatever the remote server replied."""
    body = _GMAIL_WORDS[language].format(r=recipient, reply=reply)
    return _crlf(
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        f"To: {verp(recipient)}\nX-Failed-Recipients: {recipient}\n"
        f"Subject: Delivery Status Notification (Failure)\nDate: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        + body
        + "\n----- Original message -----\n\n"
        + original(recipient)
    )


def challenge(recipient: str, service: str) -> bytes:
    """A challenge-response filter holding our mail until a person proves to be one, as Boxbe
    and SpamArrest word theirs: from the service, naming the reader, no status."""
    texts = {
        "boxbe": (
            "Boxbe <notify@boxbe.com>",
            "Request to join my Guest List (Action Required)",
            f"Hello,\n\n{recipient} is using Boxbe to manage their inbox. You will need to be on\n"
            "my Guest List for your message to be delivered. Click below to add yourself:\n"
            "https://www.boxbe.com/anno?tc=1234\n",
        ),
        "spamarrest": (
            "SpamArrest <noreply@spamarrest.com>",
            "Please verify your message",
            f"The person you sent mail to ({recipient}) uses Spam Arrest. To have your\n"
            "message delivered, please verify your email: https://www.spamarrest.com/v/1\n",
        ),
    }
    frm, subject, body = texts[service]
    return _crlf(
        f"From: {frm}\nTo: {verp(recipient)}\nSubject: {subject}\nDate: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body
    )


def boxbe_report(recipient: str) -> bytes:
    """Boxbe's challenge as a status report: "Action: failed", Status 4.7.0 and a diagnostic
    of its own type, around the same request to join the reader's guest list."""
    return report(
        from_="noreply@boxbe.com",
        subject="Re: This week: spring issue (Action Required)",
        recipient=recipient,
        text=(
            'Hello,\n\nYour message about "This week: spring issue" has been waitlisted.\n\n'
            "Please add yourself to my Boxbe Guest List so your messages will go to my\n"
            "Inbox. Click the link below to be added:\nhttps://www.boxbe.com/crs?tc=1234\n"
        ),
        status_part=delivery_status(
            [
                {
                    "address": recipient,
                    "status": "4.7.0",
                    "action": "failed",
                    "diagnostic_type": "X-Boxbe-Notice",
                    "diagnostic": "Sender not pre-approved.  Follow instructions in above notice",
                }
            ],
            reporting_mta="dns; boxbe.com",
        ),
        quoted=original(recipient),
    )


def read_receipt(recipient: str) -> bytes:
    """An RFC 8098 message disposition notification: the reader opened the message."""
    return _crlf(
        f"From: {recipient}\nTo: {verp(recipient)}\nSubject: Read: This week: spring issue\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="m"\n\n'
        f"--m\nContent-Type: text/plain\n\nThe message sent to {recipient} was displayed.\n"
        "--m\nContent-Type: message/disposition-notification\n\n"
        f"Reporting-UA: mail.example.com; Thunderbird\nFinal-Recipient: rfc822;{recipient}\n"
        f"Original-Message-ID: {MESSAGE_ID}\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n--m--\n"
    )


def rejected_on_delivery(recipient: str, reason: str) -> bytes:
    """An RFC 8098 notification that the recipient's server deleted the message and tells
    why: Dovecot's reject of a full mailbox, Sieve's reject (RFC 5429)."""
    return _crlf(
        f"From: Mail Delivery Subsystem <postmaster@example.net>\nTo: <{verp(recipient)}>\n"
        f"Subject: Automatically rejected mail\nAuto-Submitted: auto-replied (rejected)\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"\n\n'
        "--r\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n\n"
        f"Your message to <{recipient}> was automatically rejected:\n{reason}\n"
        "--r\nContent-Type: message/disposition-notification\n\n"
        f"Reporting-UA: mail; Dovecot Mail Delivery Agent\nFinal-Recipient: rfc822; {recipient}\n"
        f"Original-Message-ID: {MESSAGE_ID}\n"
        "Disposition: automatic-action/MDN-sent-automatically; deleted\n\n"
        "--r\nContent-Type: message/rfc822\n\nMessage removed\n--r--\n"
    )


def netease(recipient: str, said: str) -> bytes:
    """NetEase's (163.com, 126.com) bounce: Chinese text in GBK, base64, its English line
    "SMTP error, RCPT TO: Host <host>(<ip>) RCPT TO said <reply>"."""
    text = (
        "很抱歉，您的邮件被退回来了……\r\n原邮件信息：\r\n"
        f"    主题  This week: spring issue\r\n    收件人 {recipient}\r\n\r\n退信原因：\r\n"
        "    未知的原因，对方拒绝接收您的邮件\r\n"
        f"    英文说明:SMTP error, RCPT TO: Host example.net(198.51.100.7) RCPT TO said {said}\r\n"
    )
    body = base64.encodebytes(text.encode("gbk")).decode("ascii")
    return _crlf(
        "From: Postmaster@163.com\n"
        f"To: {verp(recipient)}\nSubject: {_encoded('系统退信')}\nDate: {DATE}\n"
        "MIME-Version: 1.0\nX-Mailer: Coremail MTA server\n"
        'Content-Type: text/plain; charset="gbk"\nContent-Transfer-Encoding: base64\n\n' + body
    )


def coremail(recipient: str, why: str, english: str, *, remedy: str = "", charset="gbk") -> bytes:
    """Coremail's own report of a failed local delivery (163.com, 126.com, companies'
    and universities' mail): the reason in Chinese under 退信原因, its English words under
    it (英文说明) and in the Diagnostic-Code, a remedy under 建议解决方案."""
    text = (
        "抱歉，您的邮件被退回来了……\n      原邮件信息：\n"
        f"            主  题 This week: spring issue\n            收件人 {recipient}\n\n"
        f"      退信原因：\n            {why}\n            英文说明:{english}\n\n"
        f"      建议解决方案：\n            {remedy or '请检查收件人地址后再尝试发送。'}\n\n"
        "----------------\nThis message is generated by Coremail.\n"
    )
    body = base64.encodebytes(text.replace("\n", "\r\n").encode(charset)).decode("ascii")
    status = delivery_status(
        [{"address": recipient, "status": "5.0.0", "diagnostic": english}],
        reporting_mta="dns; 163mx3.163.com",
    )
    return report(
        from_="Postmaster@163.com",
        subject=_encoded("系统退信"),
        text=body,
        text_charset=charset,
        text_encoding="base64",
        status_part=status,
        quoted=original(recipient, body=False),
        recipient=recipient,
        headers="X-Mailer: Coremail MTA server\n",
    )


def imail(failures: list[str]) -> bytes:
    """IMail's 'Undeliverable Mail': each recipient's line, then what its RCPT TO got."""
    said = "".join(
        f"Unknown user: {address}\n\nRCPT TO generated following response:\n"
        f"553 5.3.0 <{address}>... Addressee unknown, relay=[198.51.100.7]\n\n"
        for address in failures
    )
    return _crlf(
        'From: "Postmaster" <postmaster@mail.example.net>\n'
        f"To: {verp(failures[0])}\nSubject: Undeliverable Mail\nDate: {DATE}\n"
        "X-Mailer: <IMail v8.22>\n\n"
        + said
        + "Original message follows.\n\n"
        + original(failures[0])
    )


def exchange_relayed_text(recipient: str) -> bytes:
    """Exchange's "Relayed:" notice as a relay passes it on in words, its status part gone."""
    return _crlf(
        "From: Microsoft Outlook <postmaster@example.onmicrosoft.com>\n"
        f"To: {verp(recipient)}\nSubject: Relayed: This week: spring issue\nDate: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "Delivery to these recipients or groups is complete, but no delivery notification was\n"
        f"sent by the destination server:\n\n{recipient} ({recipient})\n\n"
        "Subject: This week: spring issue\n"
    )


# --- Feedback reports (complaints) -----------------------------------------------------------------


def arf(
    recipient: str,
    *,
    feedback_type: str = "abuse",
    user_agent: str = "Yahoo!-Mail-Feedback/2.0",
    rcpt_to: bool = True,
    from_: str = "feedback@arf.mail.yahoo.com",
    removal: bool = False,
    attached: str = "message/rfc822",
    more_fields: str = "",
    netease: bool = False,
) -> bytes:
    """An RFC 5965 feedback report as its section 3 example shows it: text, message/feedback-report
    (Original-Mail-From, Original-Rcpt-To, Source-IP, ...), the original as message/rfc822.
    `removal`: the reader named again in a Removal-Recipient field, as some loops add;
    `attached`: the original's content type (RFC 9477's example writes text/rfc822);
    `more_fields`: lines added to the fields (RFC 6591's Delivery-Result...); `netease`: as
    NetEase's loop sends it, multipart/mixed with the fields in base64."""
    boundary = "part1_13d.2e68ed54_boundary"
    fields = (
        f"Feedback-Type: {feedback_type}\n"
        f"User-Agent: {user_agent}\n"
        "Version: 1\n"
        f"Original-Mail-From: <{verp(recipient)}>\n"
        + (f"Original-Rcpt-To: <{recipient}>\n" if rcpt_to else "")
        + (f"Removal-Recipient: {recipient}\n" if removal else "")
        + f"Arrival-Date: {DATE}\n"
        "Reporting-MTA: dns; mail.example.com\n"
        f"Source-IP: {SOURCE_IP}\n"
        "Authentication-Results: mail.example.com; spf=pass smtp.mail=example.org\n"
        "Reported-Domain: example.org\n"
        "Reported-Uri: http://example.org/unsubscribe\n" + more_fields
    )
    container = "multipart/report; report-type=feedback-report"
    fields_part = f"Content-Type: message/feedback-report\n\n{fields}\n"
    if netease:
        container = "multipart/mixed"
        encoded = base64.encodebytes(fields.replace("\n", "\r\n").encode()).decode()
        fields_part = (
            "Content-Type: message/feedback-report\n"
            f"Content-Transfer-Encoding: base64\n\n{encoded}\n"
        )
    return _crlf(
        f"From: <{from_}>\n"
        f"Date: {DATE}\n"
        "Subject: FW: This week: spring issue\n"
        f"To: <abuse@{BOUNCE_DOMAIN}>\n"
        "MIME-Version: 1.0\n"
        f"Content-Type: {container};\n"
        f'\tboundary="{boundary}"\n\n'
        f'--{boundary}\nContent-Type: text/plain; charset="US-ASCII"\nContent-Transfer-Encoding: 7bit\n\n'
        f"This is an email abuse report for an email message received from IP\n{SOURCE_IP} on {DATE}.\n"
        "For more information about this format please see\nhttp://www.mipassoc.org/arf/.\n\n"
        f"--{boundary}\n{fields_part}"
        f"--{boundary}\nContent-Type: {attached}\nContent-Disposition: inline\n\n{original(recipient)}\n"
        f"--{boundary}--\n"
    )


def microsoft_complaint(recipient: str, *, hm_header: bool = False) -> bytes:
    """A Microsoft JMRP complaint: multipart/mixed, the complained-of message attached as
    message/rfc822; the reader only in the attached message's headers."""
    boundary = "--boundary_0_4e5f6a7b-8c9d"
    extra = f"X-HmXmrOriginalRecipient: <{recipient}>\n" if hm_header else ""
    return _crlf(
        "From: staff@hotmail.com\n"
        f"To: fbl@{BOUNCE_DOMAIN}\n"
        f"Subject: complaint about message from {SOURCE_IP}\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n"
        f"This is an email abuse report for an email message received from IP {SOURCE_IP} on {DATE}.\n"
        "For more information about this format please see http://postmaster.live.com.\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n"
        f"{original(recipient, extra=extra)}\n"
        f"--{boundary}--\n"
    )


def microsoft_complaint_inline(recipient: str) -> bytes:
    """Hotmail's older JMRP form: the complained-of message itself, sent on from the loop's
    servers with its own headers below theirs and the reader in X-HmXmrOriginalRecipient."""
    return _crlf(
        "Return-Path: <staff@hotmail.com>\n"
        "Received: from BAY0-JMR-DB02 ([65.54.190.125]) by bay0-omc2-s1.bay0.hotmail.com\n"
        f"\twith Microsoft SMTPSVC(6.0.3790.3959); {DATE}\n"
        f"X-HmXmrOriginalRecipient: {recipient}\n"
        "X-Reporter-IP: 192.0.2.155\n"
        "X-SID-Result: Pass\n" + original(recipient)
    )


# --- Amazon SES notifications ----------------------------------------------------------------------


def _ses_mail(recipients: list[str]) -> dict:
    return {
        "timestamp": "2025-01-14T09:30:12.000Z",
        "source": f"{SENDER_NAME} <{SENDER}>",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.org",
        "sourceIp": SOURCE_IP,
        "sendingAccountId": "123456789012",
        "messageId": "0100019462b6a2b1-3c8e2f1d-aaaa-bbbb-cccc-0123456789ab-000000",
        "destination": recipients,
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": f"{SENDER_NAME} <{SENDER}>"},
            {"name": "To", "value": ", ".join(recipients)},
            {"name": "Message-ID", "value": MESSAGE_ID},
            {"name": "Subject", "value": "This week: spring issue"},
        ],
        "commonHeaders": {
            "from": [f"{SENDER_NAME} <{SENDER}>"],
            "to": recipients,
            "messageId": MESSAGE_ID,
            "subject": "This week: spring issue",
        },
    }


def ses_bounce(
    recipients: list[tuple[str, str, str]],
    *,
    bounce_type: str = "Permanent",
    sub_type: str = "General",
) -> dict:
    """The Amazon SES bounce object (docs: 'Amazon SNS notification contents for Amazon SES').
    recipients: (address, status, diagnosticCode)."""
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": a,
                    "action": "failed" if s.startswith("5") else "delayed",
                    "status": s,
                    "diagnosticCode": d,
                }
                for a, s, d in recipients
            ],
            "timestamp": "2025-01-14T09:30:14.477Z",
            "feedbackId": "0100019462b6a8c2-5e1f4b7a-dddd-eeee-ffff-0123456789ab-000000",
            "remoteMtaIp": "198.51.100.7",
            "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com",
        },
        "mail": _ses_mail([a for a, _, _ in recipients]),
    }


def ses_delivery(recipient: str) -> dict:
    return {
        "notificationType": "Delivery",
        "delivery": {
            "timestamp": "2025-01-14T09:30:14.000Z",
            "processingTimeMillis": 546,
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "remoteMtaIp": "198.51.100.7",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        },
        "mail": _ses_mail([recipient]),
    }


def ses_complaint(recipient: str) -> dict:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "ExampleCorp Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2025-01-14T09:31:00.000Z",
            "timestamp": "2025-01-14T09:32:00.000Z",
            "feedbackId": "0100019462b6b0d3-7a2e5c8b-1111-2222-3333-0123456789ab-000000",
        },
        "mail": _ses_mail([recipient]),
    }


def sns_email(notification: dict, *, wrapped: bool = False) -> bytes:
    """An SNS e-mail (JSON) subscription delivering an SES notification: the JSON as the body;
    `wrapped`, its long line broken as SNS breaks it over SMTP ("!" then a space)."""
    return _crlf(
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
        f"To: ses-events@{BOUNCE_DOMAIN}\n"
        "Subject: AWS Notification Message\n"
        f"Date: {DATE}\n"
        "Message-ID: <0100019462b6c1e4-sns-0123456789ab@email.amazonses.com>\n"
        "x-amz-sns-message-type: Notification\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
        + _sns_wrapped(json.dumps(notification), wrapped)
        + "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n"
        "https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn=arn:aws:sns:us-east-1:123456789012:ses-events\n"
    )


def _sns_wrapped(text: str, wrapped: bool) -> str:
    if not wrapped:
        return text
    return "!\n ".join(text[i : i + 76] for i in range(0, len(text), 76))


def sns_http(notification: dict) -> bytes:
    """The SNS HTTP(S) envelope around an SES notification: bare JSON, no mail headers."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
            "Message": json.dumps(notification),
            "Timestamp": "2025-01-14T09:30:15.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+...",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        }
    ).encode()


# --- Forwarded bounce ------------------------------------------------------------------------------


def forwarded(bounce: bytes, *, by: str = "colleague@example.com", as_file: bool = False) -> bytes:
    """Somebody forwarding a bounce to us, as an attachment (message/rfc822); `as_file`: a
    saved .eml file attached as bytes, as some mail programs label it."""
    boundary = "000000000000fwd4e5f6"
    if as_file:
        name = "Undelivered Mail Returned to Sender.eml"
        attached = _crlf(
            f'application/octet-stream; name="{name}"\n'
            f'Content-Disposition: attachment; filename="{name}"\n'
            "Content-Transfer-Encoding: base64\n\n"
        ) + base64.encodebytes(bounce).replace(b"\n", b"\r\n")
    else:
        attached = _crlf("message/rfc822\n\n") + bounce
    return (
        _crlf(
            f"From: Colleague <{by}>\n"
            f"To: editor@example.org\n"
            "Subject: Fwd: Undelivered Mail Returned to Sender\n"
            f"Date: {DATE}\n"
            "MIME-Version: 1.0\n"
            f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
            f"--{boundary}\nContent-Type: text/plain; charset=UTF-8\n\n"
            "This bounced, can you check the address?\n\n"
            f"--{boundary}\nContent-Type: "
        )
        + attached
        + _crlf(f"\n--{boundary}--\n")
    )


def forwarded_inline(
    recipient: str, diagnostic: str, *, by: str = "colleague@example.com"
) -> bytes:
    """A bounce forwarded inline, as Gmail writes a forward ('---------- Forwarded message ---------')."""
    return _crlf(
        f"From: Colleague <{by}>\n"
        "To: editor@example.org\n"
        "Subject: Fwd: Undelivered Mail Returned to Sender\n"
        f"Date: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
        "Did you see this one?\n\n"
        "---------- Forwarded message ---------\n"
        "From: Mail Delivery System <MAILER-DAEMON@out1.example.org>\n"
        f"Date: {DATE}\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"To: <{verp(recipient)}>\n\n"
        "This is the mail system at host out1.example.org.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "                   The mail system\n\n"
        f"<{recipient}>: host mx.example.net[198.51.100.7] said: {diagnostic} (in reply to RCPT TO command)\n"
    )


def global_dsn(recipient: str, field: str) -> bytes:
    """RFC 6533's report for mail to an internationalised address: a global delivery status
    part, its recipient fields of type utf-8 holding `field` (the address raw, or with
    "\\x{HHHH}" escapes), and the original's headers as message/global-headers."""
    return _crlf(
        "From: Mail Delivery System <MAILER-DAEMON@out1.example.org>\n"
        f"To: <{verp(recipient)}>\nSubject: Undelivered Mail Returned to Sender\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=global-delivery-status; boundary="g"\n\n'
        "--g\nContent-Type: text/plain; charset=utf-8\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        "--g\nContent-Type: message/global-delivery-status\n\n"
        "Reporting-MTA: dns; out1.example.org\n\n"
        f"Final-Recipient: utf-8; {field}\nOriginal-Recipient: utf-8; {field}\n"
        "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.net\n"
        "Diagnostic-Code: smtp; 550 5.1.1 Recipient address rejected: User unknown\n\n"
        f"--g\nContent-Type: message/global-headers\n\n{original(recipient, body=False)}\n--g--\n"
    )


def plain_notice(recipient: str, subject: str, text: str, *, from_: str) -> bytes:
    """A server's notice in plain text alone (a content filter's, MailScanner's or Proxmox's,
    or a bounce with no status part): to our return path, with a null one, naming the reader
    only in its words."""
    return _crlf(
        f"Return-Path: <>\nFrom: {from_}\nTo: {verp(recipient)}\nSubject: {subject}\n"
        f"Date: {DATE}\nMessage-ID: <notice.4711@mx.example.net>\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{text}\n"
    )


def list_notice(
    address: str,
    text: str,
    *,
    subject: str = "This week: spring issue",
    to: str = SENDER,
    attached: bool = True,
) -> bytes:
    """A mailing list manager's own notice about our post to the list `address` (Mailman's,
    Sympa's, ezmlm's...): from the list's -owner address, to our From (or `to`), our post
    attached as Mailman attaches it."""
    name, _, host = address.partition("@")
    head = (
        f"Return-Path: <{name}-bounces@{host}>\n"
        f"From: {name}-owner@{host}\n"
        f"To: {to}\n"
        f"Subject: {subject}\n"
        f"Date: {DATE}\n"
        f"Message-ID: <notice.4711@{host}>\n"
        "Precedence: bulk\n"
        f"X-BeenThere: {address}\n"
        "X-Mailman-Version: 3.3.9\n"
        f"List-Id: <{name}.{host}>\n"
        "MIME-Version: 1.0\n"
    )
    if not attached:
        return _crlf(head + "Content-Type: text/plain; charset=utf-8\n\n" + text + "\n")
    boundary = "===============4711069423085201939=="
    return _crlf(
        head + f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{original(address)}\n--{boundary}--\n"
    )


def human_reply(author: str, *, text: str = "", display_name: str = "") -> bytes:
    """A person answering the newsletter to its return path: no report, no Auto-Submitted."""
    frm = f"{_encoded(display_name)} <{author}>" if display_name else author
    return _crlf(
        f"From: {frm}\n"
        f"To: {verp(author)}\n"
        f"Subject: Re: This week: spring issue\n"
        f"Date: {DATE}\n"
        f"In-Reply-To: {MESSAGE_ID}\n"
        "Message-ID: <CAF=reply-1234@mail.example.com>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        + (
            text
            or "Thanks for this week's issue, the piece on gardens was lovely.\n\n> Hello, here is this week's issue.\n"
        )
    )


class _Caught(logging.Handler):
    def emit(self, record):
        raise AssertionError(f"classify caught an error of its own: {record.getMessage()}")


def kept_set(name: str) -> tuple[Path, dict[str, dict]]:
    """A set of returned mail kept in tests/data/<name>, and its expected.json: per file the
    kind, reason and recipient (None for a message that fails nobody) its source gives."""
    folder = Path(__file__).parent / "data" / name
    return folder, json.loads((folder / "expected.json").read_text())


def named_as_expected(raw: bytes, want: dict) -> None:
    """The address we mailed named first, with the kind and reason `want` gives; where it was
    forwarded to may follow, judged alike."""
    found = verdicts(raw)
    if want["recipient"] is None:
        assert found == []
        return
    assert found[0] == (want["recipient"], want["kind"], want["reason"])
    assert {(kind, reason) for _, kind, reason in found} == {(want["kind"], want["reason"])}


def verdicts(raw: bytes) -> list[tuple[str, str, str]]:
    """(address, kind, reason) of each recipient classify names."""
    return [(f.address, f.kind, f.reason) for f in classified(raw).recipients]


def classified(raw: bytes):
    """classify, failing when its guard against the unforeseen had to catch anything."""
    log = logging.getLogger("newsletter.bounces.reports")
    handler = _Caught(level=logging.ERROR)
    log.addHandler(handler)
    try:
        return classify(raw)
    finally:
        log.removeHandler(handler)
