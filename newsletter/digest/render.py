"""Rendering an issue: Jinja2 and premailer once, then cheap per-subscriber personalisation."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from itertools import groupby

import markdown
import nh3
from flask import current_app, render_template
from flask_babel import force_locale, gettext
from markupsafe import Markup, escape

from newsletter import mailer
from newsletter.i18n import locale_for, supported
from newsletter.mailer import html_to_text, inline_css
from newsletter.models import Issue
from newsletter.posts.excerpts import excerpt_html
from newsletter.text import direction

# Stand-ins for what differs per subscriber. Letters only, so premailer and html2text keep them.
NAME = "@@NLNAME@@"
UNSUBSCRIBE_URL = "@@NLUNSUBSCRIBE@@"
PREFERENCES_URL = "@@NLPREFERENCES@@"
# Only in a send's frozen render: the open pixel (HTML only), and each tracked link's whole
# href, a marker per position (LINK then the position in letters: B is 1, BA is 26).
OPEN_PIXEL = "@@NLOPEN@@"
LINK = "@@NLLINK"
MARKERS = re.compile("(@@NL[A-Z]+@@)")
# What breaks up marker look-alikes in feed and editor text: "&#64;" reads as "@" in HTML,
# links included; plain text gets a zero-width space.
DEFUSED = {True: "&#64;@NL", False: "@@\u200bNL"}


class RenderMarkers:
    """Markers of one render, unguessable, so text from feeds and editors cannot name one.

    The template gets these; once the body is final, they become the plain markers the
    per-subscriber fill looks for, and anything else that looks like a marker is defused.
    """

    def __init__(self, links: list[str] = ()):
        nonce = "".join(secrets.choice(string.ascii_uppercase) for _ in range(24))
        self.links = {url: link_marker(position) for position, url in enumerate(links, 1)}
        self.ours = {
            marker[:-2] + nonce + "@@": marker
            for marker in (NAME, UNSUBSCRIBE_URL, PREFERENCES_URL, OPEN_PIXEL, *self.links.values())
        }
        self.by_marker = {marker: ours for ours, marker in self.ours.items()}
        self.pattern = re.compile("(" + "|".join(self.ours) + ")")

    def __getitem__(self, marker: str) -> str:
        return self.by_marker[marker]

    def track(self, url: str) -> str:
        """The href of a link: a marker when the link is tracked."""
        marker = self.links.get(url)
        return self.by_marker[marker] if marker else url

    def settle(self, body: str, html: bool) -> str:
        pieces = self.pattern.split(body)
        # Between our markers, "@@NL" never survives, so no marker can either.
        pieces[0::2] = [piece.replace("@@NL", DEFUSED[html]) for piece in pieces[0::2]]
        pieces[1::2] = [self.ours[piece] for piece in pieces[1::2]]
        return "".join(pieces)


_TITLE = re.compile(r"<title>.*?</title>", re.S)
_BODY = re.compile(r"<body\b[^>]*>")


def retitle(html: str, subject: str) -> str:
    """A render with another subject in its <title> (an A/B variant's, the winner's),
    escaped and defused like any text, so a subject cannot name a marker."""
    title = str(escape(subject)).replace("@@NL", DEFUSED[True])
    return _TITLE.sub(lambda _: f"<title>{title}</title>", html, count=1)


def link_marker(position: int) -> str:
    letters = ""
    while True:
        position, digit = divmod(position, 26)
        letters = string.ascii_uppercase[digit] + letters
        if not position:
            return LINK + letters + "@@"


def link_position(marker: str) -> int | None:
    """The position a link marker stands for; None for other markers."""
    if not marker.startswith(LINK):
        return None
    position = 0
    for letter in marker[len(LINK) : -2]:
        position = position * 26 + string.ascii_uppercase.index(letter)
    return position


def tracked_links(issue: Issue) -> list[str]:
    """The links a send counts clicks on, in order, each once: the intro's, then the items'.
    Only web links; the subscriber's own links (unsubscribe, preferences) and the archive's
    are not among them."""
    found: list[str] = []

    def keep(tag: str, attribute: str, value: str) -> str:
        if tag == "a" and attribute == "href":
            found.append(value)
        return value

    nh3.clean(markdown.markdown(issue.intro or ""), attribute_filter=keep)
    found += [item.url for item in issue.items]
    # What an IssueLink row holds; a longer link is sent as it is.
    web = (
        url for url in found if url.lower().startswith(("http://", "https://")) and len(url) <= 2000
    )
    return list(dict.fromkeys(web))


@dataclass(frozen=True)
class Personal:
    name: str
    unsubscribe_url: str
    preferences_url: str


def name_value(name: str, escape_values: bool) -> str:
    """What the name marker stands for: a space and the name (escaped for HTML), or nothing."""
    name = str(escape(name)) if escape_values else name
    return (" " + name) if name else ""


def marker_values(personal: Personal, escape_values: bool) -> dict[str, str]:
    """What each marker stands for in one subscriber's copy; HTML bodies get escaped values."""
    return {
        NAME: name_value(personal.name, escape_values),
        UNSUBSCRIBE_URL: personal.unsubscribe_url,
        PREFERENCES_URL: personal.preferences_url,
    }


