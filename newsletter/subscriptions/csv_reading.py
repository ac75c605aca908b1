"""A CSV file as spreadsheets write it, read as it was written.

Excel's "Unicode Text" is UTF-16 with a byte-order mark and a tab between fields, and the
Excel of much of Europe writes semicolons; "CSV UTF-8" starts with a byte-order mark. The
header line says which separator a file uses: the one that splits it into most fields.
Bytes that are not of the file's encoding are read as U+FFFD, which the importer rejects
row by row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

SEPARATORS = ",;\t"  # the first wins a tie
_QUOTED = re.compile(r'"[^"]*"')


def reader(raw: io.BufferedReader) -> csv.DictReader:
    start = raw.peek(64 * 1024)
    encoding = "utf-16" if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    return csv.DictReader(text, delimiter=separator(start.decode(encoding, errors="replace")))


def separator(start: str) -> str:
    """The separator of the header line at the start of a file (quoted names aside)."""
    header = _QUOTED.sub("", start.lstrip("\ufeff").partition("\n")[0])
    return max(SEPARATORS, key=header.count)
