"""Every workspace page on a desktop and a 360-px phone: no serious accessibility problems, nothing
wider than the phone's screen, and a screenshot of each for a person to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from qsort.studies.models import Collaborator, Participant
from tests.browser.conftest import axe_violations, screenshot, sign_in
from tests.conftest import make_study

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = "/studies/relapse-and-recovery/"
PAGES = {
    "list": "/studies/",
    "new": "/studies/new/",
    "overview": DEMO,
    "settings": DEMO + "settings/",
    "deck-locked": DEMO + "deck/",
    "deck": "/studies/draft/deck/",
    "grid": "/studies/draft/grid/",
    "participants": DEMO + "participants/",
    "paper-sort": DEMO + "paper-sort/",
    "paper-sort-values": DEMO + "paper-sort/?mode=values",
    "print": DEMO + "print/",
    "team": DEMO + "team/",
}


@pytest.fixture
def studies(demo_study, django_user_model):
    facilitator = demo_study.owner
    draft = make_study(facilitator, slug="draft", title="Draft study", status="draft", n_statements=12, grid={0: 1})
    draft.add_statement("A longer statement, to see how the deck editor wraps text that goes over more than one line.")
    Participant.objects.filter(study=demo_study).update(stage="completed")
    demo_study.invite(codes=["NEW-01", "NEW-02"])
    researcher = django_user_model.objects.create_user("robin")
    Collaborator.objects.create(study=demo_study, user=researcher, role="researcher")
    return demo_study


@pytest.mark.parametrize("device", ["page", "phone"])
def test_each_page_looks_right_on_desktop_and_phone(request, studies, device, subtests):
    """One browser context walks through every page (a context costs a third of a CPU-second to
    open); each page is its own subtest, so every page that fails is reported."""
    browser_page = request.getfixturevalue(device)
    sign_in(browser_page, "facilitator")
    for name, path in PAGES.items():
        with subtests.test(page=name):
            browser_page.goto(path)
            expect(browser_page.locator("main")).to_be_visible()
            if name == "participants":
                browser_page.locator("details.qr summary").first.click()
                # A function with an argument, not an expression string: the page's CSP forbids eval.
                qr = browser_page.locator("details.qr img").first.element_handle()
                browser_page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=qr)
            screenshot(browser_page, f"workspace-{name}-{'desktop' if device == 'page' else 'phone'}")
            assert axe_violations(browser_page) == []
            if device == "phone":
                overflow = browser_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{name} is {overflow}px wider than the phone"


def test_the_deck_reorders_by_drag_and_by_keyboard(page, studies):
    sign_in(page, "facilitator")
    page.goto("/studies/draft/deck/")
    items = page.locator("#statement-list > li .item-text")
    expect(items.first).to_have_text("Statement number 1")
    handle = page.locator("#statement-list > li").nth(0).locator(".drag-handle").bounding_box()
    target = page.locator("#statement-list > li").nth(2).bounding_box()
    with page.expect_response(lambda response: response.url.endswith("/deck/reorder/")):
        page.mouse.move(handle["x"] + 5, handle["y"] + 5)
        page.mouse.down()
        page.mouse.move(handle["x"] + 5, handle["y"] + 15, steps=3)  # start the drag before travelling
        page.mouse.move(handle["x"] + 5, target["y"] + target["height"] - 5, steps=20)
        page.mouse.up()
    dragged = items.all_inner_texts()
    assert dragged[0] != "Statement number 1"
    page.goto("/studies/draft/deck/")
    assert items.all_inner_texts() == dragged, "the new order is stored"

    page.get_by_role("button", name="Move statement 13 up").focus()
    page.keyboard.press("Enter")
    expect(items.nth(11)).to_contain_text("A longer statement")
    # htmx keeps the focus on the button that moved, so a keyboard user can press again.
    page.keyboard.press("Enter")
    expect(items.nth(10)).to_contain_text("A longer statement")


def test_the_printable_deck_prints_eight_cards_per_a4_sheet_then_the_score_sheet(page, demo_study):
    sign_in(page, "facilitator")
    page.goto("/studies/relapse-and-recovery/print/")
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 6  # 38 cards: 5 sheets of cards (8 a sheet), then the score sheet
