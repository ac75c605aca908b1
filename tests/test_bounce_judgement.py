"""The bounce judgement on 589 real bounces no one here wrote: Sisimai's public corpus.

The corpus lives beside the project in shared/bounce-corpus (never copied in), with
Sisimai's verdict for each message and `score_cli.py`, which runs `newsletter bounces
classify --json` over all of it and scores the answers as outside tests do. The figures are
floors that only ever go up: raise them with each improvement, never lower them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bounce_samples import classified
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.bounces.verdict import KINDS

pytestmark = pytest.mark.slow

CORPUS = Path(
    os.environ.get("NEWSLETTER_BOUNCE_CORPUS")
    or Path(__file__).resolve().parents[2] / "shared" / "bounce-corpus"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Measured, and never to go down. See the bounce section of the README for what is left.
# Targets: recipient 97, agree 95, complaints 18, and 0 for every ceiling.
FLOORS = {"recipient": 99.3, "agree": 95.5, "complaints": 12}
CEILINGS = {"soft->hard(4xx/full)": 0, "sender->hard": 5, "crashes": 0}
SUMMARY = re.compile(
    r"recipient (?P<recipient>[\d.]+)% agree (?P<agree>[\d.]+)% "
    r"soft->hard\(4xx/full\) (?P<soft_hard>\d+) sender->hard (?P<sender_hard>\d+) "
    r"complaints (?P<complaints>\d+)/(?P<complaint_total>\d+) crashes (?P<crashes>\d+)"
)


@pytest.fixture(scope="module")
def score():
    if not (CORPUS / "score_cli.py").exists():
        if IN_CI:
            pytest.fail(f"the shared bounce corpus is missing at {CORPUS}")
        pytest.skip(f"no shared bounce corpus at {CORPUS}")
    bin_dir = Path(sys.executable).parent
    run = subprocess.run(
        [sys.executable, str(CORPUS / "score_cli.py"), str(bin_dir), str(CORPUS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(run.stdout)
    found = SUMMARY.search(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "")
    assert found, f"no summary from score_cli.py: {run.stdout[-500:]} {run.stderr[-2000:]}"
    return found


def test_the_subscriber_named_by_a_real_bounce_is_found(score):
    assert float(score["recipient"]) >= FLOORS["recipient"]


def test_hard_soft_and_complaint_agree_with_the_reference(score):
    assert float(score["agree"]) >= FLOORS["agree"]


def test_no_live_subscriber_is_dropped_for_a_full_mailbox_or_a_temporary_failure(score):
    assert int(score["soft_hard"]) <= CEILINGS["soft->hard(4xx/full)"]


def test_refusals_of_our_mail_never_count_against_the_subscriber(score):
    assert int(score["sender_hard"]) <= CEILINGS["sender->hard"]


def test_complaints_are_recognised_with_the_complaining_address(score):
    assert int(score["complaints"]) >= FLOORS["complaints"]


def test_no_message_crashes_the_classifier(score):
    assert int(score["crashes"]) == CEILINGS["crashes"]


def test_line_endings_do_not_change_a_verdict():
    """Every corpus message read with CRLF (Windows) and CR (classic Mac OS) line endings, as
    Sisimai's own sets keep them, is judged as with LF."""
    from newsletter.bounces.reports import classify

    files = sorted((CORPUS / "corpus").glob("*.eml"))
    if not files:
        if IN_CI:
            pytest.fail(f"the shared bounce corpus is missing at {CORPUS}")
        pytest.skip(f"no shared bounce corpus at {CORPUS}")

    def verdict(raw: bytes) -> tuple:
        v = classify(raw)
        return v.kind, sorted((r.address.lower(), r.kind, r.reason) for r in v.recipients)

    changed = []
    for path in files:
        lf = path.read_bytes().replace(b"\r\n", b"\n")
        expected = verdict(lf)
        for ending in (b"\r\n", b"\r"):
            if verdict(lf.replace(b"\n", ending)) != expected:
                changed.append((path.name, ending))
    assert changed == [], f"{len(changed)} verdicts change with the line endings: {changed[:10]}"


# What a message picks up on its way: raw bytes in another script, a NUL, a cut.
SPLICED = st.sampled_from(
    [
        "کاربر ناشناس".encode(),
        "用户不存在 メールボックス".encode(),
        "😀🚫".encode(),
        b"\xff\xfe\xd8",
        b"\x00",
        b'; charset="utf\x008"',
        b"\r\n\r\n",
        b"=?utf-8?b?2LPZhNin2YU=?=",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.lists(st.tuples(st.floats(0, 1), SPLICED), max_size=6))
def test_a_real_bounce_mangled_on_its_way_is_still_read(pick, splices):
    """A corpus message with raw Persian, CJK, emoji, stray bytes or a NUL spliced in at any
    places, header lines included: the reader never trips its own guard. A raw 8-bit header
    (RFC 6532) or a charset name with a NUL lost the whole report before."""
    files = sorted((CORPUS / "corpus").glob("*.eml"))
    if not files:
        if IN_CI:
            pytest.fail(f"the shared bounce corpus is missing at {CORPUS}")
        pytest.skip(f"no shared bounce corpus at {CORPUS}")
    raw = files[pick % len(files)].read_bytes()
    for where, piece in splices:
        at = int(where * len(raw))
        raw = raw[:at] + piece + raw[at:]
    assert classified(raw).kind in KINDS
