"""The participant pages that are not part of sorting itself: leaving, closed studies, the open link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from qsort.participate import services
from tests.browser.conftest import axe_violations, screenshot
from tests.conftest import make_study

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_leaving_the_open_link_stores_nothing_and_the_pages_are_accessible(request, owner, viewport):
    browser_page = request.getfixturevalue(viewport)
    study = make_study(owner, slug="open-study", open_link_enabled=True)
    browser_page.goto("/s/open-study/")
    assert axe_violations(browser_page) == []
    screenshot(browser_page, f"participate-{viewport}-open-link")
    browser_page.get_by_role("button", name="No thanks, leave").click()
    expect(browser_page.get_by_role("heading", name="You have left the study")).to_be_visible()
    assert axe_violations(browser_page) == []
    screenshot(browser_page, f"participate-{viewport}-left")
    assert not study.participants.exists()

    browser_page.get_by_role("link", name="Go back to the start").click()
    browser_page.get_by_role("button", name="I agree").click()
    participant = study.participants.get()
    expect(browser_page).to_have_url(f"{browser_page.url.split('/p/')[0]}/p/{participant.token}/")
    base = browser_page.url.split("/p/")[0]
    browser_page.reload()
    # Back on the open link, the same browser is asked: continue, or (a shared device) start anew.
    browser_page.goto("/s/open-study/")
    expect(browser_page.get_by_role("button", name="Not you? Start a new sort")).to_be_visible()
    assert axe_violations(browser_page) == []
    screenshot(browser_page, f"participate-{viewport}-open-link-resume")
    browser_page.get_by_role("link", name="Continue my sort").click()
    expect(browser_page).to_have_url(f"{base}/p/{participant.token}/")
    assert study.participants.count() == 1


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_a_closed_study_and_a_wrong_link_show_kind_accessible_messages(request, owner, viewport):
    browser_page = request.getfixturevalue(viewport)
    participant = make_study(owner, slug="closed-study", status="closed").invite(1)[0]
    browser_page.goto(f"/p/{participant.token}/")
    expect(browser_page.get_by_text("This study has finished")).to_be_visible()
    assert axe_violations(browser_page) == []
    screenshot(browser_page, f"participate-{viewport}-closed")
    browser_page.goto("/p/no-such-token/")
    expect(browser_page.get_by_role("heading", name="This link does not work")).to_be_visible()
    assert axe_violations(browser_page) == []


MARKUP = '<img src=x onerror="window.hacked = 1"><b>bold?</b>'


def test_html_in_a_statement_is_shown_as_text_and_never_runs(page, owner):
    study = make_study(owner, slug="markup", status="draft", n_statements=1, grid={-1: 1, 1: 1})
    study.add_statement(MARKUP)
    study.open()
    participant = study.invite(1)[0]
    services.consent(participant)
    services.go_to(participant, "presort")
    page.goto(f"/p/{participant.token}/")
    expect(page.locator("[data-qsort='presort'][data-ready]")).to_have_count(1)
    expect(page.locator(".p-bigcard[data-number='2'] p")).to_have_text(MARKUP)
    page.get_by_role("button", name="Agree", exact=True).click()
    page.get_by_role("button", name="Agree", exact=True).click()
    page.get_by_role("button", name="Continue to the grid").click()
    expect(page.locator("[data-qsort='grid'][data-ready]")).to_have_count(1)
    page.locator(".p-card[data-number='2']").click()
    expect(page.locator("[data-dock-text]")).to_have_text(MARKUP)
    assert page.evaluate("window.hacked") is None
    assert page.locator("b", has_text="bold?").count() == 0
