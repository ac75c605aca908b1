"""An excerpt as its editor wrote it: line breaks and paragraphs kept, nothing else."""

from __future__ import annotations

import html
import re

import nh3
from markupsafe import Markup, escape

from newsletter.text import cut

# Every control character but the line feed; CR, CRLF and the Unicode separators are
# turned into line feeds before this runs.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_excerpt(value: str, max_length: int) -> str:
    """Plain text in lines: spaces collapsed within each line, at most one blank line
    between paragraphs, cut at max_length (at a word, with an ellipsis). What looks like
    a tag stays text: it is escaped where it is shown."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    lines = (" ".join(_CONTROL.sub(" ", line).split()) for line in text.split("\n"))
    return cut(_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip(), max_length)


def excerpt_from_html(value: str, max_length: int) -> str:
    """A post's excerpt given as HTML or text (the API, the form): tags dropped, lines kept."""
    return clean_excerpt(html.unescape(nh3.clean(value or "", tags=set())), max_length)


def excerpt_html(excerpt: str) -> Markup:
    """Each paragraph a <p>, each line break a <br>; the text escaped. Every paragraph
    finds its own direction: a Persian paragraph after an English one reads right to left."""
    paragraphs = [p for p in (excerpt or "").split("\n\n") if p.strip()]
    return Markup("").join(
        Markup('<p class="excerpt" dir="auto">{}</p>').format(
            Markup("<br>").join(escape(line) for line in paragraph.split("\n"))
        )
        for paragraph in paragraphs
    )
