"""What a bounce's words and status code say, as one of our reasons (verdict.REASONS).

Data only: the phrases are facts gathered from Sisimai's public reason lists and
provider tables (github.com/sisimai/p5-sisimai, BSD-2-Clause, lib/Sisimai/Reason/*.pm,
lib/Sisimai/SMTP/Status.pm, lib/Sisimai/Rhost/*.pm), from RFC 3463 / RFC 5248 /
RFC 7505 enhanced status codes, and from the providers' own published error pages
(Microsoft 365 NDRs, Gmail SMTP errors, Yahoo sender error codes). The Python is ours.

- STATUS_REASONS: enhanced status code -> reason, only where the code alone is reliable.
- TEXT_REASONS: (reason, regex) checked in order, first match wins.
- Big receivers whose wording means something particular: providers.py, checked after
  the sharp rules (_SHARP, the first of TEXT_REASONS) and before the rest.
- MTA_CATEGORIES: a sending MTA's own category field -> reason (PowerMTA, Amazon SES).
"""

from __future__ import annotations

import re

from newsletter import our_account
from newsletter.text import PERSIAN_FOR_ARABIC

# Persian and Arabic as people type them: a zero-width non-joiner, a tatweel or a direction
# mark inside a word, the vowel marks, hamza on alef, Arabic yeh and kaf in Persian words
# (a keyboard's choice): folded away in the phrases and in the words read alike, so one
# phrase matches every spelling.
_ONE_SPELLING = str.maketrans(
    PERSIAN_FOR_ARABIC
    | {"\u0623": "\u0627", "\u0625": "\u0627"}
    | dict.fromkeys([0x200C, 0x200D, 0x200E, 0x200F, 0x0640, *range(0x064B, 0x0660), 0x0670])
)


def fold(text: str) -> str:
    """Lowercased, white space made single spaces, Persian and Arabic spellings made one."""
    text = " ".join(text.split()).lower()
    return text if text.isascii() else text.translate(_ONE_SPELLING)


# --------------------------------------------------------------------------------------
# Status codes. 4.x.x never maps to a hard reason (the address may well be fine later).
# Left out as ambiguous: x.0.0, 5.5.0, 5.7.0, 5.7.1, 4.1.6 and 4.3.2 (hard meanings on a
# transient code), 5.4.1 (RFC: no answer from host; Microsoft: recipient not found), 5.0.350
# (Microsoft catch-all). 5.7.9 is ours either way (RFC: a weak authentication; Yahoo: policy).
STATUS_REASONS: dict[str, str] = {
    "2.1.5": "delivered",
    # transient
    "4.1.7": "sender_rejected",
    "4.1.8": "sender_rejected",
    "4.1.9": "system_error",
    "4.2.1": "mailbox_disabled",
    "4.2.2": "mailbox_full",
    "4.2.3": "too_large",
    "4.2.4": "system_error",
    "4.3.1": "system_full",
    "4.3.3": "system_error",
    "4.3.5": "system_error",
    "4.4.1": "expired",
    "4.4.2": "network_error",
    "4.4.3": "system_error",
    "4.4.4": "network_error",
    "4.4.5": "system_full",
    "4.4.6": "network_error",
    "4.4.7": "expired",
    "4.4.8": "network_error",
    "4.4.316": "network_error",  # Microsoft: connection refused
    "4.4.317": "security_error",  # Microsoft: STARTTLS required
    "4.5.3": "too_many_connections",  # too many recipients
    "4.5.1": "syntax_error",
    "4.5.5": "system_error",
    "4.5.6": "syntax_error",
    "4.6.0": "content_error",
    "4.6.2": "content_error",
    "4.6.5": "content_error",
    "4.6.6": "content_error",
    "4.7.1": "blocked",
    "4.7.2": "blocked",
    "4.7.5": "security_error",
    "4.7.6": "security_error",
    "4.7.7": "security_error",
    "4.7.12": "security_error",
    "4.7.15": "security_error",
    "4.7.16": "too_large",
    "4.7.23": "require_ptr",  # Gmail: no PTR
    "4.7.24": "auth_failure",
    "4.7.25": "require_ptr",
    "4.7.26": "auth_failure",
    "4.7.27": "auth_failure",  # Gmail: bulk senders need SPF
    "4.7.28": "rate_limited",  # Gmail: rate limited (unsolicited rate, DKIM, same Message-ID)
    "4.7.29": "security_error",  # Gmail: TLS required
    "4.7.30": "auth_failure",  # Gmail: bulk senders need DKIM
    "4.7.32": "auth_failure",  # Gmail: From not aligned with SPF/DKIM
    "4.7.321": "security_error",
    "4.7.323": "auth_failure",  # Microsoft: DANE
    "4.7.324": "auth_failure",
    "4.7.325": "auth_failure",
    "4.7.322": "auth_failure",  # Microsoft: certificate expired (as 5.7.322)
    # Microsoft: "Access denied, please try again later", our IP restricted for a while
    **{f"4.7.{n}": "blocked" for n in (*range(500, 700), *range(850, 900))},
    "4.7.650": "bad_reputation",  # Microsoft: rate limited due to IP reputation
    # permanent
    "5.1.0": "user_unknown",
    "5.1.1": "user_unknown",
    "5.1.2": "host_unknown",
    "5.1.3": "user_unknown",
    "5.1.4": "system_error",  # ambiguous: the name matches several mailboxes there
    "5.1.6": "has_moved",
    "5.1.7": "sender_rejected",
    "5.1.8": "sender_rejected",
    "5.1.9": "system_error",
    "5.1.10": "user_unknown",  # RFC 7505 null MX, but Microsoft's "recipient not found" in practice
    "5.1.90": "rate_limited",  # Microsoft: daily recipient limit
    "5.2.0": "filtered",
    "5.2.1": "mailbox_disabled",  # RFC 3463 / Gmail: mailbox disabled
    "5.2.2": "mailbox_full",
    "5.2.3": "too_large",
    "5.2.4": "system_error",  # the reader's list could not be expanded
    "5.2.121": "rate_limited",  # Microsoft: per-hour receive limit from sender
    "5.2.122": "receiving_too_fast",  # Microsoft: per-hour receive limit, from everyone
    "5.3.0": "system_error",
    "5.3.1": "system_full",
    "5.3.2": "system_error",  # not accepting now; RFC 7504's 521 says never (reasons.py)
    "5.3.3": "system_error",
    "5.3.4": "too_large",
    "5.3.5": "system_error",
    "5.4.0": "network_error",
    "5.4.3": "system_error",
    "5.4.4": "host_unknown",
    "5.4.6": "network_error",  # routing loop
    "5.4.7": "expired",
    "5.4.14": "network_error",  # Microsoft: routing loop
    "5.4.300": "expired",  # Microsoft: message expired
    "5.4.310": "host_unknown",  # Exchange Online: DNS domain does not exist
    "5.4.317": "security_error",
    "5.5.1": "syntax_error",  # our client: a command it may not give
    "5.5.2": "syntax_error",
    "5.5.3": "too_many_connections",  # too many recipients
    "5.5.4": "syntax_error",  # RFC 3463: invalid command arguments (ours)
    "5.5.5": "system_error",
    "5.5.6": "syntax_error",
    "5.6.0": "content_error",
    "5.6.1": "content_error",
    "5.6.2": "content_error",
    "5.6.3": "content_error",
    "5.6.5": "content_error",
    "5.6.6": "content_error",
    "5.6.7": "content_error",
    "5.6.8": "content_error",
    "5.6.9": "content_error",
    "5.6.4": "content_error",  # conversion with loss, which the message forbade
    "5.6.10": "content_error",  # as 5.6.8
    "5.6.11": "content_error",  # Microsoft: bare line feeds
    "5.6.211": "content_error",  # Microsoft: invalid MIME content
    "5.7.2": "security_error",
    "5.7.3": "security_error",
    "5.7.4": "security_error",
    "5.7.5": "security_error",
    "5.7.6": "security_error",
    "5.7.7": "security_error",
    "5.7.8": "security_error",
    "5.7.10": "security_error",
    "5.7.11": "security_error",
    "5.7.12": "sender_rejected",  # Microsoft: sender not authenticated by organization
    "5.7.13": "mailbox_disabled",  # RFC 5248: user account disabled
    "5.7.14": "security_error",
    "5.7.15": "security_error",
    "5.7.16": "too_large",
    "5.7.17": "has_moved",  # mailbox owner has changed
    "5.7.18": "has_moved",  # domain owner has changed
    "5.7.19": "security_error",
    "5.7.20": "auth_failure",
    "5.7.21": "auth_failure",
    "5.7.22": "auth_failure",
    "5.7.23": "auth_failure",
    "5.7.24": "auth_failure",
    "5.7.25": "require_ptr",  # reverse DNS validation failed
    "5.7.26": "auth_failure",  # Gmail: unauthenticated
    "5.7.27": "auth_failure",  # RFC 7505: sender has null MX; Gmail: bulk senders need SPF
    "5.7.28": "blocked",  # Gmail: unusual rate of unsolicited mail
    "5.7.29": "auth_failure",  # RFC 8617: ARC validation failure
    "5.7.9": "security_error",  # an authentication mechanism too weak (Yahoo: policy)
    "5.7.30": "security_error",  # RFC 8689: REQUIRETLS support required
    "5.7.32": "auth_failure",
    "5.7.57": "security_error",  # Microsoft: client not authenticated
    "5.7.64": "no_relaying",  # Microsoft: tenant attribution, relay denied
    "5.7.124": "sender_rejected",  # Microsoft: not in allowed-senders list
    "5.7.129": "sender_rejected",  # Microsoft: group restricted to certain senders
    "5.7.133": "sender_rejected",
    "5.7.134": "sender_rejected",
    "5.7.135": "sender_rejected",
    "5.7.136": "sender_rejected",
    "5.7.321": "security_error",
    "5.7.322": "auth_failure",
    "5.7.323": "auth_failure",
    "5.7.324": "auth_failure",
    "5.7.325": "auth_failure",
    "5.7.501": "sender_rejected",  # Microsoft: spam abuse detected / banned sender
    "5.7.502": "sender_rejected",
    "5.7.503": "sender_rejected",
    "5.7.504": "mailbox_disabled",  # Microsoft: recipient address rejected
    "5.7.505": "mailbox_disabled",  # Microsoft: banned recipient
    "5.7.506": "blocked",  # bad HELO
    "5.7.507": "blocked",  # rejected by recipient
    "5.7.508": "rate_limited",  # exceeded permitted limits
    "5.7.509": "auth_failure",  # DMARC
    "5.7.510": "blocked",  # no email over IPv6
    "5.7.511": "blocked",  # banned sender
    "5.7.512": "sender_rejected",  # From not RFC 5322 compliant
    "5.7.513": "blocked",  # customer block list
    "5.7.515": "auth_failure",  # required authentication level
    **{f"5.7.{n}": "blocked" for n in range(606, 650)},  # Microsoft: banned sending IP
    # Microsoft 5.7.700-749 (tenant threshold, traffic not accepted): Sisimai says speeding
    **{f"5.7.{n}": "rate_limited" for n in range(700, 750)},
    "5.7.708": "blocked",  # "traffic not accepted from this IP": a block, not a rate
    "5.7.750": "sender_rejected",  # unregistered domains
}

