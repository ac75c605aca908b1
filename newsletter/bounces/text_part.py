"""The human-readable part of a bounce: each failed address on a line of its own (or
behind "<...>:" or "to <...>"), with the remote server's words after it."""

from __future__ import annotations

import re
from email.message import Message

from newsletter.bounces import quoted
from newsletter.bounces.scan import (
    ADDRESS,
    FAILURE_STATUS,
    LONGEST_LINE,
    MOST_NAMED,
    NOT_SUBSCRIBERS,
    REPLIED_STATUS,
    REPLY,
    Evidence,
    addressed,
    ascii_form,
    header_text,
)


def text_failures(text: str, ours: set[str]) -> list[Evidence]:
    """Each address the bounce's words name, with the words that follow it."""
    lines = [line[:LONGEST_LINE] for line in text.split("\n")]
    spots: dict[str, int] = {}  # address: the line it is first named on
    forms: set[str] = set()  # the addresses named, each in its ASCII form
    # "To: list@example.org" in a summary of the original message, and a folded header's
    # next lines ("From: =?utf-8?...?=" then " <news@example.org>")
    in_headers = quoted.header_lines(lines, QUOTED_HEADER)
    for i, line in enumerate(lines):
        if in_headers[i]:
            continue
        if GENERATED_FROM.match(line):
            continue  # the address above it, by its name before an alias (_routed)
        slot = RECIPIENT_SLOT.match(line)
        codes = None  # the line's reply codes, found once for all its addresses
        for found in ADDRESS.finditer(line):
            address = found.group()
            key = SCHEME.sub("", address.lower().rstrip("."))
            if ascii_form(key) in forms or (key in ours and not slot):
                continue
            if NOT_SUBSCRIBERS.match(key) or _is_message_id(line, address):
                continue
            if spots:
                codes = list(_REPLY_THEN.finditer(line)) if codes is None else codes
                if _in_server_words(line, found.start(), codes):
                    continue
            spots[key] = i
            forms.add(ascii_form(key))
            if len(spots) > MOST_NAMED:
                return []
    if not spots:  # most messages read here name nobody: lower no line for them
        return []
    lowered = [line.lower() for line in lines]
    spots = sorted(
        (_verdict_line(lines, lowered, address, i, set(spots) - {address}), address)
        for address, i in spots.items()
    )
    found = []
    for n, (i, address) in enumerate(spots):
        end = spots[n + 1][0] if n + 1 < len(spots) and spots[n + 1][0] > i else i + 12
        # Sendmail's "550 <address>... words" is that recipient's whole verdict; the lines
        # after it are about the next host.
        end = i + 1 if SENDMAIL_VERDICT.match(lines[i]) else max(end, i + 1)
        # A summary's quoted headers below it ("Subject: ...") are ours, not the server's.
        kept = [
            lines[i],
            *(line for n, line in enumerate(lines[i + 1 : end], i + 1) if not in_headers[n]),
        ]
        words = " ".join(" ".join(kept).split())
        found.append(_routed(_evidence(address, words), kept[1:2]))
    return found


# Exim names an alias's target, then "([ultimately] generated from <the address we sent to>)"
# under it.
# (An address as long as RFC 5321 lets it be: unbounded, a line of "@" took seconds.)
GENERATED_FROM = re.compile(
    r"^\s*\((?:ultimately )?generated from (\S{1,64}@\S{1,255}?)\)\s*$", re.I
)


def _routed(evidence: Evidence, next_line: list[str]) -> Evidence:
    """The address we sent to, routed to the one named: one recipient, as a DSN's
    Original-Recipient and Final-Recipient name it."""
    alias = GENERATED_FROM.match(next_line[0]) if next_line else None
    if alias:
        evidence.address, evidence.routed = alias.group(1).lower(), evidence.address
    return evidence


# qmail's QSBMF opens each recipient's paragraph with "<address>:" alone on a line (1&1 and
# others write "address:"): a slot that names the failed recipient as a DSN's Final-Recipient
# does, so it counts even when the same address sent the message (someone writing to
# themselves) and the bounce came back to it.
RECIPIENT_SLOT = re.compile(r"^\s*<?[^<>\s@]+@[^<>\s]+?>?:\s*$")
QUOTED_HEADER = quoted.HEADER_LINE  # "To: list@example.org" in a summary of our message
SENDMAIL_VERDICT = re.compile(r"^\s*[45]\d\d <[^>\s]+>\.\.\. \S")
SCHEME = re.compile(r"^(?:smtp|rfc822|sip)[=:]")
NOT_THE_RECIPIENT = re.compile(
    r"(message-id|msgid|message id|\bid|mail from|envelope-from|sender|please try|"
    r"new address(?: is)?|forward(?:ed|ing)? to|moved to|send mail to|"
    # an address in the server's words to write to: "forward this error to", "contact"
    r"this error to|contact(?: us| me)?(?: at)?|report details to|"
    # Arabic: "contact us at"
    r"تواصل معنا على|اتصل بنا على)[:= ]*<?$"
)


