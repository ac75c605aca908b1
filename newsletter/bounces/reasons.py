"""What a recipient's evidence means: a reason, and from it a kind.

The sending MTA's own category (PowerMTA's) is its verdict; otherwise the server's own words
are the best evidence, then its enhanced status code, then the bounce's general words, and
where the refusal came (RCPT TO or after DATA) says whether a "user unknown" is about the
address or the message. Whatever the words, a temporary status (4.x.x, a 4xx reply, a
delay) never makes a bounce hard, nor does a lone recipient's bounce that says the mailbox is
full or disabled: the address may still be alive.
"""

from __future__ import annotations

import re
from email.message import Message
from functools import cached_property

from newsletter.bounces import phrases, providers, quoted
from newsletter.bounces.phrases import fold
from newsletter.bounces.scan import ADDRESS, Evidence, from_daemon, header_text
from newsletter.bounces.verdict import Failure, kind_of
from newsletter.text import SUBJECT_PREFIXES

NOT_FAILED = {"delivered", "relayed", "expanded"}
SENDER_ADDRESS = {"5.1.7", "5.1.8"}  # RFC 3463: bad sender's mailbox or system address
DEAD_ADDRESS = {"5.1.1", "5.1.2", "5.1.6", "5.1.10"}
# OpenSMTPD (6.8) writes its last word on a message, once its queue lifetime is over, in its
# delay notice ("Action: delayed", 4.4.7, "only a temporary failure report"), and drops it.
GIVEN_UP = re.compile(r"\benvelope expired\b", re.I)
STILL_TRYING = re.compile(
    r"attempts will continue|will (?:continue to |keep )?(?:try|retry|attempt)|"
    r"will be retried|will be tried again|warning message only|you do not need to re-?send|"
    # OpenSMTPD's older warning: "A message is delayed for more than 4 hours ... This is
    # only a temporary failure report"
    r"only a temporary failure report|"
    # Exchange's delay notice in German, French and Spanish: "Die Zustellung an folgende
    # Empfänger oder Gruppen wird verzögert ... Es wird weiterhin versucht", "Nous allons
    # continuer à essayer de le remettre", "Se seguirá intentando la entrega"
    r"zustellung an folgende empfänger [^.:]{0,40}(?:wird|wurde) verzögert|"
    r"es wird weiterhin versucht|continuer à essayer|se seguirá intentando"
)
# ...unless the same words say it was given up: MDaemon's permanent failure ends "YOU DO NOT
# NEED TO RESEND", as its warnings do.
GAVE_UP = re.compile(r"permanent fatal delivery errors|removed from the mail queue")
# Exchange Online's tags after a reply ("[Name=Protocol Filter Agent][AGT=PFA][MxId=...]"):
# which of its agents answered, whatever the reply was, not words of a filter's refusal
AGENT_TAG = re.compile(r"\[(?:name|agt|mxid|ipv4|ipv6)=[^\]]{0,80}\]")
# qmail's close to a refusal ("Giving up on 198.51.100.7."): that it stopped, not why;
# the wrappers of the remote's reply that Exchange ("5.1.351 Remote server returned unknown
# recipient or mailbox unavailable -> 550 Blocked") and Gmail ("... because the address
# couldn't be found, or is unable to receive mail. ... The response from the remote server
# was: 550 Denied by policy") put around any refusal: that it was refused, the reply says why
NOT_WHY = re.compile(
    r"\bgiving up on [\d.:a-f]+\.?(?=\s|$)|"
    r"remote server returned unknown recipient or mailbox unavailable\s*(?=->)|"
    r"(?:because the address couldn't be found,? or is unable to receive mail|"
    r"car l'adresse est introuvable ou ne peut pas recevoir de messages)"
    r"(?=.{0,400}?(?:the response (?:from the remote server )?was|"
    r"la r[eé]ponse (?:du serveur distant )?a [eé]t[eé]))",
    re.S,
)
CONTINUATION = re.compile(r"(?<![\w.])[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}(?=\s)")
# "(in reply to end of DATA command)" (Postfix), "after end of data" (Exim), "after RCPT
# command" (GMX's Exim), "hMailServer sent: RCPT TO:<x>"; EHLO and HELO come before any
# recipient, as the greeting does
SAID_COMMAND = re.compile(
    r"(?:(?:in\s+reply\s+to|after)\s+(?:end\s+of\s+)?|smtp\s+command[-\s:]*|"
    r"hmailserver\s+sent:\s*)"
    r"(data|rcpt(?:\s+to)?|mail\s+from|ehlo|helo)\b"
)
# Other MTAs' own words for a refusal of RCPT TO: qmail-remote ("does not like recipient",
# "most progress was RCPT TO response"), DragonFly's dma ("did not like our RCPT TO"), Yahoo
# ("[RCPT_TO]"), "SMTP:RCPT host ...", "(Error following RCPT command)", IMail's "RCPT TO
# generated following response", NetEase's "RCPT TO said 550 ..." and "... in RCPT TO".
AT_RCPT = re.compile(
    r"does not like recipient|did not like our rcpt|most progress was rcpt|\[rcpt_to\]|"
    r"smtp:rcpt\b|following rcpt command|rcpt to generated following response|"
    r"\brcpt to said\b|\bin rcpt to\b|"
    # the reply quoting the command it answers ("550 RCPT TO:<x> User unknown", Alibaba's
    # "554 RCPT (x) dosn't exist")
    r"(?:^\W*|\b[45]\d\d(?: -)?[ -](?:[45]\.\d{1,3}\.\d{1,3} )?)rcpt(?: to:\s*<| \()"
)
SYNTAX_REPLY = re.compile(r"[45]0[1-7]$")
# Words of a refusal that name no one's address: under a dead address's status, in a report
# that names no stage and no sender, the recipient's ("550 5.1.1 Address rejected")
ADDRESS_REJECTED = re.compile(r"\baddress rejected\b|\bno mx records? for\b")
# Postfix's words for a refusal of RCPT TO, whoever reports it: the stage where nothing else
# tells it (a transcript's pipelined ">>> DATA" before it still does)
RECIPIENT_REJECTED = re.compile(r"recipient address rejected")
# qmail-remote's words for a refusal before any recipient: of our connection or of our address
QMAIL_STAGE = re.compile(
    r"connected to \S+ but (greeting failed|my name was rejected|sender was rejected)"
)

