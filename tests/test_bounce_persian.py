"""Our readers read Persian and Arabic, and so may the lists, forums and help desks their
addresses lead to: what those send back about our mail, in the products' own fa and ar
catalogs (Mailman 2's templates/fa and messages/{fa,ar}/mailman.po, Discourse's
server.ar.yml and server.fa_IR.yml, Odoo's addons/mail ar.po), and Mailman's English.

Before: a list refusing our post (a moderator, non-members, a banned poster, its filters)
in Persian or Arabic was a soft failure of no reason counted against the list's address, or
nothing at all; so were a forum's refusals; a Persian held notice was not known as one; Odoo's
"contact us at" address was named as a failed reader; and Mailman's "from your address
`news@...'" named our own address, backtick and all; and UTF-8 text under a label MTAs
put on whatever their templates hold (us-ascii, iso-8859-1) lost every word.
"""

from __future__ import annotations

import base64
import quopri
from email.header import Header

import pytest
from bounce_samples import SENDER, _encoded, classified, list_notice, plain_notice, verdicts
from hypothesis import given
from hypothesis import strategies as st

LIST = "khabarnameh@lists.example.ir"
ARABIC_LIST = "alqurra@lists.example.sa"
OURS = "This week: spring issue"

# Mailman 2, templates/fa/refuse.txt: "rejected by the list moderator, who gave this reason"
REFUSE_FA = (
    "درخواستی که به فهرست پستی khabarnameh فرستاده بودید\n\n"
    f'    فرستادن پیام شما با عنوان "{OURS}"\n\n'
    " توسط میان\u200cدار فهرست، رد شده است. میان\u200cدار، دلیل زیر را برای ردکردن"
    " درخواستتان ارائه کرده است:\n\n"
    '"{reason}"\n\n'
    " اگر سوال یا نظری دارید لطفاً برای سرپرست فهرست به این نشانی بفرستید:\n\n"
    "    khabarnameh-owner@lists.example.ir\n"
)
REFUSED_FA = "درخواست فرستاده\u200cشده به فهرست پستی Khabarnameh پس\u200cزده\u200cشد"


def refused(reason: str) -> bytes:
    text = REFUSE_FA.format(reason=reason)
    return list_notice(LIST, text, subject=_encoded(REFUSED_FA), attached=False)


@pytest.mark.parametrize(
    "reason, expected",
    [
        ("[هیچ دلیلی داده نشده]", "policy"),  # no reason given
        ("میان\u200cدار، پیام شما را نامناسب برشمرده است.", "policy"),
        ("کسی غیر از اعضا اجازه\u200cی فرستادن پیام به این فهرست را ندارد.", "policy"),
        ("شما از فرستادن پیام به این فهرست، منع شده\u200cاید", "policy"),
        (
            "پیام شما بیش از حد بزرگ بود. لطفاً آن را کوتاه کنید تا اندازه اش کمتر از"
            " 40 کیلوبایت شود.",
            "too_large",
        ),
    ],
)
def test_a_persian_lists_moderator_refusing_our_post_is_a_refusal_of_our_mail(reason, expected):
    verdict = classified(refused(reason))
    assert (verdict.kind, verdict.reason, verdict.recipients) == ("sender", expected, [])


# Mailman's automatic rejections (Moderate.py, MimeDel.py, SpamDetect.py), our post attached.
@pytest.mark.parametrize(
    "address, text, expected",
    [
        (LIST, "Your message was deemed inappropriate by the moderator.", "policy"),
        (LIST, "The message's content type was explicitly disallowed", "policy"),
        (LIST, "After content filtering, the message was empty", "content_error"),
        (
            LIST,
            "شما مجاز به فرستادن پیام به این فهرست پستی نیستید و پیامتان\nبه طور خودکار"
            " پس\u200cزده\u200cشد. اگر معتقدید که پیام\u200cهایتان\nبه اشتباه"
            " پس\u200cزده\u200cشده، با مالک فهرست به این نشانی تماس بگیرید:"
            " khabarnameh-owner@lists.example.ir.",
            "policy",
        ),
        (LIST, "این پیام به\u200cخاطر مطابقت با قواعد پالایش، پس\u200cزده\u200cشد", "filtered"),
        (LIST, "نوع محتوای این پیام، صریحاً غیرمجاز دانسته شده است", "policy"),
        (LIST, "بعد از پالایش محتوا، این پیام خالی ماند", "content_error"),
        (
            ARABIC_LIST,
            "غير مسموح لك بالإرسال إلى القائمة البريدية هذه، وتم رفض رسالتك بشكل تلقائيا. إن"
            " كنت تعتقد أنه تم رفض رسالتك بالخطأ، اتصل بمالك القائمة البريدية على العنوان"
            " alqurra-owner@lists.example.sa.",
            "policy",
        ),
        (ARABIC_LIST, "رفضت الرسالة بسبب تطابق قاعدة مصفي", "filtered"),
        (ARABIC_LIST, "نوع محتويات الرسالة مصرح بمنعها", "policy"),
        (ARABIC_LIST, "بعد تصفية المحتويات صارت الرسالة فارغة", "content_error"),
        (ARABIC_LIST, "أنت ممنوع من إرسال الرسائل إلى هذه القائمة.", "policy"),
        (ARABIC_LIST, "اعتبرت رسالتك غير مناسبة من قبل المنظم.", "policy"),
    ],
)
def test_a_lists_automatic_rejection_never_counts_against_the_reader(address, text, expected):
    assert verdicts(list_notice(address, text)) == [(address, "sender", expected)]


