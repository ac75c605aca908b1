"""The local outbox page of the embedded defaults."""

import mailbox
import re

import pytest
from conftest import free_port

from newsletter import mailer
from newsletter.outbox.server import start_outbox


@pytest.fixture
def outbox(make_app, tmp_path):
    folder = str(tmp_path / "outbox")
    port = free_port()
    server = start_outbox(folder, "127.0.0.1", port)
    app = make_app(OUTBOX_DIR=folder, SMTP_URL=f"smtp://127.0.0.1:{port}")

    def send(subject: str, html: str, text: str = "text") -> None:
        headers = [
            ("From", mailer.address_header("News", "news@example.org")),
            ("To", mailer.address_header("Ana", "ana@example.org")),
            ("Subject", mailer.encode_header(subject)),
        ]
        with mailer.connect(mailer.SmtpSettings("127.0.0.1", port)) as smtp:
            mailer.send(
                smtp, "news@example.org", "ana@example.org", mailer.mime_bytes(headers, text, html)
            )

    app.send = send
    yield app
    server.stop()


def test_the_outbox_page_exists_only_on_the_embedded_defaults(client):
    assert client.get("/outbox/").status_code == 404


def test_an_empty_outbox_says_how_mail_gets_there(outbox):
    page = outbox.test_client().get("/outbox/")
    assert page.status_code == 200 and "No mail yet" in page.text


def test_the_outbox_answers_this_machine_only(outbox):
    """Every reader's links are in it: `newsletter dev --host 0.0.0.0` served it to anyone
    on the network."""
    client = outbox.test_client()
    for address, status in (("127.0.0.1", 200), ("::1", 200), ("192.168.1.20", 404)):
        assert client.get("/outbox/", environ_base={"REMOTE_ADDR": address}).status_code == status
    # Nor can a stranger empty it (refused for want of its form token first).
    stranger = {"REMOTE_ADDR": "10.0.0.5"}
    assert client.post("/outbox/clear", environ_base=stranger).status_code in (400, 404)


def test_sent_mail_is_listed_with_decoded_subjects_and_shown_with_its_links(outbox):
    outbox.send(
        "Bienvenue – café <b>", '<p>Hi <a href="http://newsletter.test/confirm/abc">go</a></p>'
    )
    client = outbox.test_client()
    page = client.get("/outbox/")
    assert "Bienvenue – café &lt;b&gt;" in page.text
    key = re.search(r'href="/outbox/([^"/]+)"', page.text).group(1)
    shown = client.get(f"/outbox/{key}")
    assert shown.status_code == 200
    assert 'href="http://newsletter.test/confirm/abc"' in shown.text
    assert "ana@example.org" in shown.text
    # The envelope sender, where bounces would go, is kept as a mailbox keeps it.
    [stored] = mailbox.Maildir(outbox.config["OUTBOX_DIR"])
    assert stored["Return-Path"] == "<news@example.org>"


def test_mail_html_is_served_in_a_sandbox(outbox):
    outbox.send("Scripted", "<p>x</p><script>alert(1)</script>")
    client = outbox.test_client()
    key = re.search(r'href="/outbox/([^"/]+)"', client.get("/outbox/").text).group(1)
    html = client.get(f"/outbox/{key}/html")
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    assert "default-src 'none'" in html.headers["Content-Security-Policy"]
    assert client.get(f"/outbox/{key}/raw").status_code == 200


def test_unknown_messages_are_not_found(outbox):
    assert outbox.test_client().get("/outbox/1234.nope").status_code == 404


def test_delete_all_empties_the_outbox(outbox):
    outbox.send("One", "<p>1</p>")
    client = outbox.test_client()
    page = client.get("/outbox/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/outbox/clear", data={"csrf_token": token}).status_code == 302
    assert "No mail yet" in client.get("/outbox/").text
