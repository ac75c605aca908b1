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
# Mail's "Begin forwarded message:" (and in Arabic). Bounded: unbounded runs of dashes
# backtracked for minutes on a line of them.
_FORWARD_MARK = re.compile(
    r"-{5,30}[^\n]{0,80}?-{5,30}|_{10,200}|begin forwarded message\s*:"
    r"|بداية الرسالة المعاد توجيهها\s*:",
    re.IGNORECASE,
)
# Yahoo's text writes the mark and the headers on one line: "----- Forwarded Message -----
# From: ... To: ... Subject: ...".
_MARK_THEN_HEADERS = re.compile(r"-{5,30}[^\n]{0,80}?-{5,30}\s{0,40}(?=\w{1,24}\s*[:：])")
# What of a line is matched against the marks: they are short, and the line's spaces after
# one were gone over again for each way of splitting its dashes.
MARK_MAX = 300
# A header line of it: "From: Ana <ana@example.org>", "Sent: Monday", "*Subject:* x", "از: ...".
_HEADER_LINE = re.compile(r"\s*\*?[^\W\d_][\w .-]{0,24}\*?\s*[:：]\*?(?:\s|$)")
# "On Mon, 1 Dec 2026, Ana <ana@example.org> wrote:", in any language: a line naming an
# address and ending in a colon (at most this long: the address pattern backtracks).
_ATTRIBUTION = re.compile(r"@[^\s@.]+(?:\.[^\s@.]+)+")
ATTRIBUTION_MAX = 500
# Gmail wraps a long one before its name's last words: "Lima <ana@example.org>:" alone.
_ADDRESS_AND_COLON = re.compile(r"\s*(?:[^\s<>:]{1,40}\s+){0,3}<[^\s<>@]+@[^\s<>]+>\s*[:：]\s*")
# A phone's or app's line in place of a signature: "Sent from my iPhone", "Sent with Proton
# Mail", "Get Outlook for iOS<https://aka.ms/...>", in Arabic and Persian too.
_SENT_FROM = re.compile(
    r"\s*(?:sent (?:from|via|with) .{1,80}|get outlook for \w+|أرسلت من .{1,40}"
    r"|ارسال شده از .{1,40}|احصل على outlook .{1,20}|دریافت outlook .{1,20})"
    r"(?:\s*<https?://[^\s<>]{1,200}>)?\s*",
    re.IGNORECASE,
)
# What right-to-left mail programs put around labels and addresses (bidi marks and
# embeddings), and Arabic's vowel marks and the zero-width joiners: not part of the words.
_INVISIBLE = re.compile("[\u200c-\u200f\u202a-\u202e\u2066-\u2069\u064b-\u065f\u0670]")
# RFC 4880 7: a cleartext-signed message's armour, around its text.
_SIGNED, _SIGNATURE = "-----BEGIN PGP SIGNED MESSAGE-----", "\n-----BEGIN PGP SIGNATURE-----"
_SIGNATURE_END = "-----END PGP SIGNATURE-----"


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
    lines = _unsigned(value or "").split("\n")
    # What is matched: each line without its invisible marks (its words keep them).
    plain = [_INVISIBLE.sub("", line) for line in lines]
    for at, line in enumerate(lines):
        if forwarding and line.startswith(">"):  # the forwarded message quoted (Apple's)
            line = line[2:] if line.startswith("> ") else line[1:]
        bare = _INVISIBLE.sub("", line)
        following = plain[at + 1] if at + 1 < len(lines) else ""
        head = bare.strip()[:MARK_MAX]
        if _FORWARD_MARK.fullmatch(head) or _MARK_THEN_HEADERS.match(head):
            headers, signature, forwarding = "before", False, True
        elif bare.rstrip() == "--" or _SENT_FROM.fullmatch(bare):
            signature = True
        elif signature:
            pass
        elif _HEADER_LINE.match(bare) and (headers or _header_block(plain[at : at + 6])):
            headers = "in"
        elif headers and not bare.strip():
            headers = None if headers == "in" else headers  # a blank line ends them
        elif not _attribution(bare) and not _ADDRESS_AND_COLON.fullmatch(following):
            headers = None
            kept.append(line)
    return "\n".join(kept).strip()


def _attribution(line: str) -> bool:
    words = line.rstrip()
    return (
        len(words) <= ATTRIBUTION_MAX
        and words.endswith((":", "："))
        and _ATTRIBUTION.search(words) is not None
    )


def _header_block(lines: list[str]) -> bool:
    """Four header lines or more in a row, one naming an address: a forwarded message's,
    where Outlook writes them with no line above to say so ("From: ... Sent: ... To: ...")."""
    run = 0
    while run < len(lines) and _HEADER_LINE.match(lines[run]):
        run += 1
    return run >= 4 and any("@" in line for line in lines[:run])


def _unsigned(text: str) -> str:
    """The text of a cleartext-signed message without its armour (found by plain search:
    the patterns a regular expression needs for it backtrack for seconds on hostile text),
    and without the "- " the signer put before each line that starts with a dash (7.1)."""
    start = text.find(_SIGNED)
    opened = text.find("\n\n", start) if start >= 0 else -1  # after the armour's headers
    signature = text.find(_SIGNATURE, opened) if opened >= 0 else -1
    end = text.find(_SIGNATURE_END, signature) if signature >= 0 else -1
    if end < 0:
        return text
    signed = text[opened + 2 : signature].split("\n")
    unescaped = "\n".join(line[2:] if line.startswith("- ") else line for line in signed)
    return text[:start] + unescaped + text[end + len(_SIGNATURE_END) :]