# --------------------------------------------------------------------------------------
# Text. Per reason: (literal phrases, regexes). Literal phrases are escaped; regexes are
# Sisimai's regex-like entries and its ordered-fragment pairs ("a ... b") in Python form.
#
# Order follows Sisimai's Reason->get (MailboxFull MesgTooBig ExceedLimit Suspend HasMoved
# NoRelaying AuthFailure UserUnknown Filtered RequirePTR NotCompliantRFC Rejected
# HostUnknown SpamDetected Speeding TooManyConn Blocked), then its anotherone fallback
# (PolicyViolation VirusDetected BadReputation SecurityError SystemError NetworkError
# Expired ContentError SystemFull NotAccept MailerError), then SyntaxError and Vacation.
# One change: bad_reputation goes before spam, as a Gmail reputation block starts with
# "our system has detected that this message is", a spam phrase.
GAP = r".{0,120}?"  # the gap between two ordered fragments

_PHRASES: dict[str, tuple[list[str], list[str]]] = {
    "mailbox_full": (
        [
            "account storage limit",  # GoDaddy's qmail (its help page, "Recipient bounces")
            "extended quota violation",  # Comcast: "552 5.1.1 <x> recipient rejected - ..."
            "user has exhausted allowed storage space",  # web.de, and in German:
            "speichervolumen ueberschritten",
            # OpenEMM's rule: "message rejected by recipient, comment: 'Quota not sufficient'"
            "quota not sufficient",
            "exceeds remaining quota",  # "552 5.2.2 Message size exceeds remaining quota"
            "mailbox size exceeded",  # Yandex
            "account is full",
            "メールボックスが一杯",  # SoftBank: "the mailbox is full"
            "account disabled temporarly for exceeding receiving limits",
            "over quota",
            "account is overquota",
            "user mailbox exceeds allowed size",  # IMail
            "not enough disk space",
            "account is exceeding their quota",
            "account is over quota",
            "account is temporarily over quota",
            "boite du destinataire pleine",
            "delivery failed: over quota",
            "disc quota exceeded",
            "diskspace quota",
            "does not have enough space",
            "exceeded storage allocation",
            "exceeding its mailbox quota",
            "full mailbox",
            "inbox is out of storage space",
            "is over disk quota",
            "is over quota temporarily",
            "mail quota exceeded",
            "mailbox exceeded the local limit",
            "mailbox full",
            "mailbox has exceeded its disk space limit",
            "mailbox is full",
            "mailbox over quota",
            "mailbox quota usage exceeded",
            "mailbox size limit exceeded",
            "maildir over quota",
            "maildir delivery failed: userdisk quota ",
            "maildir delivery failed: domaindisk quota ",
            "mailfolder is full",
            "not enough storage space in",
            "over the allowed quota",
            "quota exceeded",
            # Exchange's store: "554 5.2.0 STOREDRV.Deliver.Exception:QuotaExceededException.
            # MapiExceptionShutoffQuotaExceeded"
            "quotaexceededexception",
            "quota violation for",
            "recipient reached disk quota",
            "recipient rejected: mailbox would exceed maximum allowed storage",
            "the recipient mailbox has exceeded its disk space limit",
            "the user's space has been used up",
            "the user you are trying to reach is over quota",
            "user has exceeded quota, bouncing mail",
            "user has too many messages on the server",
            "user is over quota",
            "user is over the quota",
            "user over quota",
            "was automatically rejected: quota exceeded",
            "would be over the allowed quota",
            # The same in other languages: German, French, Italian, Spanish, Portuguese,
            # Dutch, Russian, Turkish, Persian, Arabic, Japanese, Chinese.
            "postfach voll",
            "postfach ist voll",
            "boîte aux lettres pleine",
            "boite aux lettres pleine",
            "casella piena",
            "casella di posta piena",
            "buzón lleno",
            "buzon lleno",
            "caixa postal cheia",
            "caixa de correio cheia",
            "mailbox is vol",
            "postvak vol",
            "ящик переполнен",
            "posta kutusu dolu",
            "صندوق پستی پر است",
            "صندوق پستی پر شده",
            "صندوق البريد ممتلئ",
            "メールボックスがいっぱい",
            "邮箱已满",
            "信箱已满",
        ],
        [
            # Persian: the (recipient's) mailbox "is full" or "has filled up"
            r"صندوق(?: پستی| نامه)?(?: [^.،\d]{1,30}?)? پر (?:است|شده)",
            # Chinese: the mailbox (its space, its capacity) "is full" or "is not enough"
            r"(?:邮箱|信箱)(?:空间|容量)?(?:已满|不足)",
        ],
    ),
    "too_large": (  # MesgTooBig, ExceedLimit, EmailTooLarge
        [
            "oversized email rejected",  # MailScanner
            "too much mail data",  # aiosmtpd, Python's smtpd: over data_size_limit
            "message exceeds maximum fixed size",  # Sendmail's own MaxMessageSize
            "پیام شما بیش از حد بزرگ بود",  # Mailman 2, Persian: "your message was too big"
            "exceeded maximum inbound message size",
            "line limit exceeded",
            "mail file size exceeds the maximum size allowed for mail delivery",
            "max message size exceeded",
            "maximum email size exceeded",  # Mimecast
            "message file too big",
            "message header size exceeds limit",
            "message is too long.",  # Coremail
            "message length exceeds administrative limit",
            "message size exceeds fixed limit",
            "message size exceeds fixed maximum message size",
            "message size exceeds maximum value",
            "message too big",
            "message too large",
            "message exceeds the maximum size",
            "size limit",
            "taille limite du message atteinte",
        ],
        [
            "exceeded" + GAP + "message size",
            "message " + GAP + "exceeds " + GAP + "limit",
            "message " + GAP + "size" + GAP + "exceed",
            "message " + GAP + "too" + GAP + "big",
        ],
    ),
    "mailbox_disabled": (  # Suspend
        [
            "disabled recipient address",  # cPanel's account suspended
            # a mailbox closed for want of use (Sisimai files it as filtered)
            "due to extended inactivity new mail is not currently being accepted for this mailbox",
            " is currently suspended",
            " temporary locked",
            "archived recipient",
            "boite du destinataire archivee",
            "email account that you tried to reach is disabled",
            "email account that you tried to reach is inactive",
            "esta casilla ha expirado por falta de uso",  # Ciudad, Ubbi (AR): unused too long
            "has been suspended",
            "inactive account",
            "has been disabled for inactivity",
            "closed due to inactivity",
            "invalid/inactive user",
            "is a deactivated mailbox",
            "is unavailable: user is terminated",
            "mailbox currently suspended",
            "mailbox disabled",
            "mailbox is disabled",  # Forward Email
            "list is currently inactive",  # Mailman 3
            "locked for abuse or overuse",  # Fastmail
            "mailbox is frozen",
            "mailbox is suspended",
            "account is suspended",
            "mailbox unavailable or access denied",
            "recipient rejected: temporarily inactive",
            "recipient suspend the service",
            "this account has been disabled or discontinued",
            "this account has been temporarily suspended",
            "this mailbox is disabled",
            "user is locked.",  # Coremail
            "user or domain is disabled",
            "user suspended",
            "vdelivermail: account is locked email bounced",
        ],
        # RFC 5248's name for X.7.13, as carriers write it: "The user(s) account is disabled."
        # GroupWise: "recipient (User account is expired)".
        [
            r"user(?:\(s\)|'s)? account (?:is |has been |has )?(?:disabled|expired|deactivated)",
            # Mail.ru's "Local mailbox ... is unavailable: account is disabled", WP's "This
            # account is disabled or not yet active": the mailbox's, where a relay's "535
            # Authentication failed: account is disabled" would be our own sending account's
            r"(?:is unavailable: |this )account is (?:disabled|deactivated|blocked|locked)\b",
            # Korean providers' "550 5.1.1 Inactive mbox", "550 5.1.1 Suspended user": a
            # mailbox that lives, whatever its status says; Lycos's "Account Closed"
            r"\b(?:inactive|suspended|deactivated) (?:mbox|mailbox|user|account)\b",
            r"\b(?:mailbox|account) is inactive\b",
            # web.de: "mailbox unavailable | mailaddress is administrativly disabled"
            r"\badministrativ(?:e)?ly disabled\b",
            r"\baccount closed\b",
            r"\buser not active\b",
            # Google's "550 5.2.1 ... ?p=DisabledUser", wherever a relay wraps it
            r"support\.google\.com/mail/\?p=disableduser",
            # Rambler: "540 5.7.1 <x>: Recipient address rejected: Inactive" (or "Blocked")
            # (not a gateway's "blocked by <host> (reputation)", "blocked using <list>")
            r"recipient address rejected: "
            r"(?:inactive\b|account locked\b|blocked\b(?!\s*(?:by|using|due|for)\b))",
            # "550 5.1.1 Account disabled", "Account Inactive": the reader's; "your account"
            # and a sending account are ours (our_account.py)
            r"(?<!your )(?<!sender )(?<!sending )\baccount (?:has been )?"
            r"(?:disabled|inactive|deactivated)\b",
        ],
    ),
    "has_moved": (
        [
            " has been replaced by ",
            "recipient no longer on server",
            "user has moved",
            "mailbox has moved",
        ],
        [
            # A forwarder's words for an owner who left a new address (rahul.net's aliases),
            # the address itself already taken out of the words
            r"\bhas moved to(?:$| ?[.;,)])",
            r"please resend your e-?mail to:?(?:$| ?[.;,)])",
        ],
    ),
    "no_relaying": (
        [
            "relaying disallowed",  # Zoho
            "relay not allowed",  # Stalwart
            "unable to relay",
            "as a relay",
            "insecure mail relay",
            "is not permitted to relay through this server without authentication",
            "mail server requires authentication when attempting to send to a non-local "
            "e-mail address",
            "not a gateway",
            "not allowed to relay through this machine",
            "not an open relay, so get lost",
            "not local host",
            "relay access denied",
            "relay denied",
            "relay not permitted",
            "relaying denied",
            "relaying is denied",  # Kerio Connect
            "relaying mail to ",
            "that domain isn't in my list of allowed rcpthost",
            "this system is not configured to relay mail",
            "unable to relay for",
            "we don't handle mail for",
        ],
        [],
    ),
    "auth_failure": (
        [
            "rejected by dkim",  # Haraka
            "blocked by spf",  # hMailServer
            "domain failed spf",  # SmarterMail
            "sender id (pra) not permitted",  # Exchange
            "reject due to spf policy",  # GMX
            "spf permanent error",  # Microsoft 5.1.0, before "recipient address rejected"
            "spf unauthorized mail is prohibited",  # Cisco Secure Email
            "domain authentication fail",  # MessageLabs: "553 DMARC domain authentication fail"
            "//spf.pobox.com",
            "bad spf records for",
            "dmarc policy",
            "dmarc reject",
            "does not meet the required authentication level",  # Microsoft 5.7.515
            "does not pass dmarc verification",  # Microsoft 5.7.509
            "does not have authentication information or fails to pass",  # Gmail
            "please inspect your spf settings",
            "sender policy framework (spf) fail",
            "sender policy framework violation",
            "spf (sender policy framework) domain authentication fail",
            "spf check: fail",
            "failed spf validation",  # Forward Email
            "dmarc verification failed",  # La Poste
            "dmarc violation",  # Mailman 3
        ],
        [
            r" is not allowed to send mail\." + GAP + "_401",
            r"is not allowed to send from <" + GAP + r" per it's spf record",
            r"\bspf ?(?:soft)?fail\b",  # Haraka: "sender <...> SPF Fail"
        ],
    ),
    "user_unknown": (
        [
            # Plesk's own reply to mail for an address its domain does not have ("Mail to
            # nonexistent user: Reject with message"), Sisimai's filed as suspended
            "this address no longer accepts mail",
            "recipient not in route list",  # hMailServer
            # Sendmail's phquery mailer: the campus directory (a CCSO "nameserver") has no
            # one of that name
            "no matches to nameserver query",
            # SecuMail's filter of the addresses that exist (OpenEMM files it with no such user)
            "denied by secumail valid-address-filter",
            # MailMarshal's "invalid user" rule: "550 Rule imposed mailbox access for <x>
            # refused: user invalid" (any other rule of its is ours to read as a refusal)
            "refused: user invalid",
            "email address is marked as invalid",  # Proofpoint Essentials: not in its directory
            "does not have a final email delivery point",  # phquery directories
            "l'adresse de messagerie référencée ci-dessus n'existe pas",
            "unknown or illegal user",
            "did not exactly match",
            "unknown or illegal alias",
            "err.nosuchuser",  # Sprint's old servers: "500 (err.nosuchuser)"
            "not listed in domino directory",
            # Lotus Notes / HCL Domino, in English and in their Japanese editions.
            "not listed in public name & address book",
            "ディレクトリのリストにありません",
            "domino ディレクトリには見つかりません",
            "no se encuentra en el directorio de domino",
            # Gmail's "address couldn't be found" and Exchange's "the email address you
            # entered couldn't be found" in the languages they write them in
            "die adresse wurde nicht gefunden",
            "l'adresse est introuvable",
            "l'adresse de messagerie que vous avez entrée est introuvable",
            "non sono riuscito a trovare l'indirizzo e-mail",
            "送信先メールアドレスが見つかりませんでした",  # au (KDDI)
            "アドレスの不一致",  # jp-r.ne.jp: "the address does not match"
            "address couldn't be found",
            "address could not be found",
            "recipient name is not recognized",  # Exchange 2000/2003's NDR
            "no valid recipients for this mm",
            "#5.1.1 bad address",
            "550 address invalid",
            "5.1.0 address rejected.",
            "address does not exist",
            "address no longer exists",
            "address not present in directory",
            "recipient mailbox is not allowed",  # MessageLabs: no such address there
            "addressee unknown",
            "bad destination mailbox address",  # RFC 3463's name for X.1.1, as words
            "does not have an account here",
            "recipient doesn't exist",
            "user not a member of domain",
            "address unknown",
            "can't accept user",
            "does not exist.",
            "destination addresses were unknown",
            "destination server rejected recipients",
            "email address does not exist",
            "email address could not be found",
            "invalid address",
            "invalid mailbox",
            "invalid recipient",
            "is not a known user",
            "is not a valid mailbox",
            "is not an active address at this host",
            "mailbox does not exist",
            "mailbox invalid",
            "mailbox is unavailable",
            "mailbox not present",
            "mailbox not found",
            "mailbox unavaiable",
            "nessun utente simile in questo indirizzo",
            "no account by that name here",
            "no existe dicha persona",
            "no existe ese usuario ",
            "no mail box available for this user",
            "no mailbox by that name is currently available",
            "no mailbox found",
            "no such address here",
            "no such mailbox",
            "no such person at this address",
            "no such recipient",
            "no such user",
            "no thank you rejected: account unavailable",
            "no valid recipients, bye",
            "not a valid recipient",
            "not a valid user here",
            "not a local address",
            "not email addresses",
            "recipient address rejected. (in reply to rcpt to command)",
            "recipient address rejected: access denied",
            "recipient address rejected: invalid user",
            "recipient address rejected: invalid-recipient",
            "recipient address rejected: unknown user",
            "recipient address rejected: userunknown",
            "recipient does not exist",
            "bad_recipient",  # a university's gateway: "550 BAD_RECIPIENT - see http://..."
            "recipient is not accepted",
            "recipient is not local",
            "recipient not exist",
            "recipient not found",
            "recipient not ok",
            "recipient unknown",
            "requested action not taken: mailbox unavailable",
            "resolver.adr.recipient notfound",
            "resolver.adr.recipientnotfound",
            "sorry, user unknown",
            "sorry, badrcptto",
            "sorry, no mailbox here by that name",
            "sorry, no mail-box here by that name",
            "unknown virtual user",
            "bad address mailbox syntax",  # Yandex's list of non-existing addresses
            "receiver not found",
            "invalid receiver address",
            "no such address",
            "address_not_found",
            "no one with that email address here",
            "doesn't handle mail for that user",
            "this email address is not known to this system",
            "unknown address or alias",
            "user doesn't exist in this server",
            "user is unknown",
            "the address is invalid",
            "unable to find alias user",
            "old address no longer valid",
            "diese adresse ist nicht mehr verfuegbar",
            "destinatario errato",
            "destin. sconosciuto",
            "indirizzo inesistente",
            "nie ma takiego konta",
            "utilisateur non recensé dans le carnet d'adresses public",
            "no e-mail address registered for",
            "sorry, your envelope recipient has been denied",
            "that domain or user isn't in my list of allowed rcpthosts",
            "the email account that you tried to reach does not exist",
            "the following recipients was undeliverable",
            "the user's email name is not found",
            "there is no one at this address",
            "this email address is wrong or no longer valid",
            "this recipient is in my badrecipientto list",
            "this recipient is not in my validrcptto list",
            "this spectator does not exist",
            "unknown mailbox",
            "unknown recipient",
            "unknown user",
            "user missing home directory",
            "user not exist",
            "user not found",
            "user not known",
            "user unknown",
            "utilisateur inconnu",
            "vdeliver: invalid or unknown virtual user",
            # The same in other languages: French, German, Spanish, Portuguese, Italian,
            # Dutch, Russian, Chinese, Japanese, Korean, Persian, Arabic.
            "adresse inconnue",
            "destinataire inconnu",
            "benutzer unbekannt",
            "empfänger unbekannt",
            "usuario desconocido",
            "usuario no existe",
            "usuário desconhecido",
            "usuário inexistente",
            "usuario inexistente",
            "utente sconosciuto",
            "utente inesistente",
            "onbekende gebruiker",
            "пользователь не найден",
            "нет такого пользователя",
            "用户不存在",
            "收件人不存在",
            "邮箱不存在",
            "用戶不存在",
            "ユーザーが存在しません",
            "존재하지 않는 사용자",
            "کاربر وجود ندارد",
            "المستخدم غير موجود",
            "адресат не существует",
            "пользователь не существует",
            "kullanıcı bulunamadı",
            "宛先不明",
            "存在しないユーザ",
            "your envelope recipient is in my badrcptto list",
            "recipient address rejected: not in recipient list",  # ZeroSpam
            "unavailable mail user",  # Chinese hosts: "550 #2175041 unavailable mail user"
            "indirizzo non esiste",  # Italian: "550 Questo indirizzo non esiste"
        ],
        [
            # Domino's French, its accents in Latin-1 that a report's fields may mangle
            r"non r.{1,2}pertori.{1,2} dans l.annuaire domino",
            "<" + GAP + "> not found",
            # "550 <x>: Invalid User", not a relay's "Invalid username or password"
            r"\binvalid user\b",
            # MantaMTA's sample: "551 You have sent an email to an address not recognised
            # by our system"
            r"\baddress (?:is )?not recogni[sz]ed by\b",
            r"\brecipient <\s*> unknown\b",  # Barricade MX's call-ahead: "recipient <x> unknown"
            # an address retired by the receiving site's own words, as an admin writes them in
            # an access rule's REJECT (Postfix answers those with 5.7.1): "This email address
            # is no longer in use", "Account deleted", "User has left the organization"
            r"(?<!sender )\b(?:address|mailbox|account|user|recipient) (?:is |has been )?"
            r"(?:no longer (?:in use|valid|active|exists?)|deleted)\b|"
            r"\b(?:user|recipient|employee) has left the (?:company|organi[sz]ation)\b",
            # (vpopmail's catch-all: "POP user does not exist, but will deliver to ...", and
            # what failed is that delivery)
            r"user does not exist(?!,? but will deliver)",
            # Polish: "550 <x> nie istnieje" (does not exist)
            r"(?<!nadawca )(?<!nadawcy )\bnie istnieje\b",  # not the sender's (nadawca)
            r"\brecipient e-?mail add?ress unknown\b",  # Strato, "adress" and all
            # Persian: the user, recipient or address "does not exist"; not the sender's
            r"(?:کاربر|گیرنده|نشانی|آدرس)(?!\s?ی?\s?فرستنده)[^.،]{0,40}?وجود ندارد",
            # ... or "was not found" (یافت نشد, پیدا نشد)
            r"(?:کاربر|گیرنده|نشانی|آدرس)(?!\s?ی?\s?فرستنده)[^.،]{0,40}?(?:یافت|پیدا) نشد",
            "<" + GAP + r">\.\.\. blocked by ",
            "account " + GAP + " does not exist at the organization",
            r"adresse d au moins un destinataire invalide\. invalid recipient\." + GAP + "41[68]",
            r"\bbad ?(?:destination )?recipient",
            "mailbox " + GAP + "does not exist",
            "mailbox " + GAP + "unavailable or access denied",
            "no " + GAP + " in name directory",
            "non" + GAP + "existent user",
            "rcpt <" + GAP + " does not exist",
            r"rcpt \(" + GAP + r"t exist\b",  # Alibaba's "554 RCPT (x) dosn't exist"
            "recipient " + GAP + " was not found in",
            "recipient address rejected: user " + GAP + " does not exist",
            "recipient address rejected: user unknown in " + GAP + " table",
            r"said: 550[- ]5\.1\.1 " + GAP + " user unknown ",
            "this user doesn't have a " + GAP + " account",
            "unknown e" + GAP + "mail address",
            "unknown local" + GAP + "part",
            "user " + GAP + " was not found",
            # dbmailserver's "550 RC:LD The email account that you tried to reach does no
            # exists"; "550 Local User [x] not found"
            r"\bthe email account that you tried to reach does no\b",
            r"\blocal user \[" + GAP + r"\] not found",
            "user " + GAP + " does not exist",
            # GoDaddy's qmail, the whole reply ("Account does not exist": its help page,
            # "Recipient bounces"); not our sender's account
            r"(?:^|: )account does not exist\b",
            # (SendGrid's rule table: "User (x) not known to us please verify your address
            # book")
            r"user \(" + GAP + r"\) (?:unknown|not known)",
        ],
    ),
    "filtered": (
        [
            "message rejected by filter rule",  # Mailman's header filters
            "مطابقت با قواعد پالایش",  # the same, in Persian
            "بسبب تطابق قاعدة مصفي",  # and in Arabic
            "only accepting mail from specific email addresses",
            "bounced address",
            "has restricted sms e-mail",
            "is not accepting any mail",
            "not accepting mail with attachments or embedded images",  # AOL's AIRmail
            "they are not accepting mail from",  # AOL's AIRmail: the reader blocks our address
            "recipient refuses to accept your mail",
            "message rejected due to user rules",
            "refused due to recipient preferences",
            "the receiver denied your mail",  # "RDENY": the reader blocks our address
            "preferences prevent messages from being delivered",  # Facebook RCP-P2
            "resolver.rst.notauthorized",
            "this account is protected by",
            # a filter holding our message rather than refusing it
            "was quarantined",
            "has been quarantined",
            "user reject",
            "we failed to deliver mail because the following address recipient id refuse to "
            "receive mail",
            "you have been blocked by the recipient",
        ],
        [],
    ),
    "require_ptr": (
        [
            "cannot find your reverse hostname",  # Postfix
            "reverse dns failure",  # Comcast
            "access denied. ip name lookup failed",
            "all mail servers must have a ptr record with a valid reverse dns entry",
            "dns ptr resource record",  # GMX's "Bad", 1&1's and web.de's "invalid"
            "does not have a reverse dns record",  # Facebook DNS-P3
            "missing dns ptr record",  # "550-Inconsistent/Missing DNS PTR record (RFC 1912 2.1)"
            "reverse dns entry does not resolve to your ip",
            "cannot find your hostname",
            "fix reverse dns for ",
            "ips with missing ptr records",
            "sender ip must resolve",
            "no ptr record found.",
            "please get a custom reverse dns name from your isp for your host",
            "ptr record setup",
            "reverse dns failed",
            "reverse dns required",
            "sender ip reverse lookup rejected",
            "the ip address sending this message does not have a ptr record",
            "the corresponding forward dns entry does not point to the sending ip",
            "this system will not accept messages from servers/devices with no reverse dns",
            "unresolvable relay host name",
            "we do not accept mail from hosts with dynamic ip or generic dns ptr-records",
        ],
        [
            # "domain ... mismatches client ip", NetEase's "MAIL FROM [...] mismatches client IP"
            "mismatches client ip",
            "dns lookup failure: " + GAP + " try again later",
            "reverse dns lookup for host " + GAP + " failed permanently",
            "server access " + GAP + " forbidden by invalid rdns record of your mail server",
            "service permits " + GAP + " unverifyable sending ips",
        ],
    ),
    "not_compliant": (
        [
            "message containing bare lf",  # hMailServer
            "500 line too long",  # docomo: a line over RFC 5322's 998 characters
            "multiple from addresses are not allowed",  # Microsoft 5.1.20
            "this message is not rfc 5322",  # Broadcom Email Security.cloud
            "messages missing a valid address in from: header",
            "this message is not rfc 5322 compliant",
            "https://support.google.com/mail/?p=rfcmessagenoncompliant",
            "headers are not rfc compliant",
            "messages without to: fields are not accepted",  # CommuniGate Pro
        ],
        [],
    ),
    "sender_rejected": (  # Rejected: not when the words are about the recipient
        [],
        [
            r"^(?!.*(?:5\.1\.0 address rejected|recipient address rejected|sender ip address "
            r"rejected)).*(?:"
            + "|".join(
                re.escape(p)
                for p in [
                    "access denied (in reply to mail from command)",
                    "access denied (sender blacklisted)",
                    "sender is rejected",  # NetEase: "554 sender is rejected: 0,mx20,..."
                    # Haraka's, of our return path as a forwarder rewrote it (chasquid's
                    # "+fwd_from=", longer than RFC 5321's 64 octets)
                    "invalid mail from address",
                    # MessageLabs: the recipient's own block list has our domain or address
                    "your domain has been blocked",
                    "your domain has been blacklisted",
                    "your email address has been blocked",
                    "your envelope sender is in my badmailfrom list",
                    "mail rejected by destination domain",  # Zoho
                    # Yahoo: our From/return path domain does not resolve
                    "unresolvable rfc.5321 from domain",
                    "address rejected",
                    "administrative prohibition",
                    "batv failed to verify",
                    "batv validation failure",
                    "backscatter protection detected an invalid or expired email address",
                    "because the sender isn't on the recipient's list of senders to accept "
                    "mail from",
                    "black mail address",  # Coremail
                    "bogus mail from",
                    "can't determine purported responsible address",
                    "connections not accepted from servers without a valid sender domain",
                    "denied [bouncedeny]",
                    "delivery not authorized, message refused",
                    "does not exist e2110",
                    "domain of sender address ",
                    "email address is on senderfilterconfig list",
                    "emetteur invalide",
                    "empty envelope senders not allowed",
                    "envelope blocked – ",
                    "envelope blocked - ",
                    "error: no third-party dsns",
                    "from: domain is invalid. please provide a valid from:",
                    "fully qualified email address required",
                    "host denies the sender",  # Coremail
                    "invalid domain, see <url:",
                    "invalid sender",
                    "is not a registered gateway user",
                    "mail from not owned by user",
                    "message rejected: email address is not verified",
                    "mx records for ",
                    "null sender is not allowed",
                    "recipient addresses rejected : access denied",
                    "recipient not accepted. (batv: no tag",
                    "returned mail not accepted here",
                    "rfc 1035 violation: recursive cname records for",
                    "rule imposed mailbox access for",
                    "sender is unvalidated",  # Coremail
                    "sending this from a different address or alias using the ",
                    "sender address has been blacklisted",
                    "sender email address rejected",
                    "sender is in my black list",
                    "sender is spammer",
                    "sender not pre-approved",
                    "sender rejected",
                    "sender domain is empty",
                    "sender verify failed",
                    "spam reporting address",
                    "syntax error: empty email address",
                    "the message has been rejected by batv defense",
                    "this server does not accept mail from",
                    "transaction failed unsigned dsn for",
                    "unroutable sender address",
                    "you are not allowed to post to this mailing list",
                    "you are sending to/from an address that has been blacklisted",
                    "your access to submit messages to this e-mail system has been rejected",
                    "your email address has been blacklisted",
                ]
            )
            + ")"
        ],
    ),
    "host_unknown": (
        [
            "could not find mail server",  # chasquid: no MX and no address
            "remote domain doesnt exist",  # KDDI's notice
            "remote domain doesn't exist",
            "không tìm thấy host",  # Vietnamese (Zing): "host not found"
            "unrouteable mail domain",  # Exim
            "all relevant mx records point to non-existent hosts",  # Exim
            "bad destination system address",  # RFC 3463's name for X.1.2, as words
            "couldn't find any host by that name",  # qmail-remote (QSBMF's own example)
            "couldn't find any host named",  # qmail-remote
            "dns error: domain name not found",  # Gmail
            "domain does not exist",
            "domain is not reachable",
            "domain must exist",
            "host or domain name not found",
            "host unknown",
            "mail domain mentioned in email address is unknown",
            "name or service not known",
            "no such domain",
            "recipient address rejected: unknown domain name",
            "recipient domain must exist",
            "the account or domain may not exist",
            "unknown host",
            "unroutable address",
            "unrouteable address",
            "domain not found: nxdomain",  # Stalwart
            "there are no dns entries for the hostname",  # Apache James
            "no mx hosts found for",  # Citadel
            "record not found for mx",  # Stalwart: "failed: record not found for MX"
            "no mx record found",  # Stalwart's resolver
            "i found no mx record entries for the hostname",  # Apache James, older
        ],
        [
            r"\bno mx for \S+\.\w",  # Haraka's outbound: "No MX for example.net"
            "553 " + GAP + " does not exist",
            # OpenSMTPD's own "Invalid domain name", the whole of its words; a "501 5.5.4" with
            # the same words is Microsoft refusing our EHLO name
            # (Sendmail puts the address between: "501 5.5.4 <x>... Invalid domain name")
            r"(?<!50\d )(?<!5\.5\.\d )(?<!\.\.\. )invalid domain name\W*$",
            # Go's resolver (mox, chasquid): "lookup example.net on 127.0.0.53:53: no such host"
            r"lookup \S+(?: on \S+)?: no such host",
            # ZoneMTA: "DNS error occurred while resolving the Mail Exchange (MX) server for
            # the specified domain (example.net). Domain name not found"
            r"for the specified domain \(\S+\)\. domain name not found",
        ],
    ),
    "bad_reputation": (
        [
            "bad karma score",  # Haraka
            "address has a bad reputation",  # Hornetsecurity
            "connection rejected by policy",  # MessageLabs: our IP's reputation
            "a poor email reputation score",
            "has been temporarily rate limited due to ip reputation",
            "ip/domain reputation problems",
            "likely suspicious due to the very low reputation",
            "suspicious due to the very low reputation",
            "the sending mta's poor reputation",
        ],
        [],
    ),
    "spam": (
        [
            "appears to be spam",  # cPanel's Exim
            "reject by yun-medusa",  # Aliyun's spam filter: "543 reject by yun-medusa3-mta"
            "(spam_suspect:",  # Paran's "Transaction failed. (SPAM_SUSPECT:IP_CONTROL)"
            "detected as spam",  # SimpleLogin's relay
            # Discourse, Arabic: "our system tagged your email as unwanted mail"
            "على أنها بريد غير مرغوب فيه",
            "we do not accept unsolicited commercial",  # MailScanner
            "unsolicited commercial email rejected",  # MailScanner
            "mailmarshal has detected possible spam",
            "may contain phishing and/or malware",  # Forward Email's Spam Scanner
            "mail rejected - spam",  # Courier
            "spam message rejected",  # Rspamd
            "gtube pattern",  # Rspamd
            "is likely unsolicited",  # Gmail's current wording
            "message rejected by anti-spam engine",  # Coremail
            "due to antispam policy",  # "541 5.7.1 Mail rejected due to antispam policy"
            # Words a bounce-handling library's rules quote from real bounces
            "rejected as spam",
            "scored too high on spam scale",
            "spam message is detected",
            "it seems as a junk mail",
            "the mail server detected your message as spam and has prevented delivery",
            "appears to be unsolicited",
            "blacklisted url in message",
            "block for spam",
            "blocked by policy: no spam please",
            "blocked by spamassassin",
            "blocked for abuse. see http://att.net/blocks",
            "bulk email",
            "considered unsolicited bulk e-mail (spam) by our mail filters",
            "content filter rejection",
            "email flagged as spam",  # Zoho
            "cyberoam anti spam engine has identified this email as a bulk email",
            "denied due to spam list",
            "high probability of spam",
            "listed in work.drbl.imedia.ru",
            "mail content denied",
            "mail data refused by aisp",  # NetEase 163/126
            "may consider spam",
            "message considered as spam or virus",
            "message content rejected",
            "message filtered",
            "message looks like spam",
            "message refused by mailmarshal spamprofiler",
            "message refused by trustwave seg spamprofiler",
            "message rejected as spam",
            "message blocked due to spam content",
            "message rejected because of unacceptable content",
            "message rejected due to suspected spam content",
            "message rejected for policy reasons",
            "our email server thinks this email is spam",
            "our system has detected that this message is",
            "probable spam",
            "reports it as spam",
            "rejected under suspicion of spam",  # Yandex
            "reject bulk.advertising",
            "rejected: spamassassin score ",
            "related to content with spam-like characteristics",
            "sending address not accepted due to spam filter",
            "spam blocked",
            "spam check",
            "spam content matched",
            "spam detected",
            "spam email",
            "spam message rejected.",
            "spam not accepted",
            "spam refused",
            "spam rejection",
            "spam reporting address",
            "spam score ",
            "spambouncer identified spam",
            "spamming not allowed",
            "too many same size mails",  # Coremail
            "too much spam.",
            "the message has been rejected by spam filtering engine",
            "the message was rejected due to classification as bulk mail",
            "the content of this message looked like spam",
            "this message appears to be spam",
            "considers this message spam",  # SpamAssassin behind a server's own words
            "suspects your message is spam",  # Microsoft 365's NDR
            "this message has been identified as spam",
            "this message has been scored as spam with a probability",
            "this message was classified as spam",
            "this message was rejected by recurrent pattern detection system",
            "transaction failed spam message not queued",
            "we dont accept spam",
            "you're using a mass mailer",
            "your email appears similar to spam we have received before",
            "your email breaches local uribl policy",
            "your email had spam-like ",
            "your email was detected as spam",
            "your message as spam and has prevented delivery",
            "your message has been temporarily blocked by our filter",
            "your message has been rejected because it appears to be spam",
            "your message has triggered a spam block",
            "your message may contain the spam contents",
            "your message failed several antispam checks",
        ],
        [
            r"unsolicited bulk e-?mail|bounce, id=\S+ - spam\b",  # amavis
            r"(?:\d\.\d\.\d|\d{3}) spam$",
            r"554 5\.7\.0 reject, id=\d+",
            r"greylisted.?. please try again in",
            r"https?://(?:www\.spamhaus\.org|dsbl\.org|mail\.163\.com/help/help_spam_16\.htm)",
            r"mail rejete\. mail rejected\. [0-9a-z_]+506",
            r"our filters rate at and above \d+ percent probability of being spam",
            r"rejected by [^ ]+ \(spam\)",
            r"rejected due to spam (?:url in )?(?:classification|content)",
            r"rejecting (?:banned|mail) content",
            r"rule imposed as [^ ]+ is blacklisted on",
            r"sender domain listed at [^ ]+",
            r"spam [^ ]+ exceeded",
            r"this (?:e-mail|mail) cannot be forwarded because it was detected as spam",
            r"this (?:e-mail|mail) is classified as spam and is rejected",
            # a spam score over the receiver's limit ("550 This message scored 11.4 points.")
            r"this message scored [^ ]+ (?:spam )?points",
            r"your email is (?:considered|probably) spam",
            # a content filter's judgement, worded by the filter's maker
            r"(?:appears to be|looks like|detected as|identified as) (?:a )?phish",
            r"message (?:was )?detected as spam",
            r"rejected by \S+ anti-?spam",
        ],
    ),
    "too_many_connections": (  # TooManyConn: concurrency
        [
            "too frequent connects from",  # SendGrid's table: our connections
            "maximum number of concurrent connections",  # Yahoo's 4.3.2
            "reached maximum number of recipients for one session",  # chkuser
            "max rcpt limit exceeded",  # qmail
            "too many errors, disconnecting",  # Stalwart
            "too many sessions opened",  # Comcast
            "error: too many errors",  # Postfix: our session made too many protocol errors
            "concurrent server connections",
            "too many concurrent",
            "all available ips are at maximum connection limit",
            "connection rate limit exceeded",
            "exceeds per-domain connection limit for",
            "too many connections",
            "too many concurrent smtp connections",
            "too many smtp sessions for this host",
            "trop de connexions, ",
            "too many recipients",
        ],
        [],
    ),
    # The reader's mailbox takes mail more slowly than it comes (Gmail's ReceivingRate,
    # Yahoo's), from everyone: its state, as a full one's is, not our sending rate.
    "receiving_too_fast": (
        [
            "receiving mail at a rate that prevents additional messages from being delivered",
            "user is receiving mail too quickly",
            "the recipient has exceeded message rate limit",
        ],
        # Apple: "421 4.7.1 Messages to x deferred due to excessive volume"
        [r"\bmessages to\b.{0,80}\bdeferred due to excessive volume"],
    ),
    "rate_limited": (  # Speeding, RateLimited
        [
            "sender rate overlimit",  # Exim ratelimit
            "you send too many messages",  # Daum's 4.3.1, whose status says a full system
            "too much recipient",  # NetEase: our bulk sending over its limit
            "since you sent too many e-mails",  # Naver's day-long block
            "rate limit exceeded",  # Stalwart
            "this email has been rate limited",  # Gmail
            "rate limit reached",  # GMX
            "too many messages (#4.3.0)",  # Broadcom Email Security.cloud
            "has exceeded the max emails per hour ",
            # cPanel's Exim holding back our domain after too many of its messages failed
            "has exceeded the max defers and failures per hour",
            "max messages per session",  # Bluehost: more than a connection may carry
            "ip frequency limited",  # QQ
            "limits for how many messages can be sent per hour",  # Hotmail RP-001..003
            "mail sent from your ip address has been temporarily rate limited",
            "please try again slower",
            "temporarily deferred due to unexpected volume or user complaints",  # Yahoo TSS04
            "throttling failure: ",
            "too many errors from your ip",
            "we have already made numerous attempts to deliver this message",
            # Odoo's alias, in Arabic: "because you contacted it too many times in the last
            # minutes"
            "لأنك قمت بالتواصل معه مرات عديدة",
        ],
        [
            "connection " + GAP + "limit",
            "temporarily" + GAP + "rate limited",
            r"smtp-error-codes\.php#rl\d{6}\b",  # Comcast: "rate limited, please see ...#RL000001"
        ],
    ),
    "blocked": (
        [
            "recipient address rejected: greylisted",  # postgrey, given up on
            "your helo host name has been denied",  # qmail qregex
            "rejected by spamhaus",  # hMailServer
            "too many unknown rcpt to addresses from host",  # Telecom Italia: our host
            "listed in the used dnsbl",  # Maddy
            "dialup/transient ip not allowed",  # T-Online
            "is filtered and this connection will be closed",  # Naver: realip.naver.com
            "banned sender",  # Microsoft 5.7.800
            "was sent from a blocked email address",  # Discourse
            "listed in a public blacklist",  # MailScanner
            "has been blocked by our automated software",
            "unerwünschte e-mail wurde abgel",  # MailScanner, German (its "abgeleht")
            "support.google.com/mail/answer/69585",  # Gmail's "why we blocked it" page
            # Forward Email's lists, of our IP or of senders a domain's admins chose
            "is denylisted by",
            "was denylisted by",
            "not yet allowlisted by",
            "black ip.",  # Coremail
            "rbl deny.",  # Coremail
            "remote ip check error",  # Coremail
            "rejected by dnsbl",  # hMailServer
            "traffic not accepted from this ip",
            " said: 550 blocked",
            "//www.spamcop.net/bl.",
            "bad sender ip address",
            "banned sending ip",
            "ask your postmaster for help or to contact",  # T-Online's block
            "blacklisted by",
            "blocked using ",
            "blocked - see http",
            "dnsbl:attrbl",
            "client host rejected: access denied",  # Postfix's client access map
            "permanently deferred due to user complaints",  # Yahoo's [TSS05]
            "mail rejected because your ip is in the pbl",  # MessageLabs
            "your ip address has been blocked",
            "your ip address has been blacklisted",
            "bypassing service provider's mail relay",
            "/denyip.",  # "Please visit http://antispam.example.com/denyip.php?IP=..."
            "client host rejected: abus detecte gu_eib_02",
            "client host rejected: abus detecte gu_eib_04",
            "client host rejected: may not be mail exchanger",
            "client host rejected: was not authenticated",
            "confirm this mail server",
            "connection dropped",
            "connection refused by",
            "connection reset by peer",
            "connection was dropped by remote host",
            "connections not accepted from ip addresses on spamhaus xbl",
            "currently sending spam see: ",
            "domain does not exist:",
            "dynamic/zombied/spam ips blocked",
            "error: no valid recipients from ",
            "esmtp not accepting connections",
            "extreme bad ip profile",
            "go away",
            "ip address is block listed",  # GMX, web.de
            "helo command rejected:",
            "host network not allowed",
            "hosts with dynamic ip",
            "invalid ip for sending mail of domain",
            "is in a black list",
            "is not allowed to send mail from",
            "no access from mail server",
            "not authorized to send email directly to our servers",  # Gmail 5.7.1
            "not currently accepting mail from your ip",
            "part of their network is on our block list",
            "weren't sent. please contact your internet service provider",
            "please use the smtp server of your isp",
            "refused - see http",
            "rejected - multi-blacklist",
            "rejected because the sending mta or the sender has not passed validation",
            "rejecting open proxy",
            "sender ip address rejected",
            "server access forbidden by your ip ",
            "service not available, closing transmission channel",
            "smtp error from remote mail server after initial connection:",
            "sorry, that domain isn't in my list of allowed rcpthosts",
            "sorry, your remotehost looks suspiciously like spammer",
            "to submit messages to this e-mail system has been rejected",
            "too many spams from your ip",
            "too many unwanted messages have been sent from the following ip address above",
            "was blocked by ",
            "we do not accept mail from dynamic ips",
            "you are not allowed to connect",
            "you are sending spam",
            "your ip address is listed in the rbl",
            "your network is temporary blacklisted",
            "your server requires confirmation",
        ],
        [
            # Postfix's postscreen, every reply of which refuses our client: 450 after its
            # tests, 550 for a block list's "enforce", 521 for its "drop"; not a mailbox's
            r"(?<!mailbox )service currently unavailable(?!\W*mailbox)",
            r"\([^()]{0,240}:blocked\)",  # Barracuda: "(address:blocked)", address or not
            "access from ip address " + GAP + " blocked",
            "client host " + GAP + " blocked using",
            "connections will not be accepted from "
            + GAP
            + " because the ip is in spamhaus's list",
            "dnsbl:rbl " + GAP + ">_is_blocked",
            "email blocked by " + GAP + r"\.barracudacentral\.org",
            "email blocked by " + GAP + "spamhaus",
            "host " + GAP + " refused to talk to me: " + GAP + " blocked",
            "ip " + GAP + " is blocked by earthlink",
            "is in an " + GAP + "rbl on ",
            "mail server at " + GAP + " is blocked",
            "mail from " + GAP + " refused:",
            "message from " + GAP + " rejected based on blacklist",
            "messages from " + GAP + " temporarily deferred due to user complaints",
            "server ip " + GAP + " listed as abusive",
            "sorry! your ip address" + GAP + " is blocked by rbl",
            "the domain " + GAP + " is blacklisted",
            "the email " + GAP + " is blacklisted",
            "the ip" + GAP + " is blacklisted",
            r"veuillez essayer plus tard\. service refused, please try later\. "
            + GAP
            + "(?:103|510)",
            "your sender's ip address is listed at " + GAP + r"\.abuseat\.org",
        ],
    ),
    "policy": (
        [
            # Content filters' own notices to the sender: amavis, MailScanner, gateways
            "banned contents",
            "banned name",
            "banned filename",
            "on the list of unacceptable attachments",
            "attachments are not allowed for security reasons",
            "has a policy that prohibited the mail",  # Gmail: the reader's administrator
            # Mailing lists and groups whose rules keep our post out: never the reader's
            # fault (Mailman, ezmlm, mlmmj, Zimbra, Google Groups, Exchange, Discourse)
            "prohibit non-members from posting",
            "is not from a list member",
            "only subscribers may post",
            "rejected by the list moderator",
            "rejected by the moderator",
            "not accepted by the moderator",
            "because a moderator rejected it",
            "have failed to act on your post",
            "without any moderator releasing it",
            "sender is not allowed to email this distribution list",
            "may not have permission to post messages to the group",
            "グループにメッセージを投稿する権限がない",  # the same, in Japanese
            "dl expansion needs sender restrictions",
            "only allows replies from users with valid accounts",
            "required trust level to post",
            'was marked as "auto generated"',
            "mail delivery restricted",  # CommuniGate Pro
            "has a policy that prohibits the email",  # Gmail
            "reject due to policy violations",  # GMX
            "policy violation detected",  # Microsoft 5.0.350 (AS345)
            "delivery not authorized",  # RFC 3463's X.7.1, Exchange's rules of who may write
            "reject due to policy restrictions",  # GMX, WEB.DE
            "mailbox delivery restricted by policy",  # Zoho: the reader's organisation
            "email policy violation detected",  # Zoho
            # Our return path (VERP) is not the From: address, as a list's never is
            "mail from is mismatched with message header from",
            "an illegal attachment on your message",
            "because the recipient is not accepting mail with ",
            "by non-member to a members-only list",
            "closed mailing list",
            "denied by policy",
            "email not accepted for policy reasons",
            "email rejected due to security policies",
            # The reader's own forwarding, refused by their organisation: the message itself
            # reached their mailbox (Microsoft 5.7.520).
            "organization does not allow external forwarding",
            "header are not accepted",
            "header error",
            "local policy violation",
            "message rejected due to content restrictions",
            "message rejected due to local policy",  # Apple iCloud CS01, HM08
            "message bounced due to organizational settings",
            "message given low priority",
            "message not accepted for policy reasons",
            "messages with multiple addresses",
            "rejected for policy reasons",
            "protocol violation",
            "rejected by header based anti-spoofing policy",  # Mimecast
            "the email address used to send your message is not subscribed to this group",
            "this message was blocked because its content presents a potential",
            "we do not accept messages containing images or other attachments",
            "you have exceeded the allowable number of posts without solving a captcha",
            "you have exceeded the the allowable number of posts without solving a captcha",
            # Mailman 2's rejections (Hold.py, MimeDel.py), and as its Persian and Arabic
            # catalogs write them: a moderator's refusal, non-members, a banned poster, a
            # content type the list refuses
            "deemed inappropriate by the moderator",
            # the moderator's refusal (refuse.txt) in the other languages Mailman 2 ships
            "a fost respinsă de către moderatorul listei",
            "a lista szerkesztője nem fogadta el",
            "a été rejetée par le modérateur",
            "atmetė forumo prižiūrėtojas nurodydamas šią priežastį",
            "avslogs av listmoderatorn",
            "ble avslått av listemoderatoren",
            "blev afvist af listemoderator",
            "byl zamítnut správcem konference",
            "el moderador de la llista ha rebutjat",
            "foi rejeitada pelo moderador da lista",
            "foi rexeitada polo moderador pola razón seguinte",
            "ha essite rejectate per le moderator del lista",
            "ha sido rechazada por el moderador",
            "is geweigerd door de lijst moderator",
            "je moderator zavrnil in za zavrnitev navedel",
            "liste moderatörü tarafından reddedildi",
            "malakceptis la moderiganto de la listo",
            "moderaator lükkas tagasi teie taotluse",
            "moderatzailearengatik ukatua izan da",
            "refugóse pol moderador dando la siguiente razón",
            "wurde vom listenmoderator mit folgender begründung abgewiesen",
            "ylläpitäjä on hylännyt",
            "została odrzucona przez moderatora",
            "è stata rifiutata dal moderatore",
            "απορρίφθηκε από τον διαχειριστή της λίστας",
            "был отклонен модератором списка рассылки",
            "リスト司会者により拒否されました",
            "已经被列表管理员拒绝",
            "리스트 관리자에 의해 거부되었습니다",
            "non-members are not allowed to post messages to this list",
            "forbidden from posting messages to this list",
            "content type was explicitly disallowed",
            "content type was not explicitly allowed",
            "توسط میان\u200cدار فهرست، رد شده",
            "میان\u200cدار، پیام شما را نامناسب",
            "کسی غیر از اعضا اجازه\u200cی فرستادن پیام",
            "مجاز به فرستادن پیام به این فهرست پستی نیستید",
            "از فرستادن پیام به این فهرست، منع شده",
            "نوع محتوای این پیام، صریحاً غیرمجاز",
            "غير مسموح لك بالإرسال إلى القائمة البريدية",
            "أنت ممنوع من إرسال الرسائل إلى هذه القائمة",
            "اعتبرت رسالتك غير مناسبة من قبل المنظم",
            "نوع محتويات الرسالة مصرح بمنعها",
            # Discourse's refusals of mail sent in (server.ar.yml, server.fa_IR.yml): an
            # unknown, blocked or inactive sender, a category for members only, a trust
            # level, no right to reply, mail marked as sent by a machine
            "تم إرسال ردك من عنوان بريد إلكتروني",
            "إلا بالردود من المستخدمين الذين يملكون حسابات صالحة",
            "لا يملك حسابك مستوى الثقة المطلوب",
            "لم يتم تنشيط حسابك المرتبط بعنوان البريد الإلكتروني",
            "ليس لديك الأذونات اللازمة للرد",
            "إننا لا نقبل هذا النوع من الرسائل الإلكترونية",
            "حساب شما مرتبط با این آدرس ایمیل فعال نشده است",
            # Odoo's alias for registered partners only (addons/mail, ar.po)
            "فقط العناوين المربوطة بالشركاء المسجلين",
        ],
        # Microsoft 365's NDR for the recipient domain's own rules: "Security or policy
        # settings at example.com have rejected your message."
        [
            r"security or policy settings at \S+ have rejected your message",
            r"violates \S+ email policy",  # Google Workspace: its customer's own rule
            r"bounce, id=\S+ - banned\b",  # amavis: banned contents
        ],
    ),
    "virus": (
        [
            "matching rule: virus alert",  # Proxmox Mail Gateway's rule
            "mailmarshal has detected a virus",
            "virus found:",  # Rspamd: "clamav: virus found: ..."
            " detected by zoho mail",  # "552 5.7.1 virus <name> detected by Zoho Mail"
            "infected:",
            "it has a potentially executable attachment",
            "message infected by virus",  # Yandex
            "the message was rejected because it contains prohibited virus or spam content",
            "this form of attachment has been used by recent viruses or other malware",
            "virus detected",
            "virus found.",  # Coremail
            "virus phishing/malicious_url detected",
            "your message was infected with a virus",
        ],
        [],
    ),
    "security_error": (  # SecurityError, FailedSTARTTLS
        [
            "smtp authentication is required",  # hMailServer
            "client was not authenticated",  # Exchange
            "tls/sslv3 connection required",  # Broadcom Email Security.cloud
            "must issue a starttls command first",
            "account not subscribed to ses",
            "authentication credentials invalid",
            "authentication failure",
            "authentication required",
            "authentication turned on in your email client",
            "executable files are not allowed in compressed files",
            "insecure mail relay",
            "sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts",
            "starttls is required to send mail",
            "tls required but not supported",
            "tls is required, but was not offered",  # Postfix, smtp_tls_security_level
            "requires tls for inbound connections",  # Forward Email
            "unauthenticated senders not allowed",
            "verification failure",
            "you are not authorized to send mail, authentication is required",
        ],
        [
            "authentication failed; server " + GAP + " said: ",
            "authentification invalide" + GAP + "305",
            "authentification requise" + GAP + "402",
            "domain " + GAP + " is a dead domain",
            "user " + GAP + " is not authorized to perform ses:sendrawemail on resource",
        ],
    ),
    "system_error": (
        [
            "aliasing/forwarding loop broken",
            "loop detection",
            "can't create user output file",
            "could not load drd for domain",
            "internal error reading data",
            "internal server error: operation now in progress",
            "interrupted system call",
            "it encountered an error while being processed",
            "it would create a mail loop",
            "local configuration error",
            "local error in processing",
            "loop was found in the mail exchanger",
            "loops back to myself",
            "mail system configuration error",
            "queue file write error",
            "recipient deferred because there is no mdb",
            "remote server is misconfigured",
            "server configuration error",
            "system config error",
            "temporary local problem",
            "timeout waiting for input",
            "upstream error",  # Cloudflare Email Routing: the mailbox it forwards to
            "several matches found in domino directory",  # two entries answer to the name
        ],
        [],
    ),
    "network_error": (
        [
            "host unreachable",  # the network's word, not a domain's absence
            "could not connect and send the mail to",
            # Haraka's own words when no MX answered, under its own 5.1.2
            "tried all mxs",
            "can not connect to",  # Coremail: "Can not connect to recipient's server"
            "dns records for the destination computer could not be found",
            "hop count exceeded - possible mail loop",
            "host is unreachable",
            "server is down or unreachable",
            "server is not responding",
            "host name lookup failure",
            "host not found, try again",
            "mail forwarding loop for ",
            "malformed name server reply",
            "malformed or unexpected name server reply",
            # Sendmail: the remote's reply made no sense for the command (deliver.c).
            "remote protocol error",
            "maximum forwarding loop count exceeded",
            "message looping",
            "message probably in a routing loop",
            "no route to host",
            "too many hops",
            "unable to resolve route ",
            "unrouteable mail domain",
        ],
        [
            r"dns error: \d+ dns type '?\w+'? lookup of",  # Google Workspace
            r"network error on destination mxs",  # OpenSMTPD
        ],
    ),
    "expired": (
        [
            "failed repeatedly and timed out",  # chasquid
            "connection timed out",
            "could not deliver for the last",  # DragonFly: "... 432000 seconds. Giving up."
            "did not accept our requests to connect",  # Gmail, after its retries
            "envelope expired",  # OpenSMTPD
            "message expired",  # Exchange Online's 4.4.316/5.4.316
            "retry timeout exceeded",  # Exim
            "could not find a gateway for",
            "delivery attempts will continue to be",
            "delivery time expired",
            "failed to deliver to domain ",
            "giving up on",
            "have been failing for a long time",
            "has been delayed",
            "it has not been collected after",
            "message expired after sitting in queue for",
            "message expired, cannot connect to remote server",
            "message expired, connection refulsed",
            "message timed out",
            "retry time not reached for any host after a long failure period",
            "server did not respond",
            "this message has been in the queue too long",
            "unable to deliver message after multiple retries",
            "was not reachable within the allowed queue period",
            "your message could not be delivered for more than",
        ],
        [r"delivery failed \d+ attempts"],  # IMail/SMTP32: given up after retrying
    ),
    "content_error": (
        [
            # Amazon SES's, relaying ours, with why after them ("554 Transaction failed:
            # Duplicate header 'DKIM-Signature'."); RFC 5321's bare words for a 554 say nothing
            "transaction failed:",
            # Exim: our message needs SMTPUTF8 and the next hop has none (its smtp transport)
            "utf8 support required but not offered",
            "message has lines too long for transport",  # Exim: our lines over its limit
            # Haraka's headers plugin: our Date older, or later, than it allows
            "the date header is too old",
            "the date header is too far in the future",
            "failed to completely analyse",  # MailScanner
            "gefährliche inhalte",  # MailScanner, German: "dangerous content" removed
            "header is too long",  # Microsoft 5.0.350
            "content reject",
            "does not accept email in non-western",  # "(non-Latin) character sets"
            "duplicate header",
            "header size exceeds maximum permitted",
            "improper use of 8-bit data in message header",
            "message header size, or recipient list, exceeds policy limit",
            "message mime complexity exceeds the policy maximum",
            "routing loop detected -- too many received: headers",
            "this message contain invalid mime headers",
            "this message contain improperly-formatted binary content",
            "this message contain text that uses unnecessary base64 encoding",
            # Mailman 2: nothing left once its content filter removed what it refuses
            "after content filtering, the message was empty",
            "بعد از پالایش محتوا، این پیام خالی ماند",
            "بعد تصفية المحتويات صارت الرسالة فارغة",
            # Discourse, in Arabic and Persian: "complex formatting, message too large, too
            # small"; no reply found in it
            "بعض الأسباب المحتملة هي: التنسيق المعقَّد",
            "برخی از دلایل ممکن عبارتند از: قالب بندی پیچیده",
            "نتوانستیم محتوای پاسخی را در ایمیل شما پیدا کنیم",
            "نتوانستیم پاسخ شما را در ایمیل پیدا کنیم",
        ],
        [],
    ),
    "system_full": (
        [
            "mail system full",
            "requested mail action aborted: exceeded storage allocation",
        ],
        [
            r"\b(?:server|system) (?:is )?(?:too )?busy\b|\btoo busy to accept\b|"
            r"system load is too high"
        ],
    ),
    "no_mail_accepted": (  # NotAccept, RFC 7505 null MX
        [
            "as indicated with single dot for mx record",  # mox
            "host/domain does not accept mail",
            "does not accept mail (nullmx)",
            "recipient address has null mx",
            "name server: .: host not found",
            "no mx record found for domain=",
            "no route for current request",
        ],
        # (not Exim's callout: "This host does not accept mail from domains whose servers
        # refuse bounces", ours)
        [r"host does not accept mail(?! from)"],
    ),
    "mailer_error": (
        [
            " || exit ",
            "procmail: ",
            "bin/procmail",
            "bin/maidrop",
            "command failed: ",
            "command died with status ",
            "command output:",
            "mailer error",
            "pipe to |/",
            "x-unix; ",
        ],
        [],
    ),
    "syntax_error": (
        # web.de and GMX answer a sender's set-up they refuse so, with 550 (their FAQ)
        ["syntax error in parameters or arguments"],
        [r"^(?:smtp; ?)?[45]0[1-7][ -]"],
    ),  # Sisimai: reply code 401-407, 501-507
    "auto_reply": (  # Vacation
        [
            "i am away on vacation",
            "i am away until",
            "i am out of the office",
            "i will be traveling for work on",
        ],
        [],
    ),
}

