"""Readers behind privacy relays and forwarders, and bounces in the reporting server's
language: each reply as the relay's source code or the server's documentation writes it
(SimpleLogin's and Proton Pass's status codes, Forward Email's and Fastmail's refusals, a
forwarding ISP's "has moved"; web.de's, Domino's, Coremail's and Orange's words).

An alias its owner deleted or turned off to look dead is a dead address; a relay refusing our
mail (spam, SPF, its block lists, TLS) never counts against the reader; a relay whose alias
is switched off keeps the reader as a disabled mailbox does.
"""

from __future__ import annotations

import pytest
from bounce_samples import (
    coremail,
    exim,
    exim_delay,
    lotus_notes,
    plain_notice,
    postfix,
    verdicts,
)

SIMPLELOGIN = "newsletter.x7k2@slmail.me"
FORWARDED = "reader@reader-domain.example"


# SimpleLogin's relay answers after DATA, from its own Postfix to its handler
# (app/email/status.py); Proton Pass's aliases are SimpleLogin's.
@pytest.mark.parametrize(
    ("said", "kind", "reason"),
    [
        ("550 SL E515 Email not exist", "hard", "user_unknown"),  # no such alias
        ("550 SL E502 Email not exist", "hard", "user_unknown"),  # turned off to look so
        ("550 SL E504 Account disabled", "soft", "mailbox_disabled"),
        ("550 SL E516 invalid mailbox", "soft", "mailbox_disabled"),  # not "user unknown"
        ("550 SL E517 unverified mailbox", "soft", "mailbox_disabled"),
        ("550 SL E518 Disabled mailbox", "soft", "mailbox_disabled"),
        ("550 SL E519 Email detected as spam", "sender", "spam"),
    ],
)
def test_simplelogin_s_coded_answers(said, kind, reason):
    raw = postfix(
        SIMPLELOGIN,
        "5.0.0",
        said,
        remote="127.0.0.1[127.0.0.1]",
        in_reply_to="end of DATA",
        host="mx1.simplelogin.co",
    )
    assert verdicts(raw) == [(SIMPLELOGIN, kind, reason)]


@pytest.mark.parametrize(
    ("status", "said", "kind", "reason"),
    [
        ("5.0.0", "550 Mailbox is disabled", "soft", "mailbox_disabled"),
        (
            "5.0.0",
            "550 The email sent has failed SPF validation and is rejected due to the domain's"
            " SPF hard fail policy",
            "sender",
            "auth_failure",
        ),
        (
            "4.0.0",
            "421 The IP 192.0.2.25 is denylisted by https://forwardemail.net ; To request"
            " removal, you must visit https://forwardemail.net/denylist?q=192.0.2.25 ;",
            "sender",
            "blocked",
        ),
        (
            "5.0.0",
            "550 Your IP address, client hostname, or From header was denylisted by admins of"
            " reader-domain.example",
            "sender",
            "blocked",
        ),
        (
            "5.0.0",
            "550 Your IP address, client hostname, or From header is not yet allowlisted by"
            " admins of reader-domain.example",
            "sender",
            "blocked",
        ),
        (
            "5.0.0",
            "530 Domain reader-domain.example requires TLS for inbound connections. Please use"
            " STARTTLS or connect to port 465.",
            "sender",
            "security_error",
        ),
        (
            "5.0.0",
            "554 Links were detected that may contain phishing and/or malware For more"
            " information on Spam Scanner visit https://spamscanner.net",
            "sender",
            "spam",
        ),
    ],
)
def test_forward_email_s_refusals(status, said, kind, reason):
    """Forward Email's SMTP server (helpers/*.js), given up on where it is a 421."""
    raw = postfix(
        FORWARDED,
        status,
        said,
        remote="mx1.forwardemail.net[138.197.213.185]",
        in_reply_to="end of DATA",
        action="failed" if said.startswith("4") else "",
    )
    assert verdicts(raw) == [(FORWARDED, kind, reason)]


def test_fastmail_s_locked_account_is_a_disabled_mailbox():
    address = "news.abc123@fastmail.com"
    said = (
        f"554 5.7.1 <{address}>: Recipient address rejected: Account locked for abuse or"
        " overuse; see https://www.fastmail.com/docs/locked.html"
    )
    raw = postfix(address, "5.7.1", said, remote="in1-smtp.messagingengine.com[103.168.172.1]")
    assert verdicts(raw) == [(address, "soft", "mailbox_disabled")]


