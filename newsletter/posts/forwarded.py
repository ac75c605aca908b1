"""What an editor's mail program wraps around a post sent by email, taken off before it is
published: "Fwd:" before the subject, the forwarded message's header lines (whose addresses
and dates are nobody's post; Outlook's with no line above them, Apple's quoted with "> "),
reply attributions that name an address, the signature ("-- ", "Sent from my iPhone") and a
cleartext PGP signature's armour.
"""

from __future__ import annotations

import re

from newsletter.text import SUBJECT_PREFIXES

# Where a forwarded message starts: Gmail's and Thunderbird's dashed line ("---------- Forwarded
# message ---------"), Outlook's "-----Original Message-----" or line of underscores, Apple
# Mail's "Begin forwarded message:".
_FORWARD_MARK = re.compile(
    r"\s*(?:-{5,}[^\n]{0,80}?-{5,}|_{10,}|begin forwarded message\s*:)\s*", re.IGNORECASE
)
# A header line of it: "From: Ana <ana@example.org>", "Sent: Monday", "*Subject:* x", "از: ...".
_HEADER_LINE = re.compile(r"\s*\*?[^\W\d_][\w .-]{0,24}\*?\s*[:：]\*?(?:\s|$)")
# "On Mon, 1 Dec 2026, Ana <ana@example.org> wrote:", in any language: a line naming an
# address and ending in a colon.
_ATTRIBUTION = re.compile(r".{0,300}@[^\s@]+\.[^\s@]+.{0,100}[:：]\s*")
# A phone's or app's line in place of a signature: "Sent from my iPhone", "Get Outlook for iOS".
_SENT_FROM = re.compile(r"\s*(?:sent from my .{1,40}|get outlook for \w+)\s*", re.IGNORECASE)
# RFC 4880 7: a cleartext-signed message, its text between the armour's header and signature.
_CLEARSIGNED = re.compile(
    r"-----BEGIN PGP SIGNED MESSAGE-----\r?\n(?:[^\n]*\S[^\n]*\n)*\r?\n(.*?)"
    r"\r?\n-----BEGIN PGP SIGNATURE-----.*?-----END PGP SIGNATURE-----",
    re.DOTALL,
)


def subject(value: str) -> str:
    """The subject without the "Fwd:" and "Re:" a mail program put before it."""
    stripped = SUBJECT_PREFIXES.sub("", value or "")
    return stripped.strip() or (value or "").strip()


def text(value: str) -> str:
    """The text without forwarded header lines, attributions or the signature (RFC 3676's
    "-- " line up to the next forwarded message)."""
    kept: list[str] = []
    # After a forwarded message's mark: "before" its header lines, "in" them, or None.
    headers: str | None = None
    signature = forwarding = False
    lines = _CLEARSIGNED.sub(lambda signed: _unescaped(signed[1]), value or "").split("\n")
    for at, line in enumerate(lines):
        if forwarding and line.startswith(">"):  # the forwarded message quoted (Apple's)
            line = line[2:] if line.startswith("> ") else line[1:]
        if _FORWARD_MARK.fullmatch(line):
            headers, signature, forwarding = "before", False, True
        elif line.rstrip() == "--" or _SENT_FROM.fullmatch(line):
            signature = True
        elif signature:
            pass
        elif (headers or _header_block(lines[at : at + 6])) and _HEADER_LINE.match(line):
            headers = "in"
        elif headers and not line.strip():
            headers = None if headers == "in" else headers  # a blank line ends them
        elif not _ATTRIBUTION.fullmatch(line):
            headers = None
            kept.append(line)
    return "\n".join(kept).strip()


def _header_block(lines: list[str]) -> bool:
    """Four header lines or more in a row, one naming an address: a forwarded message's,
    where Outlook writes them with no line above to say so ("From: ... Sent: ... To: ...")."""
    run = 0
    while run < len(lines) and _HEADER_LINE.match(lines[run]):
        run += 1
    return run >= 4 and any("@" in line for line in lines[:run])


def _unescaped(signed: str) -> str:
    """RFC 4880 7.1: the signer put "- " before each line that starts with a dash."""
    return "\n".join(line[2:] if line.startswith("- ") else line for line in signed.split("\n"))
