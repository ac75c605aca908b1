"""What a file's columns are: the mapping page's guess (the address, the name, a family
name), the names of a file with no heading line, an address written with its name, and the
columns that say who left or what a reader chose, in our export's words and other programs'."""

from __future__ import annotations

import re

from newsletter import zones
from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.i18n import LOCALES, supported
from newsletter.statuses import DeliveryMode, SubscriptionStatus
from newsletter.subscriptions import export

# A no_tracking column (as the export writes it): what its cells may say.
YES = {"true", "yes", "y", "1", "on"}
NO = {"false", "no", "n", "0", "off", ""}

# Words of column headings for the address and the name, as exports and spreadsheets in the
# languages we serve write them ("E-mail 1 - Value", "Email Address", "ایمیل", "نام").
EMAIL_WORDS = {
    "email",
    "mail",
    "ایمیل",
    "رایانامه",
    "البريد",
    "邮箱",
    "电子邮件",
    "メール",
    "correo",
}
NAME_WORDS = {"name", "نام", "اسم", "الاسم", "姓名", "名前", "nombre", "nom"}
# Words that make a heading with a name word in it something else than a person's name.
NOT_A_NAME = {"user", "username", "last", "family", "middle", "surname", "nick", "nickname",
              "company", "file", "list", "خانوادگی"}  # fmt: skip
WHOLE_NAMES = {("name",), ("full", "name"), ("display", "name"), ("نام",), ("نام", "کامل")}
# A family name's heading ("Last Name", "surname", "نام خانوادگی"): imported after the name
# when that is a given name, not a whole one.
FAMILY_WORDS = {"last", "family", "surname", "lastname", "خانوادگی"}
FULL_NAMES = {("full", "name"), ("display", "name"), ("نام", "کامل")}
GIVEN_WORDS = {"first", "given", "firstname", "forename"}


def guess_mapping(header: list[str], rows: list[list[str]] = ()) -> dict[str, str]:
    """What each column most likely is. The address is the column whose first rows hold
    addresses (Google Contacts' "E-mail 1 - Type" comes before its "- Value"), else the
    first whose heading says mail; the name, a heading that says name, a whole name first."""
    filled = [sum(is_address(row[i]) for row in rows if i < len(row)) for i in range(len(header))]
    said = [bool(_words(heading) & EMAIL_WORDS) for heading in header]
    ranked = sorted(range(len(header)), key=lambda i: (-filled[i], not said[i]))
    email = next((i for i in ranked if filled[i] or said[i]), None)
    names = [(_name_rank(heading), i) for i, heading in enumerate(header) if i != email]
    name = min((pair for pair in names if pair[0] is not None), default=(None, None))[1]
    family = next(
        (i for i, heading in enumerate(header) if i not in (email, name) and _family_name(heading)),
        None,
    )
    roles = {email: "email", name: "name"}
    if family is not None and _given(name, family, header, rows):
        roles[family] = "family_name"
    return {
        heading: roles.get(i) or heading.lower() or "ignore" for i, heading in enumerate(header)
    }


def _given(name: int | None, family: int, header: list[str], rows) -> bool:
    """Whether the name column holds given names, that a family name completes: it says
    so ("First Name"), or its names are not whole in the first rows (Google's "Name" holds
    "Ana Lima" beside "Lima"); by headings alone, a Persian form's "نام" is the given name."""
    if name is None or tuple(_words_in_order(header[name])) in FULL_NAMES:
        return False
    if _words(header[name]) & GIVEN_WORDS:
        return True
    pairs = [(row[name], row[family]) for row in rows if max(name, family) < len(row)]
    pairs = [
        (given.strip(), last.strip()) for given, last in pairs if given.strip() and last.strip()
    ]
    if pairs:
        return not any(given.endswith(last) or given.startswith(last) for given, last in pairs)
    return _words_in_order(header[name]) == ["نام"]


def _family_name(heading: str) -> bool:
    """ "Last Name", "Surname", "نام خانوادگی"; not "Last login" nor "LAST_CHANGED"."""
    words = _words(heading)
    return bool(words & FAMILY_WORDS) and bool(words & (NAME_WORDS | {"surname", "lastname"}))


def _words(heading: str) -> set[str]:
    return set(_words_in_order(heading))


def _words_in_order(heading: str) -> list[str]:
    """A heading's words: "first_name" and "First Name" both say first, name."""
    return re.findall(r"[^\W_]+", heading.lower())


def headings(first: list[str]) -> list[str] | None:
    """Names for the columns of a file whose first line is already an address (a list of
    addresses, Mailman's "Anne Person <anne@example.com>" a line): the first column of
    addresses is the email, the next of words the name; None for a heading line."""
    addresses = [is_address(split_address(cell)[1]) for cell in first]
    if not any(addresses):
        return None
    email = addresses.index(True)
    words = [i for i, cell in enumerate(first) if i != email and cell.strip() and not addresses[i]]
    named = {email: "email", **({words[0]: "name"} if len(words) == 1 else {})}
    return [named.get(i, f"column {i + 1}") for i in range(len(first))]


