"""Amazon SES's notifications, as AWS's documentation and other projects' fixtures write them
(72 real ones: AWS's examples, django-ses's, anymail's, Mautic's, Sisimai's SNS e-mails):
whoever carries them (SNS by e-mail, SNS over HTTP, the bare JSON), an SES notification is
read for what its JSON says, never for the words around it.

Before: an SNS e-mail carrying an event that fails nobody (a send, an open, a click, a
delivery delay) or a notification whose keys a tool rewrote was read as a bounce's text, and
blamed our own sender (hard, once), fragments of JSON and SNS's unsubscribe link; an address
with a display name ("John <john@...>") was kept whole, so nobody was found; a delay was
a failure; a status only in the diagnosticCode was not read.
"""

from __future__ import annotations

import json

import pytest
from bounce_samples import classified, ses_bounce, ses_delivery, sns_email, sns_http

READER = "reader@example.net"
MAIL = ses_delivery(READER)["mail"]  # the "mail" object every notification carries


def _carried(notification: dict) -> list[bytes]:
    return [
        sns_email(notification),
        sns_email(notification, wrapped=True),
        sns_http(notification),
        json.dumps(notification).encode(),
    ]


@pytest.mark.parametrize(
    "event",
    [
        {"eventType": "Send", "mail": MAIL, "send": {}},
        {"eventType": "Open", "mail": MAIL, "open": {"ipAddress": "192.0.2.1", "userAgent": "x"}},
        {"eventType": "Click", "mail": MAIL, "click": {"link": "https://example.org/"}},
        {"eventType": "Reject", "mail": MAIL, "reject": {"reason": "Bad content"}},
        {"eventType": "Rendering Failure", "mail": MAIL, "failure": {"errorMessage": "x"}},
        # a tool that rewrote SES's keys (Grafana Loki's fixture): SES's JSON all the same
        {"NotificationType": "Bounce", "Bounce": {"BounceType": "Permanent"}, "Mail": MAIL},
    ],
    ids=["send", "open", "click", "reject", "rendering", "pascal-case"],
)
def test_an_ses_event_that_fails_nobody_names_nobody_however_it_comes(event):
    for raw in _carried(event):
        verdict = classified(raw)
        assert (verdict.recipients, verdict.kind) == ([], "none"), verdict


def test_an_ses_delivery_delay_is_a_delay_not_a_failure():
    delay = {
        "eventType": "DeliveryDelay",
        "mail": MAIL,
        "deliveryDelay": {
            "timestamp": "2025-01-14T10:30:12.000Z",
            "delayType": "TransientCommunicationFailure",
            "expirationTime": "2025-01-15T09:30:12.000Z",
            "delayedRecipients": [
                {
                    "emailAddress": READER,
                    "status": "4.4.1",
                    "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to the server",
                }
            ],
        },
    }
    for raw in _carried(delay):
        verdict = classified(raw)
        assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [
            (READER, "soft", "delayed")
        ]


def test_an_ses_address_with_a_display_name_names_its_address():
    """A real OnAccountSuppressionList notice (a blog post's) names "John <john@...>"."""
    said = "Amazon SES did not send the message to this address because it is on the " + (
        "suppression list for your account."
    )
    bounce = ses_bounce([("Reader <reader@example.net>", "5.1.1", said)], sub_type="Suppressed")
    for raw in _carried(bounce):
        assert [f.address for f in classified(raw).recipients] == [READER]


def test_an_ses_status_given_only_in_the_diagnostic_code_is_read():
    bounce = ses_bounce([(READER, "", "smtp; 550 5.1.1 <reader@example.net>: Recipient unknown")])
    for raw in _carried(bounce):
        assert [(f.kind, f.status) for f in classified(raw).recipients] == [("hard", "5.1.1")]


def test_an_ses_event_in_eventbridges_envelope_is_read():
    bounce = ses_bounce([(READER, "5.1.1", "smtp; 550 5.1.1 user unknown")])
    event = {
        "version": "0",
        "detail-type": "Email Bounced",
        "source": "aws.ses",
        "detail": {
            "eventType": "Bounce",
            **{k: v for k, v in bounce.items() if k != "notificationType"},
        },
    }
    for raw in _carried(event):
        assert [(f.address, f.kind) for f in classified(raw).recipients] == [(READER, "hard")]
