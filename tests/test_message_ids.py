"""Each copy's Message-ID names its delivery, and a reader who sees their own cannot write a
neighbour's: a complaint quoting one is about that one reader for sure."""

from hypothesis import given
from hypothesis import strategies as st

from newsletter import message_ids

SECRET = "a secret"
suffixes = st.builds(
    "{}.{}@{}".format,
    st.integers(min_value=1, max_value=10**9),
    st.binary(min_size=1, max_size=8).map(bytes.hex),
    st.sampled_from(["mail.example.org", "xn--mgbh0fb.example", "a.b.c.d"]),
)
ids = st.integers(min_value=1, max_value=2**63)


@given(delivery_id=ids, suffix=suffixes)
def test_a_message_id_names_its_delivery(delivery_id, suffix):
    made = message_ids.make(delivery_id, suffix, SECRET)
    assert made.startswith(f"<{delivery_id}.") and made.endswith(f".{suffix}>")
    assert message_ids.delivery_id(made, [SECRET]) == delivery_id
    assert message_ids.delivery_id(f" {made.upper()}\r\n", [SECRET]) == delivery_id


@given(delivery_id=ids, other=ids, suffix=suffixes)
def test_another_readers_number_with_this_mac_names_nobody(delivery_id, other, suffix):
    made = message_ids.make(delivery_id, suffix, SECRET)
    forged = made.replace(f"<{delivery_id}.", f"<{other}.", 1)
    assert message_ids.delivery_id(forged, [SECRET]) == (other if other == delivery_id else None)


@given(text=st.text(max_size=200))
def test_what_is_not_ours_names_nobody(text):
    assert message_ids.delivery_id(text, [SECRET]) is None


def test_the_old_shape_and_another_secret_name_nobody():
    # Before each copy carried a MAC: <delivery.issue.random@domain>, guessable by a reader.
    assert message_ids.delivery_id("<4218.7.3a24db1a8a81@mail.example.org>", [SECRET]) is None
    made = message_ids.make(4217, "7.3a24db1a8a81@mail.example.org", SECRET)
    assert message_ids.delivery_id(made, ["another secret"]) is None
    fake_mac = made.split(".")[1]
    assert message_ids.delivery_id(made.replace(fake_mac, "0" * len(fake_mac)), [SECRET]) is None
