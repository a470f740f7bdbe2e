"""Shared phones and computers: the open link's memory of a participant ends with the browser,
is forgotten on completion, and the next person can start a new sort without seeing the other's."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_study

pytestmark = pytest.mark.django_db

SORT = {"1": -1, "2": -1, "3": 0, "4": 0, "5": 1, "6": 1}


@pytest.fixture
def open_study(owner):
    return make_study(owner, slug="open", open_link_enabled=True)


def join(client: Client):
    response = client.post("/s/open/", {"choice": "agree"})
    return response["Location"].split("/")[2]


def test_the_open_link_session_ends_with_the_browser(open_study):
    client = Client()
    join(client)
    assert client.cookies["sessionid"]["expires"] == ""  # a session cookie, not kept for 14 days
    assert client.cookies["sessionid"]["max-age"] == ""
    assert client.session.get_expire_at_browser_close()


def test_not_you_starts_a_new_sort_and_the_other_stays_untouched(open_study):
    client = Client()
    first = join(client)
    page = client.get("/s/open/")
    assert "Not you? Start a new sort" in page.content.decode()
    fresh = client.post("/s/open/", {"choice": "new"})
    html = fresh.content.decode()
    assert fresh.status_code == 200 and "I agree" in html and first not in html
    second = join(client)
    assert second != first
    assert open_study.participants.count() == 2
    assert f"/p/{first}/" not in client.get("/s/open/").content.decode()


def test_a_completed_sort_is_forgotten_by_the_browser(open_study):
    client = Client()
    token = join(client)
    client.post(f"/p/{token}/step/", {"to": "presort"})
    placements = [f"{n}:{v}" for n, v in SORT.items()]
    participant = open_study.participants.get()
    participant.stage = "review"
    participant.save(update_fields=["stage"])
    response = client.post(f"/p/{token}/submit/", {"placement": placements})
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.is_completed
    # The next person on this browser gets the consent page, not the thanks of the last one.
    page = client.get("/s/open/")
    assert page.status_code == 200 and "I agree" in page.content.decode()
    assert token not in page.content.decode()
