"""Posts by email: mail to posts+<list slug>@<bounce domain>, which `bounces serve` accepts.

A message becomes a post of the week at once when its From is an editor or a sender the
list always allows, and the MTA in front of us vouches for that From: an
Authentication-Results header (RFC 8601) whose authserv-id is NEWSLETTER_INBOUND_AUTHSERV_ID
says dkim, spf or dmarc passed for the From's domain. Anyone can write that header, so others'
are ignored; without the setting nothing is vouched for and every message is held. Held mail
waits in held_posts for an editor (admin/inbound.py). Attachments are dropped with a note;
HTML is sanitised before it is stored.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
import smtplib
from dataclasses import dataclass

import idna
import nh3
import sqlalchemy as sa
from flask import current_app
from markupsafe import escape

from newsletter import accounts, mailer, suppression
from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.extensions import db
from newsletter.lists.headers import sender as list_sender
from newsletter.models import AllowedSender, HeldPost, MailingList, Post
from newsletter.posts import forwarded
from newsletter.posts.entries import FIELD_MAX_DEPTH, depth
from newsletter.posts.mail_text import HTML_MAX, bodies, first_link
from newsletter.posts.service import TITLE_MAX, PostError, add_post
from newsletter.statuses import HeldStatus
from newsletter.text import single_line, storable, strip_html

log = logging.getLogger(__name__)

PREFIX = "posts+"
# What is kept of a body (HTML_MAX, mail_text's, is what of its HTML is read).
TEXT_MAX = 100_000
# What an editor's email holds, with room to spare: a few parts, headers of a few hundred
# characters. Past these a message is dropped unread: the modern header parser this module
# reads with takes memory as the square of a header's encoded words (a Subject of 50,000
# took 24 GB, until the kernel killed the server), and time likewise for 100,000 addresses
# in a From (32 s) or 50,000 attachments (8 s).
HEADER_MAX = 16_000
PARTS_MAX = 200
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)(.*)$", re.IGNORECASE | re.DOTALL)
# (A property's name tried once, at its start: from each of its letters, seconds a header.)
_PROPERTY = re.compile(
    r"(?<![a-z0-9-])([a-z0-9-]+\.[a-z0-9-]+)\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE
)
# Authentication-Results headers read: ours is added at the top by our MTA (RFC 8601), and
# anyone may add more below it.
RESULTS_MAX = 10
# The property each method names the authenticated domain with.
_DOMAIN_OF = {"dkim": "header.d", "spf": "smtp.mailfrom", "dmarc": "header.from"}


def list_slug(address: str, domain: str) -> str | None:
    """The list slug of posts+<slug>@<domain>, else None (a bounce address, or another's)."""
    local, _, at = address.strip("<> ").rpartition("@")
    if at.lower() != domain.lower() or not local.lower().startswith(PREFIX):
        return None
    return local[len(PREFIX) :].lower() or None


def posts_address(mailing_list: MailingList) -> str | None:
    domain = current_app.config.get("BOUNCE_DOMAIN")
    return f"{PREFIX}{mailing_list.slug}@{domain}" if domain else None


def list_for(slug: str) -> MailingList | None:
    return db.session.scalar(sa.select(MailingList).where(MailingList.slug == slug))


@dataclass
class Mail:
    """What is kept of a message: its sender, subject and bodies, cleaned."""

    sender: str
    sender_name: str
    subject: str
    text: str
    html: str
    link: str
    note: str
    vouched_domains: set[str]
    key: str


def take(raw: bytes, mailing_list: MailingList) -> HeldPost | None:
    """Read one message to the list's posts address: a post now, or held. Commits."""
    try:
        mail = read(raw, current_app.config.get("INBOUND_AUTHSERV_ID"))
    except Exception:  # the sender cannot fix what it sent: retrying would not help
        log.exception("an unreadable message to a posts address was dropped")
        return None
    if mail is None:
        return None
    if _seen(mailing_list, mail.key):
        log.info("a message to a posts address came again and was dropped")
        return None
    reason = _why_held(mailing_list, mail)
    held = HeldPost(
        list_id=mailing_list.id,
        message_key=mail.key,
        sender=mail.sender,
        sender_name=mail.sender_name,
        subject=mail.subject,
        text=mail.text,
        html_sanitised=mail.html,
        link=mail.link,
        note=mail.note,
        reason=reason or "",
    )
    db.session.add(held)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same message on another connection at this moment
        db.session.rollback()
        return None
    if reason is None:
        try:
            publish(held, HeldStatus.PUBLISHED)
        except PostError as exc:  # the same URL as an earlier post: an editor decides
            db.session.rollback()
            held.reason = str(exc)[:300]
            db.session.commit()
    return held


def _seen(mailing_list: MailingList, key: str) -> bool:
    found = sa.select(HeldPost.id).where(
        HeldPost.list_id == mailing_list.id, HeldPost.message_key == key
    )
    return db.session.scalar(found) is not None


def _why_held(mailing_list: MailingList, mail: Mail) -> str | None:
    if accounts.find_user(mail.sender) is None and not is_allowed(mailing_list, mail.sender):
        return "The sender is neither an editor nor always allowed."
    if not aligned(mail.sender, mail.vouched_domains):
        return "No trusted Authentication-Results vouch for the sender's domain."
    return None


def aligned(sender: str, vouched: set[str]) -> bool:
    """The sender's domain is a vouched one, or under one (relaxed alignment, as DMARC's)."""
    domain = _domain(sender.rpartition("@")[2])
    return any(domain == d or domain.endswith("." + d) for d in vouched)


def is_allowed(mailing_list: MailingList, sender: str) -> bool:
    return bool(db.session.get(AllowedSender, (mailing_list.id, sender)))


def publish(held: HeldPost, status: str, title: str = "", url: str = "") -> Post:
    """Make the held message a post of its list through the one add-post rule."""
    # What the mail program wrapped around the post ("Fwd:", forwarded headers with their
    # addresses, the signature) is left out of what readers and the archive see.
    body = forwarded.text(held.text)
    post = add_post(
        held.mailing_list,
        title=title or forwarded.subject(held.subject) or _first_line(body) or "Post by email",
        url=url or held.link or _by_email_url(held),
        source=held.sender_name or held.sender.partition("@")[0],
        excerpt=body,
        plain=True,
        published_at=held.received_at,
    )
    held.status, held.post_id, held.reason = status, post.id, ""
    db.session.commit()
    return post


def _by_email_url(held: HeldPost) -> str:
    # No link in the mail: the post points to the list's archive, unique by its anchor.
    base = current_app.config["BASE_URL"]
    return f"{base}/archive/{held.mailing_list.slug}#by-email-{held.id}"


def _first_line(text: str) -> str:
    return single_line(text.strip().split("\n", 1)[0], TITLE_MAX) if text.strip() else ""


# --- An editor's moves ----------------------------------------------------------------------


def approve(held: HeldPost, title: str = "", url: str = "") -> Post:
    """A held message becomes a post; title and URL default to its subject and first link."""
    if not _move(held, HeldStatus.HELD, HeldStatus.APPROVED):  # two editors, one post
        raise PostError("This message is no longer held.")
    try:
        return publish(held, HeldStatus.APPROVED, title.strip(), url.strip())
    except PostError:
        db.session.rollback()
        _move(held, HeldStatus.APPROVED, HeldStatus.HELD)
        raise


def _move(held: HeldPost, old: str, new: str) -> bool:
    """One guarded change of a held message's status; False when it was not `old`."""
    done = db.session.execute(
        sa.update(HeldPost).where(HeldPost.id == held.id, HeldPost.status == old).values(status=new)
    ).rowcount
    db.session.commit()
    return bool(done)


def reject(held: HeldPost, reply: str) -> bool:
    """Reject a held message once; with a reply, the sender gets it by email."""
    done = _move(held, HeldStatus.HELD, HeldStatus.REJECTED)
    if done and reply.strip() and suppression.reason(held.sender) is None:
        try:
            _send_reply(held, reply.strip())
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("the reply to a rejected post was not sent: %s", exc)
            raise PostError("Rejected, but the mail server did not take the reply.") from exc
    return done


def _send_reply(held: HeldPost, reply: str) -> None:
    mailing_list = held.mailing_list
    subject = "Re: " + (held.subject or "your post")
    to = (held.sender_name, held.sender)
    headers = mailer.standard_headers(list_sender(mailing_list), to, subject)
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in reply.split("\n\n"))
    with mailer.connect() as smtp:
        message = mailer.mime_bytes(headers, reply + "\n", f'<div dir="auto">{paragraphs}</div>')
        mailer.send(smtp, mailing_list.from_email, held.sender, message)