def split_address(cell: str | None) -> tuple[str, str]:
    """A cell's display name and address: "Ana Lima <ana@example.org>" is both, as Outlook
    and Mailman write them; a bare address has no name."""
    cell = (cell or "").strip()
    if "<" not in cell or not cell.endswith(">"):
        return "", cell
    # By hand, not parseaddr: a CSV reading has taken the quotes off "Lima, Ana" already.
    start = cell.rfind("<")
    return cell[:start].strip().strip('"').strip(), cell[start + 1 : -1].strip()


def is_address(value: str | None) -> bool:
    try:
        return bool(value) and "@" in value and bool(normalise_email(value))
    except InvalidEmail:
        return False


def _name_rank(heading: str) -> int | None:
    words = _words_in_order(heading)
    if tuple(words) in WHOLE_NAMES:
        return 0
    if set(words) & NAME_WORDS and not set(words) & NOT_A_NAME:
        return 1
    return None


# Columns that are not attributes: ours, and the rest of what our export writes (statuses,
# consent, dates), which describe the row and are not the subscriber's own data.
EXPORTED = frozenset(export.COLUMNS) - {"email", "name", "no_tracking", *export.CHOICES}
# What a file (ours, or another program's) says of someone who must not be mailed: in a
# status column (listmonk's "blocklisted", Kit's "cancelled"), by a date it left on
# (Mailchimp's unsubscribed and cleaned files), or by a flag (Ghost's subscribed_to_emails,
# Substack's email_disabled), each column with the values that mean it.
LEFT = {"unsubscribed", "bounced", "complained", "blocklisted", "blacklisted", "cleaned"}
UNSUBSCRIBED = {"unsubscribed", "cancelled", "canceled"}
LEAVING = LEFT | UNSUBSCRIBED
STATUSES = ("subscription_status", "status", "state", "subscriber_type")
LEFT_ON = {"unsub_time": "unsubscribed", "unsubscribed_at": "unsubscribed", "clean_time": "cleaned"}
# A flag column, and whether a yes in it means subscribed (any other word, a date, is a yes).
FLAGS = {
    "subscribed_to_emails": True,
    "subscribed": True,
    "email_disabled": False,
    "unsubscribed": False,
}
# Columns that say whether to subscribe a row; those but another program's "state" and
# "subscriber_type" (which may be a region or a plan) are kept for nothing else.
SAYS_WHO_LEFT = frozenset({*STATUSES, *LEFT_ON, *FLAGS})
# Mailchimp's TIMEZONE is the time zone too.
KNOWN = frozenset(
    {"email", "name", "no_tracking", "timezone", *export.CHOICES, *EXPORTED, *LEFT_ON, *FLAGS}
)
# How the mapping page names a reader's own choices.
CHOICE_LABELS = {
    "time_zone": "time zone",
    "timezone": "time zone",
    "locale": "language",
    "delivery": "delivery (digest, each or both)",
}
DELIVERIES = frozenset(DeliveryMode)
# A reader's own choices: time zone, language and delivery (None where the file gives none).
Choices = tuple[str | None, str | None, str | None]


def choices(row: dict, each_post: bool) -> Choices | str:
    """The row's time zone, language and delivery (as our export writes them, and
    Mailchimp's TIMEZONE), or why one of them cannot be used."""
    said = [row.get("time_zone") or row.get("timezone"), row.get("locale"), row.get("delivery")]
    if not any(said):
        return None, None, None  # most files: none of them
    zone, language, delivery = ((value or "").strip() for value in said)
    if zone and not zones.valid(zone):
        return f"unknown time zone: {zone[:64]}"
    if language and not supported(language):
        return f"unknown language: {language[:16]} (one of {', '.join(LOCALES)})"
    delivery = delivery.lower()
    if delivery and delivery not in DELIVERIES:
        return f"unknown delivery: {delivery[:16]} (digest, each or both)"
    if delivery and not each_post:
        delivery = DeliveryMode.DIGEST  # the only thing this list sends
    return zone or None, supported(language), delivery or None


def left_in_file(row: dict, preconfirm: bool) -> str | None:
    """Why the file itself says not to subscribe this row (an export's statuses): it
    left, bounced or complained, or, where the import confirms, never confirmed."""
    # Only the cells of such columns that say something: most files have none.
    said = {k: v.strip().lower() for k in SAYS_WHO_LEFT.intersection(row) if (v := row[k])}
    if not said:
        return None
    words = [said[k] for k in STATUSES if said.get(k) in LEAVING]
    words += [word for k, word in LEFT_ON.items() if said.get(k)]
    words += [
        "unsubscribed"
        for k, yes_subscribes in FLAGS.items()
        if said.get(k) and (said[k] in NO) == yes_subscribes
    ]
    if UNSUBSCRIBED & set(words):
        return "unsubscribed in the file; only the subscriber can rejoin"
    if words:
        return f"address is {words[0]} in the file"
    if preconfirm and said.get("subscription_status") == SubscriptionStatus.UNCONFIRMED:
        return "unconfirmed in the file; import it without preconfirm to ask them"
    return None