# Words of a server that looked the recipient up and did not find it: Exchange's "The
# recipient name is not recognized", Domino's and Notes' "not listed in Domino Directory" (and
# their Japanese), IMail's "Invalid final delivery userid", Gmail's "the address couldn't be
# found" (and its German and French), Postfix's RCPT TO restriction "Recipient address
# rejected", a site's "did not exactly match an LLNL email address", Postfix's local
# delivery's 'unknown user: "name"', MDaemon's "There is no user by that name at this server",
# Exim's own router's 'unknown local-part "name" in domain', vpopmail's "no mailbox here by
# that name", "... does not have an account here", RFC 3463's name for x.1.1 written out. (Not
# Yahoo's older "This user doesn't have a example.com account": its X2 servers say so to
# senders they filter too.)
LOOKED_UP = re.compile(
    r"recipient name is not recognized|unknown user: \"|no user by that name at this server|"
    r"unknown local[- ]part|no (?:mailbox|account) (?:here )?by that name|"
    r"does not have an account here|bad destination mailbox address|"
    # Plesk's reject of mail to an address its domain lacks; GoDaddy's reply, whole
    r"this address no longer accepts mail|(?:^|: )account does not exist\b|"
    r"not listed in (?:the )?(?:domino|public name)|dans l.annuaire domino|"
    r"en el directorio de domino|"
    r"not present in directory|ディレクトリ(?:のリストにありません|には見つかりません)|"
    r"invalid final delivery userid|address couldn.t be found|recipient address rejected|"
    r"weil die adresse nicht gefunden wurde|car l.adresse est introuvable|"
    r"did not (?:exactly )?match an? \S+ (?:e-?mail )?address|"
    # Postfix's own tables, looked up by the server that bounced
    r"user unknown in (?:local recipient|virtual (?:alias|mailbox)|relay recipient) table|"
    + phrases.MAIL_RU_NO_USER
)

# One of DEAD_ADDRESS's codes written in the server's words.
_CODES = "|".join(map(re.escape, DEAD_ADDRESS))
ADDRESS_STATUS = re.compile(rf"(?<![\w.])(?:{_CODES})(?![\w.])")

MAILBOX_LIVES = [
    (r, p) for r, p in phrases.TEXT_REASONS if r in ("mailbox_full", "mailbox_disabled")
]

AUTO_REPLY_SUBJECT = re.compile(
    r"(?i)^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|out of (?:the )?office|"
    r"vacation|abwesenheit|absence|r[ée]ponse automatique|auto:|autoreply|"
    # vacation(1)'s own example of a .vacation.msg
    r"away from my (?:e-?)?mail|"
    # Outlook's "Automatic reply:" in the languages it writes it in
    r"automatische antwort|respuesta autom[áa]tica|risposta automatica|resposta autom[áa]tica|"
    r"automatisch antwoord|автоматический ответ|автоответ|автоматична відповідь|"
    r"otomatik yan[ıi]t|automatyczna odpowied[źz]|automatiskt svar|automatisk svar|autosvar|"
    r"automaattinen vastaus|automatick[áa] odpov[ěe][dď]|automatikus v[áa]lasz|"
    r"r[ăa]spuns automat|automatski odgovor|samodejni odgovor|balasan otomatis|"
    r"tr[ảa] l[ờo]i t[ựu] đ[ộo]ng|αυτόματη απάντηση|תשובה אוטומטית|ตอบกลับอัตโนมัติ|"
    r"رد تلقائي|رد آلي|پاسخ خودکار|自動応答|自動返信|自动答复|自动回复|自動回覆|自動答覆|"
    r"자동 회신|자동 응답|"
    # a ticket system's receipt: "[Request received] ...", "Request received: ..."
    r"request received|ticket received)"
)
# The same said inside the subject: Domino's "<name> is out of the office", "ist außer Haus";
# and a ticket system's answer, its ticket's number first ("[Ticket#2025011410000013] RE: ...").
AWAY_SUBJECT = re.compile(
    r"(?i)\bis out of (?:the )?office\b|\bist au(?:ß|ss)er haus\b|^\s*\[[^\]]{0,40}#\s*\d+\]"
)
# Tags a ticket system puts first: "[Ticket#123] RE: ...", "[support #4712] AutoReply: ...".
_TAGS = re.compile(r"^\s*(?:\[[^\]]{0,80}\]\s*)+")
BOUNCE_SUBJECT = re.compile(
    r"(?i)(undeliver|undelivered|delivery (?:status|fail|problem|notification)|"
    r"returned mail|failure notice|mail delivery|could not be delivered|non[- ]?delivery|"
    r"not delivered|rejected|delayed|warning: message|"
    # a machine answering for an address that is gone ("This mailbox is no longer available")
    r"(?:mailbox|address|account) (?:is )?no longer (?:available|in use|exists?|valid|active)|"
    # Persian and Arabic, folded: rejected, not delivered, not sent; rejected, delivery
    # failed, could not be delivered
    r"پس ?زده ?شد|تحویل ?داده ?نشد|ارسال ?نشد|تم رفض|مرفوض|فشل (?:فی )?تسلیم|تعذر تسلیم|"
    r"لم یتم تسلیم)"
)


