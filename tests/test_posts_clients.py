"""Posts by email as mail programs really write them: Gmail, Outlook, Apple Mail, Thunderbird,
signed mail and the odd shapes around them, in Persian (with Arabic, Japanese and emoji), each
a whole raw message through the real `bounces serve`."""

# ruff: noqa: E501 - messages and their expectations are quoted whole, as programs write them

from __future__ import annotations

import base64
import hashlib
import quopri
import smtplib
import struct
from email.header import Header

import pytest
import sqlalchemy as sa
from bounce_mail import INBOUND_MX, POSTS
from hypothesis import assume, given
from hypothesis import strategies as st

from newsletter.extensions import db
from newsletter.models import HeldPost, Post

MX = INBOUND_MX
EDITOR = "Maryam Ahmadi <maryam@example.org>"
FA = "https://example.org/fa/"


# --- Writing MIME by hand, so each message has exactly its program's shape -----------------

QP = "quoted-printable"


def ew(text: str, charset: str = "utf-8") -> str:
    return Header(text, charset).encode(linesep="\n")


def encode(text: str, cte: str, charset: str = "utf-8") -> str:
    data = text.encode(charset)
    return (base64.encodebytes if cte == "base64" else quopri.encodestring)(data).decode()


def part(ctype: str, body: str, cte: str = "8bit", extra: str = "") -> str:
    return f"Content-Type: {ctype}\nContent-Transfer-Encoding: {cte}\n{extra}\n{body}"


def multi(subtype: str, boundary: str, *parts: str, params: str = "") -> str:
    inner = "".join(f"--{boundary}\n{p.rstrip()}\n" for p in parts)
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}\n\n{inner}--{boundary}--\n'


def message(subject: str, entity: str, sender: str = EDITOR, lf: bool = False) -> bytes:
    key = hashlib.sha256(entity.encode()).hexdigest()[:20]
    raw = (
        f"Authentication-Results: {MX}; dkim=pass header.d=example.org\nFrom: {sender}\nTo: {POSTS}\nSubject: {subject}\n"
        f"Date: Mon, 07 Dec 2026 10:00:00 +0330\nMessage-ID: <{key}@example.org>\nMIME-Version: 1.0\n{entity}"
    ).encode()
    return raw if lf else raw.replace(b"\n", b"\r\n")


def plain(body: str, params: str = "", cte: str = "8bit") -> str:
    body = body if cte == "8bit" else encode(body, cte)
    return part(f"text/plain; charset=UTF-8{params}", body, cte)


def alternative(text: str, html: str, boundary: str, cte: str = "base64", cs: str = "UTF-8") -> str:
    text_part = part(f'text/plain; charset="{cs}"', encode(text, cte, cs), cte)
    html_part = part(f'text/html; charset="{cs}"', encode(html, cte, cs), cte)
    return multi("alternative", boundary, text_part, html_part)


def attached(ctype: str, body: bytes, disposition: str, cte: str = "base64") -> str:
    data = base64.encodebytes(body).decode() if cte == "base64" else body.decode()
    return part(ctype, data, cte, f"Content-Disposition: {disposition}\n")


# --- The messages ---------------------------------------------------------------------------


def gmail_rtl_base64() -> bytes:
    """Gmail web: multipart/alternative, base64 UTF-8, div dir=rtl, "-- " signature (Gmail's sent source)."""
    text = f"سلام دوستان،\nگزارش تازه‌ی ما درباره‌ی کم‌آبی در اصفهان منتشر شد:\n{FA}water-report\n\n-- \nمریم احمدی\nدبیر خبرنامه\n"
    html = (
        '<div dir="rtl">سلام دوستان،<div>گزارش تازه‌ی ما درباره‌ی کم‌آبی در اصفهان منتشر شد:</div>'
        f'<div><a href="{FA}water-report">{FA}water-report</a></div></div><br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br>'
        '<div dir="rtl" class="gmail_signature">مریم احمدی<br>دبیر خبرنامه</div>\n'
    )
    body = alternative(text, html, "000000000000a1b2c3")
    sender = f"{ew('مریم احمدی')} <maryam@example.org>"
    return message(ew("گزارش تازه درباره‌ی کم‌آبی 💧"), body, sender)


