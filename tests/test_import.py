"""CSV import and export of subscribers."""

import codecs
import csv
import io

import pytest
from builders import post_import, staged_import
from conftest import wait_until

from newsletter.extensions import db
from newsletter.models import Import, MailingList, Subscriber, Subscription
from newsletter.subscriptions.columns import guess_mapping


@pytest.fixture
def upload(client, api_headers, weekly, worker):
    def send(text: str, preconfirm: str = "false", list_slug: str = "weekly") -> dict:
        data = text.encode("utf-8")
        import_id = post_import(client, api_headers, data, list=list_slug, preconfirm=preconfirm)

        def finished():
            body = client.get(f"/api/v1/imports/{import_id}", headers=api_headers).json
            return body if body["status"] in ("done", "failed") else None

        return wait_until(finished, message="the import did not finish")

    return send


def statuses() -> dict[str, str]:
    return {s.subscriber.email: s.status for s in Subscription.query}


def test_rows_are_imported_and_bad_rows_reported_with_reasons(upload, inbox):
    report = upload(
        "\ufeffEMAIL,Name,City\n"
        "ana@example.org,Ana,Lisbon\n"
        "not-an-address,Bad,\n"
        ",No email,\n"
        "ANA@example.org,Ana again,\n"
        'bob@example.org,"Bob\r\nBcc: x <b>B</b>",\n'
    )
    assert (report["total"], report["imported"], report["rejected"]) == (5, 2, 3)
    reasons = {(e["row"], e["reason"].split(":")[0]) for e in report["errors"]}
    assert reasons == {(3, "invalid address"), (4, "missing email"), (5, "duplicate in this file")}
    bob = Subscriber.query.filter_by(email="bob@example.org").one()
    assert "\n" not in bob.name and "\r" not in bob.name
    assert Subscriber.query.filter_by(email="ana@example.org").one().attributes == {
        "city": "Lisbon"
    }
    assert statuses() == {"ana@example.org": "unconfirmed", "bob@example.org": "unconfirmed"}
    assert inbox.messages == []  # an import never mails anyone


def test_two_columns_of_one_heading_are_two_columns(upload, editor_client):
    """ "Email,Name,Email": read as a dictionary, the second address took the first's place and
    the first was lost without a word. Now the first column is the address, the second kept
    as an attribute, and the mapping screen shows both."""
    report = upload("Email,Name,EMAIL\nana@example.org,Ana,ana.work@example.org\n")
    assert (report["imported"], report["rejected"]) == (1, 0)
    ana = Subscriber.query.one()
    assert ana.email == "ana@example.org"
    assert ana.attributes == {"email (2)": "ana.work@example.org"}
    staged = staged_import(editor_client, b"Email,Name,Email\r\na@example.org,A,b@example.org\r\n")
    page = editor_client.get(staged).text
    assert "Email (2)" in page and "a@example.org" in page and "b@example.org" in page


def test_preconfirmed_imports_are_confirmed_with_a_consent_record(upload):
    upload("email,name\nana@example.org,Ana\n", preconfirm="true")
    subscription = Subscription.query.one()
    assert subscription.status == "confirmed" and subscription.confirmed_at
    assert subscription.consent_source.startswith("import:")


@pytest.mark.slow
def test_an_import_cannot_bring_back_blocked_or_unsubscribed_subscribers(upload, weekly):
    blocked = Subscriber(email="blocked@example.org", status="blocklisted", attributes={})
    left = Subscriber(email="left@example.org", attributes={})
    left.subscriptions.append(Subscription(list_id=weekly.id, status="unsubscribed"))
    db.session.add_all([blocked, left])
    db.session.commit()
    report = upload(
        "email\nblocked@example.org\nleft@example.org\nnew@example.org\n", preconfirm="true"
    )
    assert (report["imported"], report["rejected"]) == (1, 2)
    db.session.expire_all()
    assert statuses() == {"left@example.org": "unsubscribed", "new@example.org": "confirmed"}