def bounce_subject(subject: str) -> bool:
    """Bounce words in the subject's own words, not in the subject of ours it answers or
    tags ("Re: Rejected! Ten ideas we didn't fund", "Automatic reply: Delayed trains")."""
    own = _TAGS.sub("", subject)
    if _ANSWER.match(own) or auto_reply_subject(own):
        return False
    return bool(BOUNCE_SUBJECT.search(fold(own)))


# An answer's prefix, not a forward's: a forwarded bounce is still the bounce.
_ANSWER = re.compile(
    r"(?i)^\s*(?:re|aw|sv|vs|antw|odp|ynt|ответ|پاسخ|رد|回复|回覆|答复)\s*(?:\[\d+\]\s*)?[:：]"
)


def auto_reply_subject(subject: str) -> bool:
    """An automatic reply's own words first in the subject, before or in a tag."""
    return bool(
        AUTO_REPLY_SUBJECT.search(_TAGS.sub("", subject))
        or AUTO_REPLY_SUBJECT.search(subject.lstrip(" ["))
        or AWAY_SUBJECT.search(subject)
    )


class Background:
    """A bounce's general words (its subject and human-readable text) and what is read from
    them, read once for all the recipients it names: read again for each, a report naming
    a thousand addresses took half a minute."""

    def __init__(
        self, text: str, ours: frozenset[str] = frozenset(), our_subjects: list[str] | None = None
    ):
        self.ours = ours  # our addresses the report shows: its To, the original's From
        # Our subject and headers, as the report quotes them: none of the server's words.
        self.quoted = quoted.Ours(our_subjects or [])
        self.text = self.quoted.out_of_general(text).lower()

    @cached_property
    def folded(self) -> str:
        return NOT_WHY.sub(" ", fold(self.text))

    @cached_property
    def command(self) -> str:
        return failed_command(self.text)

    @cached_property
    def still_trying(self) -> bool:
        return bool(STILL_TRYING.search(self.folded)) and not GAVE_UP.search(self.folded)

    @cached_property
    def reason(self) -> str | None:
        return phrases.reason_for_text(self.folded)

    @cached_property
    def in_chinese(self) -> str | None:
        return phrases.reason_in_chinese(self.text)

    @cached_property
    def held(self) -> bool:
        """A mailing list holding our post for its moderators (HELD)."""
        return bool(HELD.search(self.folded))

    @cached_property
    def challenge(self) -> bool:
        """A challenge-response filter asking us to prove we are a person (CHALLENGE)."""
        return bool(CHALLENGE.search(self.folded))


def judge(evidence: Evidence, background: Background, alone: bool = False) -> Failure:
    """`alone`: the bounce names no other failed recipient, so its general words are this one's."""
    # An address can read as words ("this-local-part-does-not-exist@..."): leave them out.
    # A multi-line reply read as one line: a phrase may span two of its lines.
    diagnostic = background.quoted.out_of_own(evidence.diagnostic)
    words = fold(ADDRESS.sub(" ", unfold_reply(diagnostic)))
    words = AGENT_TAG.sub(" ", NOT_WHY.sub(" ", words))
    # The recipient's own transcript first: another recipient's may have failed elsewhere.
    said = diagnostic.lower()
    own_command = failed_command(said)
    command = own_command or background.command
    command = command or ("rcpt" if RECIPIENT_REJECTED.search(words) else "")
    provider = providers.reason(_hosts(evidence), words)
    # The command the report names for this recipient: its own words', or, when it names no
    # other recipient, its general words' too.
    said_command = command if alone else own_command
    reason = _reason(evidence, words, background, (command, said_command), provider, alone)
    if alone and kind_of(reason) == "hard":
        reason = _mailbox_lives(background.text) or reason
    kind = kind_of(reason)
    if kind == "hard" and _temporary(evidence):
        kind = "soft"
    # A known provider's own words for a dead address need nothing to back them; a moved
    # address's ("please resend your email to x") need the same as an unknown user's: an
    # out-of-office reply without its marks says them too.
    backed = provider == reason
    if (
        reason in ("user_unknown", "has_moved")
        and not backed
        and _uncorroborated(evidence, words, background, alone, command)
    ):
        kind = "soft"
    return Failure(
        address=evidence.address,
        reason=reason,
        status=evidence.status,
        diagnostic=unfold_reply(evidence.diagnostic)[:1000],
        kind=kind,
    )