def gmail_qp_query_link() -> bytes:
    """Gmail app: dir=auto, quoted-printable, a link with a query string (HTML writes & as &amp;)."""
    url = f"{FA}story?id=42&lang=fa"
    text = f"This one is worth reading / این یکی خواندنی است:\n{url}\n"
    html = f'<div dir="auto">This one is worth reading / این یکی خواندنی است:<div dir="auto"><a href="{url.replace("&", "&amp;")}">{url.replace("&", "&amp;")}</a></div></div>\n'
    body = alternative(text, html, "000000000000d4e5f6", QP)
    return message(ew("Weekly pick: صدای زنان افغانستان"), body)


def gmail_forward_newsletter() -> bytes:
    """Gmail "---------- Forwarded message ---------" (crisp-oss/email-forward-parser gmail_en_body), signature above it."""
    article = f"{FA}sanctions-medicine"
    text = (
        "این را برای شماره‌ی این هفته پیشنهاد می‌کنم.\n\n-- \nمریم احمدی\nhttps://maryam.example.org\n\n"
        "---------- Forwarded message ---------\nFrom: Ana Lima <ana.lima@example.net>\nDate: Mon, Nov 30, 2026 at 10:02 AM\nSubject: خبرنامه‌ی هفته: تحریم و دارو\n"
        f"To: <maryam@example.org>\n\n\nتحریم‌ها دارو را از بیماران دور می‌کنند، گزارش تازه نشان می‌دهد.\nبیشتر بخوانید <{article}>\n"
    )
    html = (
        '<div dir="rtl">این را برای شماره‌ی این هفته پیشنهاد می‌کنم.<br clear="all"><div><br></div>'
        '<span class="gmail_signature_prefix">-- </span><br><div dir="rtl" class="gmail_signature">'
        'مریم احمدی<br><a href="https://maryam.example.org">https://maryam.example.org</a></div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message '
        '---------<br>From: <strong class="gmail_sendername" dir="auto">Ana Lima</strong> '
        '<span dir="auto">&lt;<a href="mailto:ana.lima@example.net">ana.lima@example.net</a>&gt;'
        "</span><br>Date: Mon, Nov 30, 2026 at 10:02 AM<br>Subject: خبرنامه‌ی هفته: تحریم و دارو<br>"
        'To: &lt;<a href="mailto:maryam@example.org">maryam@example.org</a>&gt;<br></div><br><br>'
        f'<div dir="rtl">تحریم‌ها دارو را از بیماران دور می‌کنند، گزارش تازه نشان می‌دهد.<br><a href="{article}">بیشتر بخوانید</a></div></div></div>\n'
    )
    body = alternative(text, html, "000000000000f0f1f2")
    return message(ew("Fwd: خبرنامه‌ی هفته: تحریم و دارو"), body)


def outlook_1256_mso() -> bytes:
    """Outlook desktop: windows-1256 QP text + Word HTML with mso conditional comments and <o:p>."""
    text = f"همکاران گرامي،\nگزارش تازه‌ي مرکز آمار درباره‌ي بازار کار زنان منتشر شد.\nتقرير جديد عن سوق العمل.\n{FA}labour\n\nبا احترام\nرضا\n"
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv=Content-Type '
        'content="text/html; charset=windows-1256"><style><!--\np.MsoNormal {margin:0cm; font-family:"Calibri",sans-serif;}\n--></style><!--[if gte mso 9]><xml>\n'
        '<o:shapedefaults v:ext="edit" spidmax="1026" />\n</xml><![endif]--></head>\n<body lang=EN-US><div class=WordSection1><p class=MsoNormal dir=RTL><span lang=AR-SA>'
        "همکاران گرامي،<o:p></o:p></span></p>\n<p class=MsoNormal dir=RTL><span lang=AR-SA>گزارش تازه‌ي مرکز آمار درباره‌ي بازار کار زنان منتشر شد.<o:p></o:p></span></p>\n"
        f'<p class=MsoNormal><a href="{FA}labour">{FA}labour</a><o:p>&nbsp;</o:p></p></div></body></html>\n'
    )
    body = alternative(text, html, "_000_DB9PR01MB1234_", QP, cs="windows-1256")
    sender = f"{ew('رضا کريمي', 'windows-1256')} <maryam@example.org>"
    return message(ew("گزارش هفته: بازار کار زنان", "windows-1256"), body, sender)


