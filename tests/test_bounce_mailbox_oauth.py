"""The bounce mailbox signed in with OAuth 2.0 (XOAUTH2), as Microsoft 365 and Gmail require:
a real Dovecot (tests/dovecot.py) asks a provider (tests/oauth_provider.py, answering as
Microsoft's identity platform and Graph's /me do) whose the token is. Over IMAP and POP3,
TLS and STARTTLS; client credentials and refresh tokens; a token kept and renewed; the
provider's refusals, a token revoked early, an endpoint that redirects, that answers in
HTML or not at all; and the settings a deployment gives."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from bounce_mail import BOUNCE_DOMAIN, complaint, dsn
from builders import send_one_batch, stored_subscriber
from dovecot import WAYS, Dovecot
from mailboxes import self_signed
from oauth_provider import Provider

from newsletter import config
from newsletter.bounces import oauth
from newsletter.bounces.mailbox import MailboxError, fetch

NOTE = b"From: reader2@example.org\r\nSubject: Thanks!\r\n\r\nLovely issue.\r\n"
SCOPE = "https://outlook.office365.com/.default"


@pytest.fixture
def certificate(monkeypatch):
    """One certificate for 127.0.0.1 that the box and the provider serve and the poller
    trusts (SSL_CERT_FILE), in a folder Dovecot's own users can read."""
    folder = Path(tempfile.mkdtemp(prefix="oauth-"))
    folder.chmod(0o755)
    pem, key = self_signed(folder)
    pem.chmod(0o644)
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    yield pem, key
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def provider(certificate):
    with Provider(*certificate, user="bounces@example.org", refresh_token="0.ARwA-refresh") as idp:
        yield idp


@pytest.fixture
def box(provider, certificate):
    with Dovecot(
        user="bounces@example.org",
        password="not-this-one",
        introspection=provider.url + "/me",
        certificate=certificate,
    ) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_token_kept():
    """Tokens are kept a process long; each test starts with none."""
    oauth._tokens.clear()
    yield
    oauth._tokens.clear()


def app_client(provider: Provider, **settings) -> oauth.Client:
    """A client as Microsoft's app-only access (client credentials) has it."""
    fields = {"client_id": provider.client_id, "client_secret": provider.client_secret}
    return oauth.Client(provider.url + "/token", **{**fields, **settings})


def url(box: Dovecot, way: str) -> str:
    """The box's URL with no password: the token signs in."""
    return box.url(way).replace(":not-this-one@", "@")


# --- Signing in and reading ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("way", WAYS)
def test_a_box_signed_in_with_a_token_is_read_and_emptied(app, weekly, inbox, box, provider, way):
    app.config.update(BOUNCE_DOMAIN=BOUNCE_DOMAIN, DEAD_ADDRESSES_PAUSE=0)
    send_one_batch(weekly, 2)
    (dead, complained), returns = (
        [message.recipients[0] for message in inbox.messages[:2]],
        [f"Delivered-To: {message.sender}\r\n".encode() for message in inbox.messages[:2]],
    )
    box.put([returns[0] + dsn(dead, "5.1.1"), returns[1] + complaint(complained), NOTE])
    assert fetch(url(box, way), oauth=app_client(provider, scope=SCOPE)) == 3
    assert box.files() == []
    assert stored_subscriber(dead).status == "bounced"
    assert stored_subscriber(complained).status == "complained"
    assert provider.forms == [
        {
            "client_id": provider.client_id,
            "grant_type": "client_credentials",
            "client_secret": provider.client_secret,
            "scope": SCOPE,
        }
    ]


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["imaps", "pop3s"])
def test_a_refresh_token_s_access_token_is_kept_until_a_minute_before_it_ends(
    app, box, provider, scheme
):
    """Gmail's and delegated Microsoft access: the refresh token's grant, no scope sent when
    none is set. Two polls share one token; one that lasts 61 s is renewed after 1 s."""
    client = app_client(provider, refresh_token=provider.refresh_token)
    for _ in range(2):
        box.put([NOTE])
        assert fetch(url(box, scheme), oauth=client) == 1
    assert provider.grants == 1
    assert provider.forms[0]["grant_type"] == "refresh_token"
    assert provider.forms[0]["refresh_token"] == provider.refresh_token
    assert "scope" not in provider.forms[0]
    provider.lasts = 61
    oauth._tokens.clear()
    box.put([NOTE])
    assert fetch(url(box, scheme), oauth=client) == 1
    time.sleep(1.1)
    box.put([NOTE])
    assert fetch(url(box, scheme), oauth=client) == 1
    assert provider.grants == 3


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["imaps", "pop3s"])
def test_a_token_revoked_early_fails_one_poll_and_the_next_asks_anew(app, box, provider, scheme):
    client = app_client(provider)
    box.put([NOTE])
    assert fetch(url(box, scheme), oauth=client) == 1
    provider.revoke()  # an administrator ended the app's sessions
    box.put([NOTE])
    kept = box.files()
    with pytest.raises(MailboxError, match="authentication failure"):
        fetch(url(box, scheme), oauth=client)
    assert box.files() == kept
    assert fetch(url(box, scheme), oauth=client) == 1
    assert provider.grants == 2 and box.files() == []


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["imaps", "pop3s"])
def test_a_token_for_someone_else_is_refused(app, provider, certificate, scheme):
    """The provider vouches for bounces@example.org; the box's user is another."""
    with Dovecot(
        user="editor@example.org", introspection=provider.url + "/me", certificate=certificate
    ) as other:
        other.put([NOTE])
        plain = other.url(scheme).replace(":secret@", "@")
        with pytest.raises(MailboxError):
            fetch(plain, oauth=app_client(provider))
        assert len(other.files()) == 1