def unfold_reply(text: str) -> str:
    """One line of a multi-line SMTP reply: '550-5.1.1 a 550-5.1.1 b' -> '550-5.1.1 a b',
    and '550-a 550-b 550 c' -> '550-a b c'."""
    text = " ".join(text.split())
    first = CONTINUATION.search(text)
    if first:
        text = _joined(text, first.end(), CONTINUATION)
    # A reply whose lines carry no enhanced status: only the code that began it, and only
    # where a line of it would begin, is taken for a line's start.
    plain = _FIRST_OF_MANY.search(text)
    if plain:
        text = _joined(text, plain.end(), re.compile(rf"(?<=\s){plain[1]}[ -](?=\S)"))
    return text


_FIRST_OF_MANY = re.compile(r"(?<![\w.])([245]\d\d)-(?=[^\d\s])")


def _joined(text: str, end: int, line_starts: re.Pattern) -> str:
    return " ".join((text[:end] + line_starts.sub(" ", text[end:])).split())


def _reason(
    evidence: Evidence,
    words: str,
    background: Background,
    commands: tuple[str, str],
    provider: str | None,
    alone: bool,
) -> str:
    command, said_command = commands
    if evidence.action in NOT_FAILED:
        return "delivered"
    if GIVEN_UP.search(words):
        return "expired"
    if evidence.action == "delayed":
        return "delayed"  # still queued: whatever the words, nothing has failed yet
    if evidence.source == "x-unix" and not evidence.reply:
        # A local delivery program failed (procmail, a filter script), unless what it said
        # is that the mailbox is full ("Disk quota exceeded") or disabled, or, Mailman's
        # post script, that the list is gone. Not its exit code: Postfix reports EX_NOUSER
        # as 5.1.1, and procmail exits so when it cannot create a mailbox ("Couldn't create
        # /var/spool/mail/x ... No such user"), the server's set-up, not a dead address. A
        # local mailer that answers as a server does (Sendmail's mail.local: "X-Unix; 550
        # 5.1.1 User unknown") is judged as any reply.
        if LIST_GONE.search(words):
            return "user_unknown"
        return phrases.reason_for_text(words, MAILBOX_LIVES) or "mailer_error"
    filed = phrases.MTA_CATEGORIES.get(evidence.category)
    # The reporting MTA filed it itself, unless it filed a dead address's status (5.1.1) as a
    # refusal of ours: PowerMTA's categories are its own patterns' guess, the status the
    # receiver's word.
    if filed and not (kind_of(filed) == "sender" and evidence.status in DEAD_ADDRESS):
        return filed
    # A permanent code (5.x.x, or a 5xx reply without one) is final whatever else the
    # report says: MDaemon's permanent failures also say "you do not need to resend". A
    # temporary one in a warning that delivery goes on has failed nothing yet, whatever the
    # provider's words (Exim's warnings carry no Action field).
    permanent = evidence.status.startswith("5") or evidence.reply.startswith("5")
    if not permanent and (STILL_TRYING.search(words) or background.still_trying):
        return "delayed"
    # A provider's own table, then a provider-specific status (x.y.zz: RFC 3463's own
    # details are single digits) mean one thing each; general words come after them.
    found = phrases.reason_for_sharp_text(words) or provider or _precise_status(evidence.status)
    if found:
        return found
    found = (
        _unless_the_address(phrases.reason_for_text(words), evidence.status)
        or _status_reason(evidence.status, words)
        or phrases.reason_for_vague_text(words)
        # the bounce's general words, only for a recipient that has none of its own: no
        # status, or one without detail (x.0.0) and nothing said
        or (background.reason if _wordless(evidence) else None)
        # a Chinese provider's own reason, where its English words said nothing we know
        or (background.in_chinese if alone else None)
        or phrases.refusal_in_words(words)
        # Sisimai's last resort, where the code is not at the words' start (Exim's "SMTP error
        # from remote mail server after RCPT TO:<x>: 501 ..."): RFC 5321's syntax errors
        or ("syntax_error" if SYNTAX_REPLY.match(evidence.reply) else None)
        # RFC 3463's x.7.1, "delivery not authorized, message refused", where nothing says
        # more (a milter's "550 5.7.1 Command rejected")
        or ("policy" if evidence.status == "5.7.1" else None)
        # given up on a policy status (Postfix keeps the last reply's: "421 4.7.0 Try again
        # later"): our mail was refused to the end of the queue
        or ("blocked" if evidence.status[:4] == "4.7." and evidence.action == "failed" else None)
    )
    if found == "system_error" and "521" in (evidence.reply[:3], evidence.diagnostic.lstrip()[:3]):
        return "no_mail_accepted"  # RFC 7504: this host never takes mail
    if found == "expired" and (permanent or evidence.status[1:3] == ".7"):
        # "Giving up" is how qmail ends every failure, and "retry timeout exceeded" Exim's:
        # a permanent status, or one of our mail refused all along (4.7.1, greylisting),
        # says why it failed, or the receiver's words ("550 ... Rejected: SPAM"); a policy
        # status with neither ("421 4.7.0 Try again later, closing connection", Gmail's
        # throttle of a sender) refused us to the end.
        refused_us = "blocked" if evidence.status[1:3] == ".7" else found
        found = (
            _status_reason(evidence.status, words) or phrases.refusal_in_words(words) or refused_us
        )
    if found in ("mailbox_full", "mailbox_disabled") and evidence.status[1:] in (".3.4", ".2.3"):
        # "552 5.3.4 Error: too much mail data", "exceeded storage allocation" under a
        # message-size status: our message is too big, not the mailbox too full
        found = "too_large"
    if found == "user_unknown" and _refused_the_message(evidence.status, command):
        # unless the server's own words give an address status ("550 permanent failure for
        # one or more recipients (x:550 5.1.1 user unknown)")
        if not ADDRESS_STATUS.search(words):
            return "filtered"
    about_sender = (
        evidence.status in SENDER_ADDRESS
        or said_command == "mail"
        or _names_ours(evidence, background.ours)
    )
    # Words that say nothing we know, that the address is dead, or that a mailbox or the
    # retries failed: no recipient's, where none was named yet.
    nothing_or_dead = (
        found in (None, "unknown", "mailbox_full", "mailbox_disabled", "expired")
        or kind_of(found) == "hard"
    )
    if nothing_or_dead and about_sender:
        # Refused at MAIL FROM, or x.1.7/x.1.8: about our address, since no recipient was
        # named yet; words that say nothing we know ("550 Command Rejected") too.
        return "sender_rejected"
    if nothing_or_dead and said_command == "greeting":
        # Refused before any recipient was named: our connection, unless the words say
        # the host takes no mail at all.
        return found if found == "no_mail_accepted" else "blocked"
    # "Address rejected" of the subscriber: at RCPT TO, or in a report that names no stage,
    # whose words do not say it was the sender's
    stageless_and_not_ours = (
        not command
        and not about_sender
        and "sender" not in words
        and ADDRESS_REJECTED.search(words)
    )
    if (
        found == "sender_rejected"
        and evidence.status in DEAD_ADDRESS
        and (command == "rcpt" or stageless_and_not_ours)
    ):
        return phrases.reason_for_status(evidence.status)
    if found:
        return found
    # Sisimai's "on hold": a failure that gives no words to judge by.
    return "unknown" if words else "on_hold"