def _tnef(*attributes: tuple[int, bytes]) -> bytes:
    """A TNEF stream: signature, key, then message-level attributes with their checksums."""
    stream = struct.pack("<IH", 0x223E9F78, 0x5A3C)
    for ident, data in attributes:
        stream += struct.pack("<BII", 1, ident, len(data)) + data
        stream += struct.pack("<H", sum(data) & 0xFFFF)
    return stream


def outlook_tnef() -> bytes:
    """Outlook rich text: text/plain beside application/ms-tnef winmail.dat (MS-OXTNEF), no files."""
    text = f"نشست هفته‌ی آینده درباره‌ی آزادی مطبوعات است.\nجزئیات: {FA}meeting\n"
    tnef = _tnef(
        (0x00089006, struct.pack("<I", 0x00010000)),  # attTnefVersion
        (0x00069007, struct.pack("<II", 1256, 0)),  # attOemCodepage
        (0x00078008, b"IPM.Microsoft Mail.Note\0"),  # attMessageClass; no attAttachRendData
    )
    dat = attached(
        'application/ms-tnef; name="winmail.dat"', tnef, 'attachment; filename="winmail.dat"'
    )
    body = multi("mixed", "_002_DB9PR01MB5678_", plain(text, "", "base64"), dat)
    return message(ew("دعوت به نشست هفته‌ی آینده"), body)


def outlook_forward() -> bytes:
    """Outlook desktop FW: From/Sent/To/Subject with no separator (email-forward-parser outlook_2013)."""
    text = (
        "برای خبرنامه‌ی این هفته.\n\nFrom: Ana Lima <ana.lima@example.net> \nSent: Monday, November 30, 2026 10:02 AM\nTo: Maryam Ahmadi <maryam@example.org>\n"
        f"Subject: گزارش: سانسور اینترنت در ایران\n\nگزارش تازه درباره‌ی سانسور اینترنت در ایران منتشر شد.\n{FA}censorship\n"
    )
    return message(ew("FW: گزارش: سانسور اینترنت در ایران"), plain(text, "", QP))


def apple_flowed_delsp() -> bytes:
    """Apple Mail: text/plain; format=flowed; delsp=yes (RFC 3676 4.2), soft breaks in Persian and Japanese."""
    text = (
        "دوستان عزیز، این یادداشت سفر را برای بخش فرهنگی  \nخبرنامه نوشته‌ام و امیدوارم خوانندگان فارسی‌زبان از  \nآن لذت ببرند.\n\n"
        f"東京の古い本屋街、 \n神保町についての短い記事です。\n\n{FA}tokyo-notes\n"
    )
    return message(ew("یادداشت سفر: توکیو 🇯🇵"), plain(text, "; delsp=yes; format=flowed"))


def apple_related_inline_image() -> bytes:
    """Apple Mail: multipart/alternative with a multipart/related HTML and a cid: image (RFC 2387)."""
    text = f"نمودار تورم ماه گذشته را ببینید:\n\n\n\n{FA}inflation\n"
    html = (
        '<html><body dir="auto"><div>نمودار تورم ماه گذشته را ببینید:</div><img apple-inline="yes" src="cid:8C1F@apple.example"><div>'
        f'<a href="{FA}inflation">{FA}inflation</a></div></body></html>\n'
    )
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    image = attached('image/png; name="chart.png"', png, "inline\nContent-Id: <8C1F@apple.example>")
    html_part = part("text/html; charset=utf-8", encode(html, QP), QP)
    related = multi("related", "Apple-Mail=_R2", html_part, image, params='; type="text/html"')
    text_part = part("text/plain; charset=utf-8", encode(text, QP), QP)
    body = multi("alternative", "Apple-Mail=_A1", text_part, related)
    return message(ew("نمودار تورم 📈"), body)


