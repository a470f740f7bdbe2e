"""Two conditions of instruction on a phone, in real Chromium: one participant sorts both
questions with the browser closed between them, another sorts only the first (and stops, as
the study allows); the facilitator's pages count both correctly."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from qsort.studies.models import Collaborator, Condition, Participant
from tests.browser.conftest import axe_violations, login, screenshot
from tests.conftest import make_study

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
PILES = ("disagree", "neutral", "agree")
PLAN = [-1, -1, 0, 0, 1, 1]  # the grid value of the i-th card placed (grid -1..+1, two each)


@pytest.fixture
def study(owner, facilitator):
    study = make_study(owner, slug="two-questions", allow_partial=True)
    study.conditions.update(label="Relapse", question="What might cause someone to relapse?")
    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps sustain recovery?")
    Collaborator.objects.create(study=study, user=facilitator, role="facilitator")
    return study


def sort_one_question(page: Page, question: str, number: int, shots: str | None) -> dict[int, int]:
    """From the instructions (or the transition) to the stored sort, by tapping."""
    expect(page.locator(".p-qcount").first).to_have_text(f"Question {number} of 2")
    expect(page.locator(".p-question").first).to_have_text(question)
    if shots:
        assert axe_violations(page) == []
        screenshot(page, f"{shots}-instructions")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#presort-counter")).to_have_text("Card 1 of 6")
    expect(page.locator("h1.p-question")).to_have_text(question)
    for i in range(6):
        page.locator(f".p-pilebuttons [data-pile={PILES[i % 3]}]").tap()
    page.get_by_role("button", name="Continue to the grid").click()
    expect(page.locator("[data-qsort][data-ready]")).to_have_count(1)
    placed = {}
    for value in PLAN:
        card = page.locator(".p-piles .p-card").first
        placed[int(card.get_attribute("data-number"))] = value
        card.tap()
        page.locator(f"[data-place='{value}']").tap()
    if shots:
        screenshot(page, f"{shots}-grid")
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.get_by_role("button", name="I'm done: check my sort").click()
    page.get_by_role("button", name="Send my sort").click()
    return placed


def test_two_questions_on_a_phone_with_the_browser_closed_between_and_a_partial_participant(
    browser, live_server, study, facilitator
):
    both, first_only = study.invite(codes=["BOTH", "FIRST"])

    context = browser.new_context(**PHONE, base_url=live_server.url)
    page = context.new_page()
    page.goto(f"/p/{both.token}/")
    page.get_by_role("button", name="I agree").click()
    relapse = sort_one_question(page, "What might cause someone to relapse?", 1, "conditions-phone-1")
    expect(page.get_by_text("Now the same cards again, for a different question:")).to_be_visible()
    expect(page.locator("p.p-question")).to_have_text("What helps sustain recovery?")
    assert axe_violations(page) == []
    screenshot(page, "conditions-phone-2-transition")
    context.close()  # the browser goes away between the two questions

    context = browser.new_context(**PHONE, base_url=live_server.url)
    page = context.new_page()
    page.goto(f"/p/{both.token}/")  # the same link, later: back at the second question
    recovery = sort_one_question(page, "What helps sustain recovery?", 2, "conditions-phone-3")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    context.close()

    both.refresh_from_db()
    assert both.is_completed
    assert {s.condition.label: s.values_by_number() for s in both.sorts.all()} == {
        "Relapse": relapse,
        "Recovery": recovery,
    }

    context = browser.new_context(**PHONE, base_url=live_server.url)
    page = context.new_page()
    page.goto(f"/p/{first_only.token}/")
    page.get_by_role("button", name="I agree").click()
    sort_one_question(page, "What might cause someone to relapse?", 1, None)
    page.get_by_role("button", name="Stop here").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    context.close()
    first_only = Participant.objects.get(pk=first_only.pk)
    assert first_only.is_completed and first_only.sorts.count() == 1

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = desk.new_page()
    login(page, "facil", "facil-pass-123")
    page.goto(f"/studies/{study.slug}/")
    progress = page.locator(".condition-progress li")
    expect(progress).to_have_text(["Relapse 2", "Recovery 1"])
    expect(page.locator(".big-figures")).to_contain_text("2 completed")
    screenshot(page, "conditions-desk-overview")
    page.goto(f"/studies/{study.slug}/participants/")
    expect(page.locator("tr", has_text="BOTH")).to_contain_text("2 of 2 conditions")
    expect(page.locator("tr", has_text="FIRST")).to_contain_text("1 of 2 conditions")
    screenshot(page, "conditions-desk-participants")
    desk.close()