def _names_ours(evidence: Evidence, ours: frozenset[str]) -> bool:
    """Whether the server's words name one of our addresses (our return path, our From) and
    not the recipient's: "550 5.1.0 Address rejected bounces+...@news.example.org" refuses
    our sender. (Words that name both are a report quoting the original's From.)"""
    named = {address.lower() for address in ADDRESS.findall(evidence.diagnostic)}
    recipient = {evidence.address.lower(), evidence.routed.lower()}
    return bool(named & ours) and not named & recipient


def _unless_the_address(found: str | None, status: str) -> str | None:
    """A syntax error found in a bare reply code (501, Sisimai's last resort) gives way to a
    status that says the recipient's address is bad (5.1.3, bad destination mailbox address
    syntax: "501 5.1.3 Recipient does not exist")."""
    if found == "syntax_error" and kind_of(phrases.reason_for_status(status) or "") == "hard":
        return None
    return found


def _detailed(status: str) -> bool:
    """A status that says more than its class: not missing, not x.0.0 (RFC 3463's "other
    undefined status")."""
    return status.split(".")[1:] not in ([], ["0", "0"])


def _wordless(evidence: Evidence) -> bool:
    return not evidence.status or not (evidence.diagnostic or _detailed(evidence.status))


def _uncorroborated(
    evidence: Evidence, words: str, background: Background, alone: bool, command: str
) -> bool:
    """A "user unknown" in words alone: no RFC 3463 detail (none, or x.0.0) in the fields or
    the server's words, no sign of the SMTP command it answered, no directory that says it
    looked the name up, no category filed by the reporting MTA. Mobile carriers' filters
    answer senders they refuse with the same "550 Unknown user" (Sisimai files these under
    "filtered"), so such words count as a soft failure: a dead address still stops after a
    few, a filtered live one is never dropped at once."""
    if command or evidence.category in phrases.MTA_CATEGORIES or _detailed(evidence.status):
        return False
    if alone and background.in_chinese == "user_unknown":
        return False  # Coremail's own summary: "退信原因: 收件人不存在" (no such recipient)
    said = f"{words} {background.folded}" if alone else words
    return not (LOOKED_UP.search(said) or ADDRESS_STATUS.search(said))


