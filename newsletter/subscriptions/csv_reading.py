"""A CSV file as spreadsheets write it, read as it was written.

Excel's "Unicode Text" is UTF-16 with a byte-order mark and a tab between fields, and the
Excel of much of Europe writes semicolons; "CSV UTF-8" starts with a byte-order mark. The
header line says which separator a file uses: the one that splits it into most fields.

Excel's plain "CSV" is in the system's legacy code page: Windows-1256 on a Persian or Arabic
Windows, 1252 in Western Europe, 1251 for Cyrillic. A file that is not UTF-8 anywhere is read
in the one of these whose reading gives words of one script each; where none stands out, or
some lines are UTF-8 and others not, it is read as UTF-8, and bytes that are not (read as
U+FFFD) make the importer reject their rows. The editor sees the choice and can change it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator

from newsletter.text import PERSIAN_FOR_ARABIC

SEPARATORS = ",;\t"  # the first wins a tie
SAMPLE = 16 * 1024  # bytes of the lines beyond ASCII that choose a legacy code page
_QUOTED = re.compile(r'"[^"]*"')
_DECLARED = re.compile(r"sep=([^\r\n])\r?\n")

# The encodings an editor may choose, by what the mapping page calls them.
NAMES = {
    "utf-8": "UTF-8",
    "cp1256": "Windows-1256 (Persian, Arabic)",
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "mac_roman": "Mac Roman (Excel for Mac's plain CSV)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1255": "Windows-1255 (Hebrew)",
    "gb18030": "GB 18030 (Chinese)",
    "shift_jis": "Shift JIS (Japanese)",
    "euc_kr": "EUC-KR (Korean)",
}
# The code pages a file is tried in, each with the script of its letters: one a script, as
# words cannot tell the Latin ones apart; Greek and Hebrew are tried so that their files
# tie with Cyrillic and stay UTF-8 rather than read as Cyrillic.
_SCRIPTS = {
    "cp1256": "ARABIC",
    "cp1252": "LATIN",
    "cp1251": "CYRILLIC",
    "cp1253": "GREEK",
    "cp1255": "HEBREW",
}
_BOMS = {codecs.BOM_UTF16_LE: "utf-16", codecs.BOM_UTF16_BE: "utf-16"}
# Between words: spaces, the separators and ASCII punctuation.
_WORD = re.compile(r"[^\s,;\"'()<>@.:/|!?=+*#&%$~^`\\\[\]{}-]+")
_JOINERS = "\u200c\u200d"  # Persian writes a zero-width non-joiner inside words
_CASED = ("LATIN", "CYRILLIC", "GREEK")


def reader(
    raw: io.BufferedReader,
    encoding: str | None = None,
    headings: Callable[[list[str]], list[str] | None] | None = None,
) -> csv.DictReader:
    """The file's rows; `encoding` as the editor chose it, or as `encoding_of` finds it.
    `headings` names the columns when the first line is not a heading line but data (it
    then gives names, and the line is read as a row)."""
    start = raw.peek(64 * 1024)
    codec = _codec(encoding or encoding_of(start))
    text = io.TextIOWrapper(raw, encoding=codec, errors="replace", newline="")
    start_text = start.decode(codec, errors="replace").lstrip("\ufeff")
    declared = _DECLARED.match(start_text)
    if declared:  # Excel's "sep=;" line says the separator, and is no heading
        text.readline()
        start_text = start_text[declared.end() :]
    delimiter = declared[1] if declared else separator(start_text)
    first = next(csv.reader(io.StringIO(start_text), delimiter=delimiter), [])
    names = headings(first) if headings else None
    lines = _as_persian(text) if codec == "cp1256" and _PERSIAN.search(start_text) else text
    heading_line = names is None
    if heading_line:  # read here, so that two columns of one name are two columns
        names = distinct(next(csv.reader(lines, delimiter=delimiter), []))
    rows = csv.DictReader(lines, fieldnames=names or None, delimiter=delimiter)
    # The line of the file the first row is on, for the rows' numbers in a report.
    rows.first_line = 1 + bool(declared) + heading_line
    return rows


# Letters Persian has and Arabic lacks (پ چ ژ گ ک): a Windows-1256 file holding them is Persian.
_PERSIAN = re.compile("[\u067e\u0686\u0698\u06af\u06a9]")
# Windows-1256 has no Persian yeh: Persian was typed with Arabic's yeh and kaf, and a name read
# as written ("كريمي") was found by no search typed on a Persian keyboard ("کریمی").
_PERSIAN_LETTERS = str.maketrans(PERSIAN_FOR_ARABIC)


# An address's letters are its domain's, as registered: "example.السعودية" is Saudi Arabia's,
# with Arabic's yeh; only Iran's own domain (.ایران) is spelt with Persian's. Words are cut
# at what ends an address, not matched by a pattern: "@aaa…" backtracked for each letter.
_BETWEEN_WORDS = re.compile(r'([\s,;"<>]+)')


def _as_persian(text: Iterator[str]) -> Iterator[str]:
    return (
        _persian_line(line) if "@" in line else line.translate(_PERSIAN_LETTERS) for line in text
    )


def _persian_line(line: str) -> str:
    return "".join(_persian_word(word) for word in _BETWEEN_WORDS.split(line))


def _persian_word(word: str) -> str:
    persian = word.translate(_PERSIAN_LETTERS)
    if "@" not in word or persian.rstrip(".").endswith(".ایران"):
        return persian
    return word


def distinct(names: list[str]) -> list[str]:
    """Headings with no two alike, whatever their case: "Email, Name, Email" read as one
    column's worth of rows kept the second address and lost the first, silently."""
    seen: set[str] = set()
    found = []
    for name in names:
        name, count = name.strip(), 1
        unique = name
        while unique.lower() in seen:
            count += 1
            unique = f"{name} ({count})"
        seen.add(unique.lower())
        found.append(unique)
    return found