def ios_forward() -> bytes:
    """iOS Mail: "Sent from my iPhone", "Begin forwarded message:", "> " headers (email-forward-parser)."""
    text = (
        "این گزارش را حتماً بخوانید.\n\nSent from my iPhone\n\nBegin forwarded message:\n\n"
        "> From: Ana Lima <ana.lima@example.net>\n> Date: 30 November 2026 at 10:02:11 GMT+3:30\n> To: Maryam Ahmadi <maryam@example.org>\n> Subject: زنان و بازار کار\n\n"
        f"> زنان تنها ۱۴ درصد نیروی کار ایران هستند.\n> {FA}women-work\n"
    )
    return message(ew("Fwd: زنان و بازار کار"), plain(text, "", QP))


def thunderbird_forward_flowed() -> bytes:
    """Thunderbird "-------- Forwarded Message --------" (thunderbird_en_body), format=flowed at 72."""
    text = (
        "برای بخش محیط زیست.\n\n\n-------- Forwarded Message --------\nSubject: \tگزارش محیط زیست: دریاچه‌ی ارومیه\nDate: \tMon, 30 Nov 2026 10:02:11 +0330\n"
        "From: \tAna Lima <ana.lima@example.net>\nTo: \tMaryam Ahmadi <maryam@example.org>\nCC: \tReza Karimi <reza.karimi@example.org>, Sara Tehrani \n"
        f"<sara.tehrani@example.org>, Nima <nima@example.org>\n\n\n\nدریاچه‌ی ارومیه دوباره کوچک‌تر شده است.\n{FA}urmia\n"
    )
    return message(ew("Fwd: گزارش محیط زیست: دریاچه‌ی ارومیه"), plain(text, "; format=flowed"))


def thunderbird_attached_forward() -> bytes:
    """Thunderbird "Forward As Attachment": text/plain and the article as message/rfc822 (RFC 2046 5.2.1)."""
    article = (
        "From: Ana Lima <ana.lima@example.net>\nTo: Maryam Ahmadi <maryam@example.org>\n"
        f"Subject: {ew('تحریم و دارو')}\nDate: Mon, 30 Nov 2026 10:02:11 +0330\n"
        "Message-ID: <article.1@example.net>\nMIME-Version: 1.0\n"
        + plain(f"تحریم‌ها دارو را از بیماران دور می‌کنند.\n{FA}report\n")
    )
    eml = f'Content-Type: message/rfc822; name="report.eml"\nContent-Disposition: attachment\n\n{article}'
    note = plain("این گزارش را برای خبرنامه ببینید.\n", "; format=flowed")
    body = multi("mixed", "------------tb3C0F", note, eml)
    return message(ew("Fwd: تحریم و دارو"), body)


def smime_signed() -> bytes:
    """Apple Mail S/MIME: multipart/signed; protocol="application/pkcs7-signature" (RFC 8551 3.5.3)."""
    text = f"دانشجویان از آزادی بیان می‌گویند.\n{FA}campus\n"
    html = f'<div dir="auto">دانشجویان از آزادی بیان می‌گویند.<br><a href="{FA}campus">{FA}campus</a></div>\n'
    signed = alternative(text, html, "Apple-Mail=_S2", QP)
    p7s = b"\x30\x82\x05\x00" + bytes(96)  # DER, as smime.p7s starts
    sig = attached(
        "application/pkcs7-signature; name=smime.p7s", p7s, 'attachment; filename="smime.p7s"'
    )
    protocol = '; protocol="application/pkcs7-signature"; micalg=sha-256'
    body = multi("signed", "Apple-Mail=_S1", signed, sig, params=protocol)
    return message(ew("آزادی بیان در دانشگاه‌ها"), body)


ARMOR = "iQEzBAEBCAAdFiEEq1w2Zm9vYmFyYmF6cXV4eHl6AAoJEA==\n=Xq3d\n"