# Sharper verdicts go first: a virus report also reads as spam, and so does a listing on a
# DNS block list. A bare reply code (syntax_error) is the last resort.
# Mail.ru's words for a mailbox it looked up and did not find.
MAIL_RU_NO_USER = r"local mailbox (?:\S+ )?is unavailable: user not found"
# Sophos Central Email's documented table of codes
_SOPHOS = [
    ("01|02|03", "auth_failure"),  # DKIM, SPF, DMARC
    ("04|05|08|09", "blocked"),  # our IP or domain listed; admin or user block list
    ("06", "security_error"),  # TLS version
    ("07", "system_error"),  # the receiving organisation's licence has expired
    ("10", "no_relaying"),  # not a domain it protects
    ("11", "user_unknown"),  # no such address in the protected domain
    ("12|13", "too_large"),
    ("14", "rate_limited"),  # the recipient's limit for one sender
    ("15", "receiving_too_fast"),  # the recipient's limit for all senders
]

_SHARP = [
    (
        "blocked",
        re.compile(
            r"blocked using|listed (?:at|in|on|by) \S*(?:spamhaus|spamcop|"
            r"barracuda|sorbs|dnsbl|rbl)|"
            # Comcast: "1.2.3.4 found on one or more DNSBLs"
            r"found on (?:one or more )?(?:dnsbl|rbl|block ?list)s?\b|"
            # Spamhaus's lists by name ("zen.spamhaus.org Listed by CSS")
            r"listed (?:by|in|on) (?:the )?(?:sbl|xbl|pbl|css)\b|"
            # Too many of our recipients were unknown there (Yahoo's TSS11): the words name
            # unknown recipients, the refusal is of us.
            r"excessive (?:unknown recipients|userid unknowns)|"
            r"too many (?:invalid|bad|unknown) (?:addresses|recipients|users)|"
            # MailChannels: "an excessively high number of invalid recipients originating
            # from your account"
            r"number of invalid recipients|invalid recipients originating from|"
            # our IP named on a block list, as a spammer, or refused at Gmail's door, in words
            # that come with a dead address's 5.1.1 or a relay's "Relaying denied"
            r"\bis (?:on|in) (?:a |the )?bl[ao]ck ?list\b|\bidentified as (?:a )?spammer\b|"
            r"not authorized to send email directly to our servers|"
            # Naver's spam centre blocking our IP, in words of a busy server; Spectrum
            # refusing our connection over IPv6 ("IPv6 not accepted AUP#I-1260")
            r"\bccrt\b|\bipv6 not accepted\b|"
            # our HELO name: "Unknown host: your HELO name does not resolve", "Invalid HELO"
            r"\b(?:your|invalid|bad) (?:helo|ehlo)\b|\bin (?:helo|ehlo)\b|"
            # Gateways' block lists, in words that begin like a dead address's or a relay's:
            # Trend Micro's "Recipient address rejected: ERS-RBL", "refused by rbl-plus...",
            # Microsoft's "Unable To Relay: Blocked by Customer Allow list"
            r"\bers-rbl\b|refused by \S*(?:rbl|mail-abuse)|blocked by customer allow ?list|"
            # a block list by its name, under a status of the receiver's system (Sendmail's
            # "553 5.3.0 Mail from 192.0.2.25 rejected by Abusix blacklist")
            r"\b(?:rejected|blocked) by \S+ bl[ao]ck ?list\b|\blisted on \S+ bl[ao]ck ?list\b|"
            # AOL's old refusal of our message, under 5.2.1 (a disabled mailbox's status)
            r"\baol will not accept delivery of this message\b",
            re.I,
        ),
    ),
    # Ours before the words of a dead address or domain that they share ("Sender address
    # rejected: Domain x does not accept mail (nullMX)").
    # Our own relay's limits and our own sending account (our_account.py): "quota exceeded"
    # and "suspended" there are ours, not the reader's mailbox's.
    ("rate_limited", our_account.SENDING_LIMIT),
    ("sender_rejected", our_account.OUR_SENDER),
    # The receiver called back our return path and it failed, or refused it outright
    # (our_account.py).
    ("sender_rejected", our_account.SENDER_REFUSED),
    (
        "no_mail_accepted",
        # (not "x does not accept mail from <us>": the recipient's filter, below; nor "...
        # mail with attachments", "... mails at the moment": the words go on to say more)
        re.compile(
            r"null ?mx|"
            r"does not accept (?:any )?(?:e-?)?mail\s*(?:\(nullmx\)|[.;,]|$)",
            re.I,
        ),
    ),
    # Who may write to a group or a public folder (Microsoft 5.7.13, 5.7.193): its owner's
    # rule about us, whatever RFC 5248 says its status means ("user account disabled")
    (
        "policy",
        re.compile(
            r"sender was not authenticated for|external senders aren't permitted to send|"
            # web.de's and GMX's policy blocks, which begin as a dead address's reply does
            # ("550 Requested action not taken: mailbox unavailable Reject due to policy
            # restrictions"), and GMX's submission refusing a message it takes for spam
            r"reject due to policy restrictions|failure sending mail\. try again later|"
            # chkuser's abuse threshold for our session, with a "#5.1.1" in its words
            r"violating our security policies",
            re.I,
        ),
    ),
    # A reply that names a dead address and a refusal of our mail as one ("User not found
    # or in the blacklist", NetEase) says neither for sure: a soft failure of no reason.
    (
        "unknown",
        re.compile(
            r"(?:not found|unknown|does ?n[o']t exist) or (?:is )?(?:in )?(?:the |a )?"
            r"(?:black ?list|block ?list|blocked)|"
            # a Swiss and Italian provider's "Unknown recipient or mailbox disabled", in
            # German, French and Italian
            r"possible forgery or deactivated|"
            r"(?:unknown|unbekannt|inconnu|sconosciuto) (?:or|oder|ou|o) "
            r"(?:mailbox|boite aux lettres|boîte aux lettres) "
            r"(?:disabled|deaktiviert|desactivee|désactivée|disat+ivata)",
            re.I,
        ),
    ),
    # Mail.ru takes every RCPT and refuses unknown users at the end of DATA, where a "user
    # unknown" is otherwise a filter's (Sisimai's "filtered"): these words are its own.
    ("user_unknown", re.compile(r"invalid mailbox\. " + MAIL_RU_NO_USER, re.I)),
    # SimpleLogin's (and Proton Pass's) relay answers for its aliases after DATA, coded
    # (app/email/status.py): E515, E502, E508 "Email not exist" (no such alias, or one its
    # owner turned off to look so), E510 no such user; E504, E516-518 an alias whose account
    # or mailbox is off or unverified; E506, E519 our mail taken for spam.
    ("user_unknown", re.compile(r"\bsl e(?:50[28]|51[05])\b", re.I)),
    ("mailbox_disabled", re.compile(r"\bsl e(?:504|51[678])\b", re.I)),
    ("spam", re.compile(r"\bsl e(?:506|519)\b", re.I)),
    # Sophos Email's "550 5.7.1 XGEMAIL_00nn Command rejected": the code is its reason, and
    # Sophos's alone, whether its own server or a relay reporting for it says it
    *((reason, re.compile(rf"\bxgemail_00(?:{codes})\b", re.I)) for codes, reason in _SOPHOS),
    # SmarterMail: the reader's domain is over its disk space, not our message over a size
    ("system_full", re.compile(r"domain size limit has been exceeded", re.I)),
    # Microsoft 365's 5.7.64 "TenantAttribution; Relay Access Denied": our own connector to
    # a tenant is not recognised, not the reader's domain refusing to relay
    ("security_error", re.compile(r"must issue a starttls|tenantattribution", re.I)),
    # A name server that failed to answer, whatever the words around it say of the domain
    # (chasquid: "Could not find mail server: lookup x on 127.0.0.53:53: server
    # misbehaving"; getaddrinfo's EAI_AGAIN)
    (
        "network_error",
        re.compile(
            r"lookup \S+(?: on \S+)?: (?:server misbehaving|i/o timeout)|"
            r"temporary failure in name resolution",
            re.I,
        ),
    ),
    # Exchange Online's own name for a domain that does not exist (5.4.4, a routing code)
    ("host_unknown", re.compile(r"\bsmtpsend\.dns\.nonexistentdomain\b", re.I)),
]
_ORDER = {"virus": 0, "syntax_error": 2}
# Searched in folded text (reason_for_text): the literals folded here match without re.I,
# three times faster on real bounces; the regexes keep theirs, scoped.
TEXT_REASONS: list[tuple[str, re.Pattern]] = _SHARP + [
    (
        reason,
        re.compile(
            "|".join([*(re.escape(fold(x)) for x in literal), *(f"(?i:{x})" for x in regex)])
        ),
    )
    for reason, (literal, regex) in sorted(_PHRASES.items(), key=lambda kv: _ORDER.get(kv[0], 1))
]