def encoding_of(start: bytes) -> str:
    """How the start of a file is written: "utf-16" (by its byte-order mark), "utf-8", or a
    legacy code page of NAMES."""
    for bom, encoding in _BOMS.items():
        if start.startswith(bom):
            return encoding
    lines = start.split(b"\n")[:-1] or [start]  # the last may be cut mid-character
    beyond_ascii = [line for line in lines if not line.isascii()]
    if not beyond_ascii or any(_utf8(line) for line in beyond_ascii):
        return "utf-8"  # all ASCII, or some lines UTF-8: its other bytes are mistakes
    # A few hundred words decide as well as a megabyte: a sample keeps the page quick.
    return _legacy(b"\n".join(beyond_ascii)[:SAMPLE]) or "utf-8"


def separator(start: str) -> str:
    """The separator of the header line at the start of a file (quoted names aside)."""
    header = _QUOTED.sub("", start.lstrip("\ufeff").partition("\n")[0])
    return max(SEPARATORS, key=header.count)


def _codec(encoding: str) -> str:
    return "utf-8-sig" if encoding == "utf-8" else encoding  # a byte-order mark or not


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _legacy(start: bytes) -> str | None:
    """The code page whose reading makes most words of one script, if one does clearly."""
    scores = {
        encoding: _score(start.decode(encoding, errors="replace"), script)
        for encoding, script in _SCRIPTS.items()
    }
    best = max(scores, key=scores.get)
    runner_up = max(score for encoding, score in scores.items() if encoding != best)
    return best if scores[best] > max(runner_up, 0) else None


def _score(text: str, script: str) -> int:
    """Words with letters beyond ASCII that read as `script` would write them, less those
    that do not: a letter of another script, a symbol or a mark in the word, or (in a cased
    script) capitals where no name has them."""
    score = 0
    for word in _WORD.findall(text):
        if word.isascii() or any(c.isdigit() or c == "_" for c in word):
            continue
        score += 1 if _plausible(word.strip(_JOINERS), script) else -1
    return score


def _plausible(word: str, script: str) -> bool:
    letters = word.replace("\u200c", "").replace("\u200d", "")
    after_letter = False
    for char in letters:
        category = unicodedata.category(char)
        if category.startswith("M"):  # a mark (an Arabic vowel sign) follows a letter
            # Names are written without Hebrew's vowel points.
            if not after_letter or script == "HEBREW":
                return False
            after_letter = False
        elif category.startswith("L") and _script(char) == script:
            after_letter = True
        else:
            return False
    if script in _CASED:
        bare = "".join(c for c in letters if unicodedata.category(c).startswith("L"))
        if not (bare.islower() or bare.isupper() or bare.istitle()):
            return False
    # Greek stresses a word once ("Γιώργος"); Cyrillic's bytes read as Greek give several
    # stressed letters, and the rare "ΰ" for its commonest letter, "а".
    if script == "GREEK":
        stressed = [unicodedata.name(c) for c in letters if "WITH" in unicodedata.name(c)]
        if len(stressed) > 1 or any("DIALYTIKA AND TONOS" in name for name in stressed):
            return False
    # Latin words have letters beyond ASCII among ASCII ones ("Müller", "José"); a word of
    # such letters only ("ÃÍãÏ") is another script's bytes.
    beyond = sum(not c.isascii() for c in letters)
    return script != "LATIN" or beyond <= max(2, len(letters) // 2)


def _script(char: str) -> str:
    if char.isascii():
        return "LATIN"
    return unicodedata.name(char, "?").split(" ")[0]