def _mailbox_lives(background: str) -> str | None:
    """A full or disabled mailbox, where the bounce's own summary says so: when the fields
    and the words disagree about one recipient, the mailbox may still be alive, and a full
    or disabled mailbox is never a reason to stop mail at once."""
    return phrases.reason_for_text(ADDRESS.sub(" ", background), MAILBOX_LIVES)


# The subject and detail of a status that says the address is bad, 4.x.x or 5.x.x alike.
_ADDRESS_DETAILS = {status.partition(".")[2] for status in DEAD_ADDRESS} | {"1.3"}


def _refused_the_message(status: str, command: str) -> bool:
    """Whether a "user unknown" refused the message, not the address (Sisimai's "filtered"):
    a filter that says "no such user" to senders it does not want (common at mobile carriers).

    After DATA the server had taken the recipient at RCPT, unless the status says the
    address is bad (RFC 3463's x.1.1 mailbox, x.1.2 system, x.1.3 mailbox syntax, x.1.6
    moved, x.1.10 null MX). With no sign of RCPT TO, a status whose RFC 3463 subject
    is the mailbox (X.2: it exists), the mail system (X.3) or policy (X.7) says the same; an
    addressing status (X.1) or none leaves the words their plain meaning.
    """
    if command == "data":
        return status.partition(".")[2] not in _ADDRESS_DETAILS
    return command not in ("rcpt", "mail") and status.split(".")[1:2] in (["2"], ["3"], ["7"])


def _status_reason(status: str, words: str) -> str | None:
    """A protocol status (RFC 3463's x.5.x says how the exchange went, not why) gives way to
    words that say why our mail was refused: Hornetsecurity's "554 5.5.5 email rejection
    due to Spam", "554 5.5.4 IP sender address with a negative reputation"."""
    found = phrases.reason_for_status(status)
    if status.split(".")[1:2] == ["5"]:
        return phrases.refusal_in_words(words) or found
    return found


def _precise_status(status: str) -> str | None:
    if len(status.rpartition(".")[2]) < 2:
        return None
    return phrases.reason_for_status(status)


# Postfix: the server's greeting refused us, before any recipient was named.
GREETING = re.compile(r"refused\s+to\s+talk\s+to\s+me:\s*[45]\d\d\b")
# Sendmail and Courier write ">>> command" and "<<< reply"; MDaemon "--> " and "<-- ".
TRANSCRIPT = re.compile(r"(>>>|<<<|-->|<--)\s*(\S+)")


def failed_command(text: str) -> str:
    """The SMTP command the refusal answered, where the bounce tells it."""
    found = SAID_COMMAND.search(text)
    if found:
        command = found.group(1).split()[0]  # "rcpt to", wrapped or not: "rcpt"
        return "greeting" if command in ("ehlo", "helo") else command
    if GREETING.search(text):
        return "greeting"
    qmail = QMAIL_STAGE.search(text)
    if qmail:
        return "mail" if qmail.group(1).startswith("sender") else "greeting"
    if AT_RCPT.search(text):
        return "rcpt"
    if re.search(r"<<< 503.{0,60}rcpt", text):
        return "rcpt"  # a pipelined session: the refusal answered RCPT, DATA came after
    command = ""
    # A session transcript, on lines or run together: the command before the first refusal.
    for direction, word in TRANSCRIPT.findall(text):
        if direction in (">>>", "-->"):
            command = word.split(":")[0]
        elif re.match(r"[45]\d\d$", word):
            return command
    return ""


def _temporary(evidence: Evidence) -> bool:
    if evidence.action == "delayed" or evidence.status.startswith("4"):
        return True
    # a 4xx reply under no status or a class alone (Courier gives up on one with 5.0.0)
    return not _detailed(evidence.status) and evidence.reply.startswith("4")


def is_auto_reply(msg: Message, subject: str) -> bool:
    """A person's mailbox answering by itself (RFC 3834), not a mail server's report. A
    person's mailbox writes from its address; "From: <>" is a server's (Exim's autoreply
    transport answering for unknown users: "You sent mail to ... That's not a valid user")."""
    if from_daemon(msg) or bounce_subject(subject) or "@" not in header_text(msg, "From"):
        return False
    return marked_auto_reply(msg) or auto_reply_subject(subject)


# An autoresponder's own address: "autoreply@", "auto-responder@", "out-of-office@"
RESPONDER = re.compile(
    r"(?i)(?:^|[<\s\"])(?:auto-?repl(?:y|ies)|auto-?respon(?:der|se|d)|out-?of-?office)@"
)


