"""An attacker's review of the day's changes, each case through the real entry points: what
an attacker sends, and that it gains nothing."""

from __future__ import annotations

import pytest
from builders import PASSWORD, try_sign_in, user

from newsletter import accounts
from newsletter.extensions import limiter

BOSS = "boss@example.org"
# What signs in as boss@example.org, each spelled apart: the forms normalise_email reads as
# the one address (case, "mailto:", angle brackets, a sentence's full stop, invisible
# characters, a CJK keyboard's full-width letters).
SPELLINGS = [
    "BOSS@example.org",
    "mailto:boss@example.org",
    "<boss@example.org>",
    "boss@example.org.",
    "bo\u200bss@example.org",
    "b\u200boss@example.org",
    "\u2060boss@example.org",
    "ｂｏｓｓ@example.org",
]


@pytest.fixture
def owner(app):
    limiter.reset()
    yield user(BOSS, "admin")
    limiter.reset()


# --- Admin sign-in: one account, however its address is spelled ---------------------------


def _signs_in(app, email: str, password: str, network: str) -> bool:
    return try_sign_in(app, email, password, network).status_code == 302


def test_guesses_spelled_apart_count_for_the_account(app, owner, monkeypatch):
    """Each spelling had a count of its own: a guesser over many networks varying the
    address (there is no end of invisible characters to put in it) was never held."""
    monkeypatch.setattr(accounts, "FAILURES_PER_ACCOUNT", 6)  # fewer password hashes to wait for
    for i, spelled in enumerate(SPELLINGS[: accounts.FAILURES_PER_ACCOUNT]):
        assert not _signs_in(app, spelled, "wrong password!", f"198.51.100.{i + 1}")
    assert not _signs_in(app, "bo\u200c\u200css@example.org", PASSWORD, "192.0.2.99")
    assert not _signs_in(app, BOSS, PASSWORD, "192.0.2.98")


def test_guesses_spelled_apart_from_one_network_count_together(app, owner):
    for spelled in SPELLINGS[1 : accounts.FAILURES_PER_ADDRESS + 1]:
        assert not _signs_in(app, spelled, "wrong password!", "198.51.100.7")
    assert not _signs_in(app, SPELLINGS[-1], PASSWORD, "198.51.100.7")