# --- The provider's refusals and failures --------------------------------------------------


def refusal(box: Dovecot, client: oauth.Client, scheme: str = "imaps") -> str:
    """The poll's error, the box untouched."""
    box.put([NOTE])
    kept = box.files()
    with pytest.raises(MailboxError) as raised:
        fetch(url(box, scheme), oauth=client)
    assert box.files() == kept
    return str(raised.value)


@pytest.mark.slow
def test_an_expired_refresh_token_says_so_in_the_provider_s_words(app, box, provider):
    said = refusal(box, app_client(provider, refresh_token="0.ARwA-expired"))
    assert "invalid_grant" in said and "AADSTS70000" in said
    assert "0.ARwA-expired" not in said and provider.client_secret not in said
    assert len(said) < 400  # the description is cut, not the whole trace


@pytest.mark.slow
def test_a_wrong_client_secret_says_so_and_shows_no_secret(app, box, provider):
    said = refusal(box, app_client(provider, client_secret="wrong-secret"))
    assert "invalid_client" in said and "AADSTS7000215" in said
    assert "wrong-secret" not in said


@pytest.mark.slow
@pytest.mark.parametrize(
    "status, body, words",
    [
        (502, b"<html><body>Bad gateway</body></html>", "HTTP 502 and no access token"),
        (200, b'{"token_type": "Bearer"}', "HTTP 200 and no access token"),
        (200, b'{"access_token": "x", "expires_in": "soon"}', "no access token"),
        (200, b'["access_token"]', "HTTP 200 and no access token"),
        (200, b'{"access_token": "' + b"x" * 70_000 + b'"}', "no access token"),
        (
            503,
            json.dumps(
                {"error": "temporarily_unavailable", "error_description": "سرور مشغول است"},
                ensure_ascii=False,
            ).encode(),
            "temporarily_unavailable سرور مشغول است",
        ),
    ],
)
def test_a_token_endpoint_that_gives_no_token_is_a_clear_error(
    app, box, provider, status, body, words
):
    provider.answer = (status, body)
    assert words in refusal(box, app_client(provider))


@pytest.mark.slow
def test_a_redirect_is_not_followed_and_the_secret_goes_nowhere_else(
    app, box, provider, certificate
):
    with Provider(*certificate, user="bounces@example.org") as elsewhere:
        provider.answer = (302, b"")
        provider.headers = {"Location": elsewhere.url + "/token"}
        said = refusal(box, app_client(provider))
        assert "HTTP 302" in said
        assert elsewhere.forms == []


@pytest.mark.slow
def test_an_endpoint_that_does_not_answer_is_a_clear_error(app, box, provider):
    closed = oauth.Client("https://127.0.0.1:9/token", "id", "secret")
    assert "could not be reached" in refusal(box, closed)


