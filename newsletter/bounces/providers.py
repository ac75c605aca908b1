"""Big providers' own words and codes: what a reply means when a given provider's server
wrote it (Gmail's, Microsoft's, Yahoo's, Apple's, Mimecast's tables...), per remote host or
recipient domain."""

from __future__ import annotations

import re

from newsletter.bounces.phrases import GAP

# Providers: (regex on the remote host or the recipient domain, [(regex, reason), ...]).
# Within a provider, first match wins. Generic words carry their status code in the
# pattern, as Sisimai only trusts them together with the code.
_S = r"\b"  # status codes are matched as words
_E = re.escape


def _coded(template: str, table: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A provider's table of codes as rules: each row's codes (an alternation) in `template`."""
    return [(template.format(codes), reason) for codes, reason in table]


_PROVIDERS: list[tuple[str, list[tuple[str, str]]]] = [
    (  # Google, Gmail, Workspace
        r"(?:^|\.)(?:google\.com|gmail\.com|googlemail\.com)$",
        [
            (
                _E("the spf record of the sending domain has one or more suspicious entries"),
                "auth_failure",
            ),
            (
                _E("gmail requires all senders to authenticate with either spf or dkim"),
                "auth_failure",
            ),
            (_E("fails to pass spf checks for an spf record with a hard fail"), "auth_failure"),
            (_E("has an spf record with a hard fail policy"), "auth_failure"),
            (_E("is not accepted due to domain's dmarc policy"), "auth_failure"),
            (_E("fails to pass authentication checks"), "auth_failure"),
            (
                r"gmail requires all (?:large|bulk email) senders to authenticate "
                r"(?:with|their email with) (?:spf|dkim)",
                "auth_failure",
            ),
            (_E("suspicious due to the very low reputation of the sending"), "bad_reputation"),
            (
                _E(
                    "this message is suspicious due to the nature of the content or the links "
                    "within"
                ),
                "spam",
            ),
            (_E("this message is likely unsolicited mail"), "spam"),
            (_E("messages missing a valid address in the from: header"), "not_compliant"),
            (
                _E("messages with multiple addresses in from: header are not accepted"),
                "not_compliant",
            ),
            (_E("this message is not rfc 5322 compliant"), "not_compliant"),
            (_E("messages missing a valid message-id: header are not accepted"), "not_compliant"),
            (
                _E("the message contains a unicode character in a disallowed header"),
                "not_compliant",
            ),
            (_E("encoded-word syntax is not permitted in message header"), "not_compliant"),
            (_S + r"5\.1\.7" + GAP + _E("is not a valid rfc 5321 address"), "not_compliant"),
            (_E("mail message is malformed. not accepted"), "not_compliant"),
            (
                _E(
                    "does not meet ipv6 sending guidelines regarding ptr records and authentication"
                ),
                "require_ptr",
            ),
            (_E("the ip address sending this message does not have a ptr record"), "require_ptr"),
            (_E("have a ptr record, or the ptr record"), "require_ptr"),
            (_E("the sending ip does not match the ip address of the hostname"), "require_ptr"),
            (
                r"the email account that you tried to reach is (?:disabled|inactive)",
                "mailbox_disabled",
            ),
            (_E("the email account that you tried to reach does not exist"), "user_unknown"),
            (_S + r"5\.1\.3" + GAP + _E("is not a valid rfc 5321 address"), "user_unknown"),
            (
                _E("we weren't able to find the recipient domain"),
                "host_unknown",
            ),  # Sisimai: userunknown
            (_E("inbox is out of storage space"), "mailbox_full"),
            (_E("the email account that you tried to reach is over quota"), "mailbox_full"),
            (_E("email quota exceeded"), "mailbox_full"),
            (
                r"exceeds? google's (?:message size limit|message header size limit|limit "
                r"of|header name limit)",
                "too_large",
            ),
            (r"exceeded google's message (?:header )?size limits", "too_large"),
            (_E("bytes per individual header size"), "too_large"),
            (_E("detected an illegal attachment on your message"), "policy"),
            (
                _E(
                    "this message was blocked because its content presents a potential "
                    "security issue"
                ),
                "policy",
            ),
            (_E("has a policy that prohibited the mail that you sent"), "policy"),
            (_E("exceeded its quota for sending messages with the same message-id"), "policy"),
            (_E("mail sending denied"), "sender_rejected"),
            (_E("unauthenticated email is not accepted from this domain"), "sender_rejected"),
            (_E("ip not in whitelist for rcpt domain"), "blocked"),
            (_E("try again later, closing connection"), "blocked"),
            (r"(?:empty helo/ehlo argument not allowed|helo/ehlo argument is invalid)", "blocked"),
            # 4.7.28 "... has been temporarily rate limited"; 5.7.1 "... has been blocked"
            (
                r"unusual rate of unsolicited mail" + GAP + "temporarily rate limited",
                "rate_limited",
            ),
            (_E("an unusual rate of unsolicited mail"), "blocked"),
            # the reader's mailbox, from everyone (its ReceivingRate page), not our rate
            (
                r"is receiving mail (?:too quickly|at a rate that prevents additional messages)",
                "receiving_too_fast",
            ),
            (_E("peak smtp relay limit exceeded"), "rate_limited"),
            (
                r"daily (?:sending quota|user sending limit|smtp relay (?:sending )?limit) "
                r"exceeded",
                "rate_limited",
            ),
            (_E("this mail has been rate limited"), "rate_limited"),
            (_E("your message has too many recipients"), "too_many_connections"),
            (_E("too many recipients for this sender"), "too_many_connections"),
            (_E("mail relay denied"), "no_relaying"),
            (_E("invalid credentials for relay"), "no_relaying"),
            (
                _E(
                    "the ip you're using to send mail is not authorized to send email "
                    "directly to our servers"
                ),
                "no_relaying",
            ),
            (_E("tls required for rcpt domain"), "security_error"),
            (_E("too many login attempts"), "security_error"),
            (_E("no identity changes permitted"), "security_error"),
            (_S + r"5\.[57]\.[01] authentication required", "security_error"),
            (_E("application-specific password required"), "security_error"),
            (r"please log in (?:with|through) your web browser", "security_error"),
            (_E("username and password not accepted"), "security_error"),
            (_E("gmail requires all large senders to use tls/ssl during smtp"), "security_error"),
            (_E("this may indicate a mail loop"), "network_error"),
            (_S + r"4\.7\.0 connection expired", "expired"),
            (_E("timeout - closing connection"), "expired"),
            (_E("smtp protocol violation"), "syntax_error"),
            (_E("optional argument not permitted for that auth mode"), "syntax_error"),
            (_E("starttls may not be repeated"), "syntax_error"),
            (_S + r"5\.(?:5\.2|7\.11) syntax error", "syntax_error"),
            (
                r"too many unrecognized commands|unimplemented command|unrecognized command",
                "syntax_error",
            ),
            (
                r"bad sequence of commands|ehlo/helo first|5\.5\.1 (?:mail|rcpt) first|no "
                r"data after bdat",
                "syntax_error",
            ),
            (r"unrecognized authentication type|xoauth is no longer supported", "syntax_error"),
            (
                r"must issue a starttls command first|too many unauthenticated commands",
                "syntax_error",
            ),
            (_E("cannot authenticate due to temporary system problem"), "system_error"),
            (_E("temporary system problem"), "system_error"),
            (_S + r"4\.4\.5 server busy", "system_error"),
            (_E("multiple destination domains per transaction is unsupported"), "system_error"),
            (r"mail server (?:has )?temporarily rejected (?:this )?message", "system_error"),
            (_E("domain policy size per transaction exceeded"), "system_error"),
        ],
    ),
    (  # Microsoft: Exchange Online, Outlook.com, Hotmail
        r"(?:^|\.)(?:outlook\.com|hotmail\.[a-z.]+|live\.[a-z.]+|msn\.com|office365\.com)$",
        [
            # Outlook.com's and Hotmail's codes for our IP: SC (spam), DY (dynamic), OU
            (r"\b(?:sc-00[1-5]|dy-00[12])\b", "blocked"),
            (r"\bou-00[12]\b", "policy"),
            (_E("recipient thread limit exceeded"), "rate_limited"),
            (_E("you've reached your daily limit for message recipients"), "rate_limited"),
            (_E("submission quota exceeded"), "rate_limited"),
            (_E("recipient's per hour message receive limit"), "rate_limited"),
            (_E("has exceeded permitted limits within"), "rate_limited"),
            (
                r"access denied, (?:tenant has exceeded threshold|traffic not accepted from "
                r"this ip)",
                "rate_limited",
            ),
            (_E("the recipient has exceeded their limit for"), "too_many_connections"),
            (_S + r"[45]\.5\.3" + GAP + "too many recipients", "too_many_connections"),
            (_E("has been temporarily rate limited due to ip reputation"), "bad_reputation"),
            (
                _E("must pass either spf or dkim validation, this message is not signed"),
                "auth_failure",
            ),
            (_E("the domain failed dane validation"), "auth_failure"),
            (_E("destination domain returned invalid dnssec records"), "auth_failure"),
            (
                _E(
                    "remote certificate must have a common name or subject alternative name "
                    "matching the hostname"
                ),
                "auth_failure",
            ),
            (
                _E("the message was rejected because of sender policy framework violation"),
                "auth_failure",
            ),
            (_E("destination mail server's certificate is expired"), "auth_failure"),
            (_E("does not pass dmarc verification"), "auth_failure"),
            (_E("does not meet the required authentication level"), "auth_failure"),
            (
                _S + r"5\.7\.50[1-3]" + GAP + r"(?:banned sender|spam abuse detected)",
                "sender_rejected",
            ),
            (_E("access denied, spam abuse detected"), "sender_rejected"),
            (_E("access denied, bad outbound sender"), "sender_rejected"),
            (
                _S + r"5\.1\.7" + GAP + r"(?:invalid address|unknown sender address)",
                "sender_rejected",
            ),
            (_S + r"5\.1\.0" + GAP + "sender denied", "sender_rejected"),
            (_E("sender was not authenticated by organization"), "sender_rejected"),
            (_E("sender not in allowed-senders list"), "sender_rejected"),
            (_E("sender not authenticated for group"), "sender_rejected"),
            (r"sender was not authenticated for (?:mailbox|public folder)", "sender_rejected"),
            (_S + r"5\.7\.136" + GAP + "sender was not authenticated", "sender_rejected"),
            (
                _E("access denied, message must be rfc 5322 section 3.6.2 compliant"),
                "sender_rejected",
            ),
            (_E("client blocked from sending from unregistered domains"), "sender_rejected"),
            (_S + r"5\.7\.9\d\d" + GAP + _E("delivery not authorized, message refused"), "policy"),
            (_S + r"5\.7\.1\b" + GAP + "delivery not authorized", "sender_rejected"),
            (_E("x-dg-ref header is too long"), "policy"),
            (_E("policy violation detected (as345)"), "policy"),
            (_E("access denied, banned recipient"), "mailbox_disabled"),
            (
                _S + r"5\.7\.504" + GAP + _E("recipient address rejected: access denied"),
                "mailbox_disabled",
            ),
            (_S + r"5\.2\.1" + GAP + "mailbox cannot be accessed", "mailbox_disabled"),
            (_E("resolver.adr.exrecipnotfound"), "user_unknown"),
            (_E("resolver.adr.recipientnotfound"), "user_unknown"),
            (
                _S + r"5\.1\.1" + GAP + r"(?:user unknown|bad destination mailbox address)",
                "user_unknown",
            ),
            (_E("storedrv.submit; invalid recipient address"), "user_unknown"),
            (_E("recipient address reserved by rfc 2606"), "user_unknown"),
            (_E("recipient addresses in single label domains not accepted"), "user_unknown"),
            (_S + r"5\.1\.10" + GAP + "recipient not found", "user_unknown"),
            (
                # edge blocking; at DATA: "All recipient addresses rejected : Access denied"
                _S + r"5\.4\.1" + GAP + r"recipient address(?:es)? rejected ?: access denied",
                "user_unknown",
            ),
            (
                _S + r"5\.5\.0" + GAP + "requested action not taken: mailbox unavailable",
                "user_unknown",
            ),
            (_E("invalid x.400 address"), "user_unknown"),
            (_E("access denied, banned sending ip"), "blocked"),
            (_E("using customer block list"), "blocked"),
            (_E("access denied, bad helo"), "blocked"),
            (_E("access denied, rejected by recipient"), "blocked"),
            (_E("does not accept email over ipv6"), "blocked"),
            (_S + r"5\.7\.511" + GAP + "banned sender", "blocked"),
            (_E("must have a reverse dns record"), "blocked"),  # Sisimai: blocked (5.7.25)
            (_E("access denied, please try again later"), "blocked"),
            (_E("restrictdomainstoipaddresses or restrictdomainstocertificate"), "blocked"),
            (_E("part of their network is on our block list"), "blocked"),
            (_S + r"5\.5\.4" + GAP + "invalid domain name", "blocked"),
            (_S + r"4\.4\.2" + GAP + "connection dropped", "blocked"),
            (_S + r"5\.3\.0" + GAP + "too many related errors", "content_error"),
            (_S + r"5\.6\.11" + GAP + "invalid characters", "content_error"),
            (_E("agent generated message depth exceeded"), "content_error"),
            (_S + r"5\.5\.6" + GAP + "invalid message content", "content_error"),
            (_E("resolver.rst.recipsizelimit"), "too_large"),
            (_E("message size exceeds fixed maximum message size"), "too_large"),
            (_E("message too big for system"), "too_large"),
            (_E("queue expired; message expired"), "expired"),
            (_S + r"(?:4\.4\.7|5\.4\.300)" + GAP + r"message (?:expired|delayed)", "expired"),
            (_S + r"4\.4\.1" + GAP + "connection timed out", "expired"),
            (_E("smtpsend.dns.nonexistentdomain"), "network_error"),  # Sisimai: networkerror
            (_E("hop count exceeded - possible mail loop"), "network_error"),
            (_S + r"4\.4\.316" + GAP + "connection refused", "network_error"),
            (_S + r"5\.4\.4" + GAP + "invalid arguments", "network_error"),
            (_E("routing loop detected"), "network_error"),
            (
                _E("client was not authenticated to send anonymous mail during mail from"),
                "security_error",
            ),
            (_E("tenantattribution; relay access denied"), "no_relaying"),
            (_S + r"5\.4\.1" + GAP + "relay access denied", "no_relaying"),
            (
                _S + r"5\.7\.1\b" + GAP + r"(?:unable to relay|client was not authenticated)",
                "no_relaying",
            ),
            (_S + r"5\.4\.310" + GAP + "does not exist", "no_relaying"),
            (_E("cannot achieve exchange server authentication"), "security_error"),
            (_S + r"5\.7\.3\b" + GAP + "not authorized", "security_error"),
            (_E("starttls is required to send mail"), "security_error"),
            (_E("destination mail server must support tls to receive mail"), "security_error"),
            (_E("content filter agent quarantined this message"), "spam"),
            (_S + r"5\.3\.3" + GAP + "unrecognized command", "syntax_error"),
            (_S + r"5\.5\.2" + GAP + "send hello first", "syntax_error"),
            (_S + r"4\.3\.1" + GAP + "insufficient system resources", "system_full"),
            (_S + r"4\.3\.2" + GAP + r"service not (?:available|active)", "system_error"),
            (_S + r"5\.3\.5" + GAP + "system incorrectly configured", "system_error"),
            (
                _E("journaling on-premises messages to microsoft 365 or office 365 not supported"),
                "system_error",
            ),
            (_E("helo / ehlo requires domain address"), "system_error"),
            (_E("destination mailbox address ambiguous"), "system_error"),
            (_E("mailing list expansion problem"), "system_error"),
            (_E("misconfigured forwarding address"), "system_error"),
            (_E("temporary server error. please try again later"), "system_error"),
            (_E("message failed to be replicated"), "system_error"),
            (_E("(suspiciousremoteservererror)"), "system_error"),
            # 4.7.500-699: our IP throttled or greylisted for its volume (Microsoft's NDR page)
            (_E("server busy. please try again later from"), "blocked"),
            (_E("pfa agent busy, please try again"), "system_error"),
        ],
    ),
    (  # Yahoo, AOL (*.yahoodns.net)
        r"(?:^|\.)(?:yahoodns\.net|yahoo\.[a-z.]+|ymail\.com|rocketmail\.com|aol\.[a-z.]+|aim\.com)$",
        [
            (
                _E("yahoo requires all senders to authenticate with either spf or dkim"),
                "auth_failure",
            ),
            (
                r"\[tss04\]|temporarily deferred due to unexpected volume or user complaints",
                "rate_limited",
            ),
            (_E("user is receiving mail too quickly"), "receiving_too_fast"),
            # AOL's older codes (postmaster.info.aol.com/errors/554rlyb1.html and the like)
            (r"\b(?:rly:(?:b[1-3]|bl|ch|ir|nw)|rtr:bb)\b", "blocked"),
            (r"\brly:bd\b", "filtered"),  # the message's content blocked
            (r"\bdyn:t1\b", "rate_limited"),
            (r"\bdns:nr\b", "require_ptr"),
            (r"\bhvu:b1\b", "spam"),
            (r"temporarily deferred - 4\.16\.5\d", "blocked"),  # Yahoo's older deferrals
            (_E(" because the ip is in spamhaus's list"), "blocked"),
            (_E("not accepted from ip addresses on spamhaus xbl"), "blocked"),
            (_E("relaying denied for "), "no_relaying"),
            (_E("headers are not rfc compliant"), "not_compliant"),
            (r"\[ph01\]|not accepted for policy reasons", "policy"),
            (_E(" will be permanently deferred"), "sender_rejected"),
            (_E(" is no longer valid."), "mailbox_disabled"),
            (_E("this mailbox is disabled"), "mailbox_disabled"),
            (_E("syntax error in parameters or arguments"), "syntax_error"),
            (_E("max message per connection reached"), "too_many_connections"),
            # its help page's dead addresses, answered after DATA too
            (
                r"\bdd (?:this user doesn't have a |requested mailbox is not valid|"
                r"not a valid recipient)",
                "user_unknown",
            ),
            (_E("mailbox not found"), "user_unknown"),
        ],
    ),
    (  # Apple iCloud, and Hide My Email's relay (privaterelay.appleid.com)
        r"(?:^|\.)(?:icloud\.com|me\.com|mac\.com|apple\.com|appleid\.com)$",
        [
            # a Hide My Email address its owner turned off: Apple returns mail to it to the
            # sender (its support page), as "550 5.7.1 Relay not permitted for user."
            (_E("relay not permitted"), "user_unknown"),
            (_E("'s dmarc policy"), "auth_failure"),
            (r"blocked for failing both spf and dkim auth?entication checks", "auth_failure"),
            (_E("rejected due to having a domain present in the spamhaus"), "blocked"),
            (_E("rejected due to listing in spamhaus"), "blocked"),
            (_E("blocked - see https://support.proofpoint.com/dnsbl-lookup"), "blocked"),
            (_E("not accepting connections"), "blocked"),
            (_E("recipient no longer on server"), "has_moved"),
            (_E("user is over quota"), "mailbox_full"),
            (_E("relay access denied"), "no_relaying"),
            (_E("host/domain does not accept mail"), "no_mail_accepted"),
            (_E("due to local policy"), "policy"),
            (_E("sender address rejected"), "sender_rejected"),
            (_E("due to excessive volume"), "rate_limited"),
            (
                r"inactive email address|user does not exist|unknown or illegal alias",
                "user_unknown",
            ),
        ],
    ),
    (  # Cox: AUP# codes, then words
        r"(?:^|\.)cox\.(?:net|com)$",
        [
            (r"aup#(?:cxbl|cdrbl|ipbl\d+)\b", "blocked"),
            (r"aup#cxdns\b", "require_ptr"),
            (r"aup#cxsndr\b", "auth_failure"),
            (r"aup#cxsmtp\b", "sender_rejected"),
            (r"aup#(?:cxcnct|cxmxrt)\b", "too_many_connections"),
            (r"aup#(?:cxthrt|cxmj)\b", "security_error"),
            (r"aup#urlbl\d+\b", "spam"),
            (r"cox too many bad commands from|too many invalid recipients", "blocked"),
            (r"dns check failure - try again later|rejected - no rdns", "require_ptr"),
            (r"esmtp no data before greeting|attachment extension is forbidden", "policy"),
            (_E("sender rejected"), "sender_rejected"),
            (_E("esmtp server temporarily not available"), "system_error"),
            (
                r"too many sessions from|requested action aborted: try again later|message "
                r"threshold exceeded",
                "too_many_connections",
            ),
            (_E("recipient rejected"), "user_unknown"),
        ],
    ),
    (  # Orange, Wanadoo, La Poste: LPN/OFR/OUK codes, the last three digits
        r"(?:^|\.)(?:orange\.fr|wanadoo\.fr|laposte\.net)$",
        [
            *(
                (r"\b(?:lpnaaa|lpn|ofr|ouk)(?:_|\d{3}[-_])" + code + r"\b", reason)
                for code, reason in {
                    "101": "blocked",
                    "102": "blocked",
                    "103": "blocked",
                    "104": "too_many_connections",
                    "105": "blocked",
                    # "Service refused, please try later", "Veuillez essayer plus tard": our
                    # connection refused, however the code goes on
                    "107": "blocked",
                    "108": "blocked",
                    "109": "blocked",
                    "201": "blocked",
                    "305": "security_error",
                    "401": "auth_failure",  # SPF: not allowed to send
                    "402": "security_error",
                    "403": "sender_rejected",
                    "405": "sender_rejected",
                    "415": "sender_rejected",
                    "416": "user_unknown",
                    "417": "mailbox_full",
                    "418": "user_unknown",
                    "420": "mailbox_disabled",
                    "421": "sender_rejected",
                    "423": "blocked",
                    "424": "blocked",
                    "426": "mailbox_disabled",
                    "505": "system_error",
                    "506": "spam",
                    "510": "blocked",
                    "513": "filtered",  # "Mail rejete. Mail rejected."
                    "514": "too_large",
                    "517": "policy",  # DMARC verification failed
                    "630": "policy",
                    "999": "blocked",
                }.items()
            )
        ],
    ),
    (  # GoDaddy (secureserver.net): IBnnn codes, then words
        r"(?:^|\.)secureserver\.net$",
        [
            *(
                (r"\b" + code + r"\b", reason)
                for code, reason in {
                    "ib401": "security_error",
                    "ib501": "not_compliant",
                    "ib502": "not_compliant",
                    "ib506": "sender_rejected",
                    "ib508": "auth_failure",
                    "ib108": "require_ptr",
                    "ib212": "spam",
                    "ib705": "virus",
                    "ib605": "too_many_connections",
                    "ib007": "too_many_connections",
                    "ib101": "rate_limited",
                    "ib110": "blocked",
                    "ib111": "blocked",
                    "ib112": "blocked",
                    "ib113": "blocked",
                    "ib504": "rate_limited",
                    "ib510": "rate_limited",
                    "ib607": "rate_limited",
                    "ib103": "bad_reputation",
                    "ib104": "blocked",
                    "ib105": "blocked",
                    "ib106": "blocked",
                }.items()
            ),
            (r"rbl reject|www\.spamhaus\.org/query/bl\?ip=", "blocked"),
            (r"has been in the queue too long|delivery timeout", "expired"),
            (_E("account storage limit"), "mailbox_full"),
            (_E("message rejected for spam or virus content"), "spam"),
            (_E("account disabled"), "mailbox_disabled"),
            (_E("message is looping"), "system_error"),
            (r"recipient not found|account does not exist", "user_unknown"),
        ],
    ),
    (  # Mimecast
        r"(?:^|\.)mimecast(?:-offshore)?\.com$",
        [
            (r"(?:spf|dkim|dmarc) sender invalid - envelope rejected", "auth_failure"),
            (r"internal resources? (?:is |are )?temporarily unavailable", "bad_reputation"),
            (_E("local ct ip reputation - (reject)"), "bad_reputation"),
            (_E("poor reputation sender"), "bad_reputation"),
            (
                r"sender address blocked|recipient temporarily unavailable|ip temporarily "
                r"blacklisted",
                "blocked",
            ),
            (r"journal messages? past (?:the )?expiration", "expired"),
            (_E("maximum email size exceeded"), "too_large"),
            (_E("the incorrect hostname used for inbounds"), "network_error"),
            (_E("mail loop detected"), "network_error"),
            (r"open relay (?:is )?not allowed", "no_relaying"),
            (_E("account inbounds disabled"), "no_mail_accepted"),
            (r"account outbounds disabled|hostname is not authorized", "on_hold"),
            (
                r"anti-spoofing policy - inbound not allowed|rejected by header-based "
                r"anti-spoofing policy",
                "policy",
            ),
            (_E("message bounced due to content examination policy"), "policy"),
            (r"host network,? not allowed", "policy"),
            (
                r"administrative prohibition envelope blocked|envelope blocked - user "
                r"(?:domain )?entry",
                "sender_rejected",
            ),
            (
                r"rejected by header-based (?:manually )?blocked senders|envelope rejected - "
                r"block policy for envelope from",
                "sender_rejected",
            ),
            (
                r"incorrect authentication data|submitter failed to (?:disabled|authenticate)",
                "security_error",
            ),
            (
                r"this route requires (?:encryption \(tls\)|tls version 1\.2 or "
                r"greater|high-strength ciphers)",
                "security_error",
            ),
            (_E("configuration is invalid for this certificate"), "security_error"),
            (
                r"unable to process (?:connection at this time|command|an email at this "
                r"time)|message ended early",
                "system_error",
            ),
            (_E("account service is temporarily unavailable"), "too_many_connections"),
            (r"too many recipients|exceeding outbound thread limit", "too_many_connections"),
            # Its table: "503 User unknown" is a bad sequence of commands or a missing login
            (r"\b503 user unknown", "security_error"),
            (r"invalid address|user unknown|invalid recipient", "user_unknown"),
            (_E("email rejected due to security policies"), "virus"),
        ],
    ),
    (  # Tencent QQ
        r"(?:^|\.)(?:qq\.com|foxmail\.com)$",
        [
            (r"spf check failed|dmarc check failed", "auth_failure"),
            (r"suspected bounce attacks|suspected spam ip|connection denied", "blocked"),
            (_E("message too large"), "too_large"),
            (r"spam is embedded in the email|mail content denied", "spam"),
            (r"suspected spam|mail is rejected by recipients", "sender_rejected"),
            # Tencent's help: the sending domain may not exist, or its DNS check failed.
            (_E("domain may not exist or dns check failed"), "sender_rejected"),
            # Its help page's 122/166: sending too often. Sisimai quotes it as "denined".
            (r"mailbox unavailable or access deni(?:n)?ed", "rate_limited"),
            (_E("is a deactivated mailbox"), "mailbox_disabled"),
            (_E("bad address syntax"), "syntax_error"),
            (r"(?:ip|domain|sender|connection) frequency limited", "too_many_connections"),
            (_E("mailbox not found"), "user_unknown"),
        ],
    ),
    (  # au (KDDI)
        r"(?:^|\.)(?:au\.com|ezweb\.ne\.jp)$",
        [
            # A reporting MTA may add its own colon after the code: "550: : User unknown".
            (r"550:? : user unknown", "filtered"),
            (_E(">: user unknown"), "user_unknown"),
        ],
    ),
    (  # NTT docomo
        r"(?:^|\.)docomo\.ne\.jp$",
        [
            (_E("552 too much mail data"), "mailbox_full"),
            (_E("552 too many recipients"), "too_many_connections"),
            (r"503 bad sequence of commands|504 command parameter not implemented", "syntax_error"),
            (_S + r"5\.2\.0\b", "filtered"),
            # "550 Unknown user" is also how docomo refuses a sender its reader filters:
            # only its RCPT TO answer, x.1.1, is about the address (the general rules).
            (_S + r"5\.1\.1\b", "user_unknown"),
        ],
    ),
    (  # Spectrum, Charter: AUP#[IO]nnnn
        r"(?:^|\.)(?:charter\.net|spectrum\.net|rr\.com)$",
        _coded(
            r"aup#[-a-z]*(?:{})\b",
            [
                ("1000", "blocked"),
                ("1010|10[2-7]\\d|1080", "sender_rejected"),
                ("1090", "system_error"),
                ("110\\d|11[1-4]\\d|1150", "require_ptr"),
                ("11[6-8]\\d|1190", "policy"),
                ("120\\d|1210|12[2-4]\\d|1250", "blocked"),
                ("1260", "network_error"),
                ("13[0-3]\\d|1340", "too_many_connections"),
                ("13[5-9]\\d|14[0-8]\\d|1490|1540|1550|1580", "rate_limited"),
                ("1500|1520", "sender_rejected"),
                ("1530", "too_large"),
                ("1560", "policy"),
            ],
        ),
    ),
    (  # Yandex (and Yandex 360's own domains, at mx.yandex.net)
        r"(?:^|\.)(?:yandex\.[a-z.]+|ya\.ru|narod\.ru)$",
        [
            # Its answer to RCPT TO for a dead address carries a policy status (5.7.1):
            # the words decide, a DSN without the command included.
            (r"\bno such user!", "user_unknown"),
            # Its answer to DATA when no RCPT TO was taken, whatever refused them; under a
            # dead address's status, its help page's dead address
            (_S + r"5\.1\.1\b" + GAP + _E("no correct recipients"), "user_unknown"),
            (_E("no correct recipients"), "unknown"),
            # The reader's account blocked for breaking Yandex's terms (its help says so).
            (_E("policy rejection on the target address"), "mailbox_disabled"),
            (_E("blocked by spam statistics"), "spam"),
        ],
    ),
    (  # NetEase (163.com, 126.com, yeah.net): codes of its help page, "XX:YYY"
        r"(?:^|\.)(?:163\.com|126\.com|yeah\.net|188\.com|netease\.com)$",
        _coded(
            r"\b(?:{})\b",
            [
                ("dt:spm", "spam"),
                ("dt:sum|mi:imf", "not_compliant"),
                ("dt:rbl|ip:rbl|ip:bl|wm:bl[iu]|hl:(?:rep|mep|ihu|ipb)", "blocked"),
                ("hl:icc", "too_many_connections"),
                ("hl:ifc|mi:(?:dmc|sfq|stc)|rp:(?:drc|trc|rcl)", "rate_limited"),
                ("(?:mi|rp):c[ec]l", "syntax_error"),
                ("mi:(?:spf|dma)", "auth_failure"),
            ],
        ),
    ),
    (  # 263 (mx.263.net): its help page's replies; "mail size limit exceeded" is a
        # mailbox over its capacity (信箱超容), not our message too large
        r"(?:^|\.)263\.net$",
        [(_E("mail size limit exceeded"), "mailbox_full")],
    ),
    (  # Facebook: its postmaster page's response codes, "POL-P1" and the like
        r"(?:^|\.)facebook\.com$",
        _coded(
            r"\b(?:{})\b",
            [
                ("POL-P7", "auth_failure"),
                ("POL-P[1-4]|POL-T[1-3]", "blocked"),
                ("MSG-P2", "content_error"),
                ("RCP-P[23]", "filtered"),
                ("MSG-P1|INT-P2", "too_large"),
                ("MSG-P3", "not_compliant"),
                ("DNS-P[12]|DNS-T1", "sender_rejected"),
                ("DNS-P3|DNS-T2", "require_ptr"),
                ("POL-P6", "spam"),
                ("RCP-T4", "mailbox_disabled"),
                ("RCP-T1", "system_error"),
                ("CON-T[1-4]|MSG-T1", "too_many_connections"),
                ("RCP-P1|INT-P[134]", "user_unknown"),
                ("POL-P5", "virus"),
            ],
        ),
    ),
    (  # i.ua: https://mail.i.ua/err/N
        r"(?:^|\.)(?:i\.ua|email\.ua)$",
        _coded(
            r"\.i\.ua/err/(?:{})(?!\d)",
            [
                ("1|6", "no_relaying"),
                ("2", "user_unknown"),
                ("3", "mailbox_disabled"),
                ("4", "mailbox_full"),
                ("5", "too_many_connections"),
                ("7|9", "blocked"),
                ("8", "sender_rejected"),
                ("10", "filtered"),
            ],
        ),
    ),
]

_RULES: list[tuple[re.Pattern, list[tuple[re.Pattern, str]]]] = [
    (re.compile(domains, re.I), [(re.compile(rx, re.I), reason) for rx, reason in rules])
    for domains, rules in _PROVIDERS
]


def reason(hosts: tuple[str, ...], words: str) -> str | None:
    """The reason of the first provider whose domains one of the hosts is in, by its own
    rules for these words; None when no provider or none of its rules knows them."""
    for provider, rules in _RULES:
        if any(host and provider.search(host) for host in hosts):
            return next((found for pattern, found in rules if pattern.search(words)), None)
    return None
