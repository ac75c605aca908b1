"""RFC 3464 delivery-status fields: each recipient's address, action, status and the
remote server's words, as the report's blocks of fields give them."""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

from newsletter.bounces.scan import (
    ADDRESS,
    MOST_BLOCKS,
    READABLE,
    REPLIED_STATUS,
    REPLY,
    STATUS,
    STATUS_TYPES,
    Evidence,
    addresses_in,
    blocks_decoded,
    bounce_parts,
    decoded,
    headers,
    human_text,
    inner_parts,
    text_of,
    unescaped,
    written,
)


def _field_blocks(text: str) -> list[Message]:
    # Blank lines separate the groups; some servers (AOL's) leave them out, but each
    # recipient's group still begins with its Final-Recipient field. A group naming one
    # recipient stays whole, whatever order its fields come in (PMDF puts Action first).
    blocks = []
    for group in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip()):
        several = len(re.findall(r"(?im)^final-recipient:", group)) > 1
        blocks += re.split(r"\n(?=final-recipient:)", group, flags=re.I) if several else [group]
    kept = [b for b in blocks if b.strip()][:MOST_BLOCKS]
    return [HeaderParser(policy=READABLE).parsestr(b.strip() + "\n") for b in kept]


# RFC 3461's xtext, in which ORCPT carries "+" and "=" ("reader+2Bnews@"): Sendmail and Exim
# write it back into Original-Recipient as it came. Other codes are left: a plus tag of
# digits ("news+2024@") reads as one.
XTEXT = re.compile(r"\+(2B|3D)")


def _xtext(address: str) -> str:
    return XTEXT.sub(lambda code: chr(int(code.group(1), 16)), address)


def field_value(field: str | None) -> str:
    """'rfc822; someone@example.org' -> 'someone@example.org'."""
    value = " ".join(decoded(field or "").split())
    kind, _, rest = value.partition(";") if ";" in value else ("", "", value)
    utf8 = kind.strip().lower() in ("utf-8", "utf8")  # maddy writes "utf8"
    # RFC 6533: "\x{HHHH}" stands for a character the field did not carry as it is; mox
    # writes it under rfc822 too ("reader\x{2B}news@"), where a backslash is no address's
    rest = UNITEXT.sub(_character, unescaped(rest))
    found = ADDRESS.search(rest)
    if found is None:
        # The field holds an address and nothing else: one that prose would not be trusted
        # with (root@localhost, the one-letter top-level domain of an anonymised sample) is
        # still one, unless it is not ASCII where its type does not say UTF-8 (an encoded
        # word decoded: no address we sent to) or masked ("****@****", as a relay that hides
        # the real address writes it).
        found = FIELD_ADDRESS.search(rest)
        # an internationalised domain as Exim's and Postfix's SMTPUTF8 reports write it
        readable = found and (utf8 or found.group(1).partition("@")[0].isascii())
        if found and not (readable and MASKED.search(found.group(1)) is None):
            found = None
    return found.group(1) if found else ""


UNITEXT = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


def _character(escaped: re.Match) -> str:
    code = int(escaped.group(1), 16)
    return chr(code) if code <= 0x10FFFF else escaped.group(0)


# Bounded as RFC 5321 bounds the parts (64 and 255), so a long field is read in linear time.
FIELD_ADDRESS = re.compile(r'([^\s<>"(),;:@]{1,64}@[^\s<>"(),;:@]{1,255})')
# A side of the address with no letter or digit: a mask, not an address.
MASKED = re.compile(r"^[\W_]+@|@[\W_]+$")


def fields(msg: Message) -> list[Evidence]:
    found: list[Evidence] = []
    unread = None  # read once: read for each disposition part, 100 KB of them took 16 s
    for part, kind in bounce_parts(msg):
        if kind in STATUS_TYPES:
            decoded = blocks_decoded(part) if part.is_multipart() else None
            if decoded is not None:
                found += _recipient_blocks(_field_blocks(decoded))
            elif kind == "message/global-delivery-status" and part.is_multipart():
                # parsed as a message: its first block the headers, the rest its text
                found += _recipient_blocks(_field_blocks(written(inner_parts(part))))
            elif part.is_multipart():  # the email package parsed the blocks already
                blocks = inner_parts(part)[:MOST_BLOCKS]
                found += _recipient_blocks([one for b in blocks for one in _regrouped(b)])
            else:
                found += _recipient_blocks(_field_blocks(text_of(part)))
        elif kind == "text/plain" and re.search(r"(?im)^final-recipient:", text_of(part)):
            found += _recipient_blocks(_field_blocks(text_of(part)))
        elif kind == "message/disposition-notification":
            if unread is None:
                unread = bool(UNREAD.search(human_text(msg)))
            if not unread:
                found += _rejected(inner_parts(part) or _field_blocks(text_of(part)))
    failed = addresses_in([unescaped(v) for v in headers(msg, "X-Failed-Recipients")])
    known = {e.address.lower() for e in found}
    found += [Evidence(address=a, action="failed") for a in sorted(failed - known)]
    unique: dict[str, Evidence] = {}
    for evidence in found:
        unique.setdefault(evidence.address.lower(), evidence)
    return list(unique.values())