def marked_auto_reply(msg: Message) -> bool:
    """Whether its headers mark it as an automatic reply (RFC 3834, and others' marks)."""
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    precedence = (msg.get("Precedence") or "").strip().lower()
    return bool(
        auto.startswith("auto-replied")
        or RESPONDER.search(header_text(msg, "From"))
        or precedence == "auto_reply"
        or msg.get("X-Autoreply")
        or msg.get("X-Autorespond")
        # Exchange's inbox rules (its out-of-office replies among them), in any language;
        # Outlook's and Exchange's marks on an out-of-office reply, which asks that no
        # other one answer it
        or header_text(msg, "X-MS-Exchange-Generated-Message-Source").lower()
        == "mailbox rules agent"
        or header_text(msg, "X-Autogenerated").lower() == "reply"
        or "oof" in header_text(msg, "X-Auto-Response-Suppress").lower()
    )


def a_mailbox_answering(msg: Message, subject: str) -> bool:
    """Whether a mailbox answered our mail: written from a mailbox's address (no daemon's,
    no list manager's or no-reply's), as a reply (In-Reply-To or References, or "Re:"), no
    report and no bounce's subject. Its null return path (RFC 3834 asks an autoresponder
    for one) makes it look like a server's; but the mailbox took our mail, and the
    addresses its words name ("please resend your email to x", "this address is no longer
    monitored") are a person's notice, not failed recipients."""
    sender = header_text(msg, "From")
    return bool(
        "@" in sender
        and not from_daemon(msg)
        and not MACHINE_SENDER.search(sender)
        and msg.get_content_type() != "multipart/report"
        and not bounce_subject(subject)
        and (msg.get("In-Reply-To") or msg.get("References") or _ANSWER.match(subject))
    )


def maybe_a_report(msg: Message, subject: str) -> bool:
    """Whether anything marks the message as written by a machine about our mail: a daemon, a
    no-reply address or a mailing list's manager wrote it, its subject says so (forwarded or
    not), it came with RFC 5321's null return path or RFC 3834's Auto-Submitted, or it is a
    multipart/report. A person's letter that names an address ("write to ...") has none."""
    auto = (msg.get("Auto-Submitted") or "no").strip().lower()
    return bool(
        from_daemon(msg)
        or MACHINE_SENDER.search(header_text(msg, "From"))
        or bounce_subject(subject)
        or auto != "no"
        or (msg.get("Return-Path") or "").strip() == "<>"
        or msg.get_content_type() == "multipart/report"
    )


def from_a_person(msg: Message) -> bool:
    """Whether a person's mailbox sent it (one that may forward a bounce in its text): from
    an address, and no mark of a machine but its subject, which names what it forwards."""
    return "@" in header_text(msg, "From") and not maybe_a_report(msg, subject="")


# Senders no person writes from: "no-reply" (au one net's notices), and mailing list managers:
# fml's "-admin", Mailman's "-owner" and "-bounces", Majordomo's "owner-", "-request".
MACHINE_SENDER = re.compile(
    r"(?i)(?:^|[<\s\"])(?:owner-|no-?reply@)|-(?:admin|owner|request|bounces?)@"
)


# Machines' mail that names a reader and reports no failure. A challenge-response filter
# (Boxbe, SpamArrest, Bluebottle...) holds our mail until a person proves to be one: the
# reader's mailbox answering by itself, like a vacation notice. A notice that delivery
# succeeded (Exchange's "Delivered:" and "Relayed:", in words where no status part is left)
# or that the reader opened it (a read receipt, RFC 8098, or Outlook's words for one).
CHALLENGE = re.compile(
    r"(?:join|add(?:ed)? (?:yourself )?to|on) my (?:boxbe )?guest list|"
    r"verify (?:that )?your (?:message|e-?mail|mail)\b|"
    r"confirm (?:that )?you are (?:a )?(?:human|real person)|challenge[- ]response|"
    # ChoiceMail's: "Please click the link below to request permission to email me"
    r"request permission to e-?mail me|"
    r"(?:uses|is using|protected by) (?:boxbe|spam ?arrest|bluebottle|mailblocks|choicemail)"
)
LIST_GONE = re.compile(r"post script, list not found")