# The reporting MTA's own filing of a failure, per recipient: PowerMTA's
# X-PowerMTA-BounceCategory field (its documented bounce categories; "other" says nothing).
MTA_CATEGORIES: dict[str, str] = {
    "bad-domain": "host_unknown",
    "bad-mailbox": "user_unknown",
    "inactive-mailbox": "mailbox_disabled",
    "quota-issues": "mailbox_full",
    "message-expired": "expired",
    "no-answer-from-host": "network_error",
    "routing-errors": "system_error",
    "policy-related": "policy",
    "spam-related": "spam",
    "virus-related": "virus",
    "content-related": "content_error",
    "relaying-issues": "no_relaying",
    "invalid-sender": "sender_rejected",
    # Amazon SES's bounceSubType, as its notification contents document them (lowercased);
    # "General", "Undetermined" and the suppression lists leave it to the words and status.
    "noemail": "user_unknown",
    "mailboxfull": "mailbox_full",
    "messagetoolarge": "too_large",
    "contentrejected": "content_error",
    "attachmentrejected": "policy",
}


def reason_for_status(status: str) -> str | None:
    """The reason an enhanced status code alone gives, or None."""
    return STATUS_REASONS.get((status or "").strip())


def reason_for_sharp_text(text: str) -> str | None:
    """Words that mean one thing whatever code comes with them."""
    return next((reason for reason, pattern in _SHARP if pattern.search(text)), None)