def test_an_import_cannot_bring_back_suppressed_addresses(upload, weekly):
    from newsletter import suppression
    from newsletter.subscriptions import service

    gone = Subscriber(email="erased@example.org", attributes={})
    db.session.add(gone)
    db.session.commit()
    service.erase(gone)
    suppression.suppress("complained@example.org", reason="complained")
    db.session.commit()
    report = upload(
        "email\nERASED@example.org\nnew@example.org\ncomplained@example.org\n",
        preconfirm="true",
    )
    assert (report["imported"], report["rejected"]) == (1, 2)
    reasons = {e["email"]: e["reason"] for e in Import.query.one().errors}
    assert reasons == {
        "erased@example.org": "address is suppressed (erased)",
        "complained@example.org": "address is suppressed (complained)",
    }
    assert statuses() == {"new@example.org": "confirmed"}


def test_a_file_without_an_email_column_fails_clearly(upload):
    report = upload("name,city\nAna,Lisbon\n")
    assert report["status"] == "failed"
    assert "no 'email' column" in report["errors"][-1]["reason"]
    assert Subscriber.query.count() == 0


def test_a_missing_file_or_list_is_an_error_in_the_api_shape(client, api_headers, weekly):
    no_file = client.post(
        "/api/v1/subscribers/import", data={"list": "weekly"}, headers=api_headers
    )
    assert no_file.status_code == 422 and "file" in no_file.json["error"]["fields"]
    no_list = client.post(
        "/api/v1/subscribers/import",
        data={"list": "nope", "file": (io.BytesIO(b"email\n"), "a.csv")},
        headers=api_headers,
        content_type="multipart/form-data",
    )
    assert no_list.status_code == 422 and "list" in no_list.json["error"]["fields"]
    assert client.post("/api/v1/subscribers/import").status_code == 401
    assert Import.query.count() == 0


@pytest.mark.slow
def test_thousands_of_rows_import_in_chunks(upload):
    rows = "".join(f"reader{i}@example.org,Reader {i}\n" for i in range(5000))
    report = upload("email,name\n" + rows, preconfirm="true")
    assert (report["total"], report["imported"], report["rejected"]) == (5000, 5000, 0)
    assert Subscription.query.filter_by(status="confirmed").count() == 5000


def test_export_streams_csv_and_neutralises_formulas(client, api_headers, upload):
    upload('email,name\nana@example.org,=HYPERLINK("x")\nbob@example.org,Bob\n', preconfirm="true")
    answer = client.get("/api/v1/subscribers/export?list=weekly", headers=api_headers)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["email"] for r in rows] == ["ana@example.org", "bob@example.org"]
    assert rows[0]["name"].startswith("'=")
    assert rows[1]["subscription_status"] == "confirmed"
    # The consent record goes with the data.
    assert rows[1]["consent_source"].startswith("import:") and rows[1]["consent_at"]


@pytest.mark.slow
def test_no_tracking_round_trips_through_export_and_import(client, api_headers, upload, make_list):
    upload("email,no_tracking\nana@example.org,true\nbob@example.org,false\n", preconfirm="true")
    exported = client.get("/api/v1/subscribers/export?list=weekly", headers=api_headers).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["email"], r["no_tracking"]) for r in rows] == [
        ("ana@example.org", "true"),
        ("bob@example.org", "false"),
    ]
    assert all("no_tracking" not in s.attributes for s in Subscriber.query)

    # The export imported elsewhere keeps each choice; a known subscriber's own choice to
    # turn tracking off is never turned back on by a file.
    make_list(slug="other")
    with_cara = exported.replace("bob@example.org,", "cara@example.org,").replace(
        "ana@example.org", "ANA@example.org"
    )
    flipped = with_cara.replace(",true", ",false")
    report = upload(flipped + "bob@example.org,,,,,,,,,yes\n", list_slug="other")
    assert report["imported"] == 3, report
    untracked = {s.email: s.no_tracking for s in Subscriber.query}
    assert untracked == {
        "ana@example.org": True,
        "bob@example.org": True,
        "cara@example.org": False,
    }


