"""Posts by email, round two: mail programs running in Persian or Arabic, on phones, and the
odd shapes around them (threads, a forward of a forward, subject prefixes of other languages,
bidi marks, Persian digits, ZWNJ), each a whole message through the real `bounces serve`.

Where a builder says "verified", its strings were read in the program's own translation
catalog or in real mail quoted in public code; "unverified" names a localisation we could not
find in public material and wrote as the program's English shape with the language's labels."""

# ruff: noqa: E501 - messages and their expectations are quoted whole, as programs write them

from __future__ import annotations

import hashlib
import smtplib
from email import policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from bounce_mail import INBOUND_MX, POSTS

from newsletter.extensions import db
from newsletter.models import HeldPost, Post

EDITOR = "Maryam Ahmadi <maryam@example.org>"
ANA, REZA = "Ana Lima <ana.lima@example.net>", "Reza Karimi <reza.karimi@example.org>"
FA, AR = "https://example.org/fa/", "https://example.org/ar/"
LRE, RLE, PDF, RLM, ZWNJ = "\u202a", "\u202b", "\u202c", "\u200f", "\u200c"


def mail(subject: str, text: str = "", html: str = "") -> bytes:
    """The editor's message as the standard library writes it (the byte shape is not at issue)."""
    message = EmailMessage()
    message["Authentication-Results"] = f"{INBOUND_MX}; dkim=pass header.d=example.org"
    message["From"], message["To"], message["Subject"] = EDITOR, POSTS, subject
    message["Date"] = "Mon, 07 Dec 2026 10:00:00 +0330"
    message["Message-ID"] = (
        f"<{hashlib.sha256((subject + text + html).encode()).hexdigest()[:20]}@example.org>"
    )
    message.set_content(text or html, subtype="plain" if text else "html")
    if text and html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=policy.SMTP)


# --- Gmail ------------------------------------------------------------------------------------


def gmail_fa_forward() -> bytes:
    """Gmail web, Persian UI: localized separator and labels (unverified), Persian digits in the date."""
    return mail("Fwd: تحریم و دارو", (
        "این را برای شماره‌ی این هفته پیشنهاد می‌کنم.\n\n---------- پیام بازارسال‌شده ---------\n"
        f"از: {ANA}\nتاریخ: دوشنبه ۳۰ نوامبر ۲۰۲۶ ساعت ۱۰:۰۲\nموضوع: تحریم و دارو\nبه: {EDITOR}\n\n\n"
        f"تحریم‌ها دارو را از بیماران دور می‌کنند.\n{FA}sanctions\n"))  # fmt: skip


def gmail_ar_forward() -> bytes:
    """Gmail web, Arabic UI: "---------- الرسالة المعاد توجيهها" and labels (verified: svuchatbot's PST parser patterns)."""
    return mail("Fwd: تقرير عن حرية الصحافة", (
        "أقترح هذا التقرير لعدد هذا الأسبوع.\n\n---------- الرسالة المعاد توجيهها ---------\n"
        f"من: {ANA}\nالتاريخ: الاثنين، ٣٠ نوفمبر ٢٠٢٦ في ١٠:٠٢ ص\nالموضوع: تقرير عن حرية الصحافة\nإلى: {EDITOR}\n\n\n"
        f"تراجعت حرية الصحافة في المنطقة هذا العام.\n{AR}press\n"))  # fmt: skip


def gmail_fa_reply_bidi() -> bytes:
    """Gmail web, Persian UI: the attribution in U+202B…U+202C, name and address in U+202A…U+202C (unverified wording)."""
    who = f"{LRE}Ana Lima{PDF}{RLM} <{LRE}ana.lima@example.net{PDF}{RLM}>"
    return mail("Re: آلودگی هوای تهران", (
        f"برای خبرنامه.\n\n{RLE}در تاریخ دوشنبه ۳۰ نوامبر ۲۰۲۶ ساعت ۱۰:۰۲ {who} نوشت:{PDF}\n\n"
        f"> گزارش تازه درباره‌ی آلودگی هوای تهران منتشر شد.\n> {FA}air\n"))  # fmt: skip