# RFC 8098's disposition of a message that a filter refused and the server deleted, the
# sender told why in the text: Sieve's reject, Dovecot's reject of a full mailbox.
REJECTED = re.compile(r"automatic-action/[\w-]+\s*;\s*deleted\b", re.I)
# Outlook's notice that the reader deleted our message unread, in the same disposition: its
# words in English, and in any language the agent that sends it (Exchange) in its field.
UNREAD = re.compile(r"deleted without being read", re.I)
READERS_AGENT = re.compile(r"microsoft exchange|outlook", re.I)


def _rejected(blocks: list[Message]) -> list[Evidence]:
    """The recipients of a disposition notification that says the message was rejected; a
    reader's own disposition (read, deleted unread) is no failure."""
    return [
        Evidence(address=address, action="failed")
        for block in blocks
        if REJECTED.search(decoded(block.get("Disposition") or ""))
        and not READERS_AGENT.search(decoded(block.get("Reporting-UA") or ""))
        and (address := field_value(block.get("Final-Recipient")))
    ]


def _regrouped(block: Message) -> list[Message]:
    """A parsed group holding several recipients (no blank lines between them), apart."""
    if len(block.get_all("Final-Recipient", [])) < 2:
        return [block]
    return _field_blocks("\n".join(f"{name}: {value}" for name, value in block.items()))


def _host(field: str | None) -> str:
    """'dns; mta7.am0.yahoodns.net. [67.195.204.72]' -> 'mta7.am0.yahoodns.net'."""
    words = decoded(field or "").rpartition(";")[2].split()
    return words[0].strip("[]").rstrip(".").lower() if words else ""


DIAGNOSTIC_TYPE = re.compile(r"[\w.-]+ ?;")


def diagnosed(code: str, status_field: str) -> tuple[str, str, str, str]:
    """(its type, the words, the status, the reply code) of a Diagnostic-Code ("smtp; 550
    5.1.1 ...", "X-Postfix; ...") and a Status field: the remote server's own code outranks
    what the reporting server made of it."""
    diagnostic, source = " ".join(code.split()), ""
    if DIAGNOSTIC_TYPE.match(diagnostic):
        source, diagnostic = (p.strip() for p in diagnostic.split(";", 1))
    status = (
        REPLIED_STATUS.search(diagnostic[:60])
        or STATUS.search(diagnostic[:40])
        or STATUS.search(status_field)
    )
    reply = REPLY.match(diagnostic)
    return (
        source.lower(),
        diagnostic[:1000],
        ".".join(status.groups()) if status else "",
        reply.group(1) if reply else "",
    )


def _recipient_blocks(blocks: list[Message]) -> list[Evidence]:
    found = []
    for block in blocks:
        final = field_value(block.get("Final-Recipient")) or field_value(
            block.get("X-Actual-Recipient")
        )
        original = _xtext(field_value(block.get("Original-Recipient")))
        address = original or final
        if not address:
            continue
        source, diagnostic, status, reply = diagnosed(
            decoded(block.get("Diagnostic-Code") or ""), block.get("Status") or ""
        )
        found.append(
            Evidence(
                address=address,
                routed=final if final.lower() != address.lower() else "",
                status=status,
                reply=reply,
                # Sendmail comments it: "delivered (to mailbox)", "relayed (to non-DSN-aware
                # mailer)", "delayed (Deliver-By notify mode)"
                action=" ".join((block.get("Action") or "").split()[:1]).lower(),
                diagnostic=diagnostic,
                source=source,
                category=(block.get("X-PowerMTA-BounceCategory") or "").strip().lower(),
                remote=_host(block.get("Remote-MTA")),
            )
        )
    return found
