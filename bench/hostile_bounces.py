"""How long `classify` takes on messages built against it: anyone can mail the bounce address.

Each input is built at several sizes, padded with a harmless tail; the time of one classify
is printed beside that of an ordinary bounce padded to the same size. Time that grows with
the square of the size (a value read again from each of its positions, a part re-read per
level) shows as a ratio that grows tenfold with each tenfold size.

    .venv/bin/python bench/hostile_bounces.py [--sizes 10000,100000,250000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bounce_samples import exim  # noqa: E402

from newsletter.bounces.reports import classify  # noqa: E402

READER = "reader@example.net"


def message(
    headers: str, body: str, content_type: str = "text/plain", to: str = "news@example.org"
) -> bytes:
    head = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        f"To: {to}\nSubject: Mail delivery failed\n{headers}"
        f"MIME-Version: 1.0\nContent-Type: {content_type}\n\n"
    )
    return (head + body).replace("\n", "\r\n").encode("utf-8", "surrogateescape")


def folded(unit: str, size: int) -> str:
    """`unit` repeated to about `size` characters, folded in lines of about 800."""
    per_line = max(1, 800 // len(unit))
    count = max(1, size // len(unit))
    lines = [unit * per_line for _ in range(count // per_line)] or [unit]
    return "\n ".join(lines)


BODY = "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown\n"
INPUTS = {
    "ordinary bounce": lambda n: message("", BODY + "x\n" * (n // 2)),
    "RFC 2047 words never closed in To": lambda n: message("", BODY, to=folded("=?a?q?x", n)),
    "an address group in Delivered-To": lambda n: message(
        f"Delivered-To: g:{folded('a,', n)};\n", BODY
    ),
    "an open quote in Content-Type": lambda n: message(
        "", BODY, 'text/plain; charset="utf-8' + folded(";", n)
    ),
    "multiparts nested, no boundary comes": lambda n: message(
        "",
        "".join(
            f'--B{i}\nContent-Type: multipart/mixed; boundary="nope{i}"\n\n' for i in range(n // 60)
        )
        + BODY,
        'multipart/mixed; boundary="never"',
    ),
    "header-like lines, no boundary comes": lambda n: message(
        "", "--ab:c\n" * (n // 7), 'multipart/mixed; boundary="never"'
    ),
    "From fields of RFC 2047 words, repeated": lambda n: message(
        "".join(f"From: {'=?a?q?x' * 1000}\n" for _ in range(max(1, n // 7000))), BODY
    ),
    "a text part in charset=punycode": lambda n: message(
        "", BODY + "x-" + "9" * n, "text/plain; charset=punycode"
    ),
    "blocks of fields in a status part": lambda n: message(
        "",
        "--P\nContent-Type: text/plain\n\n"
        + BODY
        + "--P\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
        + "x\n\n" * (n // 3)
        + "--P--\n",
        'multipart/report; report-type=delivery-status; boundary="P"',
    ),
    "disposition parts": lambda n: message(
        "",
        "--P\nContent-Type: text/plain\n\n"
        + "a\n" * (n // 4)
        + "--P\nContent-Type: message/disposition-notification\n\n\n" * (n // 110)
        + "--P--\n",
        'multipart/mixed; boundary="P"',
    ),
}


def seconds(raw: bytes) -> float:
    start = time.perf_counter()
    classify(raw)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,250000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    assert exim(READER, "550 5.1.1 User unknown")  # the builders load: the tests' own
    print(f"{'input':40}" + "".join(f"{size:>12,}" for size in sizes) + "   (seconds; x ordinary)")
    ordinary = {size: seconds(INPUTS["ordinary bounce"](size)) for size in sizes}
    for name, build in INPUTS.items():
        cells = []
        for size in sizes:
            took = seconds(build(size))
            cells.append(f"{took:7.3f} x{took / max(ordinary[size], 1e-6):<4.0f}")
        print(f"{name:40}" + "".join(f"{cell:>12}" for cell in cells))


if __name__ == "__main__":
    main()
