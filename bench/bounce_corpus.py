"""The bounce judgement on Sisimai's public corpus: agreement per reason, and time a message.

Reads shared/bounce-corpus beside the project (or --corpus), classifies every message in
this process, and prints, per Sisimai reason, how often the kind (hard, soft, complaint,
nothing) agrees and how often our reason is the same one; then recipients found, refusals
of our mail and full mailboxes judged hard, and the median and p99 time a message. The
scoring of record is the corpus's own score_cli.py, which the test suite runs.

    .venv/bin/python bench/bounce_corpus.py [--corpus ../shared/bounce-corpus] [-v]
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from newsletter.bounces.reports import classify, split_mbox  # noqa: E402

# Sisimai's reason names -> ours (newsletter/bounces/verdict.py).
OURS = {
    "userunknown": "user_unknown",
    "hostunknown": "host_unknown",
    "hasmoved": "has_moved",
    "notaccept": "no_mail_accepted",
    "suspend": "mailbox_disabled",
    "mailboxfull": "mailbox_full",
    "expired": "expired",
    "systemerror": "system_error",
    "systemfull": "system_full",
    "networkerror": "network_error",
    "mailererror": "mailer_error",
    "onhold": "on_hold",
    "undefined": "unknown",
    "blocked": "blocked",
    "badreputation": "bad_reputation",
    "spamdetected": "spam",
    "filtered": "filtered",
    "contenterror": "content_error",
    "virusdetected": "virus",
    "policyviolation": "policy",
    "authfailure": "auth_failure",
    "requireptr": "require_ptr",
    "securityerror": "security_error",
    "rejected": "sender_rejected",
    "norelaying": "no_relaying",
    "notcompliantrfc": "not_compliant",
    "syntaxerror": "syntax_error",
    # Sisimai's "speeding" is any rate: ours, or a mailbox's from everyone (Gmail's ReceivingRate)
    "speeding": ("rate_limited", "receiving_too_fast"),
    "toomanyconn": "too_many_connections",
    "mesgtoobig": "too_large",
    "exceedlimit": "too_large",
    "vacation": "auto_reply",
    "delivered": "delivered",
    "feedback": "complaint",
}


def _names(ours: str | tuple[str, ...]) -> tuple[str, ...]:
    return ours if isinstance(ours, tuple) else (ours,)


KIND = {"hard": "hard", "soft": "soft", "sender": "soft", "complaint": "complaint"}


class Caught(logging.Handler):
    """Counts the messages classify's guard had to catch: each is a reader bug."""

    count = 0

    def emit(self, record):
        Caught.count += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "bounce-corpus")
    parser.add_argument("-v", action="store_true", help="print every disagreement")
    args = parser.parse_args()
    rows = list(csv.DictReader(open(args.corpus / "expected.csv")))
    logging.getLogger("newsletter.bounces.reports").addHandler(Caught(level=logging.ERROR))
    verdicts, times = {}, []
    for sample in sorted({r["sample"] for r in rows}):
        raw = (args.corpus / "corpus" / sample).read_bytes()
        verdicts[sample] = []
        for message in split_mbox(raw):
            started = time.perf_counter()
            verdicts[sample].append(classify(message))
            times.append(time.perf_counter() - started)
    table = defaultdict(Counter)
    totals = Counter()
    for row in rows:
        names = {row["recipient"].lower(), row["alias"].lower()} - {""}
        found = [f for v in verdicts[row["sample"]] for f in v.recipients if f.address in names]
        ours = found[-1] if found else None
        expected = row["expected_kind"]
        if expected == "not a bounce":
            kind_ok = all(v.kind == "none" for v in verdicts[row["sample"]])
            reason = verdicts[row["sample"]][0].reason
        else:
            kind_ok = ours is not None and KIND.get(ours.kind) == expected
            reason = ours.reason if ours else None
            if expected in ("hard", "soft"):
                totals["bounces"] += 1
                totals["found"] += ours is not None
        table[row["reason"]]["rows"] += 1
        table[row["reason"]]["kind"] += kind_ok
        table[row["reason"]]["reason"] += reason in _names(OURS[row["reason"]])
        totals["kind"] += kind_ok
        if args.v and not kind_ok:
            print("disagree", row["sample"], row["recipient"], expected, ours)
    print(f"{'sisimai reason':<16} {'rows':>5} {'kind':>6} {'reason':>7}")
    for name, c in sorted(table.items(), key=lambda kv: -kv[1]["rows"]):
        print(f"{name:<16} {c['rows']:>5} {c['kind']:>6} {c['reason']:>7}")
    print(
        f"recipient found {100 * totals['found'] / totals['bounces']:.1f}%, "
        f"kind agrees {100 * totals['kind'] / len(rows):.1f}% of {len(rows)} rows, "
        f"median {1000 * statistics.median(times):.2f} ms, "
        f"p99 {1000 * sorted(times)[int(len(times) * 0.99)]:.2f} ms a message, "
        f"{Caught.count} caught errors"
    )


if __name__ == "__main__":
    main()