def gmail_ar_reply_bidi() -> bytes:
    """Gmail, Arabic UI: "\u202bفي … تمت كتابة ما يلي بواسطة …:\u202c" (verified: a public test of Gmail replies)."""
    return mail("Re: أسعار الخبز", (
        f"للنشرة.\n\n{RLE}في الاثنين، 30 نوفمبر 2026 في 10:02 ص تمت كتابة ما يلي بواسطة {ANA}:{PDF}\n\n"
        f"> ارتفعت أسعار الخبز في القاهرة مجددًا.\n> {AR}bread\n"))  # fmt: skip


def gmail_ar_reply_wrapped() -> bytes:
    """Gmail, Arabic UI: the long attribution wrapped over two lines (verified: svuchatbot's quoted Gmail lines)."""
    return mail("Re: نهر النيل", (
        "للنشرة.\n\nفي الاثنين، 30 نوفمبر 2026 في 10:02 ص تمت كتابة ما يلي بواسطة Ana\nLima <ana.lima@example.net>:\n\n"
        f"> انخفض منسوب نهر النيل هذا الصيف.\n> {AR}nile\n"))  # fmt: skip


def gmail_app_fa_reply() -> bytes:
    """Gmail Android app, Persian UI: "در تاریخ … <…> نوشت:" with Persian digits, no bidi marks (unverified)."""
    return mail("Re: کتابخانه‌ی ملی", (
        f"این هم برای شماره‌ی بعد.\n\nدر تاریخ دوشنبه ۳۰ نوامبر ۲۰۲۶، ۱۰:۰۲ {ANA} نوشت:\n\n"
        f"> کتابخانه‌ی ملی ساعت کارش را کوتاه کرد.\n> {FA}library\n"))  # fmt: skip


def gmail_fa_forward_of_forward() -> bytes:
    """Gmail: a forward of a forward, Persian separator above the English one (unverified Persian labels)."""
    return mail("Fwd: Fwd: گزارش آب", (
        "برای خبرنامه.\n\n---------- پیام بازارسال‌شده ---------\n"
        f"از: {REZA}\nتاریخ: سه‌شنبه ۱ دسامبر ۲۰۲۶ ساعت ۹:۱۵\nموضوع: Fwd: گزارش آب\nبه: {EDITOR}\n\n\nمریم، این را ببین.\n\n"
        f"---------- Forwarded message ---------\nFrom: {ANA}\nDate: Mon, Nov 30, 2026 at 10:02 AM\nSubject: گزارش آب\nTo: {REZA}\n\n\n"
        f"سطح آب سدهای تهران به ۱۰ درصد رسید.\n{FA}dams\n"))  # fmt: skip


def gmail_fa_nested_replies() -> bytes:
    """Gmail: a top-posted thread, replies nested in "> " and ">> " (Gmail's shape, unverified Persian wording)."""
    return mail("Re: Re: فیلترینگ اینستاگرام", (
        f"موافقم، منتشر کنیم.\n\nدر تاریخ سه‌شنبه ۱ دسامبر ۲۰۲۶ ساعت ۹:۱۵ {REZA} نوشت:\n\n> به نظرم خوب است.\n>\n"
        f"> در تاریخ دوشنبه ۳۰ نوامبر ۲۰۲۶ ساعت ۱۰:۰۲ {ANA} نوشت:\n>\n>> فیلترینگ اینستاگرام سه ساله شد.\n>> {FA}filtering\n"))  # fmt: skip


# --- Outlook ----------------------------------------------------------------------------------


def _outlook_fa(label_sent: str, note: str, article: str, subject: str) -> str:
    return (
        f"{note}\n\n________________________________\nاز: {ANA}\n{label_sent}: دوشنبه، ۳۰ نوامبر ۲۰۲۶ ۱۰:۰۲ ق.ظ.\n"
        f"به: {EDITOR}\nرونوشت: {REZA}\nموضوع: {subject}\n\n{article}"
    )


def outlook_fa_forward() -> bytes:
    """Outlook desktop, Persian UI: underscores, "از/ارسال شده/به/رونوشت/موضوع" (unverified labels)."""
    return mail(
        "ارسال: دستمزد کارگران",
        _outlook_fa(
            "ارسال شده",
            "برای خبرنامه‌ی این هفته.",
            f"حداقل دستمزد کارگران ۲۰ درصد افزایش یافت.\n{FA}wages\n",
            "دستمزد کارگران",
        ),
    )


