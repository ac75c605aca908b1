"""What of ours a report quotes, which is none of the server's words: our subject (in the
report's own subject, "Undeliverable: ...", and in its text), the headers of our message.

Whatever our subject says ("After mail from readers", "Is your mailbox full?", «صندوق پستی
پر است») must not be read as the stage a server refused at or the state of a mailbox.
"""

from __future__ import annotations

import re

# A report's own subject that quotes ours after it: Exchange's and Outlook's in their
# languages, hMailServer's, Exchange's delay notice.
QUOTING_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|message undeliverable|delivery delayed|unzustellbar|non remis|"
    r"non recapitabile|no se puede entregar|n[ãa]o [ée] poss[íi]vel entregar|onbestelbaar|"
    r"nie mo[żz]na dostarczy[ćc]|olevererbart|kan ikke leveres|kan ikke leveras|"
    r"tavoittamaton|nem kézbesíthető|nedoručitelné|teslim edilemedi|не доставлено|"
    r"недоставлено|غير قابل للتسليم|تحویل داده نشد|配信不能|无法投递|無法傳遞|배달되지 않음)"
    r"\s*[:：]\s*(.+)$",
    re.I | re.S,
)
# A subject's name as a report's text writes it, and Exim's "The subject of the message is:".
_SUBJECT = (
    r"subject|betreff|objet|asunto|oggetto|onderwerp|assunto|temat|тема|موضوع|主题|主旨|件名|"
    r"제목|the subject of the message is"
)
# The other fields of our message as a report's summary of it names them, in the languages
# Exchange and Outlook write it in (its From, To, Cc, Reply-To, Date and Sent)
_FIELDS = (
    r"from|to|cc|date|sent|reply-to|list-id|"
    r"de|para|responder a|enviado|fecha|à|répondre à|envoyé|von|an|antwort an|gesendet|datum|"
    r"responder para|data|da|rispondi a|inviato|van|aan|antwoord aan|verzonden|od|do|dw|"
    r"wysłano|kimden|kime|bilgi|tarih|от|кому|копия|ответ|отправлено|дата|از|به|رونوشت|"
    r"پاسخ به|تاریخ|من|إلى|نسخة|الرد على|التاريخ|发件人|收件人|抄送|回复|日期|发送时间|寄件者|"
    r"收件者|副本|差出人|宛先|返信先|日付|送信日時|보낸 사람|받는 사람|참조|날짜"
)
# A line of our message's headers as a report quotes them in its text.
HEADER_LINE = re.compile(rf"^\s*(?:{_SUBJECT}|{_FIELDS})\s*[:：]", re.I)
# (What follows is taken whole and trimmed by its reader: "(.+?)\s*$" went over a line's
# spaces once for each of them.)
SUBJECT_LINE = re.compile(rf"^\s*(?:{_SUBJECT})\s*[:：]\s*(\S.*)$", re.I | re.M)


# A line that begins with its own name and colon ("  RCPT TO: x", " Out: 250 ..."): the
# next field of an indented block, not a folded header's continuation.
NAMED_LINE = re.compile(r"\s*\w[\w -]{0,30}:\s")


def header_lines(lines: list[str], starts: re.Pattern) -> list[bool]:
    """Which lines quote a header: one `starts` finds, and its folded continuation lines."""
    flags, in_header = [], False
    for line in lines:
        if starts.match(line):
            in_header = True
        elif not (in_header and line[:1] in (" ", "\t") and line.strip()) or NAMED_LINE.match(line):
            in_header = False
        flags.append(in_header)
    return flags


def without_headers(text: str) -> str:
    """The text without the lines that quote our message's headers: a header's value is
    ours, not the server's."""
    lines = text.split("\n")
    return "\n".join(
        line
        for line, quoted in zip(lines, header_lines(lines, HEADER_LINE), strict=True)
        if not quoted
    )


def subjects(report_subject: str, original_subject: str, text: str) -> list[str]:
    """Our subject as each place in the report gives it: the quoted original's, after the
    report's own subject's prefix (cut short, perhaps), on a quoted "Subject:" line."""
    found = [original_subject]
    quoting = QUOTING_SUBJECT.match(report_subject)
    if quoting:
        found.append(quoting.group(1))
    found += SUBJECT_LINE.findall(text[:20_000])[:5]
    return list(dict.fromkeys(s for s in (" ".join(s.split()) for s in found) if s))


# Words of a subject looked for: a report cuts a long one short anyway, and a pattern of a
# thousand one-letter words, built against the text, took 0.1 s.
MOST_WORDS = 24


def _pattern(subject: str) -> re.Pattern:
    return re.compile(r"\s+".join(map(re.escape, subject.split()[:MOST_WORDS])), re.I)


class Ours:
    """Our subjects as patterns, each found however a report wraps it."""

    def __init__(self, found: list[str]):
        # In the report's general words, any but the shortest: four letters of Chinese
        # ("邮箱已满", mailbox full) say as much as a sentence; "Spam" might be the server's.
        self.general = [
            _pattern(s) for s in found if len(s) >= 8 or (not s.isascii() and len(s) >= 3)
        ]
        # In a recipient's own words, only a subject no server's reply says by chance:
        # "Access denied" or "User unknown" as our subject must not erase the server's.
        self.own = [
            _pattern(s) for s in found if len(s.split()) >= 3 or (not s.isascii() and len(s) >= 6)
        ]

    def out_of_general(self, text: str) -> str:
        return _removed(without_headers(text), self.general)

    def out_of_own(self, text: str) -> str:
        return _removed(text, self.own)


def _removed(text: str, patterns: list[re.Pattern]) -> str:
    for pattern in patterns:
        text = pattern.sub(" ", text)
    return text
