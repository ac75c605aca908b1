"""Proofs (the admin's "send a test"): the issue as subscribers will get it, to the editors'
own addresses.

With an A/B test not decided yet, each address gets one test per subject, "[Test A]",
"[Test B]"…: the editor sees every inbox line a reader may see. Once decided, the winner's."""

from __future__ import annotations

from newsletter import links, mailer
from newsletter.digest.render import render_issue, retitle
from newsletter.models import Issue
from newsletter.sending import ab
from newsletter.sending.letter import IssueLetter

MAX_TEST_RECIPIENTS = 10


def proof_subjects(issue: Issue) -> list[tuple[str, str]]:
    """(mark, subject) of each test to send: the subjects a reader may get."""
    if issue.variants and issue.ab_winner is None:
        return [(f"[Test {ab.variant_name(v.position)}]", v.subject) for v in issue.variants]
    return [("[Test]", ab.subjects(issue)[None])]


def send_proof(issue: Issue, addresses: list[str], locale: str | None = None) -> int:
    """Render the issue now and send each test to each address (subject in the header and
    the <title>), as its readers of `locale` get it (by default the list's language);
    returns how many messages went. Raises OSError when SMTP fails."""
    html, text = render_issue(issue, locale)
    letters = [
        IssueLetter(issue, html=retitle(html, subject), text=text, subject=f"{mark} {subject}")
        for mark, subject in proof_subjects(issue)
    ]
    sent = 0
    with mailer.connect() as smtp:
        for address in addresses[:MAX_TEST_RECIPIENTS]:
            for letter in letters:
                copy = letter.build(0, links.TEST_READER, address, "")
                mailer.send(smtp, letter.envelope_from, address, bytes(copy))
                sent += 1
    return sent