def outlook_fa_zwnj_labels() -> bytes:
    """Outlook desktop, Persian UI, the label written "ارسال‌شده" with ZWNJ as Persian orthography asks (unverified)."""
    return mail(
        "FW: اجاره‌بها",
        _outlook_fa(
            f"ارسال{ZWNJ}شده",
            "برای بخش مسکن.",
            f"نرخ اجاره‌بها در تهران دو برابر شد.\n{FA}rent\n",
            "اجاره‌بها",
        ),
    )


def _outlook_ar(
    note: str, article: str, subject: str, mark: str = "", sep: str = "", sender: str = ANA
) -> str:
    return (
        f"{note}\n\n{sep}{mark}من: {sender}\n{mark}تم الإرسال: الاثنين، 30 نوفمبر، 2026 10:02 ص\n{mark}إلى: {EDITOR}\n"
        f"{mark}نسخة: {REZA}\n{mark}الموضوع: {subject}\n\n{article}"
    )


def outlook_ar_no_separator() -> bytes:
    """Outlook desktop, Arabic UI: "من/تم الإرسال/إلى/نسخة/الموضوع" with no line above (verified: svuchatbot's PST parser)."""
    return mail(
        "FW: الطاقة الشمسية",
        _outlook_ar(
            "للنشرة الأسبوعية.",
            f"أعلنت الحكومة خطة جديدة للطاقة الشمسية.\n{AR}solar\n",
            "الطاقة الشمسية",
        ),
    )


def outlook_ar_rtl_marks() -> bytes:
    """Outlook, Arabic UI: an RLM (U+200F) before each label, as RTL composers write (svuchatbot strips them from real mail)."""
    return mail(
        "FW: صادرات التمور",
        _outlook_ar(
            "للنشرة الأسبوعية.",
            f"تضاعفت صادرات التمور هذا العام.\n{AR}dates\n",
            "صادرات التمور",
            mark=RLM,
        ),
    )


def outlook_android_en() -> bytes:
    """Outlook for Android: "Get Outlook for Android<https://aka.ms/AAb9ysg>" above the underscores (verified: lore.kernel.org mail)."""
    return mail("Fw: گزارش بیکاری جوانان", (
        f"این گزارش را ببینید.\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>\n________________________________\n"
        f"From: {ANA}\nSent: Monday, November 30, 2026 10:02:11 AM\nTo: {EDITOR}\nSubject: گزارش بیکاری جوانان\n\n"
        f"نرخ بیکاری جوانان به ۲۵ درصد رسید.\n{FA}jobs\n"))  # fmt: skip


def outlook_ios_ar() -> bytes:
    """Outlook for iOS, Arabic UI: "احصل على Outlook لـ iOS<https://aka.ms/o0ukef>" (unverified wording), Arabic labels."""
    return mail(
        "FW: أزمة المياه",
        _outlook_ar(
            "للنشر في النشرة.\n\nاحصل على Outlook لـ iOS<https://aka.ms/o0ukef>",
            f"تعاني البصرة من أزمة مياه خانقة.\n{AR}water\n",
            "أزمة المياه",
            sep="_" * 32 + "\n",
        ),
    )


def new_outlook_fa_html() -> bytes:
    """New Outlook / OWA, Persian UI, HTML alone: <hr> and div#divRplyFwdMsg with bold labels (OWA's shape, unverified labels)."""
    return mail("FW: تورم ماهانه", html=(
        '<html><body><div dir="rtl">برای بخش اقتصادی.</div><hr style="display:inline-block;width:98%" tabindex="-1">'
        '<div id="divRplyFwdMsg" dir="rtl"><font face="Calibri, sans-serif" style="font-size:11pt"><b>از:</b> Ana Lima &lt;ana.lima@example.net&gt;<br>'
        '<b>ارسال شده:</b> دوشنبه، ۳۰ نوامبر ۲۰۲۶ ۱۰:۰۲<br><b>به:</b> Maryam Ahmadi &lt;maryam@example.org&gt;<br><b>موضوع:</b> تورم ماهانه</font><div>&nbsp;</div></div>'
        f'<div dir="rtl">تورم ماهانه به ۴ درصد رسید. <a href="{FA}inflation">گزارش کامل</a></div></body></html>\n'))  # fmt: skip


