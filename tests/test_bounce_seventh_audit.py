"""A seventh audit: returned mail of providers and languages not covered before, each built
after the format its provider or software documents or is publicly quoted in:

- Tencent QQ Mail / Exmail: its help pages' replies (service.mail.qq.com/detail/122/*, as
  Sisimai's Rhost::Tencent lists them); NetEase (163/126) and Coremail's Chinese reports;
- Korean receivers (Naver, Daum/Hanmail) as Korean return-mail guides quote them;
- Yandex, Mail.ru (its own Russian bounce), Seznam's own Czech and English notice
  (napoveda.seznam.cz "Uživatel neexistuje": "Důvod / Reason: 5.1.1 szn; ...");
- GMX and web.de (their German and English replies, GMX's own bounce as Sisimai's
  Lhost::GMX reads it), T-Online, Orange (OFR codes), Libero, Rediffmail, Zoho (Sisimai's
  Rhost::Zoho), Proton, Fastmail, iCloud, Comcast (its postmaster error codes), Cox;
- an Iranian provider's Persian replies; Exchange's NDR whose human-readable part is
  localised (German, French, Spanish, Russian, Japanese, Chinese: "Remote Server returned"
  translated) and arrives without its status part, its subject RFC 2047-encoded;
- RFC 6533 global delivery status reports for an address in Unicode.

Expectations were written before running them (the reason the provider's words give, else its
status code); a "mailbox full" or "disabled" reply is soft whatever its status code says, a
refusal of our mail never counts against the reader.
"""

from __future__ import annotations

import base64
from email.header import Header

import pytest
from bounce_samples import (
    DATE,
    MESSAGE_ID,
    SENDER,
    SENDER_NAME,
    _crlf,
    _encoded,
    classified,
    coremail,
    delivery_status,
    mail_ru,
    netease,
    original,
    postfix,
    report,
    telekom,
    verp,
    zoho,
)

OURS = "This week: spring issue"


def _at(host: str, ip: str = "198.51.100.7") -> str:
    return f"{host}[{ip}]"


# --- Seznam ---------------------------------------------------------------------------------------


def _seznam(recipient: str, reason: str, meaning: str) -> bytes:
    """Seznam's own notice, Czech then English (napoveda.seznam.cz): the reason under
    "Důvod / Reason:", the status and "szn;" before the server's words, RFC 3463's meaning below."""
    return _crlf(
        "Return-Path: <>\nFrom: Mail Delivery System <mailer-daemon@email.cz>\n"
        f"To: {verp(recipient)}\n"
        f"Subject: {_encoded('Nedoručitelná zpráva / Undeliverable message')}\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="szn"\n\n'
        "--szn\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"Vaše zpráva pro <{recipient}> ze dne 14.01.2025 nemohla být doručena.\n"
        "Zpráva je přiložena.\n\n"
        f"You message for <{recipient}> from 2025/01/14 could not be delivered.\n"
        "It's attached below.\n\n"
        "Důvod / Reason:\n---------------\n\n"
        f"{reason}\n\n"
        "Permanentní chyba na straně uživatele.\n"
        f"{meaning}\n\n"
        f"--szn\nContent-Type: message/rfc822\n\n{original(recipient)}\n--szn--\n"
    )


# --- GMX ------------------------------------------------------------------------------------------


def _gmx(recipient: str) -> bytes:
    """GMX's own bounce as Sisimai's Lhost::GMX reads it: the address in angle brackets,
    "Reason:" on a line and the reason under it, the original's header below a marker."""
    return _crlf(
        "Return-Path: <>\nFrom: MAILER-DAEMON@gmx.net\n"
        f"To: {verp(recipient)}\nSubject: Mail delivery failed: returning message to sender\n"
        f"Date: {DATE}\nEnvelope-To: <{verp(recipient)}>\n"
        "X-GMX-Antispam: 0 (Mail was not recognized as spam); Detail=V3;\n"
        "X-GMX-Antivirus: 0 (no virus found)\nX-UI-Out-Filterresults: unknown:0;\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of\n"
        "its recipients. This is a permanent error. The following address\nfailed:\n\n"
        f"<{recipient}>\n\nReason:\ndelivery retry timeout exceeded\n\n"
        "--- The header of the original message is following. ---\n\n"
        + original(recipient, body=False)
    )


# --- Exchange, localised --------------------------------------------------------------------------