# Vaguer words, tried only when no list above knows the text.
_LAST = [
    (
        "no_mail_accepted",
        re.compile(
            r"no mx (?:found|records were found)|indicated no smtp service|"
            r"name service error for name=\S+ type=mx",
            re.I,
        ),
    ),
    (
        "host_unknown",
        re.compile(r"dns lookup failure|host \S+ not found|responded with code nxdomain", re.I),
    ),
    (
        "user_unknown",
        re.compile(
            r"recipient address rejected(?![:\w ]*:)|invalid final delivery userid|"
            r"check if (?:the )?address is correct|"
            r"ディレクトリには見つかりません|ディレクトリのリストにありません",
            re.I,
        ),
    ),
]


def reason_for_text(text: str, patterns=TEXT_REASONS) -> str | None:
    """The first reason whose phrases the bounce's words contain, or None."""
    folded = fold(text or "")
    return next((reason for reason, pattern in patterns if pattern.search(folded)), None)


def reason_for_vague_text(text: str) -> str | None:
    """Words that say something only when nothing sharper does, the status code included."""
    return reason_for_text(text, _LAST)


# The words of a refusal of our mail, where nothing else knows the reply: a receiver's own
# wording of a block list, spam, a virus, a filter, our DNS or authentication, a policy.
# Read after the status, every phrase, and the bounce's own words where the recipient's
# say nothing: a dead or full mailbox is never outweighed by them.
_REFUSAL_WORDS = [
    ("virus", re.compile(r"\bvirus(?:es)?\b|\bmalware\b|\beicar\b|\binfected\b", re.I)),
    (
        "blocked",
        re.compile(
            r"\bbl[ao]ck[ -]?list|\b(?:dns)?rbl\b|blackhole|\bbad (?:sender )?ip\b|"
            # block lists by name: Invaluement's, the CBL, Spamhaus's, UCEPROTECT's
            r"\bivm(?:sip|uri)\b|abuseat\.org|\bspamhaus\b|\buceprotect\b|\bsorbs\b|\bdnsbl\b|"
            # a flood of unknown recipients read as address harvesting, blocked at the IP
            r"\bdictionary attack\b|\bdirectory harvest\b|"
            r"\b(?:your|sending|the) ip\b.{0,60}\b(?:blocked|banned|listed|not allowed)\b|"
            r"\bsending from this ip\b.{0,20}\bnot allowed|\baccess[- ]denied\b|"
            r"\bgeo[- ]?block|\bfrom your (?:region|country)\b.{0,20}\bnot allowed\b|"
            r"(?<!not )\blisted (?:at|in|on|by) \S*\.[a-z]|"
            r"\b(?:client|your) host\b.{0,60}\b(?:blocked|banned|not allowed)\b|"
            # Baruwa's "The sender 192.0.2.25 is banned"; greylisting that never let us by
            r"\bthe (?:sender|domain) \S+ is banned\b|\bgr[ae]y[- ]?list|"
            # Yahoo's "[GL01] Message from (192.0.2.25) temporarily deferred": our IP
            r"\bmessage from \(?[\d.:a-f]+\)? temporarily deferred\b|"
            # a reply of that one word ("550 Blocked"), however the report goes on after it
            r"(?:^|\b[45]\d\d(?: -)?[ -])(?:[45]\.\d{1,3}\.\d{1,3} )?blocked"
            r"(?=\W*(?:$|[45]\d\d\b|---))|"
            r"\bzombie\b|"  # Trend Micro's reputation service: our IP taken for a bot's
            # filters' own words (Haraka's, policyd-weight's, Exim ACLs', Coremail's): our
            # HELO name, our talking early, our failed recipients, our IP
            r"\b(?:helo|ehlo)\b.{0,30}\b(?:denied|is dynamic|must have|does not match)\b|"
            r"\bnot who you say you are\b|\byou talk too soon\b|\btoo many failed recipients\b|"
            r"\bblocked because of previous errors\b|\bblocked as (?:a )?possible open relay\b|"
            r"\bip is rejected\b|\binvalid ip\b",
            re.I,
        ),
    ),
    (
        "spam",
        re.compile(
            r"\bspam|\banti-?spam|\bantyspam|\bjunk\b|\buce\b|\bunsolicited\b|\bbulk mail\b|"
            r"\badvertisements? (?:are )?not accepted",
            re.I,
        ),
    ),
    (
        "filtered",
        re.compile(
            r"\bscanner\b|\bfilter\b|\bmessage refused\b|\bblocked message\b|"
            r"\b(?:illegal|forbidden|prohibited|banned|blocked|dangerous) attachment|"
            r"\battachment (?:guidelines|policy)\b|\bmail with attachments\b|"
            r"\battachments? (?:type )?(?:is |are )?(?:not allowed|rejected|blocked|forbidden)|"
            r"\b(?:doesn't|does not) want your mail\b|\bdoes not accept (?:any )?mail from\b|"
            r"\brefused to receive\b|"
            # Trend Micro: the reader's admin blocks our sender; content filters' words
            r"\bblock-send-er\b|\bblocked senders\b|\bsender filtering\b|"
            r"\b(?:blocked|banned) content\b|\bdenied \(mode:|"
            r"\bvba macros\b|\brejected due to (?:the )?content\b|"
            # maddy holding back our message; a Sieve script's reject (RFC 8098), its words
            # the reader's own
            r"\bquarantined message\b|\bwas automatically rejected\b",
            re.I,
        ),
    ),
    (
        "content_error",
        re.compile(r"\bunacceptable content\b|\bcontent control\b|\bmime\b.{0,20}\breject", re.I),
    ),
    ("bad_reputation", re.compile(r"\breputation\b", re.I)),
    # our sending rate: Exim's ratelimit ACL, a hosting relay's, Baruwa's
    (
        "rate_limited",
        re.compile(
            r"\bsender rate exceeds\b|\bsent too many messages\b|"
            r"\b(?:msgs|messages|e-?mails) per (?:\d+ ?)?(?:h|hours?|min(?:utes?)?|days?)\b",
            re.I,
        ),
    ),
    (
        "auth_failure",
        re.compile(r"\b(?:dmarc|spf|dkim|domainkeys)|\bspoof|\bunauthenticated\b", re.I),
    ),
    ("require_ptr", re.compile(r"\breverse (?:dns|lookup)\b|\bptr\b|\brdns\b|\bfcrdns\b", re.I)),
    (
        "policy",
        re.compile(
            r"\bpolic(?:y|ies)\b|\bsuspicious\b|\bmail flood\b|\bmessage not allowed\b|"
            r"\bsender domain \S+ is banned\b|\bautomatically[- ]generated messages\b|"
            r"\bnot authori[sz]ed to send\b|"
            # Haraka's default refusal of DATA; Bell's of our mail to a reader
            r"\bmessage denied\b|\bnot allowed to send (?:e-?)?mail to\b",
            re.I,
        ),
    ),
    # last: the message refused, in words that say no more why
    (
        "filtered",
        re.compile(
            r"\b(?:message|transaction) (?:was |has been )?rejected\b|\bmail refused\b", re.I
        ),
    ),
]


