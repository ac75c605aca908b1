"""Per-reader values go only where our templates put them, never where feed or editor text
merely looks like one of our markers."""

import html
import re
from datetime import UTC, datetime

from builders import confirmed_subscriber, start_sending

from newsletter.digest import render
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Post
from newsletter.sending import loop

FORGED = "@@NLPREFERENCES@@ @@NLUNSUBSCRIBE@@ @@NLNAME@@ @@@NLNAME@@NLNAME@@"
FEED_URL = "https://feed.example/track?p=@@NLPREFERENCES@@&u=@@NLUNSUBSCRIBE@@&n=@@NLNAME@@"


def forged_issue(mailing_list):
    db.session.add(
        Post(
            list_id=mailing_list.id,
            guid="p1",
            url=FEED_URL,
            title=f"Read me {FORGED}",
            source=FORGED,
            excerpt=FORGED,
            published_at=datetime(2019, 8, 2, tzinfo=UTC),
        )
    )
    db.session.commit()
    return compose_issue(
        mailing_list,
        datetime(2019, 8, 1, tzinfo=UTC),
        datetime(2019, 8, 8, tzinfo=UTC),
        subject=f"Week {FORGED}",
        intro=f"Hello {FORGED} [link](https://intro.example/?t=@@NLPREFERENCES@@)",
    )


def test_marker_look_alikes_in_feed_and_editor_text_get_no_subscriber_values(app, weekly, inbox):
    ana = confirmed_subscriber(weekly, "ana@example.org", "Ana Reader", commit=False)
    ana.no_tracking = True  # her copy fills each link's marker with the link as it is
    db.session.commit()
    issue = forged_issue(weekly)
    start_sending(issue)
    assert loop.send_batch(issue.id).sent == 1
    [received] = inbox.messages
    for body in (received.part("html"), received.part("plain")):
        assert body.count("http://newsletter.test/preferences/") == 1
        assert body.count("http://newsletter.test/unsubscribe/") == 1
        assert body.count("Ana Reader") == 1
    page = received.part("html")
    assert "Hello Ana Reader," in page
    # The feed's own link is kept exactly as the feed wrote it.
    [link] = re.findall(r'href="(https://feed\.example/[^"]*)"', page)
    assert html.unescape(link) == FEED_URL
    assert "Read me" in page and "@@" in html.unescape(page)


def test_editors_previews_fill_in_only_our_own_places(app, weekly):
    html_page, text = render.preview(forged_issue(weekly))
    assert html_page.count('href="#preferences"') == 1
    assert html_page.count('href="#unsubscribe"') == 1
    assert text.count("#preferences") == 1 and text.count("#unsubscribe") == 1
    assert "Hello Reader," in html_page