# The words Exchange's NDR puts around the address and the remote reply, per language (its
# localised templates: "Remote Server returned '...'" translated)
_EXCHANGE_WORDS = {
    "en": (
        "Undeliverable",
        "Delivery has failed to these recipients or groups:",
        "Diagnostic information for administrators:",
        "Generating server",
        "Remote Server returned '{said}'",
    ),
    "de": (
        "Unzustellbar",
        "Die Nachricht konnte nicht an folgende Empfänger zugestellt werden:",
        "Diagnoseinformationen für Administratoren:",
        "Generierender Server",
        "Remoteserver hat '{said}' zurückgegeben",
    ),
    "fr": (
        "Non remis",
        "Votre message n'a pas pu être remis aux destinataires suivants :",
        "Informations de diagnostic pour les administrateurs :",
        "Serveur de génération",
        "Le serveur distant a retourné '{said}'",
    ),
    "es": (
        "No se puede entregar",
        "No se pudo entregar el mensaje a los siguientes destinatarios:",
        "Información de diagnóstico para administradores:",
        "Servidor de generación",
        "El servidor remoto devolvió '{said}'",
    ),
    "ru": (
        "Не доставлено",
        "Не удалось доставить сообщение следующим получателям:",
        "Диагностические сведения для администраторов:",
        "Сервер создания",
        'Удаленный сервер вернул "{said}"',
    ),
    "ja": (
        "配信不能",
        "次の受信者へのメッセージ配信に失敗しました:",
        "管理者向けの診断情報:",
        "生成元サーバー",
        "リモート サーバーから '{said}' が返されました",
    ),
    "zh": (
        "无法送达",
        "无法将邮件传递给以下收件人:",
        "管理员的诊断信息:",
        "生成服务器",
        "远程服务器返回“{said}”",
    ),
}
_CHARSETS = {"ja": "iso-2022-jp", "zh": "gb2312"}


def _exchange_localised(recipient: str, said: str, language: str, subject: str = OURS) -> bytes:
    return _exchange_many([(recipient, said)], language, subject)


def _exchange_many(failures: list[tuple[str, str]], language: str, subject: str = OURS) -> bytes:
    """Exchange's NDR in the sender's language, its text part alone (a relay dropped the
    status part), the subject an RFC 2047 encoded word; Japanese in ISO-2022-JP, Chinese in
    GB2312 and base64, the rest UTF-8 quoted-printable-free 8bit."""
    prefix, heading, admins, server, returned = _EXCHANGE_WORDS[language]
    recipient = failures[0][0]
    text = (
        f"{heading}\n\n"
        + "".join(f"{address}\n" for address, _ in failures)
        + f"\n{admins}\n\n{server}: DB6PR07MB1234.eurprd07.prod.outlook.com\n\n"
        + "".join(f"{address}\n{returned.format(said=said)}\n\n" for address, said in failures)
        + "\n"
        f"From: {SENDER_NAME} <{SENDER}>\nSubject: {subject}\n"
        f"Message-ID: {MESSAGE_ID}\n"
    )
    charset = _CHARSETS.get(language, "utf-8")
    if language == "zh":
        body = base64.encodebytes(text.replace("\n", "\r\n").encode(charset)).decode("ascii")
        cte = "base64"
    else:
        body, cte = text, ("7bit" if charset == "iso-2022-jp" else "8bit")
    head = (
        "From: postmaster@example.onmicrosoft.com\n"
        f"To: {verp(recipient)}\n"
        f"Subject: {_encoded(prefix + ': ' + subject)}\n"
        f"Date: {DATE}\nMIME-Version: 1.0\nX-MS-Exchange-Message-Is-Ndr: \n"
        f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
    )
    raw = (head + body).replace("\r\n", "\n").replace("\n", "\r\n")
    if charset == "iso-2022-jp":
        return raw.encode(charset)
    return raw.encode("utf-8")


def _exchange_2010_german(recipient: str, said: str) -> bytes:
    """Exchange 2010's NDR in German as its text part reads: the failure list, the
    recipient with the server's words between "#" and "##"."""
    return _crlf(
        "From: Microsoft Exchange <postmaster@firma.example.de>\n"
        f"To: {verp(recipient)}\nSubject: {_encoded('Unzustellbar: This week: spring issue')}\n"
        f"Date: {DATE}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "Die Zustellung an folgende Empfänger oder Gruppen ist fehlgeschlagen:\n\n"
        f"{recipient}\nDas Postfach des Empfängers ist voll, und es können keine Nachrichten"
        " darin gespeichert werden.\n\n"
        "Diagnoseinformationen für Administratoren:\n\n"
        "Generierender Server: EXCH01.firma.example.de\n\n"
        f"{recipient}\n{said}\n\n"
        "Ursprüngliche Nachrichtenkopfzeilen:\n\n" + original(recipient, body=False)
    )


def _postfix_japanese(recipient: str, status: str, said: str) -> bytes:
    """Postfix with a Japanese failure_template (bounce(5): "Charset: iso-2022-jp"): its
    words in ISO-2022-JP, the subject an encoded word, the per-recipient line and the
    RFC 3464 fields as Postfix writes them whatever the template."""
    text = (
        "このメールはメールシステムが自動的に送信しています。\n\n"
        "申し訳ありませんが、次の宛先にメッセージを配信できませんでした。\n\n"
        f"<{recipient}>: host mx.example.jp[198.51.100.7] said: {said} (in reply to RCPT TO"
        " command)\n"
    )
    body = base64.encodebytes(text.replace("\n", "\r\n").encode("iso-2022-jp")).decode()
    rcpt = {
        "address": recipient,
        "status": status,
        "diagnostic": said,
        "remote_mta": "mx.example.jp",
    }
    return report(
        from_="MAILER-DAEMON@out1.example.org (Mail Delivery System)",
        subject=Header("配信不能メール: This week: spring issue", "iso-2022-jp").encode(),
        text=body,
        text_charset="iso-2022-jp",
        text_encoding="base64",
        status_part=delivery_status([rcpt], reporting_mta="dns; out1.example.org"),
        quoted=original(recipient, body=False),
        recipient=recipient,
    )