def pgp_mime_signed() -> bytes:
    """Thunderbird OpenPGP: multipart/signed; protocol="application/pgp-signature" (RFC 3156 5)."""
    asc = f"-----BEGIN PGP SIGNATURE-----\n\n{ARMOR}-----END PGP SIGNATURE-----\n"
    where = 'attachment; filename="OpenPGP_signature.asc"\nContent-Description: OpenPGP digital signature'
    sig = attached(
        'application/pgp-signature; name="OpenPGP_signature.asc"', asc.encode(), where, "7bit"
    )
    text = plain(f"گزارش سالانه‌ی حقوق بشر منتشر شد.\n{FA}annual\n", "; format=flowed")
    protocol = '; micalg=pgp-sha256; protocol="application/pgp-signature"'
    body = multi("signed", "------------pgpS1", text, sig, params=protocol)
    return message(ew("حقوق بشر: گزارش سالانه"), body)


def inline_pgp() -> bytes:
    """Inline PGP: a cleartext signed message (RFC 4880 7), its "-- " line dash-escaped (7.1)."""
    text = (
        f"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nمقاله‌ی تازه‌ی ما درباره‌ی حقوق کارگران:\n{FA}workers\n\n- -- \nمریم احمدی\n"
        f"-----BEGIN PGP SIGNATURE-----\n\n{ARMOR}-----END PGP SIGNATURE-----\n"
    )
    return message(ew("حقوق کارگران"), plain(text))


def html_only_exchange() -> bytes:
    """Exchange remote domain ContentType MimeHtml (Set-RemoteDomain): text/html only, mso markup."""
    html = (
        '<html><head><style>p.MsoNormal {font-family:"Tahoma";}</style><!--[if gte mso 9]><xml>'
        "<o:OfficeDocumentSettings><o:AllowPNG/></o:OfficeDocumentSettings></xml><![endif]--></head>"
        f'<body><div dir="rtl"><p class=MsoNormal><b>انتخابات شورا:</b> گزارش کامل نتایج را <a href="{FA}elections">اینجا</a> بخوانید.<o:p></o:p></p></div></body></html>\n'
    )
    html_part = part('text/html; charset="utf-8"', encode(html, QP), QP)
    return message(ew("نتایج انتخابات شورا"), html_part)


LONG_URL = f"{FA}reports/2026/11/water-shortage-in-isfahan-and-the-zayandeh-rud-river?utm_source=newsletter"


def long_url_wrapped() -> bytes:
    """Plain text wrapped at 72, the long URL in <> over two lines (RFC 3986 appendix C)."""
    text = f"گزارش کامل را اینجا بخوانید:\n<{LONG_URL[:70]}\n{LONG_URL[70:]}>\n"
    return message(ew("کم‌آبی زاینده‌رود"), plain(text))


def rfc2047_split() -> bytes:
    """A Subject whose B and Q encoded words split a UTF-8 character (forbidden by RFC 2047 5)."""
    raw = "آزادی مطبوعات در ایران".encode()
    chunks = [raw[at : at + 7] for at in range(0, len(raw), 7)]  # 7 octets: each ends mid-letter
    b_words = [f"=?UTF-8?B?{base64.b64encode(chunk).decode()}?=" for chunk in chunks]
    q_words = ["=?UTF-8?Q?" + "".join(f"={o:02X}" for o in chunk) + "?=" for chunk in chunks]
    words = [(q_words if n % 2 else b_words)[n] for n in range(len(chunks))]
    return message("\n ".join(words), plain(f"متن کوتاه {FA}press\n"))


LONG_SUBJECT = " ".join(["گزارش ویژه درباره‌ی آزادی بیان و حقوق روزنامه‌نگاران در ایران؛"] * 5)


def long_persian_subject() -> bytes:
    """A Subject of 314 Persian characters in folded encoded words (RFC 2047 2, RFC 5322 2.2.3)."""
    return message(ew(LONG_SUBJECT), plain(f"متن کوتاه {FA}long-subject\n"))


def url_arabic_comma() -> bytes:
    """A URL in Persian text followed by the Arabic comma (U+060C)."""
    text = f"مقاله را در {FA}article-1، بخوانید و نظرتان را بگویید.\n"
    return message(ew("پیوند و ویرگول"), plain(text))


