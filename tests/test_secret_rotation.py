"""A new NEWSLETTER_SECRET_KEY with the old one in NEWSLETTER_SECRET_KEY_FALLBACKS: what was
signed before (the links, return path and Message-ID of mail already sent, an editor's
session) still works, and everything new is signed with the new key. Without the fallback
all of it stopped at once: unsubscribe and preferences pages said "not valid", clicks gave
404 and bounces were not acted on."""

import re

import pytest
from bounce_mail import BOUNCE_DOMAIN
from builders import confirmed, counted, path_of, sent_issue, tracked_links

from newsletter import analytics, config, links, macs, message_ids, verp
from newsletter.extensions import db
from newsletter.models import Delivery, Subscription

OLD = "test-secret-key"  # the key the tests' app signs with (conftest.settings_for)
NEW = "a new key, after the old one leaked"


@pytest.fixture
def rotated(make_app, monkeypatch):
    """The new key, and the old one from the environment as an operator sets it."""
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY_FALLBACKS", f"an older key,{OLD}")
    return make_app(SECRET_KEY=NEW, BOUNCE_DOMAIN=BOUNCE_DOMAIN)


@pytest.fixture
def forgotten(make_app):
    """The new key alone, as before there were fallbacks."""
    return make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[], BOUNCE_DOMAIN=BOUNCE_DOMAIN)


@pytest.fixture
def old_copy(app, weekly, inbox):
    """A copy of an issue sent under the old key: opens counted, a VERP return path."""
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    weekly.track_opens = True
    db.session.commit()
    issue = sent_issue(weekly, inbox, readers=1)
    return issue, inbox.messages[0]


def pages_of(mail) -> dict[str, str]:
    html = mail.part("html")
    unsubscribe = re.search(
        r"<https?://[^/]+(/unsubscribe/[^>]+)>", mail.message["List-Unsubscribe"]
    )
    return {
        "unsubscribe": unsubscribe.group(1),
        "preferences": re.search(r'href="https?://[^/]+(/preferences/[^"]+)"', html).group(1),
        "click": path_of(tracked_links(mail)[0][0]),
        "open": re.search(r'src="https?://[^"]+(/o/[^"]+\.gif)"', html).group(1),
    }


def named(other_app, mail) -> tuple[int | None, int | None]:
    """The delivery the copy's return path and Message-ID name to this app."""
    with other_app.app_context():
        secrets = macs.keys(other_app.config)
        return (
            verp.delivery_id(mail.sender),
            message_ids.delivery_id(mail.message["Message-ID"], secrets),
        )


def test_mail_sent_before_the_key_changed_works_with_the_old_key_as_a_fallback(
    app, rotated, old_copy
):
    issue, mail = old_copy
    delivery = db.session.query(Delivery).one()
    reader = rotated.test_client(use_cookies=False)
    paths = pages_of(mail)
    assert reader.get(paths["preferences"]).status_code == 200
    assert reader.get(paths["unsubscribe"]).status_code == 200
    click = reader.get(paths["click"])
    assert (click.status_code, click.headers["Location"]) == (
        302,
        "https://example.org/report?a=1&b=2",
    )
    reader.get(paths["open"])
    confirmed(rotated)
    counted()
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1
    assert analytics.issue_stats(issue).opens == 1
    assert named(rotated, mail) == (delivery.id, delivery.id)
    one_click = reader.post(paths["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    db.session.expire_all()
    assert Subscription.query.one().status == "unsubscribed"


def test_without_the_fallback_the_same_mail_names_nobody(app, forgotten, old_copy):
    issue, mail = old_copy
    reader = forgotten.test_client(use_cookies=False)
    paths = pages_of(mail)
    assert reader.get(paths["preferences"]).status_code == 400
    assert (
        reader.post(paths["unsubscribe"], data={"List-Unsubscribe": "One-Click"}).status_code == 400
    )
    assert reader.get(paths["click"]).status_code == 404
    reader.get(paths["open"])  # a pixel is answered, but counts for no one
    confirmed(forgotten)
    counted()
    assert analytics.issue_stats(issue).opens == 0
    assert named(forgotten, mail) == (None, None)
    db.session.expire_all()
    assert Subscription.query.one().status == "confirmed"


def test_what_is_signed_after_the_change_is_signed_with_the_new_key(app, rotated, forgotten):
    """Signed by the rotated app, each checks out with the new key alone, not the old."""
    with rotated.app_context():
        made = {
            "link": links.make(links.UNSUBSCRIBE, 7, 3),
            "copy's link": links.Links(links.UNSUBSCRIBE, 3).token(7),  # as a send makes them
            "token": analytics.token(4217),
            "path": verp.return_path(4217),
            "id": message_ids.make(4217, "9.3a24db1a8a81@newsletter.test", NEW),
        }
        assert links.read(links.UNSUBSCRIBE, made["link"]) == links.LinkTarget(7, 3)
    with forgotten.app_context():
        for link in (made["link"], made["copy's link"]):
            assert links.read(links.UNSUBSCRIBE, link) == links.LinkTarget(7, 3)
        assert analytics.delivery_id(made["token"]) == 4217
        assert verp.delivery_id(made["path"]) == 4217
        assert message_ids.delivery_id(made["id"], [NEW]) == 4217
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    for link in (made["link"], made["copy's link"]):
        with pytest.raises(links.TokenError):
            links.read(links.UNSUBSCRIBE, link)
    assert analytics.delivery_id(made["token"]) is None
    assert verp.delivery_id(made["path"]) is None
    assert message_ids.delivery_id(made["id"], [OLD]) is None


def test_an_editors_session_survives_the_change_only_with_the_fallback(
    editor_client, rotated, forgotten
):
    saved = editor_client.get_cookie("session").value
    for other, status in ((rotated, 200), (forgotten, 302)):
        browser = other.test_client()
        browser.set_cookie("session", saved)
        assert browser.get("/admin/").status_code == status


def test_the_fallbacks_are_comma_separated(monkeypatch, tmp_path):
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY_FALLBACKS", raising=False)
    assert config.load(tmp_path)["SECRET_KEY_FALLBACKS"] == []
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY_FALLBACKS", " older , oldest ")
    assert config.load(tmp_path)["SECRET_KEY_FALLBACKS"] == ["older", "oldest"]
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY_FALLBACKS", "older,,oldest")
    with pytest.raises(ValueError, match="^NEWSLETTER_SECRET_KEY_FALLBACKS has an empty key"):
        config.load(tmp_path)