def _verdict_line(
    lines: list[str], lowered: list[str], address: str, first: int, others: set[str]
) -> int:
    """Where to read an address's failure from, the first line that names it unless: a
    transcript's RCPT TO for it (MDaemon names it first in a summary, "*  To:"), or, when no
    server's code follows the first before another failed address (`others`) is named, a
    later line that has one close after it (Outlook's "Your message to ... couldn't be
    delivered", the server's words far below; Exchange's list of the failed recipients, each
    one's reply under "Diagnostic information for administrators", in any language)."""
    named = [
        i
        for i in range(first, len(lines))
        if address in lowered[i] and (i == first or not QUOTED_HEADER.match(lines[i]))
    ]
    rcpt = next((i for i in named if RCPT_COMMAND.search(lowered[i])), None)
    if rcpt is not None:
        return rcpt
    if SERVER_CODE.search(" ".join(_own_lines(lines[first : first + 12], lowered, first, others))):
        return first
    return next((i for i in named if SERVER_CODE.search(" ".join(lines[i : i + 4]))), first)


def _own_lines(window: list[str], lowered: list[str], first: int, others: set[str]) -> list[str]:
    """The lines of `window` (from line `first`) up to one naming another failed address."""
    for n in range(1, len(window)):
        if any(other in lowered[first + n] for other in others):
            return window[:n]
    return window


RCPT_COMMAND = re.compile(r"(?:>>>|-->)\s*rcpt\s+to\s*:")
# A failure's reply code or enhanced status ("550", "5.1.1"), not a number in a date or an IP.
SERVER_CODE = re.compile(r"(?<![\d.:\-])(?:[45][0-5]\d(?:[ \-]|$)|[45]\.\d{1,3}\.\d{1,3}(?![\d.]))")


# A server's reply code (and status), and what it said after them up to an address.
# (Zoho writes "ERROR CODE :553 - ...".)
_REPLY_THEN = re.compile(r"(?<![\d.\-])[45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3}[ -])?")
# What may stand between a reply's code and the recipient it names: "550 5.1.1 <", "550 RCPT
# TO:<", "550 Recipient <", "550 user ".
# (Written so each run of non-word characters has one way to match: "\W*(?:...)?\W*" split a
# run two ways at every point, and a 10 KB bounce took two minutes.)
NAMING_MAX = 100
_NAMING = re.compile(r"\W*(?:(?:rcpt(?: to)?|recipient|user|mailbox|address)\W*)?", re.I)


def _in_server_words(line: str, at: int, codes: list[re.Match]) -> bool:
    """Whether the address at `at` comes inside a server's words, after its code and other
    words ("553 Sorry, your email address (news@...) has been blocked", "... register your
    IP to spammaster@..."): whom the server refused or asks to be written to, not another
    failed recipient (read so once a recipient has been named). `codes`: the line's reply
    codes (found again in the words before each address, they cost seconds a report)."""
    last = next((code for code in reversed(codes) if code.start() < at), None)
    if last is None:
        return False
    if last.end() > at:  # the code runs on into the address: as read on the words before it
        last = _REPLY_THEN.match(line, last.start(), at)
        if last is None:
            return False
    between = line[last.end() : at]
    # What names a recipient is a few words ("550 5.1.1 RCPT TO:<"); past that it is the
    # server's words, and matching each address's long run again cost seconds a report.
    return len(between) > NAMING_MAX or not _NAMING.fullmatch(between)


def _is_message_id(line: str, address: str) -> bool:
    """Whether the words before an address say it is an id, our sender, or a new address
    (the words just before it: the whole line's start again for each address cost seconds)."""
    at = line.find(address)
    before = line[max(at - NAMING_MAX, 0) : at].lower()
    return bool(NOT_THE_RECIPIENT.search(before))


def _evidence(address: str, words: str) -> Evidence:
    status = REPLIED_STATUS.search(words) or FAILURE_STATUS.search(words)
    reply = REPLY.search(words.replace(address, " "))
    return Evidence(
        address=address,
        status=".".join(status.groups()) if status else "",
        reply=reply.group(1) if reply else "",
        action="failed",
        diagnostic=words[:1000],
    )


# AOL's own notice (AIRmail) names the recipients by screen name, each on a line of its own
# under "Your mail to the following recipients could not be delivered because ...:".
AOL_NOTICE = re.compile(
    r"following recipients could not be delivered because ([^:]*):[ \t]*\n\s*"
    r"((?:[\w.\-]+[ \t]*(?:\n[ \t]*|$))+)",
    re.I,
)


def aol_screen_names(msg: Message, text: str) -> list[Evidence]:
    """The failed screen names of AOL's own notice, as addresses at aol.com."""
    if not header_text(msg, "From").lower().rstrip("> ").endswith("@aol.com"):
        return []
    notice = AOL_NOTICE.search(text)
    if notice is None:
        return []
    why = "could not be delivered because " + " ".join(notice[1].split())
    return [_evidence(f"{name}@aol.com", why) for name in notice[2].split()]


def from_original(original: Message, ours: set[str]) -> list[Evidence]:
    """The quoted original's recipients, for a bounce whose words name nobody."""
    found = addressed(original, "To", "Cc") - ours
    return [
        Evidence(address=a, action="failed") for a in sorted(found) if not NOT_SUBSCRIBERS.match(a)
    ]