def url_arabic_semicolon() -> bytes:
    """A URL in Persian text followed by the Arabic semicolon (U+061B)."""
    return message(ew("پیوند و نقطه‌ویرگول"), plain(f"اول {FA}article-2؛ سپس به ما بگویید.\n"))


def url_guillemets() -> bytes:
    """A URL in Persian quotation marks « » (guillemets, as Persian quotes)."""
    return message(ew("پیوند در گیومه"), plain(f"نشانی مقاله «{FA}article-3» است.\n"))


def url_full_stop_zwnj() -> bytes:
    """A URL before a full stop, ZWNJ (U+200C) in the words around it."""
    text = f"این مقاله‌ها را بخوانید: {FA}article-4.\nمی‌خواهیم نظرتان را بدانیم.\n"
    return message(ew("مقاله‌های تازه"), plain(text))


def long_lines() -> bytes:
    """8bit text with a line past RFC 5322 2.1.1's 998 octets, as some webmail sends."""
    line = "این یک پاراگراف بسیار بلند است که در یک خط نوشته شده " * 30 + f"{FA}long-line\n"
    return message(ew("یک خط بلند"), plain(line))


def bare_lf() -> bytes:
    """Gmail's shape written with bare LF line ends (RFC 5322 2.3 asks CRLF; servers pass LF on)."""
    text = f"این پیام با LF تنها نوشته شده است.\n{FA}bare-lf\n"
    html = f'<div dir="rtl">این پیام با LF تنها نوشته شده است.<br><a href="{FA}bare-lf">پیوند</a></div>\n'
    body = alternative(text, html, "000000000000lf01")
    return message(ew("خط‌های بدون CR"), body, lf=True)


# --- What a careful editor expects of each --------------------------------------------------

