"""A database outage seen from the participant's page: the autosave gets the server's 503 and the
page says saving is paused, keeps the cards and saves them once the server is back.

The 503 is the server's own response (qsort.errors.database_unavailable, with a one-second
Retry-After instead of 15 to keep the test short), answered for the save URL while the outage
lasts: the server side of a real outage is tested in tests/test_database_outage.py."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from playwright.sync_api import expect

from qsort.errors import database_unavailable
from qsort.studies.models import SortDraft
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_outage_pauses_saving_keeps_the_cards_and_saves_when_the_database_is_back(phone, study):
    participant = study.invite(1)[0]
    page = phone
    page.goto(f"/p/{participant.token}/")
    page.get_by_role("button", name="I agree").click()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#presort-counter")).to_have_text("Card 1 of 6")
    for _ in range(6):
        page.get_by_role("button", name="Neutral").click()
    page.get_by_role("button", name="Continue to the grid").click()
    expect(page.locator("[data-qsort][data-ready]")).to_have_count(1)

    outage = database_unavailable(RequestFactory().post(f"/p/{participant.token}/save/"))
    answered = []

    def database_down(route):
        answered.append(route.request.url)
        route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json", body=outage.content)

    save_url = f"**/p/{participant.token}/save/"
    page.route(save_url, database_down)
    card = page.locator(".p-piles .p-card").first
    number = int(card.get_attribute("data-number"))
    card.click()
    page.locator("[data-place='1']").click()
    expect(page.locator("#save-status")).to_contain_text("Saving paused, we will retry")
    expect(page.locator(f".p-col[data-value='1'] .p-card[data-number='{number}']")).to_have_count(1)  # kept here
    page.locator("#save-status").scroll_into_view_if_needed()
    screenshot(page, "participate-saving-paused-phone", full_page=False)  # as the phone shows it (the dock is pinned)
    assert answered and SortDraft.objects.get(participant=participant).state["grid"] == {}

    page.unroute(save_url)
    expect(page.locator("#save-status")).to_have_text("Saved", timeout=15_000)
    assert SortDraft.objects.get(participant=participant).state["grid"] == {"1": [number]}
