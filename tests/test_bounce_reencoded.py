"""The same bounce, re-encoded as real systems pass it on, is the same verdict.

Seeds: the returned mail real servers wrote (tests/data/real_mta, real_mta2) and the formats
built after servers' source and hosts' and relays' documents (tests/data/servers, hosting,
relays). Each is changed as mail passes through the
world, and must name the same readers for the same reasons. Found by changing every seed in
44 such ways (an audit; about thirty ways changed nothing). Judged wrongly before:
- a UTF-8 byte order mark before the first header (a file saved by Notepad, some exports):
  every header was read as the body, and a connection timed out dropped the reader as an
  unknown host, a complaint was missed, a refusal of us counted;
- a status part in quoted-printable (Sendmail's 8-bit to 7-bit conversion of an SMTPUTF8
  report): a soft line break split a field, Postfix's greylisting counted against the
  reader, a domain that does not exist was kept, and "jos=C3=A9@" was named beside josé;
- a space after "base64" in a part's Content-Transfer-Encoding: nothing was decoded;
- a bounce forwarded by a person or an admin whose author is not called MAILER-DAEMON
  (chasquid's postmaster-dsn, MDaemon, Citadel, 163.com's Postmaster), or forwarded twice:
  dead addresses kept, a refusal of us counted;
- an SMTPUTF8 reader's bounce forwarded in a person's text: "jos\ufffd@" was named.
"""

from __future__ import annotations

import base64
import email
import json
import quopri
import re
from email.header import Header
from email.policy import compat32
from pathlib import Path

import pytest
from bounce_samples import verdicts

DATA = Path(__file__).parent / "data"
SEEDS = sorted(
    DATA / folder / name
    for folder in ("real_mta", "real_mta2", "servers", "hosting", "relays")
    for name in json.loads((DATA / folder / "expected.json").read_text())
)
PERSON = Header("پریسا احمدی", "utf-8").encode() + " <parisa@example.com>"


def _subject(raw: bytes) -> str:
    found = re.search(rb"(?im)^subject:[ \t]*(.*(?:\n[ \t].*)*)", raw)
    return found.group(1).decode("ascii", "replace").replace("\n", "") if found else ""


def with_bom(raw: bytes) -> bytes:
    return b"\xef\xbb\xbf" + raw


def status_in_quoted_printable(raw: bytes) -> bytes:
    """The status part's fields in quoted-printable: long lines broken softly at 76."""
    raw = raw.replace(b"\r\n", b"\n")
    head = re.search(rb"(?im)^content-type:[ \t]*message/(?:global-)?delivery-status[^\n]*\n", raw)
    if head is None:
        return raw
    body_at = raw.index(b"\n\n", head.start()) + 2
    end = raw.find(b"\n--", body_at)
    end = len(raw) if end < 0 else end
    headers = re.sub(
        rb"(?im)^content-transfer-encoding:[^\n]*\n", b"", raw[head.start() : body_at - 1]
    )
    body = quopri.encodestring(raw[body_at:end])
    encoded = b"Content-Transfer-Encoding: quoted-printable\n"
    return raw[: head.start()] + headers + encoded + b"\n" + body + raw[end:]


def text_in_base64_spaced(raw: bytes) -> bytes:
    """The bounce's own text parts in base64, the encoding's name followed by a space."""
    msg = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=compat32)
    parts = [msg]
    while parts:
        part = parts.pop()
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            parts += part.get_payload()
        elif part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True)
            del part["Content-Transfer-Encoding"]
            part.set_payload(base64.encodebytes(text).decode("ascii"))
            part["Content-Transfer-Encoding"] = "base64 "
    return msg.as_bytes()