@pytest.mark.parametrize(
    "words",
    [
        "Bill has moved to bill@newplace.example",
        "PLEASE RESEND YOUR EMAIL TO: bill@newplace.example",
    ],
)
def test_a_forwarder_s_owner_who_moved_on(words):
    """A forwarding ISP's alias set to fail with a new address (rahul.net's documentation)."""
    address = "bill@rahul.example"
    said = f"550 5.7.1 <{address}>: Recipient address rejected: {words}"
    raw = postfix(address, "5.7.1", said, remote="mail.rahul.example[192.0.2.80]")
    assert verdicts(raw) == [(address, "hard", "has_moved")]


def test_web_de_s_full_mailbox_in_german_and_english():
    address = "leserin@web.de"
    said = (
        "550 Benutzer hat das Speichervolumen ueberschritten. / User has exhausted allowed"
        " storage space."
    )
    raw = exim(address, said, host="mx-ha03.web.de [212.227.15.17]")
    assert verdicts(raw) == [(address, "soft", "mailbox_full")]


@pytest.mark.parametrize(
    "reason",
    [
        "Utilisateur Lecteur Exemple non répertorié dans l'annuaire Domino",
        "Usuario Lector Ejemplo no se encuentra en el Directorio de Domino",
    ],
)
def test_domino_s_directory_in_french_and_spanish(reason):
    """Domino looked the name up in its directory, as its English "not listed in Domino
    Directory" says (Sisimai's Domino module lists these editions' words)."""
    address = "lecteur@notes.exemple.fr"
    assert verdicts(lotus_notes(address, reason)) == [(address, "hard", "user_unknown")]


def test_coremail_could_not_reach_the_reader_s_server():
    address = "kuaipan@example.cn"
    raw = coremail(
        address,
        "您可能写了外星人的邮件地址；或者是网络不给力，我们无法与收信方联络上。",
        "Can not connect to example.cn:198.51.100.7:25",
    )
    assert verdicts(raw) == [(address, "soft", "network_error")]


def test_a_delay_warning_is_a_delay_whatever_the_provider_s_words():
    """Orange's 421 "too many connections", in Exim's warning that delivery goes on: nothing
    failed yet, though Orange's own table reads the code as a refusal of our mail."""
    address = "client11@orange.fr"
    said = (
        "421 mwinf5c79 ME Trop de connexions, veuillez verifier votre configuration. Too many"
        " connections, slow down. OFR005_104 [104]"
    )
    assert verdicts(exim_delay(address, said)) == [(address, "soft", "delayed")]


GMAIL = "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"
EXCHANGE = "Microsoft Outlook <postmaster@exchange.example.fr>"


@pytest.mark.parametrize(
    ("from_", "text", "kind"),
    [
        # Gmail's own "the address couldn't be found", as its English is read: it looked
        (
            GMAIL,
            "** Die Adresse wurde nicht gefunden **\n\nIhre Nachricht wurde nicht an {} zugestellt,"
            " weil die Adresse nicht gefunden wurde oder keine E-Mails empfangen kann.",
            "hard",
        ),
        (
            GMAIL,
            "** Adresse introuvable **\n\nVotre message n'a pas pu être envoyé à {}, car"
            " l'adresse est introuvable ou ne peut pas recevoir de messages.",
            "hard",
        ),
        # Exchange's "the email address you entered couldn't be found": words alone, as in
        # English, a soft failure of a dead address's reason
        (
            EXCHANGE,
            "Échec de la remise pour ces destinataires ou groupes :\n\n{}\nL'adresse de"
            " messagerie que vous avez entrée est introuvable.",
            "soft",
        ),
        (
            EXCHANGE,
            "Il recapito non è riuscito per i seguenti destinatari o gruppi:\n\n{}\nNon sono"
            " riuscito a trovare l'indirizzo e-mail che hai immesso.",
            "soft",
        ),
    ],
)
def test_a_dead_address_in_the_reporting_server_s_language(from_, text, kind):
    """A report of its words alone (a forwarded one, or one whose status part was lost)."""
    address = "leser.beispiel@example.de"
    raw = plain_notice(
        address, "Delivery Status Notification (Failure)", text.format(address), from_=from_
    )
    assert verdicts(raw) == [(address, kind, "user_unknown")]
