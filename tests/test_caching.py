"""What a cache may keep. An editor's pages list readers' addresses, and a reader's own pages
(preferences, confirming, leaving) show their address and carry their signed link: no cache
keeps them, the browser's own included, where Back after signing out at a shared computer
would show the readers again (OWASP's session management guidance: Cache-Control: no-store
on pages with sensitive data). The archive is public and cached for a while; the static
files are revalidated by their ETag."""

import pytest
from builders import confirmed_subscriber, sent_issue

from newsletter import links

NOT_KEPT = "no-store"


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/lists", "/admin/subscribers", "/admin/lists/weekly/posts", "/admin/users"],
)
def test_an_editors_pages_are_kept_by_no_cache(editor_client, weekly, path):
    answer = editor_client.get(path)
    assert answer.status_code in (200, 403)
    assert answer.headers["Cache-Control"] == NOT_KEPT


def test_a_readers_own_pages_are_kept_by_no_cache(client, weekly):
    reader = confirmed_subscriber(weekly, "maryam@example.org", name="مریم 🌷")
    preferences = "/preferences/" + links.make(links.PREFERENCES, reader.id, weekly.id)
    leaving = "/unsubscribe/" + links.make(links.UNSUBSCRIBE, reader.id, weekly.id)
    for path in (preferences, leaving, "/subscribe/weekly", "/preferences/not-a-token"):
        answer = client.get(path)
        assert answer.status_code < 500
        assert answer.headers["Cache-Control"] == NOT_KEPT, path


def test_the_api_answers_are_kept_by_no_cache(api, weekly):
    confirmed_subscriber(weekly, "reader@example.org")
    for path in ("/subscribers", "/lists", "/issues", "/subscribers/999999"):
        assert api.get(path).headers["Cache-Control"] == NOT_KEPT, path


def test_the_archive_stays_public_and_cached(client, weekly, inbox):
    issue = sent_issue(weekly, inbox)
    for path in ("/archive/weekly", f"/archive/weekly/{issue.number}", "/archive/weekly/feed.xml"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "public" in answer.headers["Cache-Control"], path
        assert NOT_KEPT not in answer.headers["Cache-Control"], path


def test_the_static_files_are_revalidated_not_refused(client):
    answer = client.get("/static/site.css")
    assert answer.status_code == 200 and answer.headers.get("ETag")
    assert NOT_KEPT not in answer.headers.get("Cache-Control", "")