def test_a_no_tracking_that_is_not_yes_or_no_rejects_its_row(upload):
    report = upload("email,no_tracking\nana@example.org,maybe\nbob@example.org,YES\n")
    assert (report["imported"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["reason"] == "no_tracking must be true or false (yes or no)"
    assert Subscriber.query.one().no_tracking is True


@pytest.mark.parametrize(
    "header, row, email, name, family",
    [
        pytest.param(  # Google Contacts: the address is the "Value", not the "Type"
            ["Name", "Given Name", "Family Name", "E-mail 1 - Type", "E-mail 1 - Value"],
            ["Ana Lima", "Ana", "Lima", "* Home", "ana@example.org"],
            "E-mail 1 - Value",
            "Name",
            None,  # "Name" is whole already
            id="google-contacts",
        ),
        pytest.param(  # Mailchimp's export
            ["Email Address", "First Name", "Last Name", "MEMBER_RATING"],
            ["ana@example.org", "Ana", "Lima", "2"],
            "Email Address",
            "First Name",
            "Last Name",
            id="mailchimp",
        ),
        pytest.param(  # a postal address and a user name are neither
            ["Username", "Mailing address", "Email"],
            ["ana", "Rua 1, Lisboa", "ana@example.org"],
            "Email",
            None,
            None,
            id="postal-address-and-user-name",
        ),
        pytest.param(
            ["نام", "ایمیل"], ["آنا", "ana@example.org"], "ایمیل", "نام", None, id="persian"
        ),
        pytest.param(  # by the headings alone: the family name completes the name
            ["نام خانوادگی", "نام", "رایانامه"],
            [],
            "رایانامه",
            "نام",
            "نام خانوادگی",
            id="persian-headings",
        ),
        pytest.param(  # Kit's export
            ["email_address", "first_name", "last_name"],
            ["ana@example.org", "Ana", "Lima"],
            "email_address",
            "first_name",
            "last_name",
            id="kit",
        ),
        pytest.param(
            ["Email", "Name", "Surname"],
            ["ana@example.org", "Ana", "Lima"],
            "Email",
            "Name",
            "Surname",
            id="name-and-surname",
        ),
        pytest.param(  # a whole name, and a last login that is no family name
            ["Email", "Full name", "Last name", "Last login"],
            ["ana@example.org", "Ana Lima", "Lima", "2024-01-02"],
            "Email",
            "Full name",
            None,
            id="full-name-beside-a-last-name",
        ),
        pytest.param(  # a word with "nom" in it is no name
            ["Economic sector", "E-Mail-Adresse"],
            ["x", "a@b.de"],
            "E-Mail-Adresse",
            None,
            None,
            id="german-and-no-name",
        ),
        pytest.param(
            ["contact", "who"], ["ana@example.org", "Ana"], "contact", None, None, id="by-content"
        ),
        pytest.param(["Town", "Notes"], ["Lisbon", "x"], None, None, None, id="none"),
    ],
)
def test_the_mapping_screen_guesses_the_address_and_the_name(header, row, email, name, family):
    guess = guess_mapping(header, [row] if row else [])
    assert [h for h, use in guess.items() if use == "email"] == ([email] if email else [])
    assert [h for h, use in guess.items() if use == "name"] == ([name] if name else [])
    assert [h for h, use in guess.items() if use == "family_name"] == ([family] if family else [])
    kept = [h for h in header if h not in (email, name, family)]
    assert all(guess[h] == h.lower() for h in kept)


@pytest.mark.slow
def test_an_export_imports_back_as_it_was(client, api_headers, upload, make_list):
    """A list moved to another install: names and attributes come back unchanged (the
    apostrophe that keeps a spreadsheet from running a cell is taken off again), and the
    export's statuses, consent and dates are not taken for attributes."""
    upload(
        "email,name,city\nana@example.org,@مریم 🌷,=1+2\nbob@example.org,-Bob-,تهران\n",
        preconfirm="true",
    )
    ana = Subscriber.query.filter_by(email="ana@example.org").one()
    ana.attributes = {**ana.attributes, "status": "vip"}  # named like an export's column
    db.session.commit()
    before = {s.email: (s.name, s.attributes) for s in Subscriber.query}
    exported = client.get("/api/v1/subscribers/export?list=weekly", headers=api_headers).text
    assert "'@مریم" in exported and "'=1+2" in exported
    # The other install knows none of them.
    Subscriber.query.delete()
    db.session.commit()
    make_list(slug="other")
    report = upload(exported, list_slug="other", preconfirm="true")
    assert (report["imported"], report["rejected"]) == (2, 0), report
    assert {s.email: (s.name, s.attributes) for s in Subscriber.query} == before


@pytest.mark.slow
def test_rows_the_file_marks_as_gone_are_not_subscribed(upload):
    """An export's own record is the only one another install has: who left, bounced or
    complained is not subscribed, nor confirmed who never confirmed."""
    text = (
        "email,status,subscription_status\n"
        "ana@example.org,active,confirmed\n"
        "bob@example.org,active,unsubscribed\n"
        "cara@example.org,bounced,confirmed\n"
        "dan@example.org,Complained,\n"
        "eve@example.org,active,unconfirmed\n"
        "fay@example.org,cleaned,\n"  # Mailchimp's word for an address that bounced
    )
    report = upload(text, preconfirm="true")
    assert {e["email"]: e["reason"] for e in report["errors"]} == {
        "bob@example.org": "unsubscribed in the file; only the subscriber can rejoin",
        "cara@example.org": "address is bounced in the file",
        "dan@example.org": "address is complained in the file",
        "eve@example.org": "unconfirmed in the file; import it without preconfirm to ask them",
        "fay@example.org": "address is cleaned in the file",
    }
    assert statuses() == {"ana@example.org": "confirmed"}
    assert Subscriber.query.one().attributes == {}
    # Without preconfirm, one the file calls unconfirmed is asked, as anyone would be.
    assert upload("email,subscription_status\neve@example.org,unconfirmed\n")["imported"] == 1
    assert statuses()["eve@example.org"] == "unconfirmed"


MAILCHIMP = (
    '"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,'
    "CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,"
    "NOTES,TAGS"
)


@pytest.mark.parametrize(
    "extra_columns, extra_values, reason",
    [
        ("", "", None),
        (
            ",UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER",
            ',"2024-03-02 10:11:12","Weekly 12",abc123,"NORMAL",',
            "unsubscribed in the file; only the subscriber can rejoin",
        ),
        (
            ",CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID",
            ',"2024-03-02 10:11:12","Weekly 12",abc123',
            "address is cleaned in the file",
        ),
    ],
    ids=["subscribed_members_export", "unsubscribed_members_export", "cleaned_members_export"],
)
def test_mailchimp_s_files_of_who_left_subscribe_nobody(
    editor_client, weekly, worker, extra_columns, extra_values, reason
):
    """Mailchimp exports an audience as three files, and only the first is of subscribers;
    the others say who left only by the date they left on. Imported as the mapping page
    guesses their columns ("Email Address", "First Name" and "Last Name")."""
    row = (
        'maryam@example.org,Maryam,Hosseini,2,"2023-01-01 09:00:00",203.0.113.5,'
        '"2023-01-01 09:01:00",203.0.113.5,35.7,51.4,3.5,3.5,Asia/Tehran,IR,THR,'
        '"2024-03-02 10:11:12",123456,abcdef,,'
    )
    text = f"{MAILCHIMP}{extra_columns}\n{row}{extra_values}\n"
    location = staged_import(editor_client, text.encode())
    page = editor_client.get(location).text
    assert '<option value="family_name" selected>' in page
    assert ("who not to subscribe (left, bounced)" in page) == (reason is not None)
    header, first = csv.reader(io.StringIO(text))
    guess = guess_mapping(header, [first])
    form = {f"column_{i}": guess[name] for i, name in enumerate(header)}
    editor_client.post(location, data={"csrf_token": editor_client.token, **form})
    wait_until(lambda: Import.query.one().status == "done")
    errors = Import.query.one().errors
    if reason is None:  # the subscribers, a name of their first and last names
        assert errors == []
        maryam = Subscriber.query.one()
        assert maryam.name == "Maryam Hosseini"
        assert "last name" not in maryam.attributes and "timezone" not in maryam.attributes
        assert maryam.timezone == "Asia/Tehran"  # its TIMEZONE column is the reader's own
        return
    assert [(e["email"], e["reason"]) for e in errors] == [("maryam@example.org", reason)]
    assert statuses() == {}


@pytest.mark.parametrize(
    "text, left",
    [
        # Ghost's members export
        (
            "email,name,subscribed_to_emails\na@example.org,A,true\nb@example.org,B,false\n",
            "b@example.org",
        ),
        # Substack's: email_disabled when the reader turned its emails off
        (
            "email,active_subscription,email_disabled\na@example.org,false,false\nb@example.org,false,true\n",
            "b@example.org",
        ),
        # Kit's (ConvertKit) "cancelled"; a "state" that is a region is kept
        (
            "email,state\na@example.org,CA\nb@example.org,cancelled\n",
            "b@example.org",
        ),
    ],
    ids=["ghost", "substack", "kit"],
)
def test_other_programs_exports_say_who_left_in_their_own_words(upload, text, left):
    report = upload(text, preconfirm="true")
    assert [(e["email"], e["reason"]) for e in report["errors"]] == [
        (left, "unsubscribed in the file; only the subscriber can rejoin")
    ]
    assert statuses() == {"a@example.org": "confirmed"}
    kept = Subscriber.query.filter_by(email="a@example.org").one().attributes
    assert "subscribed_to_emails" not in kept and "email_disabled" not in kept
    if "state" in text:
        assert kept == {"state": "CA"}


def test_a_list_of_addresses_with_no_heading_line_loses_none_of_them(upload):
    """Mailman's member list ("Name <address>" a line) and a bare column of addresses: the
    first line is a subscriber, not a heading."""
    report = upload(
        'Anne Person <anne@example.org>\n"Lima, Ana" <ana@example.org>\nbob@example.org\n'
    )
    assert (report["imported"], report["rejected"]) == (3, 0), report
    names = {s.email: s.name for s in Subscriber.query}
    assert names == {
        "anne@example.org": "Anne Person",
        "ana@example.org": "Lima, Ana",
        "bob@example.org": "",
    }


def test_the_mapping_page_shows_a_first_line_of_addresses_as_a_row(editor_client, weekly):
    page = editor_client.get(
        staged_import(editor_client, b"ana@example.org,Ana\nbob@example.org,Bob\n")
    ).text
    assert '<td dir="auto">ana@example.org</td>' in page
    assert 'value="email" selected' in page and 'value="name" selected' in page


def test_an_address_written_with_its_name_gives_the_name_where_none_is_given(upload):
    report = upload("email,name\nAna Lima <ana@example.org>,\nBob <bob@example.org>,Robert\n")
    assert report["imported"] == 2, report
    assert {s.email: s.name for s in Subscriber.query} == {
        "ana@example.org": "Ana Lima",
        "bob@example.org": "Robert",
    }


# An object nested deeper than a JSON reader goes, inside the field size a row may have.
DEEP = '{"a": ' + "[" * 60_000 + "]" * 60_000 + "}"


def test_listmonk_s_export_imports_with_its_attributes_opened_up(upload):
    """listmonk writes a subscriber's attributes as one JSON object in its "attributes"
    column, and its "blocklisted" in "status"."""
    text = (
        "uuid,email,name,attributes,status,created_at,updated_at\n"
        'c1,maryam@example.org,مریم,"{""city"": ""تهران"", ""projects"": 3, ""tags"": [""a""]}",'
        "enabled,2024-01-01 10:00:00,2024-02-01 10:00:00\n"
        'c2,bob@example.org,Bob,"{""city"": ""Lisbon""}",blocklisted,2024-01-01,2024-01-01\n'
        f"c3,cara@example.org,Cara,{DEEP},enabled,2024-01-01,2024-01-01\n"
    )
    report = upload(text)
    assert [(e["email"], e["reason"]) for e in report["errors"]] == [
        ("bob@example.org", "address is blocklisted in the file")
    ]
    kept = {s.email: s.attributes for s in Subscriber.query}
    assert kept["maryam@example.org"] == {
        "city": "تهران",
        "projects": 3,
        "tags": ["a"],
        "uuid": "c1",
        "updated_at": "2024-02-01 10:00:00",
    }
    # Not an object it can read: kept as it was written.
    assert kept["cara@example.org"]["attributes"] == DEEP


@pytest.mark.slow
def test_readers_own_choices_move_with_the_list(client, api_headers, upload, make_list):
    """Language, time zone and delivery are what a reader chose; a list moved to another
    install keeps them (a list that sends no post on its own sends its digest)."""
    weekly = db.session.query(MailingList).filter_by(slug="weekly").one()
    weekly.each_post = True
    db.session.commit()
    upload("email,name\nmaryam@example.org,مریم\nbob@example.org,Bob\n", preconfirm="true")
    maryam = Subscriber.query.filter_by(email="maryam@example.org").one()
    maryam.timezone, maryam.locale = "Asia/Tehran", "fa"
    maryam.subscriptions[0].delivery = "each"
    db.session.commit()
    exported = client.get("/api/v1/subscribers/export?list=weekly", headers=api_headers).text
    Subscriber.query.delete()
    db.session.commit()

    make_list(slug="posts", each_post=True)
    make_list(slug="digest-only", each_post=False)
    for slug, delivery in (("posts", "each"), ("digest-only", "digest")):
        assert upload(exported, list_slug=slug, preconfirm="true")["imported"] == 2
        maryam = Subscriber.query.filter_by(email="maryam@example.org").one()
        assert (maryam.timezone, maryam.locale) == ("Asia/Tehran", "fa")
        assert {s.mailing_list.slug: s.delivery for s in maryam.subscriptions}[slug] == delivery
    bob = Subscriber.query.filter_by(email="bob@example.org").one()
    assert (bob.timezone, bob.locale, bob.attributes) == (None, None, {})


def test_a_choice_that_cannot_be_used_rejects_its_row_with_the_reason(upload):
    report = upload(
        "email,timezone,locale,delivery\n"
        "a@example.org,Asia/Tehran,fa_IR,digest\n"
        "b@example.org,Mars/Olympus,,\n"
        "c@example.org,,de,\n"
        "d@example.org,,,weekly\n"
    )
    assert [(e["email"], e["reason"]) for e in report["errors"]] == [
        ("b@example.org", "unknown time zone: Mars/Olympus"),
        ("c@example.org", "unknown language: de (one of en, fa)"),
        ("d@example.org", "unknown delivery: weekly (digest, each or both)"),
    ]
    a = Subscriber.query.one()
    assert (a.email, a.timezone, a.locale) == ("a@example.org", "Asia/Tehran", "fa")


@pytest.mark.parametrize(
    "text, line",
    [
        ("email,name\nana@example.org,Ana\nnot-an-address,Bob\n", 3),
        ('sep=;\nemail;name\nana@example.org;Ana\nnot-an-address;"Bob; Jr"\n', 4),
        ("ana@example.org\nnot-an-address\n", 2),  # no heading line
    ],
    ids=["heading-line", "excel-sep-line", "no-heading-line"],
)
def test_a_rejected_row_is_named_by_its_line_in_the_file(upload, text, line):
    """Excel's "sep=;" first line names the separator and is neither heading nor row."""
    report = upload(text)
    assert (report["imported"], report["rejected"]) == (1, 1), report
    assert [(e["row"], e["email"]) for e in report["errors"]] == [(line, "not-an-address")]
    assert {s.email: s.name for s in Subscriber.query}["ana@example.org"] in ("Ana", "")


@pytest.mark.slow
def test_the_export_for_excel_carries_the_mark_excel_needs_and_imports_back(
    client, api_headers, upload, editor_client, make_list
):
    """Excel opens a CSV without UTF-8's byte-order mark in the system's legacy code page,
    and Persian names come out garbled; the mark is offered, and an import takes it off."""
    upload("email,name\nmaryam@example.org,مریم رضایی\n", preconfirm="true")
    plain = editor_client.get("/admin/lists/weekly/export.csv").data
    for_excel = editor_client.get("/admin/lists/weekly/export.csv?for=excel").data
    api = client.get("/api/v1/subscribers/export?list=weekly&for=excel", headers=api_headers).data
    assert not plain.startswith(codecs.BOM_UTF8)
    assert for_excel == api == codecs.BOM_UTF8 + plain
    assert "مریم رضایی".encode() in for_excel
    Subscriber.query.delete()
    db.session.commit()
    make_list(slug="other")
    assert upload(for_excel.decode("utf-8"), list_slug="other")["imported"] == 1
    assert Subscriber.query.one().name == "مریم رضایی"


@pytest.mark.parametrize(
    "start, kind",
    [
        (b"PK\x03\x04\x14\x00\x06\x00", ".xlsx or .ods"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
    ],
)
def test_a_workbook_uploaded_as_it_is_is_told_to_be_saved_as_csv(
    editor_client, weekly, start, kind
):
    """An .xlsx read as text was one column of zip's binary, and the mapping screen asked
    for an email column in it."""
    staged = staged_import(editor_client, start + bytes(range(256)) * 40)
    answer = editor_client.get(staged, follow_redirects=True)
    assert f"This is a spreadsheet workbook ({kind}), not a CSV file" in answer.text
    assert "Save it as CSV" in answer.text


def test_a_spreadsheet_s_empty_rows_are_no_one_and_no_mistake(upload):
    """Google Sheets writes ",," for its empty rows: each was a rejected "missing email"."""
    report = upload("email,name,city\nana@example.org,Ana,\n,,\n , ,\nbob@example.org,,\n,,\n")
    assert (report["total"], report["imported"], report["rejected"]) == (2, 2, 0)
    assert report["errors"] == []


@pytest.mark.parametrize(
    "heading",
    ["Email Address,First Name,Last Name,City", "ایمیل,نام,نام خانوادگی,شهر"],
    ids=["mailchimp", "persian"],
)
def test_the_api_reads_columns_as_the_mapping_screen_first_guesses_them(upload, heading):
    """Through the API (no mapping screen) these files had "no 'email' column", or their two
    name columns became attributes and the name stayed empty."""
    report = upload(f"{heading}\nsara@example.org,سارا,رضایی,تهران\n")
    assert (report["status"], report["imported"]) == ("done", 1), report
    sara = Subscriber.query.one()
    assert (sara.email, sara.name) == ("sara@example.org", "سارا رضایی")
    assert list(sara.attributes.values()) == ["تهران"]


def test_an_import_naming_no_list_says_so(client, api_headers):
    answer = client.post(
        "/api/v1/subscribers/import",
        data={"file": (io.BytesIO(b"email\na@example.org\n"), "people.csv")},
        headers=api_headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert answer.json["error"]["fields"] == {
        "list": "Name the list to import into: its slug, as 'list'."
    }