@pytest.mark.parametrize(
    "address, subject, text",
    [
        (  # templates/fa/postheld.txt, its subject from fa/mailman.po
            LIST,
            "پیام شما به  khabarnameh در انتظار تایید میان\u200cدار است",
            f"رایانامه\u200cی شما به  'khabarnameh' با موضوع\n\n    {OURS}\n\n"
            "تا زمانی که میان\u200cدار فهرست بتواند آن را بررسی و تایید کند نگه\u200cداشته"
            " می\u200cشود.\n\nعلت نگه داشته\u200cشدن این پیام:\n\n"
            "    فرستادن توسط غیرعضو به فهرست مختص اعضا\n",
        ),
        (  # ar/mailman.po's subject over the English template Mailman falls back to
            ARABIC_LIST,
            "رسالتك إلى القائمة البريدية alqurra تنتظر موافقة المنظم",
            f"Your mail to 'alqurra' with the subject\n\n    {OURS}\n\n"
            "Is being held until the list moderator can review it for approval.\n",
        ),
    ],
)
def test_a_post_held_for_the_moderators_in_persian_or_arabic_is_no_failure(address, subject, text):
    verdict = classified(list_notice(address, text, subject=_encoded(subject), attached=False))
    assert (verdict.kind, verdict.reason) == ("none", "held")


def test_mailmans_quoting_of_our_own_address_never_names_it():
    """templates/fa/nomoretoday.txt: "we received from your address `news@example.org' a
    request for the list's autoresponder, your 11th today"."""
    text = (
        f"ما از نشانی شما `{SENDER}' یک درخواست برای\nپاسخ خودکار khabarnameh از فهرست پستی"
        " دریافت\u200cکرده\u200cایم. و این\nامروز پیام 11ام شماست.\n\nاگر می\u200cپندارید، این پیام"
        " اشتباهی برای شما فرستاده شده، لطفا با مالک فهرست به نشانی"
        " khabarnameh-owner@lists.example.ir\nتماس بگیرید.\n"
    )
    subject = _encoded("آخرین آگاه\u200cسازی پاسخگویی خودکار امروز")
    verdict = classified(list_notice(LIST, text, subject=subject, attached=False))
    assert (verdict.kind, verdict.recipients) == ("none", [])


FORUM = "support@forum.example.sa"
DISCOURSE_AR = "عذرًا، لكن رسالتك الإلكترونية إلى {to} (بعنوان {subject}) لم تنجح.\n\n{why}\n"
DISCOURSE_FA = "متأسفیم، پیام ایمیل شما به {to} (با عنوان {subject}) ارسال نشد.\n\n{why}\n"


@pytest.mark.parametrize(
    "template, why, expected",
    [
        (DISCOURSE_AR, "تم إرسال ردك من عنوان بريد إلكتروني غير معروف.", "policy"),
        (DISCOURSE_AR, "تم إرسال ردك من عنوان بريد إلكتروني محظور.", "policy"),
        (
            DISCOURSE_AR,
            "لا تسمح الفئة التي أرسلت إليها هذه الرسالة الإلكترونية إلا بالردود من المستخدمين"
            " الذين يملكون حسابات صالحة وعناوين بريد إلكتروني معروفة.",
            "policy",
        ),
        (DISCOURSE_AR, "لا يملك حسابك مستوى الثقة المطلوب لنشر موضوعات جديدة.", "policy"),
        (DISCOURSE_AR, "لم يتم تنشيط حسابك المرتبط بعنوان البريد الإلكتروني هذا.", "policy"),
        (DISCOURSE_AR, "ليس لديك الأذونات اللازمة للرد على هذا الموضوع.", "policy"),
        (
            DISCOURSE_AR,
            'تم وضع علامة على رسالتك الإلكترونية على أنها "منشأة تلقائيًا"؛ إننا لا نقبل هذا'
            " النوع من الرسائل الإلكترونية.",
            "policy",
        ),
        (
            DISCOURSE_AR,
            "لقد حاولت مراسلة أكثر من 5 من الأشخاص عبر البريد الإلكتروني، ووضع نظامنا علامة على"
            " رسالتك الإلكترونية على أنها بريد غير مرغوب فيه.",
            "spam",
        ),
        (
            DISCOURSE_AR,
            "بعض الأسباب المحتملة هي: التنسيق المعقَّد، الرسالة كبيرة جدًا، الرسالة صغيرة جدًا.",
            "content_error",
        ),
        (
            DISCOURSE_FA,
            "حساب شما مرتبط با این آدرس ایمیل فعال نشده است. لطفا قبل از ارسال ایمیل، حساب خود"
            " را فعال کنید.",
            "policy",
        ),
        (DISCOURSE_FA, "ما نتوانستیم محتوای پاسخی را در ایمیل شما پیدا کنیم.", "content_error"),
        (
            DISCOURSE_FA,
            "برخی از دلایل ممکن عبارتند از: قالب بندی پیچیده، پیام بسیار بزرگ، پیام بسیار کوچک.",
            "content_error",
        ),
    ],
)
def test_a_forums_refusal_in_arabic_or_persian_is_a_refusal_of_our_mail(template, why, expected):
    text = template.format(to=FORUM, subject=OURS, why=why)
    raw = plain_notice(
        FORUM, "[Forum] - مشكلة في الرسالة الإلكترونية", text, from_="forum@example.sa"
    )
    assert verdicts(raw) == [(FORUM, "sender", expected)]