# --- Apple, Thunderbird and the others --------------------------------------------------------


def apple_mail_ar_forward() -> bytes:
    """Apple Mail, Arabic UI: "بداية الرسالة المعاد توجيهها:" and "> " headers (unverified wording; English shape per email-forward-parser)."""
    return mail("Fwd: مدارس اللاجئين", (
        f"أقترح هذا المقال.\n\nبداية الرسالة المعاد توجيهها:\n\n> من: {ANA}\n> التاريخ: 30 نوفمبر 2026 في 10:02:11 ص GMT+3:30\n"
        f"> إلى: {EDITOR}\n> الموضوع: مدارس اللاجئين\n\n> أغلقت ثلاث مدارس للاجئين أبوابها.\n> {AR}schools\n"))  # fmt: skip


def ios_ar_sent_from_iphone() -> bytes:
    """iOS Mail, Arabic UI: "أُرسلت من الـ iPhone" (unverified wording; svuchatbot matches "أُرسلت من" in real mail)."""
    return mail(
        "الجفاف في العراق", f"مقال مهم عن الجفاف في العراق:\n{AR}drought\n\nأُرسلت من الـ iPhone\n"
    )


def thunderbird_ar_forward() -> bytes:
    """Thunderbird, Arabic: "-------- رسالة ممرّرة --------", "مِن" with its kasra (verified: thunderbird-l10n ar composeMsgs/mime.properties)."""
    return mail("Fwd: مدارس القرى", (
        "للنشر.\n\n\n-------- رسالة ممرّرة --------\nالموضوع: \tمدارس القرى\nالتاريخ: \tMon, 30 Nov 2026 10:02:11 +0330\n"
        f"مِن: \t{ANA}\nإلى: \t{EDITOR}\n\n\n\nتفتقر مدارس القرى إلى المعلمين.\n{AR}villages\n"))  # fmt: skip


def k9_fa_forward() -> bytes:
    """K-9 / Thunderbird for Android, Persian: "-------- پیام نخستین --------", its default signature (verified: values-fa/strings.xml)."""
    return mail("Fwd: جشنواره‌ی فیلم", (
        "برای بخش فرهنگی.\n\n-- \nاز دستگاه اندرویدی‌ام و به‌وسیلهٔ K-9 Mail ارسال شد.\n\n-------- پیام نخستین --------\n"
        f"از: {ANA}\nارسال: Mon Nov 30 10:02:11 GMT+03:30 2026\nبه: {EDITOR}\nموضوع: جشنواره‌ی فیلم\n\n"
        f"جشنواره‌ی فیلم کودک در اصفهان برگزار می‌شود.\n{FA}festival\n"))  # fmt: skip


def k9_ar_forward() -> bytes:
    """K-9 / Thunderbird for Android, Arabic: "مِن :", "المُرسل:", "نسخة كربونية :" (verified: values-ar/strings.xml)."""
    return mail("Fwd: أسعار الدواء", (
        f"للنشرة.\n\n-------- الرسالة الأصلية --------\nمِن : {ANA}\nالمُرسل: Mon Nov 30 10:02:11 GMT+03:30 2026\n"
        f"إلى : {EDITOR}\nنسخة كربونية : {REZA}\nالموضوع : أسعار الدواء\n\nارتفعت أسعار الدواء في لبنان.\n{AR}medicine\n"))  # fmt: skip


def samsung_email_forward() -> bytes:
    """Samsung Email: a carrier's "Sent via the Samsung Galaxy…" line (verified: oss-security mail), "-------- Original message --------"."""
    return mail("Fwd: مهاجرت پرستاران", (
        "این را بخوانید.\n\nSent via the Samsung Galaxy S22 Ultra 5G, an AT&T 5G smartphone\n\n\n-------- Original message --------\n"
        f"From: {ANA} \nDate: 11/30/26 10:02 (GMT+03:30) \nTo: {EDITOR} \nSubject: مهاجرت پرستاران \n\n"
        f"هر ماه صدها پرستار از ایران مهاجرت می‌کنند.\n{FA}nurses\n"))  # fmt: skip