def allow_sender(mailing_list: MailingList, address: str) -> None:
    """From now on this sender's mail is trusted like an editor's (so still only when aligned)."""
    if not is_allowed(mailing_list, address):
        db.session.add(AllowedSender(list_id=mailing_list.id, email=address))
        db.session.commit()


def held_count(mailing_list: MailingList | None = None) -> int:
    query = sa.select(sa.func.count(HeldPost.id)).where(HeldPost.status == HeldStatus.HELD)
    if mailing_list is not None:
        query = query.where(HeldPost.list_id == mailing_list.id)
    return db.session.scalar(query) or 0


# --- Reading a message ---------------------------------------------------------------------


def read(raw: bytes, authserv_id: str | None) -> Mail | None:
    """The message's parts we keep, or None when it has no usable sender, is automatic, or
    is far past what an editor's email holds."""
    odd = _beyond_bounds(raw)
    if odd:
        log.info("a message to a posts address was dropped unread: %s", odd)
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if (message.get("Auto-Submitted") or "no").strip().lower() != "no":
        log.info("an automatic message to a posts address was dropped")
        return None
    sender = _sender(message)
    if sender is None:
        log.info("a message to a posts address without one usable From was dropped")
        return None
    text, html, attached, dropped = bodies(message)
    notes = []
    if dropped:
        notes.append(f"{dropped} attachment{'s were' if dropped > 1 else ' was'} dropped")
    if len(html) > HTML_MAX or depth(html) > FIELD_MAX_DEPTH:
        html = ""
        notes.append("the HTML part was too large or too deeply nested and was dropped")
    html = nh3.clean(html, url_schemes={"http", "https", "mailto"}) if html else ""
    text = text or (mailer.html_to_text(html, plain=True) if html else "")
    text = "\n\n".join(words for words in (text, attached) if words)
    if len(text) > TEXT_MAX:
        text = text[:TEXT_MAX]
        notes.append(f"the text was cut at {TEXT_MAX:,} characters")
    text = text.replace("\r\n", "\n").strip()
    link = first_link(html, forwarded.text(text))  # not the editor's signature's
    subject = strip_html(storable(str(message.get("Subject") or "")), TITLE_MAX)
    return Mail(
        sender=sender[1],
        sender_name=single_line(storable(sender[0]), 300),
        subject=subject,
        text=text,
        html=html,
        link=link,
        note="; ".join(notes).capitalize()[:300],
        vouched_domains=vouched_domains(message, authserv_id) if authserv_id else set(),
        key=_key(message, sender[1], subject, text),
    )


