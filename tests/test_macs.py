"""The MACs a send makes for every copy, keyed once, are the HMACs the standard library
makes: the links and tokens of copies already sent keep working."""

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from newsletter import macs

# Keys longer than a block (64 bytes for both) are hashed first, as RFC 2104 says.
keys = st.binary(max_size=200)
messages = st.binary(max_size=300)


@given(key=keys, message=messages, digest=st.sampled_from(["sha1", "sha256"]))
def test_a_keyed_mac_is_the_hmac_of_the_standard_library(key, message, digest):
    assert macs.Keyed(key, digest).digest(message) == hmac.new(key, message, digest).digest()


@given(key=keys, first=messages, second=messages)
def test_one_key_serves_many_messages_unchanged(key, first, second):
    keyed = macs.Keyed(key, "sha256")
    keyed.digest(first)
    assert keyed.digest(second) == hmac.new(key, second, "sha256").digest()


@given(delivery_id=st.integers(min_value=0, max_value=2**63), secret=st.text(min_size=1))
def test_a_short_mac_is_the_start_of_the_hmac_under_the_purposes_key(delivery_id, secret):
    key = hashlib.sha256(b"purpose:" + secret.encode()).digest()
    expected = hmac.new(key, str(delivery_id).encode(), "sha256").hexdigest()[: macs.LENGTH]
    assert macs.short_mac(b"purpose", delivery_id, secret) == expected
