"""What an editor's mail program wraps around a post sent by email, taken off before it is
published: "Fwd:" before the subject, the forwarded message's header lines (whose addresses
and dates are nobody's post), reply attributions that name an address, and the signature.
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
    signature = False
    for line in (value or "").split("\n"):
        if _FORWARD_MARK.fullmatch(line):
            headers, signature = "before", False
        elif line.rstrip() == "--":
            signature = True
        elif signature:
            pass
        elif headers and _HEADER_LINE.match(line):
            headers = "in"
        elif headers and not line.strip():
            headers = None if headers == "in" else headers  # a blank line ends them
        elif not _ATTRIBUTION.fullmatch(line):
            headers = None
            kept.append(line)
    return "\n".join(kept).strip()
