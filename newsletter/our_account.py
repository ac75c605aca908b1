"""Words in a mail server's reply that refuse our own sending account, not the recipient.

A smarthost (Gmail, Amazon SES, Microsoft 365 as relays) words its limits and its refusals
of our login or identity with "quota exceeded", "suspended", "user", "account": read as the
recipient's, they would fail every reader's copy for good, or bounce every reader. Both the
send path (a refusal at RCPT TO) and the bounce reader ask here first.
"""

from __future__ import annotations

import re

# Our volume: a day's quota or rate of the relay we send through.
SENDING_LIMIT = re.compile(
    r"daily (?:user )?sending (?:quota|limit)|"
    r"sending (?:quota|limits?) (?:exceeded|reached)|daily message quota exceeded|"
    r"exceeded (?:its|your|the) sending (?:quota|limits?)|"
    # Gmail's own notice to a sender over its limit; Microsoft 365's submission quota
    r"reached a limit for sending mail|submission ?quota (?:was )?exceeded|"
    r"sender's submission quota|"
    # a hosting account's hourly count (a queue filter's "450 Delayed: sender over quota"),
    # a relay's ("You have exceeded your Outmail quota")
    # (not "your mailbox quota": Dovecot's words to the sender of a full mailbox's)
    r"\bsender over quota\b|"
    r"\byou have exceeded your (?!mailbox|storage|disk|inbox|mail\b)\w+ quota\b|"
    # Microsoft 365 holding back our submitting mailbox (5.2.25x "Sender throttled due to
    # continuous invalid recipients errors"; "Message submission rate ... exceeded"), or
    # its store refusing our submission ("STOREDRV.Submission.Exception:
    # QuotaExceededException", our own mailbox full)
    r"\bsender throttled due to\b|message submission rate\b|storedrv\.submission\.|"
    # Google Workspace's SMTP relay ("Daily SMTP relay limit exceeded for user", "Peak SMTP
    # relay limit exceeded for customer"); cPanel's "Domain x has exceeded the max emails
    # per hour"; SendGrid's "Maximum credits exceeded"; per-second limits of relays
    r"\bsmtp relay limit exceeded|\bexceeded the max (?:emails|defers)|"
    r"maximum credits exceeded|messages per second limit exceeded|"
    # Plesk's outgoing mail control ("The limit on the number of allowed outgoing messages
    # was exceeded", its knowledge base)
    r"limit on the number of allowed outgoing messages",
    re.I,
)
# Our account, identity or address: "Your account has been suspended", "Client does not
# have permissions to send as this sender" (Microsoft 5.7.60), "550 5.1.0 Sender denied".
OUR_SENDER = re.compile(
    r"\byour account (?:has been|is) (?:suspended|disabled|blocked|locked)|"
    # cPanel's suspension of our hosting account's mail: "Outgoing mail from "user" has been
    # suspended", "Domain x has an outgoing mail suspension"
    r"\boutgoing mail from .{1,80}? has been suspended|has an outgoing mail suspension|"
    r"not allowed to send from this address|permissions? to send as this sender|"
    r"\bsender (?:denied|user is disabled|not allowed)\b|send ?as ?denied|"
    # SendGrid's "The from address does not match a verified Sender Identity"
    r"verified sender identity|"
    # Google Workspace's SMTP relay: our credentials, or our account
    r"invalid credentials for relay|sending (?:email )?account has been (?:temporarily )?"
    r"suspended|"
    # Our return path's or From's domain or address, refused: "Sender domain does not
    # exist", "your mail from domain has no DNS records", "From address does not exist",
    # Plan 9's "Sender domain must exist", "Mailbox of sender does not exist"
    r"\b(?:sender|from|return[- ]path|reverse[- ]path|mail from|your)(?:'s)? "
    r"(?:domain|address|user|mailbox) "
    r"(?:does not exist|doesn't exist|not found|is not valid|has no dns|must exist)|"
    r"\b(?:domain|address|user|mailbox) of (?:the )?sender(?: address)? "
    r"(?:does not exist|doesn't exist|not found|unknown)|"
    # RFC 7505's "Sender address has null MX"; Postfix's "Sender address rejected: Domain x
    # does not accept mail (nullMX)"
    r"\bsender address has null ?mx|"
    # the same in Polish and Persian: the sender's (nadawcy, فرستنده) domain or address
    r"\b(?:domena|adres) nadawcy(?: \S+)? nie istnieje|"
    r"(?:دامنه|آدرس|نشانی)\s?ی?\s?فرستنده\s+وجود ندارد|"
    # No mail exchanger for it: chkuser's "can't find a valid MX for sender domain", Haraka's
    # "No MX for your FROM address"
    r"valid mx for sender domain|no mx for your from address|"
    # qmail's "sorry, your envelope sender domain must exist (#5.7.1)", Tencent's "Sender
    # Domain Resolve Fail", a receiver finding no "A, AAAA, or MX DNS records" for it
    r"envelope sender domain must exist|sender domain resolve fail|"
    r"\bsender\s+(?:\S+\s+)?has no a, aaaa,? or mx\b",
    re.I,
)

# The receiver called back our return path and it failed, or refused it outright: our
# bounce address, not the reader's (Sendmail sums a failed callback up as "5.1.1 User
# unknown" for the recipient). Exim's callout begins "550-Verification failed for <sender>"
# and ends "550 Sender verify failed"; a relay's own check of our sender at RCPT TO
# (Postfix's "Sender address rejected: undeliverable address") reads the same.
SENDER_REFUSED = re.compile(
    r"sender verif(?:y|ication) failed|verify mailfrom failed|sender address rejected|"
    r"sender verify callout|envelope sender has been denied|not authorized sender|"
    r"callback setup failed while verifying|"
    r"sender address has invalid format|sorry, sender (?:\S+|<\s*>) rejected|"
    r"\bsender (?:is|has been) (?:black ?listed|blocked|banned)\b|"
    r"\bsender address blocked\b|\bsender rejected\b|"
    # web.de: our domain's DNS ("Invalid DNS MX or A/AAAA resource record")
    r"invalid dns mx or a/aaaa resource record|"
    r"\byour (?:e-?mail )?address\W{0,6}(?:has been|is) (?:blocked|banned|black ?listed)\b|"
    # Discourse: our address is no forum user's
    r"was sent from an unknown email address|"
    r"mail from domain (?:does not|doesn't) (?:exist|have an mx)|"
    # Sendmail's "553 5.1.8 Domain of sender address <x> does not exist" (proto.m4)
    r"\bdomain of sender address \S+ (?:does not exist|does not resolve)|"
    # Microsoft 365's "5.1.8 Access denied, bad outbound sender"; Amazon SES's "Email address
    # is not verified. The following identities failed the check", "Sending suspended for
    # this account"
    r"bad outbound sender|identities failed the check|sending suspended for this account|"
    r"(?<!recipient )(?<!dkim )(?<!spf )verification failed for\b",
    re.I,
)


def refuses_us(reply: str) -> bool:
    """Whether the reply refuses our sending account, whatever command it answered."""
    return bool(
        SENDING_LIMIT.search(reply) or OUR_SENDER.search(reply) or SENDER_REFUSED.search(reply)
    )