def refusal_in_words(text: str) -> str | None:
    return reason_for_text(text, _REFUSAL_WORDS)


# Chinese providers' bounces (Coremail's, at 163.com, 126.com and many a company's and
# university's; QQ Mail's) give the reason in Chinese under 退信原因 ("reason for the
# return") and their English words, if any, under it are often as vague as "rejected by
# system". Read only there, up to the suggested remedy (建议解决方案), which may say anything.
CHINESE_REASON = re.compile(r"退信原因[:：]?(.{1,400})", re.S)
REMEDY = re.compile(r"建议解决方案|解决方案")
_CHINESE = [
    ("spam", re.compile(r"垃圾邮件")),  # spam
    # QQ puts the address between, in full-width brackets: "收件人邮件地址（x）不存在"
    (
        "user_unknown",
        re.compile(
            r"(?<!发件人)(?<!发信人)(?:用户|收件人|邮箱|帐号|账号|帐户|账户|地址)(?:[（(][^）)]{0,320}[）)])?不存在"
        ),
    ),
    ("host_unknown", re.compile(r"域名?不存在")),  # the domain does not exist
    ("mailbox_full", re.compile(r"(?:空间|容量|邮箱)(?:已满|不足)|超出.{0,4}(?:空间|容量)")),
    ("mailbox_disabled", re.compile(r"冻结|停用|禁用")),  # frozen, deactivated, disabled
    ("too_large", re.compile(r"(?:大小|尺寸).{0,6}(?:超过|超出)|(?:超过|超出).{0,6}大小")),
    ("rate_limited", re.compile(r"频率|过于频繁")),  # too often
    ("blocked", re.compile(r"黑名单")),  # a blacklist
]


def reason_in_chinese(text: str) -> str | None:
    """The reason a Chinese provider's bounce gives in Chinese, or None."""
    section = CHINESE_REASON.search(text)
    if section is None:
        return None
    return reason_for_text(REMEDY.split(section.group(1))[0], _CHINESE)
