"""A reader whose address is a mailing list or a group: what list managers and group services
send back about our post, as their source and documentation write it (Mailman 2 and 3,
Sympa, ezmlm, Majordomo 2, mlmmj, LISTSERV, Zimbra, Google Groups, Exchange, Discourse).

A post held for the moderators has failed nothing yet; a list whose rules keep our post out
refuses our mail, which never counts against the reader; a list that is gone is a dead
address. A person forwarding our issue is no report at all.
"""

from __future__ import annotations

import pytest
from bounce_samples import classified, list_notice, original, postfix, verp

LIST = "gardeners@lists.example.net"

HELD = [
    # Mailman 2 and 3 (templates/en/postheld.txt; chains/hold.py)
    "Your mail to 'gardeners@lists.example.net' with the subject\n\n    This week: spring issue\n\n"
    "Is being held until the list moderator can review it for approval.\n\n"
    "The message is being held because:\n\n    The message is not from a list member\n\n"
    "Either the message will get posted to the list, or you will receive\n"
    "notification of the moderator's decision.",
    # Sympa, Majordomo 2, mlmmj
    "This is an automatic response sent by Sympa Mailing Lists Manager.\n"
    "Your message to the list 'gardeners' has been forwarded to the moderator(s)",
    "Your message to gardeners has been delayed, and requires the approval of the moderators,\n"
    "for the following reason(s):\n\nNon-Member Submission from news@example.org",
    "Hi, this is the mlmmj program managing the mailinglist\n\ngardeners@lists.example.net\n\n"
    "This list is configured to have moderated posts, the post has been queued for approval.",
    # LISTSERV's and ezmlm's confirmations: a challenge, as a person's filter sends
    "To cut down on spam, the GARDEN-L list has been configured to request positive\n"
    "confirmation of messages posted to the GARDEN-L address.",
    "It seems you have submitted the enclosed message to the gardeners@lists.example.net\n"
    "mailing list. To prevent mailing list abuse, every sender must confirm its own posts.\n"
    "please e-mail: gardeners-confirm-1736847012.4711.abcdefghijklmnop@lists.example.net",
]


@pytest.mark.parametrize("text", HELD)
def test_a_post_held_for_the_moderators_has_failed_nothing(text):
    for to in ("news@example.org", verp(LIST)):
        verdict = classified(list_notice(LIST, text, to=to, attached=False))
        assert (verdict.recipients, verdict.reason) == ([], "held")


def test_sympa_s_held_notice_says_failed_in_its_status_part_and_still_is_held():
    """Sympa sends its "forwarded to the moderator" as a delivery status: 4.3.0, failed."""
    said = "X-Sympa; Your message has been forwarded to the moderator(s)"
    raw = postfix(LIST, "4.3.0", said, action="failed", remote="lists.example.net[192.0.2.9]")
    assert classified(raw).recipients == []