def yahoo_forward() -> bytes:
    """Yahoo Mail: its text part puts the forwarded headers on one line (verified: email-forward-parser yahoo_en_body)."""
    return mail("Fwd: زلزله در کرمان", (
        f"یادداشت برای خبرنامه.\n\nSent from Yahoo Mail on Android\n\n   ----- Forwarded Message ----- From: {ANA}To: {EDITOR}"
        f"Sent: Monday, November 30, 2026, 10:02:11 AM GMT+3:30Subject: زلزله در کرمان\n زلزله‌ای به بزرگی ۵ ریشتر کرمان را لرزاند.\n{FA}quake\n"))  # fmt: skip


def proton_forward() -> bytes:
    """Proton Mail: "Sent with Proton Mail secure email." (verified: public list mail), "------- Forwarded Message -------"."""
    return mail("Fwd: معدن‌کاران", (
        "برای خبرنامه.\n\nSent with Proton Mail secure email.\n\n------- Forwarded Message -------\n"
        f"From: {ANA}\nDate: On Monday, November 30th, 2026 at 10:02 AM\nSubject: معدن‌کاران\nTo: {EDITOR}\n\n\n"
        f"معدن‌کاران طبس دستمزد ندارند.\n{FA}miners\n"))  # fmt: skip


def roundcube_fa_forward() -> bytes:
    """Roundcube, Persian: labels "موضوع/تاریخ/فرستنده/گیرنده" (verified: fa_IR labels.inc), Jalali date in Persian digits."""
    return mail("Fwd: مترو تهران", (
        f"برای بخش شهری.\n\n-------- پیغام اصلی --------\nموضوع: مترو تهران\nتاریخ: ۱۴۰۵-۰۹-۰۹ ۱۰:۰۲\nفرستنده: {ANA}\n"
        f"گیرنده: {EDITOR}\n\nخط جدید مترو تهران افتتاح شد.\n{FA}metro\n"))  # fmt: skip


def zimbra_forward() -> bytes:
    """Zimbra: "----- Forwarded Message -----", quoted display names (Zimbra's English shape)."""
    return mail("Fwd: کتاب‌فروشی‌ها", (
        'برای بخش فرهنگی.\n\n----- Forwarded Message -----\nFrom: "Ana Lima" <ana.lima@example.net>\n'
        f'To: "Maryam Ahmadi" <maryam@example.org>\nSent: Monday, November 30, 2026 10:02:11 AM\nSubject: کتاب‌فروشی‌ها\n\n'
        f"کتاب‌فروشی‌های انقلاب یکی‌یکی بسته می‌شوند.\n{FA}books\n"))  # fmt: skip


def outlook_ar_thread() -> bytes:
    """Outlook desktop, Arabic UI: a forwarded thread, two header blocks with no line above (labels verified as above)."""
    older = _outlook_ar(
        "تعليق رضا: مقال ممتاز.",
        f"الطرق الريفية في الصعيد تحتاج إلى صيانة عاجلة.\n{AR}roads\n",
        "الطرق الريفية",
    )
    return mail(
        "FW: RE: الطرق الريفية", _outlook_ar("للنشرة.", older, "RE: الطرق الريفية", sender=REZA)
    )


# --- What a careful editor expects of each (written down before running: expected.json) -------

