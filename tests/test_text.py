"""Text from feeds, mail and servers, made what the database keeps."""

from hypothesis import given
from hypothesis import strategies as st

from newsletter.text import storable

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