ADDRESSES = ["ana.lima@example.net", "maryam@example.org"]
ONE = "1 attachment was dropped"
CASES = [
    # builder, title, phrases in the excerpt, link, not in the excerpt, note, source
    (gmail_rtl_base64, "گزارش تازه درباره‌ی کم‌آبی 💧", ["گزارش تازه‌ی ما درباره‌ی کم‌آبی در اصفهان"], f"{FA}water-report", ["دبیر خبرنامه"], "", "مریم احمدی"),
    (gmail_qp_query_link, "Weekly pick: صدای زنان افغانستان", ["این یکی خواندنی است"], f"{FA}story?id=42&lang=fa", ["&amp;"], "", None),
    (gmail_forward_newsletter, "خبرنامه‌ی هفته: تحریم و دارو", ["پیشنهاد می‌کنم", "تحریم‌ها دارو را از بیماران دور می‌کنند"], f"{FA}sanctions-medicine", [*ADDRESSES, "maryam.example.org", "Forwarded message", "From:", "Date:"], "", None),
    (outlook_1256_mso, "گزارش هفته: بازار کار زنان", ["گزارش تازه‌ي مرکز آمار درباره‌ي بازار کار زنان", "تقرير جديد"], f"{FA}labour", ["mso", "o:p"], "", "رضا کريمي"),
    (outlook_tnef, "دعوت به نشست هفته‌ی آینده", ["نشست هفته‌ی آینده درباره‌ی آزادی مطبوعات است"], f"{FA}meeting", ["winmail"], "", None),
    (outlook_forward, "گزارش: سانسور اینترنت در ایران", ["برای خبرنامه‌ی این هفته", "گزارش تازه درباره‌ی سانسور اینترنت"], f"{FA}censorship", [*ADDRESSES, "From:", "Sent:"], "", None),
    (apple_flowed_delsp, "یادداشت سفر: توکیو 🇯🇵", ["برای بخش فرهنگی خبرنامه نوشته‌ام و امیدوارم خوانندگان فارسی‌زبان", "東京の古い本屋街、神保町についての短い記事です。"], f"{FA}tokyo-notes", [], "", None),
    (apple_related_inline_image, "نمودار تورم 📈", ["نمودار تورم ماه گذشته را ببینید"], f"{FA}inflation", ["cid:"], ONE, None),
    (ios_forward, "زنان و بازار کار", ["این گزارش را حتماً بخوانید", "زنان تنها ۱۴ درصد نیروی کار ایران هستند"], f"{FA}women-work", [*ADDRESSES, "Sent from my iPhone", "Begin forwarded message", "From:", ">"], "", None),
    (thunderbird_forward_flowed, "گزارش محیط زیست: دریاچه‌ی ارومیه", ["برای بخش محیط زیست", "دریاچه‌ی ارومیه دوباره کوچک‌تر شده است"], f"{FA}urmia", [*ADDRESSES, "reza.karimi@", "sara.tehrani@", "nima@", "Nima", "Forwarded Message"], "", None),
    (thunderbird_attached_forward, "تحریم و دارو", ["این گزارش را برای خبرنامه ببینید", "تحریم‌ها دارو را از بیماران دور می‌کنند"], f"{FA}report", ADDRESSES[:1], "", None),
    (smime_signed, "آزادی بیان در دانشگاه‌ها", ["دانشجویان از آزادی بیان می‌گویند"], f"{FA}campus", ["smime"], "", None),
    (pgp_mime_signed, "حقوق بشر: گزارش سالانه", ["گزارش سالانه‌ی حقوق بشر منتشر شد"], f"{FA}annual", ["PGP"], "", None),
    (inline_pgp, "حقوق کارگران", ["مقاله‌ی تازه‌ی ما درباره‌ی حقوق کارگران"], f"{FA}workers", ["BEGIN PGP", "Hash: SHA256", "END PGP", "iQEz", "مریم احمدی"], "", None),
    (html_only_exchange, "نتایج انتخابات شورا", ["گزارش کامل نتایج را اینجا بخوانید"], f"{FA}elections", ["**", "](", "<https", "mso", "font-family"], "", None),
    (long_url_wrapped, "کم‌آبی زاینده‌رود", ["گزارش کامل را اینجا بخوانید"], LONG_URL, [], "", None),
    (rfc2047_split, "آزادی مطبوعات در ایران", ["متن کوتاه"], f"{FA}press", [], "", None),
    (long_persian_subject, LONG_SUBJECT, ["متن کوتاه"], f"{FA}long-subject", [], "", None),
    (url_arabic_comma, "پیوند و ویرگول", ["بخوانید و نظرتان را بگویید"], f"{FA}article-1", [], "", None),
    (url_arabic_semicolon, "پیوند و نقطه‌ویرگول", ["سپس به ما بگویید"], f"{FA}article-2", [], "", None),
    (url_guillemets, "پیوند در گیومه", ["نشانی مقاله"], f"{FA}article-3", [], "", None),
    (url_full_stop_zwnj, "مقاله‌های تازه", ["این مقاله‌ها را بخوانید", "می‌خواهیم نظرتان را بدانیم"], f"{FA}article-4", [], "", None),
    (long_lines, "یک خط بلند", ["این یک پاراگراف بسیار بلند است"], f"{FA}long-line", [], "", None),
    (bare_lf, "خط‌های بدون CR", ["این پیام با LF تنها نوشته شده است"], f"{FA}bare-lf", [], "", None),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case[0].__name__ for case in CASES])
def test_a_mail_programs_message_is_the_post_an_editor_expects(inbound_server, case):
    """The title is the subject without "Fwd:"; the excerpt keeps the Persian words whole and
    leaves out forwarded headers, signatures and markup; the URL is the article's link; the
    note names only what the sender attached and we dropped."""
    build, title, phrases, link, private, note, source = case
    with smtplib.SMTP(
        inbound_server.hostname, inbound_server.port
    ) as client:  # smtplib writes CRLF
        client.sendmail("", [POSTS], build())
    db.session.expire_all()
    [held] = db.session.scalars(sa.select(HeldPost)).all()
    assert (held.status, held.reason) == ("published", "")
    [post] = db.session.scalars(sa.select(Post)).all()
    got = dict(title=post.title, url=post.url, note=held.note, source=post.source)
    got["missing"] = [phrase for phrase in phrases if phrase not in post.excerpt]
    got["left in"] = [word for word in private if word in post.excerpt]
    want = dict(title=title, url=link, note=note, source=source or "Maryam Ahmadi")
    assert got == {**want, "missing": [], "left in": []}, post.excerpt


