"""CSV files as spreadsheets save them when not told to write UTF-8: in the system's legacy
code page (Excel's plain "CSV"). A Persian Windows writes Windows-1256, with the Arabic yeh
its table has instead of the Persian one: a Persian file's names are stored with Persian's,
which a search typed on a Persian keyboard finds."""

import io

import pytest
from builders import error_of, post_import, staged_import
from conftest import wait_until
from hypothesis import given
from hypothesis import strategies as st

from newsletter.extensions import db
from newsletter.models import Import, Subscriber
from newsletter.subscriptions import csv_reading

PERSIAN = ["مريم رضايي", "علي محمدي", "سارا کريمي", "نيک‌نام حسيني"]  # ZWNJ in the last
WESTERN = ["José Núñez", "Jürgen Groß", "François Lefèvre", "Begoña Ibáñez"]
CYRILLIC = ["Иван Петров", "Ольга Смирнова", "Юрий Яковлев", "Анна Эрдман"]
GREEK = ["Γιώργος Παπαδόπουλος", "Ελένη Οικονόμου"]
HEBREW = ["דוד כהן", "שרה לוי"]


def _file(names: list[str], encoding: str, plain: int = 0) -> bytes:
    """A CSV of an address and a name a row, `plain` rows of ASCII first."""
    rows = [f"plain{n}@example.org,Plain {n}" for n in range(plain)]
    rows += [f"reader{n}@example.org,{name}" for n, name in enumerate(names)]
    return ("email,name\r\n" + "\r\n".join(rows) + "\r\n").encode(encoding)


@pytest.fixture
def imported(client, api_headers, weekly, worker):
    """Post a file to the API (with an encoding, or none) and wait for it to be read."""

    def run(data: bytes, encoding: str | None = None) -> tuple[dict, dict[str, str]]:
        form = {"encoding": encoding} if encoding else {}
        url = f"/api/v1/imports/{post_import(client, api_headers, data, **form)}"

        def finished():
            body = client.get(url, headers=api_headers).json
            return body if body["status"] in ("done", "failed") else None

        body = wait_until(finished, message="the import did not finish")
        return body, {s.email: s.name for s in Subscriber.query}

    return run


@pytest.mark.parametrize(
    "names, encoding",
    [(PERSIAN, "cp1256"), (WESTERN, "cp1252"), (CYRILLIC, "cp1251"), (GREEK, "cp1253")],
    ids=["persian-windows", "western-windows", "cyrillic-windows", "greek-windows"],
)
def test_a_spreadsheet_s_legacy_csv_is_read_in_its_code_page(imported, names, encoding):
    body, names_by_email = imported(_file(names, encoding))
    assert (body["status"], body["imported"], body["rejected"]) == ("done", len(names), 0)
    assert body["encoding"] == encoding
    if encoding == "cp1256":  # stored with Persian's own yeh, as a Persian keyboard types it
        names = [name.replace("ي", "ی") for name in names]
    assert names_by_email == {f"reader{n}@example.org": name for n, name in enumerate(names)}


def test_a_persian_name_far_down_a_file_of_english_ones_is_read_too(imported):
    body, names_by_email = imported(_file(PERSIAN[:1], "cp1256", plain=300))
    assert (body["imported"], body["rejected"], body["encoding"]) == (301, 0, "cp1256")
    assert names_by_email["reader0@example.org"] == PERSIAN[0]


def test_a_file_no_code_page_stands_out_for_is_rejected_row_by_row_not_garbled(imported):
    # Hebrew's letters read as Cyrillic or Greek look like words too: none is guessed.
    body, names_by_email = imported(_file(HEBREW, "cp1255"))
    assert (body["status"], body["imported"], body["rejected"]) == ("done", 0, 2)
    assert "not UTF-8" in body["errors"][0]["reason"]
    assert names_by_email == {}


def test_the_encoding_can_be_given(imported):
    body, names_by_email = imported(_file(HEBREW, "cp1255"), encoding="cp1255")
    assert (body["imported"], body["encoding"]) == (2, "cp1255")
    assert set(names_by_email.values()) == set(HEBREW)


def test_excel_for_mac_s_plain_csv_can_be_read_as_mac_roman(imported):
    # Mac Roman's letters beyond ASCII sit where Windows-1252's do not: it is chosen, not guessed.
    body, names_by_email = imported(_file(WESTERN, "mac_roman"), encoding="mac_roman")
    assert (body["imported"], body["encoding"]) == (4, "mac_roman")
    assert set(names_by_email.values()) == set(WESTERN)