def _key(message, sender: str, subject: str, text: str) -> str:
    """What tells one message from another: its Message-ID (RFC 5322 asks every message to
    carry one), else its sender, Date, subject and text, which a redelivery repeats."""
    message_id = "".join(str(message.get("Message-ID") or "").split())
    what = message_id or "\0".join((sender, str(message.get("Date") or ""), subject, text))
    return hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()


def _beyond_bounds(raw: bytes) -> str | None:
    """Why the message is past what an editor's email holds, read by the plain parser (whose
    cost grows as the message does), or None."""
    try:
        parts = list(email.message_from_bytes(raw, policy=email.policy.compat32).walk())
    except RecursionError:  # the parser recurses once per nested part
        return "parts nested too deep"
    if len(parts) > PARTS_MAX:
        return f"more than {PARTS_MAX} parts"
    if any(len(str(value)) > HEADER_MAX for part in parts for value in part.values()):
        return f"a header over {HEADER_MAX:,} characters"
    return None


def _sender(message) -> tuple[str, str] | None:
    try:
        addresses = message["From"].addresses if message["From"] else ()
        if len(addresses) != 1:
            return None
        return addresses[0].display_name, normalise_email(addresses[0].addr_spec)
    except (InvalidEmail, ValueError, IndexError, AttributeError):
        return None


# --- Authentication-Results (RFC 8601) -----------------------------------------------------


def vouched_domains(message, authserv_id: str) -> set[str]:
    """Domains that passed dkim, spf or dmarc by the word of our own authserv-id only."""
    domains = set()
    for header in (message.get_all("Authentication-Results") or [])[:RESULTS_MAX]:
        value = _COMMENT.sub(" ", str(header))
        served_by, *results = value.split(";")
        if not served_by.split() or served_by.split()[0].lower() != authserv_id.lower():
            continue  # anyone can write this header; only our MTA's counts
        for result in results:
            match = _RESULT.match(result)
            if not match or match.group(2).lower() != "pass":
                continue
            wanted = _DOMAIN_OF.get(match.group(1).lower())
            for name, value in _PROPERTY.findall(match.group(3)):
                if name.lower() == wanted:
                    domains.add(_domain(value.rpartition("@")[2]))
    return {d for d in domains if "." in d}


def _domain(value: str) -> str:
    value = value.strip().rstrip(".").lower()
    try:
        return idna.decode(value)
    except idna.IDNAError:
        return value