class Personaliser:
    """A rendered body split at its markers once, filled in per subscriber by a join."""

    def __init__(self, body: str, escape_values: bool):
        self.body = mailer.MarkedBody(body, MARKERS)
        self.escape_values = escape_values

    def fill(self, personal: Personal) -> str:
        return "".join(self.body.fill(marker_values(personal, self.escape_values)))


def intro_html(intro: str, track=None) -> Markup:
    """The editor's Markdown, rendered and sanitised; `track` gives each link's href."""

    def href(tag: str, attribute: str, value: str) -> str:
        return track(value) if tag == "a" and attribute == "href" else value

    cleaned = nh3.clean(markdown.markdown(intro or ""), attribute_filter=track and href)
    return Markup(cleaned)


def sections(issue: Issue) -> list[tuple[str, list]]:
    """Items grouped by section, keeping the editor's order."""
    return [(name, list(items)) for name, items in groupby(issue.items, key=lambda i: i.section)]


def archive_index_url(mailing_list) -> str:
    return f"{current_app.config['BASE_URL']}/archive/{mailing_list.slug}"


def archive_url(issue: Issue) -> str:
    return f"{archive_index_url(issue.mailing_list)}/{issue.number}"


def render_page(
    issue: Issue,
    personal: bool,
    markers: RenderMarkers | None = None,
    locale: str | None = None,
) -> str:
    """The digest as one HTML document; with personal=False it has no subscriber's links (archive).

    Personal pages carry `markers` where the subscriber's values go. The chrome (greeting,
    footer, dates) is in `locale`, by default the list's language."""
    mailing_list = issue.mailing_list
    markers = markers or RenderMarkers()
    with force_locale(supported(locale) or locale_for(mailing_list=mailing_list)):
        return render_template(
            "email/digest.html",
            issue=issue,
            mailing_list=mailing_list,
            subject=issue.subject,
            sections=sections(issue),
            intro=intro_html(issue.intro, markers.track if personal else None),
            track=markers.track if personal else str,
            direction_of=direction,
            excerpt_html=excerpt_html,
            personal=personal,
            greeting_name=markers[NAME],
            unsubscribe_url=markers[UNSUBSCRIBE_URL],
            preferences_url=markers[PREFERENCES_URL],
            archive_url=archive_url(issue),
            # Shown as a page in the archive: a way back to the others (not in an email).
            archive_index_url=None if personal else archive_index_url(mailing_list),
            subscribe_url=f"{current_app.config['BASE_URL']}/subscribe/{mailing_list.slug}",
        )


def render_issue(
    issue: Issue, locale: str | None = None, links: list[str] = (), pixel: bool = False
) -> tuple[str, str]:
    """HTML (CSS inlined) and text of the email, with the per-subscriber markers left in:
    only where the template put them, whatever the feed's or the editor's text holds.
    `locale` as in render_page: the send renders once per language its subscribers read.
    A send's render marks the hrefs of `links` (tracked_links) and, with `pixel`, where the
    open pixel goes."""
    markers = RenderMarkers(links)
    html = render_page(issue, personal=True, markers=markers, locale=locale)
    inlined = inline_css(html)
    if pixel:
        # First in the body: Gmail clips a long email's end, and an open it did not load
        # would go uncounted.
        inlined = _BODY.sub(lambda body: body[0] + markers[OPEN_PIXEL], inlined, count=1)
    return (
        markers.settle(inlined, html=True),
        markers.settle(html_to_text(html), html=False),
    )


# Gmail shows an email's HTML up to about 102 KB and hides the rest behind "[Message
# clipped]" (spamresource.com measured 102-105 KB): the last items, the footer with its
# unsubscribe link. Past this, which leaves room for a copy's own links, the editor is told.
CLIPPED_PAST = 95_000


@dataclass(frozen=True)
class HtmlSize:
    """How big an issue's HTML is: as a mail program decodes it (UTF-8, what the 102 KB is
    commonly measured on) and as it travels (quoted-printable: a Persian letter takes 6
    bytes; spamresource.com saw the limit move with the encoding)."""

    bytes: int
    sent_bytes: int

    @property
    def clipped(self) -> bool:
        return self.bytes > CLIPPED_PAST


def html_size(html: str) -> HtmlSize:
    return HtmlSize(len(html.encode("utf-8")), mailer.quoted_printable_size(html))


def issue_html_size(issue: Issue, previewed: str | None = None) -> HtmlSize:
    """The size of the issue's HTML in its list's language: its frozen render once sending
    started, else the editors' preview (`previewed` when the caller has it)."""
    if issue.html is not None:
        return html_size(issue.html)
    return html_size(previewed if previewed is not None else preview(issue)[0])


def preview(issue: Issue, locale: str | None = None) -> tuple[str, str]:
    """The email as a sample subscriber gets it, for editors' previews: in `locale` as its
    readers of that language get it, by default in the list's language."""
    locale = supported(locale) or locale_for(mailing_list=issue.mailing_list)
    html, text = render_issue(issue, locale)
    # Named in the reader's language: a Persian issue greeted "سلام Reader".
    with force_locale(locale):
        sample = Personal(str(gettext("Reader")), "#unsubscribe", "#preferences")
    return (
        Personaliser(html, escape_values=True).fill(sample),
        Personaliser(text, escape_values=False).fill(sample),
    )
