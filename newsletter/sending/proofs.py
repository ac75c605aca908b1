"""Proofs (the admin's "send a test"): the issue as subscribers will get it, to the editors'
own addresses."""

from __future__ import annotations

from newsletter import mailer
from newsletter.digest.render import render_issue
from newsletter.models import Issue
from newsletter.sending.letter import IssueLetter

MAX_TEST_RECIPIENTS = 10


def send_proof(issue: Issue, addresses: list[str]) -> int:
    """Render the issue now and send it, marked [Test]; raises OSError when SMTP fails."""
    html, text = render_issue(issue)
    letter = IssueLetter(issue, html=html, text=text, subject=f"[Test] {issue.subject}")
    with mailer.connect() as smtp:
        for address in addresses[:MAX_TEST_RECIPIENTS]:
            # Subscriber id 0: the links look real but point at nobody.
            message = letter.build(0, 0, address, "")
            mailer.send(smtp, letter.envelope_from, address, message)
    return min(len(addresses), MAX_TEST_RECIPIENTS)