def test_what_looks_like_a_tag_in_mail_text_stays_in_the_excerpt(inbound_server):
    """Mail text is text: "read more <https://...>" lost its link when the excerpt was
    cleaned as HTML, and "a <b> c" its middle."""
    words = f"بیشتر بخوانید <{FA}more>\nif a<b and c>d, still words\n"
    with smtplib.SMTP(inbound_server.hostname, inbound_server.port) as client:
        client.sendmail("", [POSTS], message(ew("متن، نه HTML"), plain(words)))
    db.session.expire_all()
    [post] = db.session.scalars(sa.select(Post)).all()
    assert f"<{FA}more>" in post.excerpt and "a<b and c>d" in post.excerpt


def _tnef_file(name: bytes) -> list[tuple[int, bytes]]:
    return [(0x00069002, bytes(14)), (0x00018010, name + b"\0"), (0x0006800F, b"%PDF-1.7")]


@pytest.mark.parametrize(
    "stream, files",
    [
        (_tnef((0x00089006, b"\0\0\1\0"), *_tnef_file(b"a.pdf"), *_tnef_file(b"b.pdf")), 2),
        (_tnef((0x00089006, b"\0\0\1\0")), 0),
        (_tnef(*_tnef_file(b"a.pdf"))[:-5], 1),  # cut short: something was attached
        (b"not tnef at all", 1),
    ],
    ids=["two files", "none", "cut short", "not tnef"],
)
def test_a_winmail_dat_counts_the_files_it_carries(stream, files):
    """Outlook's rich text (MS-OXTNEF) wraps the sender's files in one winmail.dat: the note
    counts those, and none for rich text alone."""
    from newsletter.posts.mail_text import _tnef_files

    assert _tnef_files(stream) == files


_WORD = st.text(
    st.characters(blacklist_categories=("Z", "C"), blacklist_characters=">"),
    min_size=1,
    max_size=12,
)
_PARAGRAPH = st.lists(_WORD, min_size=1, max_size=30).map(" ".join)


@given(
    st.lists(_PARAGRAPH, min_size=1, max_size=5),
    st.integers(min_value=1, max_value=8),
    st.booleans(),
)
def test_flowed_text_joins_back_into_its_paragraphs(paragraphs, width, delsp):
    """Any paragraphs (Persian, CJK, emoji, whatever hypothesis picks), wrapped as RFC 3676
    says (a soft break after a space; with delsp=yes a space added for it), come back whole."""
    from newsletter.posts.mail_text import unflowed

    soft = "  \n" if delsp else " \n"
    wrapped = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        lines = [" ".join(words[at : at + width]) for at in range(0, len(words), width)]
        assume("--" not in lines)  # "-- " is the signature line, never a soft break
        wrapped.append(soft.join(lines))
    assert unflowed("\n".join(wrapped), delsp) == "\n".join(paragraphs)


HOSTILE = [
    "-" * 20_000 + "x",  # the forwarded mark's dashes, unbounded, backtracked for minutes
    "a@" + "b." * 20_000,  # an attribution's address, likewise
    "-----BEGIN PGP SIGNED MESSAGE-----\n" + "a" * 100_000,
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: x\n\nbody\n" * 2_500,
    "<https://a" + " " * 100_000,  # a bracketed link's spaces
    "<https://a" + " \n" * 50_000 + "x",
    "\u200f" * 50_000 + "From: a",
    "From: a@b.example\n" * 8_000,
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_read_in_linear_time(text):
    """A stranger's mail is read too (and held): each of these took from seconds to minutes
    in a regular expression before. Under the suite's timeout, a return is the assertion."""
    from newsletter.posts import forwarded
    from newsletter.posts.mail_text import first_link

    assert isinstance(forwarded.text(text), str)
    assert first_link(text, text) in ("", "https://a")
    assert isinstance(forwarded.subject(text[:1_000]), str)