REFUSED = [
    (
        "Your message has been rejected, probably because you are not subscribed to the\n"
        "mailing list and the list's policy is to prohibit non-members from posting to\n"
        "it.  If you think that your messages are being rejected in error, contact the\n"
        "mailing list owner at gardeners-owner@lists.example.net.",
        "policy",
    ),
    (
        "Your message to the Gardeners mailing-list was rejected for the following reasons:\n\n"
        "The message is not from a list member",
        "policy",
    ),
    (
        "Your message to the Gardeners mailing-list was rejected for the following reasons:\n\n"
        "DMARC violation",
        "auth_failure",
    ),
    ("Message rejected by filter rule match", "filtered"),
    (
        'Posting of your message titled "This week: spring issue" has been rejected by the list\n'
        "moderator.  The moderator gave the following reason for rejecting your request:\n\n"
        '"Off topic"\n\nAny questions or comments should be directed to the list administrator\n'
        "at:\n\n    gardeners-owner@lists.example.net",
        "policy",
    ),
    (
        "Sorry, only subscribers may post. If you are a subscriber, please forward this message\n"
        "to gardeners-owner@lists.example.net to get your new address included (#5.7.2)",
        "policy",
    ),
    (
        "I'm sorry, the list moderators for the gardeners list have failed to act on your\n"
        "post. Thus, I'm returning it to you.",
        "policy",
    ),
    (
        "We're sorry, but your email message to [\"gardeners@lists.example.net\"] didn't work.\n"
        "Your reply was sent from an unknown email address.",
        "sender_rejected",
    ),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_a_list_s_rules_keeping_our_post_out_are_a_refusal_of_our_mail(text, reason):
    """Before, each was a soft failure of the list's address: a list that never takes our
    post dropped the reader after a few issues, and the list's owner was named too."""
    verdict = classified(list_notice(LIST, text))
    assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [(LIST, "sender", reason)]


@pytest.mark.parametrize(
    ("group", "said", "reason"),
    [
        (
            "gardeners@googlegroups.com",
            "We're writing to let you know that the group you tried to contact (gardeners) may"
            " not exist, or you may not have permission to post messages to the group.",
            "policy",
        ),
        (
            "staff@zimbra.example.net",
            "571 Sender is not allowed to email this distribution list: staff@zimbra.example.net",
            "policy",
        ),
        (
            "everyone@corp.example.com",
            "550 5.7.1 RESOLVER.GRP.Blocked.NeedsSenderRestrictions; DL expansion needs sender"
            " restrictions or message approval configured",
            "policy",
        ),
    ],
)
def test_a_group_that_takes_no_post_from_us_refuses_our_mail(group, said, reason):
    """Google sends a 5.1.1 for a group that does not exist; this notice, without one, is
    mostly a group closed to outside posters."""
    status = "5.7.1" if "5.7.1" in said else "5.0.0"
    raw = postfix(group, status, said, remote="mx.groups.example[192.0.2.10]")
    assert [(f.address, f.kind, f.reason) for f in classified(raw).recipients] == [
        (group, "sender", reason)
    ]


def test_mailman_s_post_script_finding_no_such_list_is_a_dead_address():
    said = (
        'Command died with status 1: "/usr/lib/mailman/mail/mailman post cc-europe". Command'
        " output: post script, list not found: cc-europe"
    )
    address = "cc-europe@lists.example.org"
    raw = postfix(address, "5.3.0", said, diagnostic_type="x-unix")
    assert [(f.address, f.kind) for f in classified(raw).recipients] == [(address, "hard")]


@pytest.mark.parametrize("subject", ["Fwd: This week: spring issue", "This week: spring issue"])
def test_a_person_forwarding_our_issue_attached_is_no_report(subject):
    """A reader or a friend sends our issue on, attached, to our address: it quotes whom we
    sent it to, and was read as a soft failure of that reader."""
    reader = "reader@example.net"
    boundary = "b1"
    raw = (
        "From: Friend <friend@example.com>\r\nTo: news@example.org\r\n"
        f"Subject: {subject}\r\nDate: Tue, 14 Jan 2025 09:30:12 +0000\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nHave a look, I liked it.\r\n"
        f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        + original(reader).replace("\n", "\r\n")
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    verdict = classified(raw)
    assert (verdict.recipients, verdict.kind) == ([], "none")


# Mailman 2's hold and refusal notices in the languages it ships (templates/<lang>/postheld.txt
# and refuse.txt; a line of each), with the subject's words left out, as a list whose
# catalog translates them sends it. Before, the hold was a refusal of our mail counted
# towards holding the list's domain, or a soft failure of the list's address, and the
# refusal a soft failure.
MAILMAN_HELD = [
    ("de", "wird zurückgehalten, bis der Listenmoderator Ihre E-Mail genehmigt"),
    ("fr", "est en attente jusqu'à ce que le modérateur"),
    ("es", "retenido en espera de que el moderador"),
    ("it", "è stato trattenuto in attesa che il moderatore"),
    ("pt_BR", "até que o moderador da lista revise-a"),
    ("nl", "Wordt tegengehouden totdat de lijst moderator"),
    ("pl", "została wstrzymana do dalszej"),
    ("ru", "было задержано для рассмотрения модератором списка рассылки"),
    ("tr", "onaylaması için bekletiliyor"),
    ("ja", "チェックのために投稿が保留されました"),
    ("zh_CN", "邮件被扣留，直到通过列表维护者检查"),
    ("ko", "리스트 관리자의 승인을 얻기 위해 대기중입니다"),
    ("el", "Κρατείται μέχρι να το εξετάσει ο μεσολαβητής"),
    ("hu", "a szerkesztő jóváhagyásáig nem kerül megjelenésre"),
    ("sv", "hålls tills vidare tillbaka tills moderatorn"),
]
MAILMAN_REFUSED = [
    ("de", "wurde vom Listenmoderator mit folgender Begründung abgewiesen"),
    ("fr", "a été rejetée par le modérateur"),
    ("es", "ha sido rechazada por el moderador"),
    ("it", "è stata rifiutata dal moderatore"),
    ("pt_BR", "foi rejeitada pelo moderador da lista"),
    ("nl", "is geweigerd door de lijst moderator"),
    ("pl", "została odrzucona przez moderatora"),
    ("ru", "был отклонен модератором списка рассылки"),
    ("tr", "liste moderatörü tarafından reddedildi"),
    ("ja", "リスト司会者により拒否されました"),
    ("zh_CN", "已经被列表管理员拒绝"),
    ("ko", "리스트 관리자에 의해 거부되었습니다"),
    ("el", "απορρίφθηκε από τον διαχειριστή της λίστας"),
    ("hu", "a lista szerkesztője nem fogadta el"),
    ("sv", "avslogs av listmoderatorn"),
]


@pytest.mark.parametrize(("language", "words"), MAILMAN_HELD, ids=[h[0] for h in MAILMAN_HELD])
def test_mailmans_hold_in_its_languages_has_failed_nothing(language, words):
    text = f"{LIST}:\n\n    This week: spring issue\n\n{words}\n\n    Post by non-member"
    verdict = classified(list_notice(LIST, text, subject=LIST, attached=False))
    assert (verdict.recipients, verdict.reason) == ([], "held"), language


@pytest.mark.parametrize(
    ("language", "words"), MAILMAN_REFUSED, ids=[r[0] for r in MAILMAN_REFUSED]
)
def test_mailmans_refusal_in_its_languages_refuses_our_mail(language, words):
    text = f'{LIST}\n\n    This week: spring issue\n\n{words}\n\n"Off topic"'
    verdict = classified(list_notice(LIST, text, subject=LIST))
    assert [(f.address, f.kind) for f in verdict.recipients] == [(LIST, "sender")], language
