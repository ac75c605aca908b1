import re

from newsletter.models import Subscription


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_subscribe_sends_confirmation(client, weekly, inbox, worker):
    page = client.get("/subscribe/weekly")
    assert page.status_code == 200
    token = csrf_from(page.text)
    answer = client.post("/subscribe/weekly", data={"email": "Ana@Example.org", "name": "Ana", "csrf_token": token})
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    mail = inbox.wait_for(1, recipient="ana@example.org")[0]
    text = mail.part("plain")
    link = re.search(r"http://newsletter.test/confirm/\S+", text).group(0).rstrip(">")
    path = link.replace("http://newsletter.test", "")
    assert client.get(path).status_code == 200
    page = client.get(path)
    done = client.post(path, data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 200
    assert Subscription.query.one().status == "confirmed"