# Exchange's delay notice, per language: its subject's prefix, its heading, the words that
# say it goes on trying, the administrators' heading and how it quotes the server
_DELAY_WORDS = {
    "en": (
        "Delivery delayed",
        "Delivery is delayed to these recipients or groups:",
        "This message hasn't been delivered yet. Delivery will continue to be attempted.\n\n"
        "The server will keep trying to deliver this message for the next 1 days, 19 hours "
        "and 52 minutes.",
        "Diagnostic information for administrators:",
        "Server at mx.example.net (198.51.100.7) returned '{said}'",
    ),
    "de": (
        "Zustellung verzögert",
        "Die Zustellung an folgende Empfänger oder Gruppen wird verzögert:",
        "Die Nachricht wurde noch nicht zugestellt. Es wird weiterhin versucht, die Nachricht"
        " zuzustellen.\n\nDer Server versucht noch 1 Tage, 19 Stunden und 52 Minuten lang,"
        " die Nachricht zu übermitteln.",
        "Diagnoseinformationen für Administratoren:",
        "Der Server bei mx.example.net (198.51.100.7) hat '{said}' zurückgegeben",
    ),
    "fr": (
        "Remise différée",
        "La remise aux destinataires ou groupes suivants est retardée :",
        "Ce message n'a pas encore été remis. Nous allons continuer à essayer de le remettre."
        "\n\nLe serveur va continuer à essayer de remettre ce message pendant 1 jours, 19"
        " heures et 52 minutes.",
        "Informations de diagnostic pour les administrateurs :",
        "Le serveur mx.example.net (198.51.100.7) a retourné '{said}'",
    ),
    "es": (
        "Entrega retrasada",
        "Se retrasó la entrega a estos destinatarios o grupos:",
        "Este mensaje todavía no se ha entregado. Se seguirá intentando la entrega.\n\n"
        "El servidor seguirá intentando entregar este mensaje durante los próximos 1 días,"
        " 19 horas y 52 minutos.",
        "Información de diagnóstico para administradores:",
        "El servidor en mx.example.net (198.51.100.7) devolvió '{said}'",
    ),
}
DELAYED_SAID = (
    '451 4.4.0 Primary target IP address responded with: "421 4.4.2 mx.example.net Error:'
    ' timeout exceeded."'
)


def _exchange_delay(recipient: str, language: str) -> bytes:
    """Exchange's delay notice (4.4.7 "Message delayed", then the last reply) in the
    sender's language, its text alone."""
    prefix, heading, still, admins, returned = _DELAY_WORDS[language]
    text = (
        f"{heading}\n\n{recipient}\n\nSubject: This week: spring issue\n\n{still}\n\n"
        f"{admins}\n\nGenerating server: DB6PR07MB1234.eurprd07.prod.outlook.com\n\n"
        f"{recipient}\n{returned.format(said='400 4.4.7 Message delayed')}\n"
        f"{returned.format(said=DELAYED_SAID)}\n\nOriginal message headers:\n\n"
        f"From: {SENDER_NAME} <{SENDER}>\nSubject: This week: spring issue\n"
        f"Message-ID: {MESSAGE_ID}\n"
    )
    return _crlf(
        f"From: postmaster@example.onmicrosoft.com\nTo: {verp(recipient)}\n"
        f"Subject: {_encoded(prefix + ': This week: spring issue')}\nDate: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n" + text
    )


# --- Persian --------------------------------------------------------------------------------------


PERSIAN_MARKER = "------ رونوشت پیام اصلی ------\n\n"


def _persian_notice(
    recipient: str, said: str, marker: str = PERSIAN_MARKER, subject: str = OURS
) -> bytes:
    return _persian_many([(recipient, said)], marker, subject)


def _persian_many(
    failures: list[tuple[str, str]], marker: str = PERSIAN_MARKER, subject: str = OURS
) -> bytes:
    """An Iranian provider's own notice in Persian alone, no status part: the address, then
    the server's reply on the next line; our message below `marker` (its words for "copy of
    the original message"; none, and our headers follow at once)."""
    text = (
        "این پیام به صورت خودکار توسط سامانه پست الکترونیک ارسال شده است.\n\n"
        f"موضوع: {subject}\n\n"
        "متأسفانه پیام شما به گیرنده زیر تحویل داده نشد:\n\n"
        + "".join(f"  {address}\n    {said}\n\n" for address, said in failures)
        + marker
    )
    recipient = failures[0][0]
    return _crlf(
        "Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.chmail.ir>\n"
        f"To: {verp(recipient)}\nSubject: {_encoded('پیام تحویل داده نشد: ' + subject)}\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        + text
        + original(recipient, subject=_encoded(subject))
    )


# --- RFC 6533 -------------------------------------------------------------------------------------


