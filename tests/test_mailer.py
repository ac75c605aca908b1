"""Messages and SMTP settings."""

import re
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import mailer
from newsletter.outbox.server import start_outbox


def test_smtp_urls_carry_credentials_and_tls():
    plain = mailer.SmtpSettings.from_url("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.tls, plain.username) == ("mail.example.org", 25, "", None)
    full = mailer.SmtpSettings.from_url("smtp://us%40er:p%3Ass@relay:587?tls=starttls")
    assert (full.username, full.password, full.port, full.tls) == ("us@er", "p:ss", 587, "starttls")
    assert mailer.SmtpSettings.from_url("smtp://relay?tls=ssl").port == 465
    with pytest.raises(ValueError):
        mailer.SmtpSettings.from_url("http://relay")
    with pytest.raises(ValueError):
        mailer.SmtpSettings.from_url("smtp://relay?tls=maybe")


def test_a_message_is_multipart_with_encoded_headers_and_bodies():
    headers = [
        ("From", mailer.address_header("Ünïcode Sender", "news@example.org")),
        ("To", mailer.address_header("Ana", "ana@bücher.example")),
        ("Subject", mailer.encode_header("Résumé of the week – 9")),
    ]
    raw = mailer.mime_bytes(headers, "Plain text, façade\n", "<p>HTML, façade</p>")
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Résumé of the week – 9"
    assert "xn--bcher-kva.example" in message["To"]
    assert message.get_body(("plain",)).get_content().strip() == "Plain text, façade"
    assert "HTML, façade" in message.get_body(("html",)).get_content()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_header_values_with_line_breaks_are_refused():
    with pytest.raises(mailer.HeaderInjection):
        mailer.address_header("Ana\r\nBcc: all@example.org", "ana@example.org")
    with pytest.raises(mailer.HeaderInjection):
        mailer.mime_bytes([("Subject", "a\nb")], "", "")


def test_the_local_outbox_keeps_every_message(tmp_path):
    from conftest import free_port

    port = free_port()
    outbox = start_outbox(str(tmp_path / "outbox"), "127.0.0.1", port)
    try:
        raw = mailer.mime_bytes([("Subject", "Kept")], "text", "<p>html</p>")
        with mailer.connect(mailer.SmtpSettings("127.0.0.1", port)) as smtp:
            mailer.send(smtp, "news@example.org", "ana@example.org", raw)
    finally:
        outbox.stop()
    kept = list((tmp_path / "outbox" / "new").iterdir())
    assert len(kept) == 1
    stored = message_from_bytes(kept[0].read_bytes(), policy=policy.default)
    assert stored["Subject"] == "Kept" and stored["X-Outbox-To"] == "ana@example.org"


def _slotted(body: str, framed: tuple[bytes, bytes]) -> tuple[list[bytes], mailer.Stuffed]:
    """`body` as both parts of a message, each marker in it filled by `framed`; the parts'
    encoded bytes, and the whole message."""
    frame = mailer.Multipart()
    part = mailer.QuotedPrintableTemplate(body, re.compile("(@@NL[A-Z]+@@)"))
    slotted = mailer.SlottedBody(frame, part, part, lambda part, marker: 0)
    head = (mailer.header_lines(frame.headers) + "\r\n").encode()
    copy = slotted.fill([framed[0]], [framed[1]]).headed(head)
    whole = bytes(copy)
    text_start = whole.index(frame.text_head) + len(frame.text_head)
    html_start = whole.index(frame.html_head, text_start) + len(frame.html_head)
    parts = [
        whole[text_start : whole.index(frame.html_head, text_start)],
        whole[html_start : whole.index(frame.end, html_start)],
    ]
    return parts, copy


def _check_filled(body: str, framed: tuple[bytes, bytes], expected: str) -> None:
    """Both parts decode to `expected`, in 7-bit lines of at most 76, and the SMTP form is
    the message with its dots doubled."""
    import quopri

    parts, copy = _slotted(body, framed)
    for encoded in parts:
        decoded = quopri.decodestring(encoded).replace(b"\r\n", b"\n")
        assert decoded == expected.replace("\r\n", "\n").encode()
        assert all(len(line) <= 76 for line in encoded.split(b"\r\n")), encoded
        assert _QUOTED_PRINTABLE.fullmatch(encoded), encoded
    assert b"".join(copy.chunks) == mailer.double_dots(bytes(copy))


def test_dots_doubled_once_per_issue_match_dots_doubled_per_message():
    body = ".starts with a dot\n@@NLNAME@@\n.. two\nmid . line\n" + "x" * 90 + "@@NLNAME@@.\n."
    for name in (".Ana", "Bo", "." * 100, "سارا."):
        _, copy = _slotted(body, mailer.framed_value(name))
        assert b"".join(copy.chunks) == mailer.double_dots(bytes(copy))
        assert b"\r\n.." in b"".join(copy.chunks)


# Bodies and values come with bare line feeds; a lone CR next to a marker is not made.
_TEXT = st.text(
    st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)), max_size=200
)

# Quoted-printable: 7-bit, and "=" only before a line break or two hex digits.
_QUOTED_PRINTABLE = re.compile(rb"(?:[\x00-\x3c\x3e-\x7f]|=\r\n|=[0-9A-F]{2})*")


@pytest.mark.slow
@given(_TEXT, _TEXT, _TEXT)
@settings(max_examples=300, deadline=None)
def test_any_value_filled_in_decodes_to_itself_in_lines_smtp_takes(before, value, after):
    before, after = (text.replace("@@NL", "") for text in (before, after))  # no stray markers
    _check_filled(f"{before}@@NLNAME@@{after}", mailer.framed_value(value), before + value + after)


_PREFIX = st.one_of(_TEXT, st.from_regex(r"https://[a-z.]{1,70}/[a-z]{1,20}/", fullmatch=True))
# Tokens as links carry them, and what would break the short way: a leading dot, "=",
# a space at the end, more than a line.
_REST = st.one_of(_TEXT, st.from_regex(r"\.?[A-Za-z0-9_.=-]{0,90} ?", fullmatch=True))


# The open pixel's tag after its token, and its own kind of text.
_SUFFIX = st.one_of(st.just(""), _TEXT, st.just('.gif" width="1" height="1" alt=""'))


@pytest.mark.slow
@given(_TEXT, _PREFIX, _REST, _SUFFIX, _TEXT)
@settings(max_examples=300, deadline=None)
def test_a_token_framed_between_its_prefix_and_suffix_decodes_in_lines_smtp_takes(
    before, prefix, token, suffix, after
):
    """A copy's own links and pixel are framed as their prefix and suffix, encoded once,
    and the token: the text they stand for, in lines of at most 76, with dots doubled as
    SMTP wants."""
    before, after = (text.replace("@@NL", "") for text in (before, after))
    framed = mailer.TokenFrame(prefix, suffix).framed(token)
    _check_filled(f"{before}@@NLNAME@@{after}", framed, before + prefix + token + suffix + after)


def test_a_link_s_token_is_all_that_is_framed_per_copy():
    frame = mailer.TokenFrame("https://news.example.org/unsubscribe/")
    token = "WzEsMV0.Z4x1Ag.hS1b0PpJq2mQ9dE4Yx7n3kLcVtRw8uAa"
    framed, smtp = frame.framed(token)
    assert framed == smtp == frame.head + token.encode() + mailer.SOFT_BREAK