def forwarded(raw: bytes, by: str = PERSON) -> bytes:
    """Forwarded as an attachment with a note, as Gmail's and Outlook's Forward do."""
    raw = raw.replace(b"\r\n", b"\n").removeprefix(b"\xef\xbb\xbf")
    subject = _subject(raw)
    mark = f"fwd-{len(raw)}"  # a forward of a forward has a boundary of its own
    return (
        (
            f"From: {by}\nTo: editor@example.org\nSubject: Fwd: {subject}\n"
            "Date: Mon, 7 Dec 2026 09:00:00 +0100\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/mixed; boundary="{mark}"\n\n'
            f"--{mark}\nContent-Type: text/plain; charset=UTF-8\n\n"
            "این برگشت خورد، ببینید لطفاً. This bounced, please have a look.\n\n"
            f'--{mark}\nContent-Type: message/rfc822; name="bounce.eml"\n'
            'Content-Disposition: attachment; filename="bounce.eml"\n\n'
        ).encode()
        + raw
        + f"\n--{mark}--\n".encode()
    )


def forwarded_twice(raw: bytes) -> bytes:
    return forwarded(forwarded(raw, "Colleague <colleague@example.com>"))


def forwarded_by_admin(raw: bytes) -> bytes:
    return forwarded(raw, "Postmaster <postmaster@example.com>")


CHANGES = [
    with_bom,
    status_in_quoted_printable,
    text_in_base64_spaced,
    forwarded,
    forwarded_twice,
    forwarded_by_admin,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_bounce_passed_on_is_read_the_same(seed, change):
    raw = seed.read_bytes()
    assert verdicts(change(raw)) == verdicts(raw)


def test_the_changes_change_the_bytes():
    """A guard on the test itself: each change alters every seed it can apply to."""
    with_status = [s.read_bytes() for s in SEEDS if b"delivery-status" in s.read_bytes()]
    assert len(with_status) > 30
    for raw in with_status:
        assert b"quoted-printable" in status_in_quoted_printable(raw)
    plain = [s.read_bytes() for s in SEEDS if b"text/plain" in s.read_bytes()]
    assert sum(b"base64 \n" in text_in_base64_spaced(raw) for raw in plain) > 30


@pytest.mark.parametrize(
    "seed", ["postfix_smtputf8_user_unknown", "sendmail_smtputf8_user_unknown"]
)
def test_an_smtputf8_readers_bounce_forwarded_in_text_names_them(seed):
    """Forwarded as Gmail writes a forward in its text: the reader as sent, not 'jos\ufffd'."""
    bounce = email.message_from_bytes((DATA / "real_mta" / f"{seed}.eml").read_bytes())
    words = bounce.get_payload()[0].get_payload(decode=True)  # the server's own words
    assert "josé@utf8.test".encode() in words
    message = (
        b"From: " + PERSON.encode() + b"\nTo: editor@example.org\n"
        b"Subject: Fwd: Undelivered Mail Returned to Sender\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n"
        b"---------- Forwarded message ---------\n"
        b"From: Mail Delivery System <MAILER-DAEMON@out.example.org>\n"
        b"Date: Mon, 7 Dec 2026 05:32:40 +0000\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"To: <bounces+4711-0a1b2c3d4e5f6a7b@bounces.example.org>\n\n" + words
    )
    assert verdicts(message) == [("josé@utf8.test", "hard", "user_unknown")]


def test_a_readers_encoded_name_beside_their_utf8_address_reads_whole():
    """Our copy's To with the reader's name encoded (RFC 2047) and their SMTPUTF8 address
    raw beside it: read as UTF-8 once decoded, "josé" was "jos\ufffd", and a report naming
    the reader in quoted-printable named that stranger first."""
    raw = (DATA / "real_mta" / "sendmail_smtputf8_user_unknown.eml").read_bytes()
    named = Header("سامانه تحویل", "utf-8").encode()
    renamed = raw.replace(
        "\nTo: josé@utf8.test".encode(), f"\nTo: {named} <josé@utf8.test>".encode()
    )
    assert renamed != raw
    assert verdicts(status_in_quoted_printable(renamed)) == verdicts(raw)