def _global(recipient: str, status: str, said: str, action: str = "failed") -> bytes:
    """RFC 6533's report for an internationalised address: recipient fields of type utf-8,
    message/global-delivery-status, the original's headers as message/global-headers."""
    retry = "Will-Retry-Until: Tue, 21 Jan 2025 09:30:12 +0000\n" if action == "delayed" else ""
    return _crlf(
        "From: Mail Delivery System <MAILER-DAEMON@out1.example.org>\n"
        f"To: <{verp(recipient)}>\nSubject: {_encoded('Undelivered Mail Returned to Sender')}\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=global-delivery-status; boundary="g"\n\n'
        "--g\nContent-Type: text/plain; charset=utf-8\n\n"
        f"Your message could not be delivered to <{recipient}>.\n\n"
        "--g\nContent-Type: message/global-delivery-status\n\n"
        "Reporting-MTA: dns; out1.example.org\n\n"
        f"Original-Recipient: utf-8; {recipient}\nFinal-Recipient: utf-8; {recipient}\n"
        f"Action: {action}\nStatus: {status}\nRemote-MTA: dns; mx.example.net\n"
        f"Diagnostic-Code: smtp; {said}\n{retry}\n"
        f"--g\nContent-Type: message/global-headers\n\n{original(recipient, body=False)}\n--g--\n"
    )


QQ = "reader@qq.com"
EXMAIL = "reader@company-exmail.example.cn"
NAVER = "reader@naver.com"
HANMAIL = "reader@hanmail.net"
YANDEX = "reader@yandex.ru"
MAILRU = "reader@mail.ru"
SEZNAM = "reader@seznam.cz"
WEBDE = "reader@web.de"
GMX = "reader@gmx.de"
ORANGE = "reader@orange.fr"
ZOHO = "reader@zoho.eu"
CHMAIL = "reader@chmail.ir"
UNICODE = "读者@例子.中国"
CZ = "ctenar@firma.example.cz"
INTERIA = "czytelnik@interia.pl"

