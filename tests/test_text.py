"""Text from feeds, mail and servers, made what the database keeps."""

from hypothesis import given
from hypothesis import strategies as st

from newsletter.text import storable, web_url

# Any code point, halves of surrogate pairs and NUL among them.
ANYTHING = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF))


@given(ANYTHING)
def test_storable_text_is_utf8_without_nul(value):
    kept = storable(value)
    assert "\0" not in kept
    kept.encode("utf-8")  # raises on half a surrogate pair


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")))
def test_text_the_database_keeps_is_left_as_it_is(value):
    assert storable(value) == value


def test_what_it_cannot_keep_is_dropped_or_marked():
    assert storable("a\0b\ud800c\udfffd") == "ab\ufffdc\ufffdd"


@given(st.text(max_size=80), st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", ""]))
def test_a_web_url_is_one_token_of_http_and_stays_as_it_is(tail, scheme):
    url = web_url(scheme + "example.org/" + tail)
    if url is None:
        return
    assert url.lower().startswith(("http://", "https://"))
    assert not any(char.isspace() or char in '"<>`{}' for char in url)
    assert web_url(url) == url  # read again, nothing changes


def test_a_web_url_is_encoded_after_its_host_and_refused_before_it():
    assert web_url(" https://example.org/a b?q=c d#e f ") == (
        "https://example.org/a%20b?q=c%20d#e%20f"
    )
    assert web_url("https://example.org/a\u00a0b") == "https://example.org/a%C2%A0b"
    assert web_url('https://example.org/"><b>') == "https://example.org/%22%3E%3Cb%3E"
    assert web_url("https://fa.example.org/خبر") == "https://fa.example.org/خبر"
    for bad in (
        "https://exa mple.org/",
        "https://example.org:99999/",
        "https://example.org:port/",
        "javascript:alert(1)",
        "https://.example.org/",
        "https://example.org/a\nb",
        "https://example.org/" + "a" * 2000,
    ):
        assert web_url(bad) is None, bad
