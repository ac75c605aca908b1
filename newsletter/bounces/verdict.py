"""What a returned message says, in our words: the shapes `classify` hands out.

A reason names what went wrong; its kind says what that does to a subscriber:
- hard: the address is dead, the subscriber stops at once;
- soft: the mailbox cannot take mail for now, the decaying score;
- sender: the receiving side refuses *our* mail, never counted against the subscriber;
- complaint: the subscriber marked us as spam;
- none: an auto-reply or a delivery notice, nothing to do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# reason -> kind. One table, so each reason's consequence has one home.
REASONS: dict[str, str] = {
    # the address is dead
    "user_unknown": "hard",
    "host_unknown": "hard",
    "has_moved": "hard",
    "no_mail_accepted": "hard",  # the domain takes no mail at all (null MX, 5xx at greeting)
    # the mailbox cannot take mail now
    "mailbox_disabled": "soft",
    "mailbox_full": "soft",
    "receiving_too_fast": "soft",  # more mail than the mailbox takes an hour, from everyone
    "expired": "soft",
    "delayed": "soft",  # still queued: recorded, not a failure
    "system_error": "soft",
    "system_full": "soft",
    "network_error": "soft",
    "mailer_error": "soft",
    "on_hold": "soft",
    "unknown": "soft",
    # The reader's domain's own server says it takes no mail for the domain ("Relay access
    # denied"): the domain's set-up, not our mail; one that stays so is dropped in time.
    "no_relaying": "soft",
    # the receiving side refuses our mail: never the subscriber's fault
    "blocked": "sender",
    "bad_reputation": "sender",
    "spam": "sender",
    "filtered": "sender",
    "content_error": "sender",
    "virus": "sender",
    "policy": "sender",
    "auth_failure": "sender",
    "require_ptr": "sender",
    "security_error": "sender",
    "sender_rejected": "sender",
    "not_compliant": "sender",
    "syntax_error": "sender",
    "rate_limited": "sender",
    "too_many_connections": "sender",
    "too_large": "sender",
    # not failures
    "auto_reply": "none",
    "delivered": "none",
    "not_a_bounce": "none",
    "held": "none",  # a mailing list holds our post for its moderators
    "complaint": "complaint",
}

KINDS = ("hard", "soft", "sender", "complaint", "none")
# Worst first: the kind a message as a whole gets from its recipients.
_RANK = {"complaint": 0, "hard": 1, "soft": 2, "sender": 3, "none": 4}


def kind_of(reason: str) -> str:
    return REASONS.get(reason, "soft")


@dataclass
class Failure:
    """One recipient a report is about."""

    address: str
    reason: str
    status: str = ""  # RFC 3463 enhanced status, "5.1.1"
    diagnostic: str = ""  # the server's words
    kind: str = ""

    def __post_init__(self):
        self.kind = self.kind or kind_of(self.reason)


@dataclass
class Verdict:
    """One message: the recipients it names, and what it says as a whole."""

    recipients: list[Failure] = field(default_factory=list)
    reason: str = "not_a_bounce"
    # Of the quoted original message: ours name their delivery.
    message_ids: list[str] = field(default_factory=list)
    # Where the mailbox says the report was delivered: a VERP return path, when by IMAP/POP3.
    delivered_to: list[str] = field(default_factory=list)
    # The quoted original's Return-Path: our VERP names the delivery even where a feedback
    # loop reports to a fixed address and blanks the reader's own (AOL's "redacted").
    return_paths: list[str] = field(default_factory=list)
    # The quoted original's List-Unsubscribe: a mail of ours that is no issue's copy (the
    # welcome, a confirmation) names its reader by the signed token in it.
    unsubscribe_links: list[str] = field(default_factory=list)
    # A bounce its forwarder got for mail of their own (a reader passing an issue on to a
    # friend): whom it names failed, but not the copy of ours its return path names.
    of_their_own_mail: bool = False

    @property
    def kind(self) -> str:
        if not self.recipients:
            return kind_of(self.reason)
        return min((r.kind for r in self.recipients), key=_RANK.__getitem__)

    @property
    def main(self) -> Failure | None:
        """The recipient that sets the message's kind; of those, one that failed rather than
        one still queued (a delay is soft too, but only recorded)."""
        ranked = sorted(self.recipients, key=lambda r: (_RANK[r.kind], r.reason == "delayed"))
        return ranked[0] if ranked else None

    @property
    def detail(self) -> str:
        main = self.main
        if main is None:
            return self.reason.replace("_", " ")
        return " ".join(f"{main.status} {main.diagnostic}".split())[:500]

    def as_json(self, file: str) -> dict:
        main = self.main
        return {
            "file": file,
            "kind": self.kind,
            "reason": main.reason if main else self.reason,
            "recipients": [asdict(r) for r in self.recipients],
        }