@pytest.mark.slow
@pytest.mark.timeout(20)
def test_an_endpoint_that_trickles_its_answer_is_given_up_at_the_deadline(provider):
    """A byte every 0.2 s keeps each read within its timeout; the whole answer (about 750
    bytes, two and a half minutes) may not have more than the deadline."""
    provider.drip = 0.2
    started = time.monotonic()
    with pytest.raises(oauth.TokenError) as raised:
        app_client(provider).token(timeout=1)
    assert time.monotonic() - started < 5
    assert str(raised.value) == "the token endpoint 127.0.0.1 gave no answer in 1 s"
    provider.drip = 0
    assert app_client(provider).token(timeout=1)  # the same endpoint answering in time


@pytest.mark.slow
def test_a_token_endpoint_whose_certificate_no_authority_vouches_for_gets_no_secret(
    app, box, provider, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", os.devnull)
    said = refusal(box, app_client(provider), scheme="imap")
    assert "CERTIFICATE_VERIFY_FAILED" in said
    assert provider.forms == []


# --- Through the app -----------------------------------------------------------------------


@pytest.mark.slow
def test_the_fetch_command_and_beat_s_poll_sign_in_with_the_app_s_settings(
    app, runner, box, provider
):
    from worker.tasks import fetch_bounces

    app.config.update(
        BOUNCE_MAILBOX=url(box, "imaps"),
        BOUNCE_MAILBOX_OAUTH_TOKEN_URL=provider.url + "/token",
        BOUNCE_MAILBOX_OAUTH_CLIENT_ID=provider.client_id,
        BOUNCE_MAILBOX_OAUTH_CLIENT_SECRET=provider.client_secret,
        BOUNCE_MAILBOX_OAUTH_REFRESH_TOKEN=None,
        BOUNCE_MAILBOX_OAUTH_SCOPE=SCOPE,
    )
    box.put([NOTE])
    result = runner.invoke(args=["bounces", "fetch"])
    assert result.exit_code == 0 and "1 message read" in result.output, result.output
    box.put([NOTE, NOTE])
    assert fetch_bounces.run() == 2
    assert provider.grants == 1 and box.files() == []


def test_the_settings_read_from_the_environment(tmp_path, monkeypatch):
    assert oauth.client(config.load(tmp_path)) is None
    monkeypatch.setenv(
        "NEWSLETTER_BOUNCE_MAILBOX_OAUTH_TOKEN_URL",
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
    )
    monkeypatch.setenv("NEWSLETTER_BOUNCE_MAILBOX_OAUTH_CLIENT_ID", " 3f0c1d5e ")
    monkeypatch.setenv("NEWSLETTER_BOUNCE_MAILBOX_OAUTH_SCOPE", SCOPE)
    client = oauth.client(config.load(tmp_path))
    assert client == oauth.Client(
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        "3f0c1d5e",
        scope=SCOPE,
    )


@pytest.mark.parametrize(
    "token_url, client_id, words",
    [
        ("http://login.example.org/token", "id", "must be an https:// URL"),
        ("login.example.org/token", "id", "must be an https:// URL"),
        ("https:///token", "id", "must be an https:// URL"),
        ("https://login.example.org/token", "", "CLIENT_ID too"),
    ],
)
def test_settings_that_would_leak_the_secret_or_cannot_work_stop_the_start(
    tmp_path, monkeypatch, token_url, client_id, words
):
    monkeypatch.setenv("NEWSLETTER_BOUNCE_MAILBOX_OAUTH_TOKEN_URL", token_url)
    monkeypatch.setenv("NEWSLETTER_BOUNCE_MAILBOX_OAUTH_CLIENT_ID", client_id)
    with pytest.raises(ValueError, match=words):
        config.load(tmp_path)


def test_a_client_shown_in_a_log_shows_no_secret():
    shown = repr(oauth.Client("https://login.example.org/token", "id", "s3cr3t", "1//0refresh"))
    assert "s3cr3t" not in shown and "1//0refresh" not in shown and "id" in shown


def test_the_xoauth2_response_is_as_google_and_microsoft_document_it():
    assert oauth.xoauth2(
        "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
    ) == (
        b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
        b"\x01\x01"
    )