A = ["ana.lima@example.net", "maryam@example.org"]
CASES = [
    # builder, title, phrases in the excerpt, link, not in the excerpt
    (gmail_fa_forward, "تحریم و دارو", ["پیشنهاد می‌کنم", "تحریم‌ها دارو را از بیماران دور می‌کنند"], f"{FA}sanctions", [*A, "بازارسال", "از:", "تاریخ:", "موضوع:", "به:"]),
    (gmail_ar_forward, "تقرير عن حرية الصحافة", ["أقترح هذا التقرير", "تراجعت حرية الصحافة في المنطقة"], f"{AR}press", [*A, "توجيهها", "من:", "التاريخ:", "الموضوع:", "إلى:"]),
    (gmail_fa_reply_bidi, "آلودگی هوای تهران", ["برای خبرنامه", "آلودگی هوای تهران منتشر شد"], f"{FA}air", [A[0], "نوشت:", "در تاریخ"]),
    (gmail_ar_reply_bidi, "أسعار الخبز", ["للنشرة", "ارتفعت أسعار الخبز في القاهرة"], f"{AR}bread", [A[0], "تمت كتابة ما يلي بواسطة"]),
    (gmail_ar_reply_wrapped, "نهر النيل", ["للنشرة", "انخفض منسوب نهر النيل"], f"{AR}nile", [A[0], "تمت كتابة ما يلي بواسطة", "Lima"]),
    (gmail_app_fa_reply, "کتابخانه‌ی ملی", ["این هم برای شماره‌ی بعد", "کتابخانه‌ی ملی ساعت کارش را کوتاه کرد"], f"{FA}library", [A[0], "نوشت:"]),
    (gmail_fa_forward_of_forward, "گزارش آب", ["برای خبرنامه", "سطح آب سدهای تهران به ۱۰ درصد رسید"], f"{FA}dams", [*A, "reza.karimi@", "From:", "از:", "Forwarded message"]),
    (gmail_fa_nested_replies, "فیلترینگ اینستاگرام", ["موافقم، منتشر کنیم", "فیلترینگ اینستاگرام سه ساله شد"], f"{FA}filtering", [*A, "reza.karimi@", "نوشت:"]),
    (outlook_fa_forward, "دستمزد کارگران", ["برای خبرنامه‌ی این هفته", "حداقل دستمزد کارگران"], f"{FA}wages", [*A, "reza.karimi@", "از:", "ارسال شده:", "رونوشت:", "موضوع:", "____"]),
    (outlook_fa_zwnj_labels, "اجاره‌بها", ["برای بخش مسکن", "نرخ اجاره‌بها در تهران دو برابر شد"], f"{FA}rent", [*A, "از:", "ارسال\u200cشده:", "موضوع:"]),
    (outlook_ar_no_separator, "الطاقة الشمسية", ["للنشرة الأسبوعية", "خطة جديدة للطاقة الشمسية"], f"{AR}solar", [*A, "reza.karimi@", "من:", "تم الإرسال:", "نسخة:", "الموضوع:"]),
    (outlook_ar_rtl_marks, "صادرات التمور", ["للنشرة الأسبوعية", "تضاعفت صادرات التمور"], f"{AR}dates", [*A, "من:", "تم الإرسال:", "الموضوع:"]),
    (outlook_android_en, "گزارش بیکاری جوانان", ["این گزارش را ببینید", "نرخ بیکاری جوانان به ۲۵ درصد رسید"], f"{FA}jobs", [*A, "Get Outlook", "aka.ms", "From:", "Sent:"]),
    (outlook_ios_ar, "أزمة المياه", ["للنشر في النشرة", "تعاني البصرة من أزمة مياه"], f"{AR}water", [*A, "Outlook", "aka.ms", "من:"]),
    (new_outlook_fa_html, "تورم ماهانه", ["برای بخش اقتصادی", "تورم ماهانه به ۴ درصد رسید"], f"{FA}inflation", [*A, "از:", "ارسال شده:", "موضوع:"]),
    (apple_mail_ar_forward, "مدارس اللاجئين", ["أقترح هذا المقال", "أغلقت ثلاث مدارس للاجئين أبوابها"], f"{AR}schools", [*A, "بداية الرسالة", "من:", ">"]),
    (ios_ar_sent_from_iphone, "الجفاف في العراق", ["مقال مهم عن الجفاف في العراق"], f"{AR}drought", ["iPhone", "أُرسلت"]),
    (thunderbird_ar_forward, "مدارس القرى", ["للنشر", "تفتقر مدارس القرى إلى المعلمين"], f"{AR}villages", [*A, "رسالة ممرّرة", "مِن:", "إلى:", "الموضوع:"]),
    (k9_fa_forward, "جشنواره‌ی فیلم", ["برای بخش فرهنگی", "جشنواره‌ی فیلم کودک در اصفهان"], f"{FA}festival", [*A, "K-9", "پیام نخستین", "از:", "ارسال:"]),
    (k9_ar_forward, "أسعار الدواء", ["للنشرة", "ارتفعت أسعار الدواء في لبنان"], f"{AR}medicine", [*A, "reza.karimi@", "الرسالة الأصلية", "مِن :", "نسخة كربونية"]),
    (samsung_email_forward, "مهاجرت پرستاران", ["این را بخوانید", "هر ماه صدها پرستار از ایران مهاجرت می‌کنند"], f"{FA}nurses", [*A, "Samsung", "AT&T", "Original message"]),
    (yahoo_forward, "زلزله در کرمان", ["یادداشت برای خبرنامه", "زلزله‌ای به بزرگی ۵ ریشتر کرمان را لرزاند"], f"{FA}quake", [*A, "Yahoo", "Forwarded Message", "Subject:"]),
    (proton_forward, "معدن‌کاران", ["برای خبرنامه", "معدن‌کاران طبس دستمزد ندارند"], f"{FA}miners", [*A, "Proton", "Forwarded Message", "Date:"]),
    (roundcube_fa_forward, "مترو تهران", ["برای بخش شهری", "خط جدید مترو تهران افتتاح شد"], f"{FA}metro", [*A, "پیغام اصلی", "فرستنده:", "گیرنده:"]),
    (zimbra_forward, "کتاب‌فروشی‌ها", ["برای بخش فرهنگی", "کتاب‌فروشی‌های انقلاب یکی‌یکی بسته می‌شوند"], f"{FA}books", [*A, "Forwarded Message", "Sent:"]),
    (outlook_ar_thread, "الطرق الريفية", ["للنشرة", "الطرق الريفية في الصعيد تحتاج إلى صيانة"], f"{AR}roads", [*A, "reza.karimi@", "من:", "تم الإرسال:"]),
]  # fmt: skip