# A mailing list holding our post for its moderators, or asking us to confirm it: nothing
# has failed, and it may yet go out (Mailman, Sympa, Majordomo 2, mlmmj, LISTSERV, ezmlm).
HELD = re.compile(
    r"is being held until the list moderator can review it|"
    r"has been forwarded to the (?:moderator|list maintainer)|"
    r"requires the approval of the moderators|has been queued for approval|"
    r"configured to request positive confirmation of messages|"
    r"every sender must confirm its own posts|"
    r"has been postponed because the \S+ list is held|"
    # a gateway's quarantine digest (Mimecast's), which the reader may release
    r"following message is being held for review|"
    # Mailman's English subject, and its Persian and Arabic: "held until the list moderator
    # can review and approve it", "awaits the moderator's approval" (its subjects); then the
    # same notice (postheld.txt) in the other languages Mailman 2 ships
    + "|".join(
        re.escape(fold(words))
        for words in [
            "awaits moderator approval",
            "تا زمانی که میان\u200cدار فهرست بتواند آن را بررسی",
            "در انتظار تایید میان\u200cدار",
            "تنتظر موافقة المنظم",
            "a szerkesztő jóváhagyásáig nem kerül megjelenésre",
            "até que o moderador da lista a aprove",
            "até que o moderador da lista revise-a",
            "bus pranešta apie prižiūrėtojo sprendimą",
            "den holdes foreløbigt tilbage, indtil moderator har læst",
            "den holdes foreløpig igjen inntil moderatoren kan lese",
            "edastati listi moderaatorile läbivaatuseks",
            "es retenite usque le moderator del lista",
            "es retindrà fins que el moderador de la llista",
            "est en attente jusqu'à ce que le modérateur",
            "estas retenata ĝis la moderiganto de la listo",
            "foi retida para agardar a revisión",
            "hålls tills vidare tillbaka tills moderatorn",
            "n'espera de que'l llendador de la llista",
            "odottaa listan ylläpitäjän tarkastusta ja hyväksyntää",
            "onaylaması için bekletiliyor",
            "pro její distribuci je nutný souhlas moderátora",
            "până când moderatorul listei îl va revizui",
            "retenido en espera de que el moderador",
            "wird zurückgehalten, bis der listenmoderator ihre e-mail genehmigt",
            "wordt tegengehouden totdat de lijst moderator",
            "zadrzan je dok ga moderator liste ne pregleda",
            "zerrenda moderatzaileak oanrpena emateko hizoztua izan da",
            "została wstrzymana do dalszej",
            "è stato trattenuto in attesa che il moderatore",
            "čaka na odobritev moderatorja seznama",
            "κρατείται μέχρι να το εξετάσει ο μεσολαβητής",
            "было задержано для рассмотрения модератором списка рассылки",
            "チェックのために投稿が保留されました",
            "邮件被扣留，直到通过列表维护者检查",
            "리스트 관리자의 승인을 얻기 위해 대기중입니다",
        ]
    )
)
DELIVERED = re.compile(
    r"your message has been delivered to the following recipients|"
    r"delivery to these recipients or groups is complete|"
    # OpenSMTPD's older notices of success
    r"your message was (?:successfully delivered|relayed) to these recipients|"
    r"your message\b.{0,400}? was (?:read|deleted without being read) on |"
    # Postfix's success notice (bounce.cf's success_template) and Sendmail's return receipt,
    # read in their words where the status part did not come with them
    r"your message was successfully delivered to the destination|"
    r"the following addresses had successful delivery notifications"
)
# A ticket system's receipt ("Your request SUP-12 has been received", "a ticket has been
# created"): the help desk's mailbox took our mail and answered by itself.
TICKET_RECEIPT = re.compile(
    r"\byour (?:support )?(?:request|ticket|case)\b[^.\n]{0,30}? has been "
    r"(?:received|created|opened|logged)|"
    r"\ba (?:support )?ticket (?:has been|was) (?:created|opened)\b|"
    r"\bwe(?: have|'ve)? received your (?:request|ticket|enquiry|inquiry)\b"
)


def no_failure(msg: Message, background: Background) -> str | None:
    """The reason of a machine's message that names a reader but reports no failure."""
    if msg.get_param("report-type", "").lower() == "disposition-notification":
        return "delivered"
    if background.challenge or TICKET_RECEIPT.search(background.folded):
        return "auto_reply"
    return "delivered" if DELIVERED.search(background.folded) else None


# RFC 7489's subject of a DMARC aggregate report, which a postmaster sends about our domain's
# mail as a whole ("Report Domain: example.org Submitter: mx.example.net Report-ID: ...").
DMARC_AGGREGATE = re.compile(r"(?i)^\s*report domain:\s*\S+\s+submitter:")


def without_recipient(msg: Message, subject: str, context: str) -> str:
    """The reason of a message that names no failed recipient."""
    if is_auto_reply(msg, subject):
        return "auto_reply"
    if DMARC_AGGREGATE.match(subject):
        return "not_a_bounce"
    # A bounce a person forwarded or answered is theirs, not a server's.
    passed_on = SUBJECT_PREFIXES.match(subject)
    if from_daemon(msg) or (bounce_subject(subject) and not passed_on):
        # A host's autoresponder may write as its mail server ("Auto-Reply: ..." from
        # MAILER-DAEMON): with no failure in its words, the subject says what it is.
        away = auto_reply_subject(subject) and not bounce_subject(subject)
        return phrases.reason_for_text(fold(context)) or ("auto_reply" if away else "unknown")
    return "not_a_bounce"


# The refusing server as a plain-text bounce names it: Postfix's "host mx.example.net[ip]
# said:", Exim's "host mx.example.net [ip]", Sendmail's "while talking to mx.example.net.:".
NAMED_HOST = re.compile(
    r"(?:\bhost|while talking to)\s+([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)\.?\s*(?:\[|said\b|:)"
)


def _hosts(evidence: Evidence) -> tuple[str, ...]:
    """The recipient's provider, or the one whose server refused it: Yahoo's servers take
    AT&T's and Verizon's mail, Microsoft's many companies'."""
    named = NAMED_HOST.search(evidence.diagnostic[:300].lower())
    return (
        evidence.address.rpartition("@")[2].lower(),
        evidence.remote,
        named.group(1) if named else "",
    )