def test_odoos_contact_address_is_not_a_failed_reader():
    """addons/mail ar.po: "could not be accepted by sales@...: only registered partners may
    write to it. Check the address, or contact us at info@... instead"."""
    text = (
        "تعذر قبول الرسالة أدناه من قِبَل العنوان sales@odoo.example.sa. فقط العناوين المربوطة"
        " بالشركاء المسجلين هم المسموح لهم بالتواصل معه. يرجى التأكد من أنك تستخدم العنوان"
        " الصحيح أو تواصل معنا على info@odoo.example.sa عوضاً عن ذلك."
    )
    raw = plain_notice(
        "sales@odoo.example.sa", "Re: " + OURS, text, from_="MAILER-DAEMON@odoo.example.sa"
    )
    assert verdicts(raw) == [("sales@odoo.example.sa", "sender", "policy")]


# How Persian and Arabic are typed: a zero-width non-joiner or none between a word's parts,
# a tatweel stretching a letter, vowel marks, Arabic yeh and kaf for Persian's.
SPELLINGS = st.lists(
    st.tuples(st.integers(min_value=0), st.sampled_from(["\u200c", "\u0640", "\u064e", "\u0651"])),
    max_size=12,
)


@pytest.mark.slow
@given(SPELLINGS, st.booleans())
def test_a_phrase_is_known_however_persian_is_typed(marks, arabic_letters):
    text = REFUSE_FA.format(
        reason="کسی غیر از اعضا اجازه\u200cی فرستادن پیام به این فهرست را ندارد."
    )
    if arabic_letters:
        text = text.replace("ی", "ي").replace("ک", "ك")
    letters = [i for i, c in enumerate(text) if "\u0620" <= c <= "\u06ff"]
    for at, mark in sorted(marks, reverse=True):
        spot = letters[at % len(letters)] + 1
        text = text[:spot] + mark + text[spot:]
    raw = list_notice(LIST, text, subject=_encoded(REFUSED_FA), attached=False)
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason) == ("sender", "policy")


def in_charset(text: str, charset: str, label: str | None, encoding: str) -> bytes:
    """The refusal above as a list server sends it: its body in `charset`, labelled `label`
    (or not at all), sent 8bit, base64 or quoted-printable."""
    body = text.encode(charset)
    payload = {
        "8bit": body,
        "base64": base64.encodebytes(body),
        "quoted-printable": quopri.encodestring(body),
    }[encoding]
    head = (
        f"From: khabarnameh-owner@lists.example.ir\nTo: {SENDER}\n"
        f"Subject: {Header(REFUSED_FA, 'utf-8').encode()}\nMIME-Version: 1.0\n"
        "Content-Type: text/plain" + (f"; charset={label}" if label else "") + "\n"
        f"Content-Transfer-Encoding: {encoding}\n\n"
    )
    return head.replace("\n", "\r\n").encode() + payload.replace(b"\n", b"\r\n")


@pytest.mark.parametrize("encoding", ["8bit", "base64", "quoted-printable"])
@pytest.mark.parametrize(
    "charset, label",
    [
        ("utf-8", "utf-8"),
        ("utf-8", None),
        # An MTA's template label on whatever it holds: the words were lost before
        ("utf-8", "us-ascii"),
        ("utf-8", "iso-8859-1"),
        ("utf-8", "windows-1252"),
        # Windows' Arabic code page, in which Persian is written with Arabic yeh and kaf
        ("windows-1256", "windows-1256"),
    ],
)
def test_a_refusal_is_read_in_its_charset_or_as_the_utf_8_it_is(charset, label, encoding):
    text = REFUSE_FA.format(reason="[هیچ دلیلی داده نشده]")
    if charset == "windows-1256":
        text = text.replace("\u200c", "").replace("ی", "ي").replace("ک", "ك")
    verdict = classified(in_charset(text, charset, label, encoding))
    assert (verdict.kind, verdict.reason) == ("sender", "policy")