# Subjects as programs prefix them: Outlook's in Turkish ("İLT:") and Arabic ("إعادة توجيه:", "رد:"),
# the list in Wikipedia's "email subject abbreviations", a gateway's "[External]", a full-width
# colon, an RLM typed before the prefix; the article's own "گزارش:" stays.
SUBJECTS = [
    ("RE: RE: Fwd: آزادی بیان", "آزادی بیان"),
    ("Fw: TR: WG: RV: آزادی بیان", "آزادی بیان"),
    ("İLT: آزادی بیان", "آزادی بیان"),
    ("إعادة توجيه: حرية التعبير", "حرية التعبير"),
    ("رد: رد: حرية التعبير", "حرية التعبير"),
    ("[External] Fwd: آزادی بیان", "آزادی بیان"),
    ("پاسخ: باز ارسال: آزادی بیان", "آزادی بیان"),
    ("Fwd\uff1a آزادی بیان", "آزادی بیان"),
    ("ارسال: گزارش: سانسور", "گزارش: سانسور"),
    (f"{RLM}Fwd: آزادی بیان", "آزادی بیان"),
]


def _posted(server, raw: bytes) -> tuple[HeldPost, Post]:
    with smtplib.SMTP(server.hostname, server.port) as client:
        client.sendmail("", [POSTS], raw)
    db.session.expire_all()
    [held] = db.session.scalars(sa.select(HeldPost)).all()
    assert (held.status, held.reason) == ("published", "")
    [post] = db.session.scalars(sa.select(Post)).all()
    return held, post


@pytest.mark.parametrize("case", CASES, ids=[case[0].__name__ for case in CASES])
def test_a_localized_mail_programs_message_is_the_post_an_editor_expects(inbound_server, case):
    """The title is the subject without its prefixes; the excerpt keeps the editor's note and
    the article and leaves out what the program wrapped around them, in whatever language its
    labels, separator, attribution and signature are written; the URL is the article's."""
    build, title, phrases, link, private = case
    _, post = _posted(inbound_server, build())
    got = dict(title=post.title, url=post.url)
    got["missing"] = [phrase for phrase in phrases if phrase not in post.excerpt]
    got["left in"] = [word for word in private if word in post.excerpt]
    assert got == dict(title=title, url=link, missing=[], **{"left in": []}), post.excerpt


@pytest.mark.parametrize(
    "subject, title", SUBJECTS, ids=[f"subject-{n}" for n in range(len(SUBJECTS))]
)
def test_a_subject_loses_the_prefixes_of_any_language(inbound_server, subject, title):
    """What mail programs put before a subject, in their users' languages, is not the title."""
    _, post = _posted(inbound_server, mail(subject, f"متن کوتاه {FA}s\n"))
    assert post.title == title