def test_an_unknown_encoding_is_refused_and_nothing_is_kept(client, api_headers, weekly):
    answer = client.post(
        "/api/v1/subscribers/import",
        data={
            "list": "weekly",
            "encoding": "klingon",
            "file": (io.BytesIO(_file(WESTERN, "cp1252")), "people.csv"),
        },
        headers=api_headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert "encoding" in error_of(answer)["fields"]
    assert db.session.query(Import).count() == 0


def test_the_mapping_page_says_how_the_file_is_read_and_lets_the_editor_choose(
    editor_client, weekly, worker
):
    location = staged_import(editor_client, _file(PERSIAN[:1], "cp1256", plain=8))
    page = editor_client.get(location).text
    assert "it is read as Windows-1256 (Persian, Arabic)" in page
    assert '<option value="cp1256" selected>' in page
    # The name is below the first rows shown: it is shown apart, as it reads.
    assert f'Further down, text beyond English reads:\n  <bdi dir="auto">{PERSIAN[0]}</bdi>' in page

    # Read another way, it shows as that way reads it.
    wrong = editor_client.get(location + "?encoding=cp1252").text
    assert PERSIAN[0].encode("cp1256").decode("cp1252") in wrong
    assert '<option value="cp1252" selected>' in wrong

    # The encoding goes with the mapping.
    answer = editor_client.post(
        location,
        data={
            "csrf_token": editor_client.token,
            "encoding": "cp1256",
            "column_0": "email",
            "column_1": "name",
        },
    )
    assert answer.status_code == 302
    wait_until(lambda: db.session.query(Import).one().status == "done")
    assert db.session.query(Import).one().encoding == "cp1256"
    reader = db.session.query(Subscriber).filter_by(email="reader0@example.org").one()
    assert reader.name == PERSIAN[0]


def test_a_utf8_file_says_nothing_of_encodings(editor_client, weekly):
    page = editor_client.get(staged_import(editor_client, _file(PERSIAN, "utf-8"))).text
    assert "is not UTF-8" not in page and '<option value="utf-8" selected>' in page


# Names as their script writes them: a capital and small letters, or one case throughout.
def _names(alphabet: str, cased: bool):
    word = st.text(st.sampled_from(alphabet), min_size=2, max_size=9)
    if cased:
        word = word.map(str.capitalize)
    return st.lists(st.lists(word, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=4)


LETTERS = {
    "cp1256": ("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهي", False),
    "cp1251": ("абвгдежзийклмнопрстуфхцчшщъыьэюя", True),
    "cp1253": ("αβγδεζηθικλμνξοπρστυφχψω", True),
    "cp1255": ("אבגדהוזחטיכלמנסעפצקרשת", False),
}


@given(
    st.sampled_from(sorted(LETTERS)).flatmap(lambda e: st.tuples(st.just(e), _names(*LETTERS[e])))
)
def test_a_legacy_file_is_read_in_its_own_code_page_or_left_to_the_editor(case):
    """Never in another code page: that would import every name garbled."""
    encoding, names = case
    assert csv_reading.encoding_of(_file(names, encoding)) in (encoding, "utf-8")


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5))
def test_a_utf8_file_is_always_read_as_utf8(names):
    names = [name.replace(",", " ").replace("\r", " ").replace("\n", " ") for name in names]
    assert csv_reading.encoding_of(_file(names, "utf-8")) == "utf-8"


def test_a_utf16_file_is_read_as_its_byte_order_mark_says(editor_client, weekly):
    data = "email\tname\r\nreader@example.org\tمریم\r\n".encode("utf-16")
    page = editor_client.get(staged_import(editor_client, data)).text
    assert '<option value="" selected>UTF-16</option>' in page and "مریم" in page


def test_an_arabic_file_keeps_arabic_s_own_letters(imported):
    arabic = ["علي حسن", "فاطمة الزهراء", "يوسف كمال"]
    body, names_by_email = imported(_file(arabic, "cp1256"))
    assert body["encoding"] == "cp1256"
    assert sorted(names_by_email.values()) == sorted(arabic)


def test_a_search_typed_on_a_persian_keyboard_finds_either_yeh_and_kaf(editor_client, weekly):
    from builders import confirmed_subscriber

    confirmed_subscriber(weekly, "reza@example.org", "رضا كريمي")  # as Windows-1256 wrote it
    confirmed_subscriber(weekly, "zahra@example.org", "زهرا کریمی")
    confirmed_subscriber(weekly, "other@example.org", "سارا احمدی")
    for query in ("کریمی", "كريمي"):
        page = editor_client.get("/admin/subscribers", query_string={"q": query}).text
        assert "reza@example.org" in page and "zahra@example.org" in page, query
        assert "other@example.org" not in page