CASES = [
    # --- Tencent QQ / Exmail
    (
        "qq-content-denied",
        lambda: postfix(
            QQ,
            "5.0.0",
            "550 Mail content denied. https://service.mail.qq.com/detail/122/171",
            remote=_at("mx3.qq.com"),
            in_reply_to="end of DATA",
        ),
        [(QQ, "sender", "spam")],
    ),
    (
        "qq-mailbox-not-found",
        lambda: postfix(
            QQ,
            "5.0.0",
            "550 Mailbox not found. https://service.mail.qq.com/detail/122/169",
            remote=_at("mx3.qq.com"),
        ),
        [(QQ, "hard", "user_unknown")],
    ),
    (
        "exmail-deactivated",
        lambda: postfix(
            EXMAIL, "5.0.0", f"550 {EXMAIL} is a deactivated mailbox", remote=_at("mxbiz1.qq.com")
        ),
        [(EXMAIL, "soft", "mailbox_disabled")],
    ),
    (
        "qq-domain-frequency",
        lambda: postfix(
            QQ,
            "5.0.0",
            "550 Domain frequency limited. https://service.mail.qq.com/detail/122/173",
            remote=_at("mx3.qq.com"),
        ),
        [(QQ, "sender", "too_many_connections")],
    ),
    (
        "qq-spf-failed",
        lambda: postfix(
            QQ,
            "5.7.1",
            "550 SPF check failed. https://service.mail.qq.com/detail/122/72",
            remote=_at("mx3.qq.com"),
            in_reply_to="end of DATA",
        ),
        [(QQ, "sender", "auth_failure")],
    ),
    # --- NetEase, Coremail, Sina
    (
        "netease-user-suspended",
        lambda: netease("reader@163.com", "550 User suspended"),
        [("reader@163.com", "soft", "mailbox_disabled")],
    ),
    (
        "netease-spf",
        lambda: netease("reader@126.com", "550 MI:SPF mx14,QsCowADnb1Fd0oZn: spf check failed"),
        [("reader@126.com", "sender", "auth_failure")],
    ),
    (
        "coremail-sender-blacklisted",
        lambda: coremail(
            "reader@corp.example.cn", "发件人在收件人的黑名单中", "550 User in blacklist"
        ),
        [("reader@corp.example.cn", "sender", "blocked")],
    ),
    (
        "sina-mailbox-size",
        lambda: postfix(
            "reader@sina.com",
            "5.2.2",
            "552 5.2.2 Mailbox size limit exceeded",
            remote=_at("freemx1.sinamail.sina.com.cn"),
        ),
        [("reader@sina.com", "soft", "mailbox_full")],
    ),
    # --- Naver, Daum
    (
        "naver-inactive-mbox",
        lambda: postfix(NAVER, "5.1.1", "550 5.1.1 Inactive mbox", remote=_at("mx1.naver.com")),
        [(NAVER, "soft", "mailbox_disabled")],
    ),
    (
        "daum-suspended-user",
        lambda: postfix(
            HANMAIL, "5.1.1", "550 5.1.1 Suspended user", remote=_at("mx1.hanmail.net")
        ),
        [(HANMAIL, "soft", "mailbox_disabled")],
    ),
    (
        "daum-spam-filter",
        lambda: postfix(
            HANMAIL,
            "5.0.0",
            "554 5.0.0 Service unavailable (reader: mail is denied, by spam filter)",
            remote=_at("mx1.hanmail.net"),
            in_reply_to="end of DATA",
        ),
        [(HANMAIL, "sender", "spam")],
    ),
    (
        "daum-user-reject-list",
        lambda: postfix(
            HANMAIL,
            "5.0.0",
            "550 You are registered as spammer (by user's reject list)",
            remote=_at("mx1.hanmail.net"),
        ),
        [(HANMAIL, "sender", "spam")],
    ),
    # --- Yandex, Mail.ru, Seznam
    (
        "yandex-no-such-user",
        lambda: postfix(YANDEX, "5.7.1", "550 5.7.1 No such user!", remote=_at("mx.yandex.ru")),
        [(YANDEX, "hard", "user_unknown")],
    ),
    (
        "yandex-spam",
        lambda: postfix(
            YANDEX,
            "5.7.1",
            "554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc "
            "1736847012-abcdEF12",
            remote=_at("mx.yandex.ru"),
            in_reply_to="end of DATA",
        ),
        [(YANDEX, "sender", "spam")],
    ),
    (
        "mailru-user-not-found",
        lambda: mail_ru(
            MAILRU,
            f"550 Message was not accepted -- invalid mailbox.  Local mailbox {MAILRU} is "
            "unavailable: user not found",
        ),
        [(MAILRU, "hard", "user_unknown")],
    ),
    (
        "mailru-user-terminated",
        lambda: mail_ru(
            MAILRU,
            f"550 Message was not accepted -- invalid mailbox.  Local mailbox {MAILRU} is "
            "unavailable: user is terminated",
        ),
        [(MAILRU, "soft", "mailbox_disabled")],
    ),
    (
        "mailru-spam",
        lambda: mail_ru(
            MAILRU,
            "550 spam message rejected. Please visit "
            "https://help.mail.ru/notspam-support/id?c=AbCdEf or report details to "
            "abuse@corp.mail.ru. Error code: 1A2B3C. ID: 0000000A.",
        ),
        [(MAILRU, "sender", "spam")],
    ),
    (
        "mailru-dmarc",
        lambda: postfix(
            MAILRU,
            "5.7.1",
            "550 5.7.1 This message was not accepted due to domain owner DMARC policy (RFC 7489) https://help.mail.ru/mail-help/postmaster/dmarc",
            remote=_at("mxs.mail.ru"),
            in_reply_to="end of DATA",
        ),
        [(MAILRU, "sender", "auth_failure")],
    ),
    (
        "seznam-user-unknown",
        lambda: _seznam(
            SEZNAM,
            "5.1.1 szn; User hasn't got the service mapped",
            "Permanent Failure - Bad destination mailbox address",
        ),
        [(SEZNAM, "hard", "user_unknown")],
    ),
    (
        "seznam-mailbox-full",
        lambda: _seznam(SEZNAM, "5.2.2 szn; Mailbox is full", "Permanent Failure - Mailbox full"),
        [(SEZNAM, "soft", "mailbox_full")],
    ),
    (
        "yandex-policy-rejection-blocked-account",
        lambda: postfix(
            YANDEX,
            "5.7.1",
            "554 5.7.1 Policy rejection on the target address",
            remote=_at("mx.yandex.ru"),
        ),
        [(YANDEX, "soft", "mailbox_disabled")],
    ),
    (
        "yandex-disk-quota",
        lambda: postfix(
            YANDEX,
            "5.2.2",
            "552 5.2.2 Error writing message: Disk quota exceeded",
            remote=_at("mx.yandex.ru"),
            in_reply_to="end of DATA",
        ),
        [(YANDEX, "soft", "mailbox_full")],
    ),
    # --- Czech and Polish hosts (Forpsi's chkuser replies, Interia's help page)
    (
        "forpsi-chkuser-full-5.1.1",
        lambda: postfix(
            CZ,
            "5.1.1",
            "552 5.1.1 5.2.2 sorry, final recipient mailbox is full (chkuser)",
            remote=_at("mx.forpsi.com"),
        ),
        [(CZ, "soft", "mailbox_full")],
    ),
    (
        "forpsi-sender-blacklisted-5.1.1",
        lambda: postfix(
            CZ, "5.1.1", f"550 5.1.1 <{SENDER}> sender is blacklisted", remote=_at("mx.forpsi.com")
        ),
        [(CZ, "sender", "sender_rejected")],
    ),
    (
        "forpsi-spam-detected",
        lambda: postfix(
            CZ,
            "5.2.0",
            "552 5.2.0 0biL1i00V1cmcpM01biL4w spam detected",
            remote=_at("mx.forpsi.com"),
            in_reply_to="end of DATA",
        ),
        [(CZ, "sender", "spam")],
    ),
    (
        "forpsi-blocked-by-spf-5.1.0",
        lambda: postfix(
            CZ,
            "5.1.0",
            "550 5.1.0 0bcW1i00G0jifNx01bcmHa blocked by SPF",
            remote=_at("mx.forpsi.com"),
            in_reply_to="end of DATA",
        ),
        [(CZ, "sender", "auth_failure")],
    ),
    (
        "interia-does-not-want-mail",
        lambda: postfix(
            INTERIA,
            "5.7.1",
            "550 5.7.1 Recipient doesn't want your mail",
            remote=_at("mx.poczta.interia.pl"),
        ),
        [(INTERIA, "sender", "filtered")],
    ),
    (
        "interia-account-not-found",
        lambda: postfix(
            INTERIA, "5.1.1", "550 5.1.1 Account not found", remote=_at("mx.poczta.interia.pl")
        ),
        [(INTERIA, "hard", "user_unknown")],
    ),
    # --- GMX, web.de, T-Online
    (
        "webde-storage-exhausted",
        lambda: postfix(
            WEBDE,
            "5.0.0",
            "550 Benutzer hat das Speichervolumen ueberschritten. / User has exhausted allowed "
            "storage space.",
            remote=_at("mx-ha01.web.de"),
        ),
        [(WEBDE, "soft", "mailbox_full")],
    ),
    (
        "webde-user-unknown",
        lambda: postfix(
            WEBDE, "5.0.0", "550 Benutzer nicht bekannt/User unknown", remote=_at("mx-ha01.web.de")
        ),
        [(WEBDE, "hard", "user_unknown")],
    ),
    (
        "webde-too-many-messages",
        lambda: postfix(
            WEBDE,
            "5.0.0",
            "550 Benutzer hat zuviele Mails auf dem Server. / User has too many messages on the "
            "server.",
            remote=_at("mx-ha01.web.de"),
        ),
        [(WEBDE, "soft", "mailbox_full")],
    ),
    (
        "gmx-mailbox-unavailable",
        lambda: postfix(
            GMX,
            "5.0.0",
            f"550 <{GMX}>: Requested action not taken: mailbox unavailable",
            remote=_at("mx00.emig.gmx.net"),
        ),
        [(GMX, "hard", "user_unknown")],
    ),
    (
        "gmx-user-inactive",
        lambda: postfix(
            GMX, "5.2.1", f"550 5.2.1 <{GMX}>... User is inactive", remote=_at("mx00.emig.gmx.net")
        ),
        [(GMX, "soft", "mailbox_disabled")],
    ),
    (
        "webde-unknown-local-part",
        lambda: postfix(
            WEBDE,
            "5.0.0",
            f"550 Unknown local part reader in <{WEBDE}>",
            remote=_at("mx-ha01.web.de"),
        ),
        [(WEBDE, "hard", "user_unknown")],
    ),
    ("gmx-retry-timeout", lambda: _gmx(GMX), [(GMX, "soft", "expired")]),
    (
        "telekom-two-recipients",
        lambda: telekom(
            [
                ("eins@t-online.de", "550 5.1.1 <eins@t-online.de>: user unknown"),
                ("zwei@t-online.de", "552 5.2.2 Over STORAGE quota"),
            ]
        ),
        [
            ("eins@t-online.de", "hard", "user_unknown"),
            ("zwei@t-online.de", "soft", "mailbox_full"),
        ],
    ),
    (
        "telekom-blocked",
        lambda: telekom(
            [
                (
                    "drei@t-online.de",
                    "554 IP=192.0.2.25 - A problem occurred. (Ask your postmaster for help or "
                    "to contact tosa@rx.t-online.de to clarify.) (BL)",
                )
            ]
        ),
        [("drei@t-online.de", "sender", "blocked")],
    ),
    # --- Orange, Libero, Rediffmail
    (
        "orange-invalid-recipient",
        lambda: postfix(
            ORANGE,
            "5.1.1",
            f"550 5.1.1 <{ORANGE}>: Recipient address rejected: Adresse d au moins un "
            "destinataire invalide. Invalid recipient. OFR_416 [416]",
            remote=_at("smtp-in.orange.fr"),
        ),
        [(ORANGE, "hard", "user_unknown")],
    ),
    (
        "orange-overquota-5.1.1",
        lambda: postfix(
            ORANGE,
            "5.1.1",
            f"552 5.1.1 <{ORANGE}>: Recipient address rejected: Boite du destinataire pleine. "
            "Recipient overquota. OFR_417 [417]",
            remote=_at("smtp-in.orange.fr"),
        ),
        [(ORANGE, "soft", "mailbox_full")],
    ),
    (
        "libero-quota",
        lambda: postfix(
            "reader@libero.it",
            "5.2.2",
            "552 5.2.2 <reader@libero.it> User quota exceeded",
            remote=_at("smtp-in.libero.it"),
        ),
        [("reader@libero.it", "soft", "mailbox_full")],
    ),
    (
        "rediff-content-filter",
        lambda: postfix(
            "reader@rediffmail.com",
            "5.7.1",
            "554 5.7.1 Message rejected as spam by Content Filtering.",
            remote=_at("mx.rediffmail.rediff.akadns.net"),
            in_reply_to="end of DATA",
        ),
        [("reader@rediffmail.com", "sender", "spam")],
    ),
    # --- Zoho EU, Proton, Fastmail, iCloud
    (
        "zoho-user-does-not-exist",
        lambda: zoho(ZOHO, f"550 5.1.1 User does not exist - <{ZOHO}>"),
        [(ZOHO, "hard", "user_unknown")],
    ),
    (
        "zoho-flagged-spam",
        lambda: postfix(
            ZOHO,
            "5.7.1",
            "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.",
            remote=_at("mx.zoho.eu"),
        ),
        [(ZOHO, "sender", "spam")],
    ),
    (
        "zoho-rejected-by-domain",
        lambda: postfix(
            ZOHO, "5.4.1", "541 5.4.1 Mail rejected by destination domain", remote=_at("mx.zoho.eu")
        ),
        [(ZOHO, "sender", "sender_rejected")],
    ),
    (
        "zoho-delivery-failure-policy",
        lambda: postfix(
            ZOHO,
            "5.1.1",
            f"552 5.1.1 <{ZOHO}> Mailbox delivery failure policy error",
            remote=_at("mx.zoho.eu"),
        ),
        [(ZOHO, "hard", "user_unknown")],
    ),
    (
        "proton-mailbox-full",
        lambda: postfix(
            "reader@proton.me",
            "5.2.2",
            "552 5.2.2 <reader@proton.me>: Recipient address rejected: mailbox is full",
            remote=_at("mail.protonmail.ch"),
        ),
        [("reader@proton.me", "soft", "mailbox_full")],
    ),
    (
        "fastmail-locked",
        lambda: postfix(
            "reader@fastmail.com",
            "5.2.1",
            "550 5.2.1 <reader@fastmail.com>: account locked for abuse or overuse",
            remote=_at("in1-smtp.messagingengine.com"),
        ),
        [("reader@fastmail.com", "soft", "mailbox_disabled")],
    ),
    (
        "icloud-over-quota",
        lambda: postfix(
            "reader@icloud.com",
            "5.2.2",
            "552 5.2.2 <reader@icloud.com>: user is over quota",
            remote=_at("mx01.mail.icloud.com"),
        ),
        [("reader@icloud.com", "soft", "mailbox_full")],
    ),
    # --- Comcast, Cox
    (
        "comcast-not-our-customer",
        lambda: postfix(
            "reader@comcast.net",
            "5.1.1",
            "550 5.1.1 <reader@comcast.net> Not our Customer",
            remote=_at("mx1.comcast.net"),
        ),
        [("reader@comcast.net", "hard", "user_unknown")],
    ),
    (
        "comcast-dnsbl",
        lambda: postfix(
            "reader@comcast.net",
            "5.7.1",
            "554 5.7.1 192.0.2.25 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001",
            remote=_at("mx1.comcast.net"),
            in_reply_to="greeting",
        ),
        [("reader@comcast.net", "sender", "blocked")],
    ),
    (
        "cox-recipient-rejected",
        lambda: postfix(
            "reader@cox.net",
            "5.1.1",
            "550 5.1.1 <reader@cox.net> recipient rejected",
            remote=_at("cxr.mx.a.cloudfilter.net"),
        ),
        [("reader@cox.net", "hard", "user_unknown")],
    ),
    # --- Persian
    (
        "chmail-persian-no-recipient",
        lambda: postfix(
            CHMAIL,
            "5.1.1",
            f"550 5.1.1 <{CHMAIL}>: نشانی گیرنده وجود ندارد",
            remote=_at("mx.chmail.ir"),
        ),
        [(CHMAIL, "hard", "user_unknown")],
    ),
    (
        "chmail-persian-full-text-only",
        lambda: _persian_notice(CHMAIL, "552 صندوق پستی گیرنده پر است"),
        [(CHMAIL, "soft", "mailbox_full")],
    ),
    (
        "chmail-persian-user-not-found",
        lambda: _persian_notice(CHMAIL, "550 کاربر مورد نظر یافت نشد"),
        [(CHMAIL, "soft", "user_unknown")],
    ),
    # --- Exchange, localised, no status part
    (
        "exchange-de-mailbox-full",
        lambda: _exchange_localised("leser@firma.example.de", "552 5.2.2 mailbox full", "de"),
        [("leser@firma.example.de", "soft", "mailbox_full")],
    ),
    (
        "exchange-fr-not-found",
        lambda: _exchange_localised(
            "lecteur@societe.example.fr", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "fr"
        ),
        [("lecteur@societe.example.fr", "hard", "user_unknown")],
    ),
    (
        "exchange-es-spam",
        lambda: _exchange_localised(
            "lector@empresa.example.es", "550 5.7.1 Message rejected as spam", "es"
        ),
        [("lector@empresa.example.es", "sender", "spam")],
    ),
    (
        "exchange-ru-dmarc",
        lambda: _exchange_localised(
            "chitatel@kompaniya.example.ru",
            "550 5.7.26 Unauthenticated email from example.org is not accepted due to domain's "
            "DMARC policy",
            "ru",
        ),
        [("chitatel@kompaniya.example.ru", "sender", "auth_failure")],
    ),
    (
        "exchange-ja-user-unknown",
        lambda: _exchange_localised("dokusha@kaisha.example.jp", "550 5.1.1 User unknown", "ja"),
        [("dokusha@kaisha.example.jp", "hard", "user_unknown")],
    ),
    (
        "exchange-zh-mailbox-full",
        lambda: _exchange_localised("duzhe@gongsi.example.cn", "552 5.2.2 mailbox full", "zh"),
        [("duzhe@gongsi.example.cn", "soft", "mailbox_full")],
    ),
    (
        "exchange-de-two-recipients",
        lambda: _exchange_many(
            [
                ("eins@firma.example.de", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
                ("zwei@firma.example.de", "552 5.2.2 STOREDRV.Deliver: mailbox full"),
            ],
            "de",
        ),
        [
            ("eins@firma.example.de", "hard", "user_unknown"),
            ("zwei@firma.example.de", "soft", "mailbox_full"),
        ],
    ),
    (
        "exchange-en-two-recipients",
        lambda: _exchange_many(
            [
                ("one@corp.example.com", "552 5.2.2 STOREDRV.Deliver: mailbox full"),
                ("two@corp.example.com", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
            ],
            "en",
        ),
        [
            ("one@corp.example.com", "soft", "mailbox_full"),
            ("two@corp.example.com", "hard", "user_unknown"),
        ],
    ),
    (
        "exchange-ja-two-recipients",
        lambda: _exchange_many(
            [
                ("ichi@kaisha.example.jp", "550 5.1.1 User unknown"),
                ("ni@kaisha.example.jp", "550 5.7.1 Message rejected as spam"),
            ],
            "ja",
        ),
        [
            ("ichi@kaisha.example.jp", "hard", "user_unknown"),
            ("ni@kaisha.example.jp", "sender", "spam"),
        ],
    ),
    (
        "exchange-2010-de-mailbox-full",
        lambda: _exchange_2010_german("leser@firma.example.de", "#550 5.2.2 mailbox full ##"),
        [("leser@firma.example.de", "soft", "mailbox_full")],
    ),
    (
        "postfix-japanese-template",
        lambda: _postfix_japanese(
            "dokusha@example.jp",
            "5.2.2",
            "552 5.2.2 <dokusha@example.jp>: Recipient address rejected: Mailbox full",
        ),
        [("dokusha@example.jp", "soft", "mailbox_full")],
    ),
    (
        "persian-two-recipients",
        lambda: _persian_many(
            [
                (
                    "yek@chmail.ir",
                    "550 5.1.1 <yek@chmail.ir>: Recipient address rejected: User unknown",
                ),
                ("do@chmail.ir", "552 5.2.2 صندوق پستی پر است"),
            ]
        ),
        [("yek@chmail.ir", "hard", "user_unknown"), ("do@chmail.ir", "soft", "mailbox_full")],
    ),
    (
        "netease-dt-spm",
        lambda: netease(
            "reader@163.com",
            "554 DT:SPM 163 mx14,QsCowADnb1Fd0oZn: spam, please see http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.25",
        ),
        [("reader@163.com", "sender", "spam")],
    ),
    (
        "mailru-account-disabled",
        lambda: mail_ru(
            MAILRU,
            f"550 Message was not accepted -- invalid mailbox.  Local mailbox {MAILRU} is "
            "unavailable: account is disabled",
        ),
        [(MAILRU, "soft", "mailbox_disabled")],
    ),
    # --- our subject says what a server might: it is ours, not the server's words
    (
        "exchange-zh-our-subject-says-full",
        lambda: _exchange_localised(
            "duzhe@gongsi.example.cn", "550 5.1.1 User unknown", "zh", subject="您的邮箱已满？"
        ),
        [("duzhe@gongsi.example.cn", "hard", "user_unknown")],
    ),
    (
        "persian-our-subject-says-full",
        lambda: _persian_notice(
            CHMAIL,
            f"550 5.1.1 <{CHMAIL}>: Recipient address rejected: User unknown",
            subject="صندوق پستی پر است؟ راهنمای ما",
        ),
        [(CHMAIL, "hard", "user_unknown")],
    ),
    # --- Exchange's delay notices: still queued, whatever the language
    *(
        (
            f"exchange-delay-{language}",
            lambda language=language: _exchange_delay("leser@firma.example.de", language),
            [("leser@firma.example.de", "soft", "delayed")],
        )
        for language in _DELAY_WORDS
    ),
    # --- RFC 6533
    (
        "global-dsn-chinese-words-full",
        lambda: _global(UNICODE, "5.0.0", "550 收件人邮箱空间已满"),
        [(UNICODE, "soft", "mailbox_full")],
    ),
    (
        "global-dsn-japanese-unknown",
        lambda: _global("読者@例え.日本", "5.1.1", "550 5.1.1 ユーザーが存在しません"),
        [("読者@例え.日本", "hard", "user_unknown")],
    ),
    (
        "global-dsn-mailbox-full",
        lambda: _global(UNICODE, "5.2.2", "552 5.2.2 Mailbox full"),
        [(UNICODE, "soft", "mailbox_full")],
    ),
    (
        "global-dsn-delayed",
        lambda: _global(UNICODE, "4.4.1", "Connection timed out", action="delayed"),
        [(UNICODE, "soft", "delayed")],
    ),
]


@pytest.mark.parametrize(
    "build, want", [pytest.param(build, want, id=name) for name, build, want in CASES]
)
def test_seventh_audit(build, want):
    verdict = classified(build())
    found = [(f.address, f.kind, f.reason) for f in verdict.recipients]
    assert found == want, verdict.as_json("raw")
    assert verdict.kind == min((k for _, k, _ in want), key=("hard", "soft", "sender").index)


@pytest.mark.parametrize(
    "marker",
    [
        pytest.param(PERSIAN_MARKER, id="persian-marker"),
        pytest.param("------ Ursprüngliche Nachricht ------\n\n", id="german-marker"),
        pytest.param("-----Message d'origine-----\n", id="french-marker"),
        pytest.param("", id="no-marker-headers-at-once"),
    ],
)
def test_server_words_end_where_our_message_begins(marker):
    """The words kept as what the server said stop at our quoted message, whatever language
    its separator is in, or with none: not our return path, not our Received line."""
    said = "552 صندوق پستی گیرنده پر است"
    (failure,) = classified(_persian_notice(CHMAIL, said, marker)).recipients
    assert failure.diagnostic == f"{CHMAIL} {said}"
