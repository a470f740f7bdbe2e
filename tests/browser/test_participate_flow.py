"""The whole participant flow in real headless Chromium: by mouse drag, by keyboard alone, by tapping
on a phone, and closed mid-sort then resumed elsewhere. After each, PostgreSQL holds exactly the
sort that was placed. axe-core checks every participant page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from qsort.studies.demo import GRID
from qsort.studies.models import Participant, Sort, SortDraft, Statement
from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# The grid value of the i-th card placed: fills -4 first, then -3, ... so every column ends full.
PLAN = [value for value, capacity in GRID.items() for _ in range(capacity)]
PILES = ("disagree", "neutral", "agree")


@pytest.fixture
def participant(demo_study) -> Participant:
    return demo_study.invite(1)[0]


def accessible(page: Page, name: str) -> None:
    assert axe_violations(page) == [], name
    screenshot(page, name)


def stored_sort(participant: Participant) -> dict[int, int]:
    return Sort.objects.get(participant=participant).values_by_number()


def grid_in_page(page: Page) -> dict[str, list[int]]:
    """Every list of cards on the page (columns and piles), top to bottom, by statement number."""
    return page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll('.p-cards')).map(list =>
            [list.dataset.column !== undefined ? 'column ' + list.dataset.column : 'pile ' + list.dataset.pile,
             Array.from(list.querySelectorAll('.p-card')).map(card => Number(card.dataset.number))]))"""
    )


def agree_and_start(page: Page, participant: Participant, prefix: str | None) -> None:
    page.goto(f"/p/{participant.token}/")
    if prefix:
        accessible(page, f"{prefix}-1-consent")
    page.get_by_role("button", name="I agree").click()
    expect(page.get_by_role("heading", name="How it works")).to_be_visible()
    if prefix:
        accessible(page, f"{prefix}-2-instructions")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#presort-counter")).to_have_text("Card 1 of 38")  # drawn by the script: it is ready
    if prefix:
        accessible(page, f"{prefix}-3-presort")


def presort_by_clicking(page: Page, tap: bool = False) -> None:
    for i in range(38):
        button = page.locator(f".p-pilebuttons [data-pile={PILES[i % 3]}]")
        button.tap() if tap else button.click()
        if i == 0:
            expect(page.get_by_role("button", name="Undo last card")).to_be_enabled()
    expect(page.locator(".p-deck-done")).to_be_visible()


def script_ready(page: Page) -> None:
    """The page is drawn by the server before its (deferred) script runs; input needs the script."""
    expect(page.locator("[data-qsort][data-ready]")).to_have_count(1)


def continue_to_grid(page: Page) -> None:
    page.get_by_role("button", name="Continue to the grid").click()
    expect(page.locator("#left-count")).to_have_text("38 cards still to place.")
    script_ready(page)


HOLD_THREE_TICKS = """() => new Promise((resolve) => {
  let ticks = 0;
  const interval = setInterval(() => { if (++ticks === 3) { clearInterval(interval); resolve(); } }, 50);
})"""


def drag(page: Page, card, target) -> None:
    """Mouse down on a card, move in steps (SortableJS follows pointer moves), release in the target
    list just below its last card (or at the foot of the screen when the column is taller), where a
    person drops a card into the next empty slot."""
    target.scroll_into_view_if_needed()
    start = card.bounding_box()
    end = target.bounding_box()
    last = target.locator(".p-card").last
    drop_y = (last.bounding_box()["y"] + last.bounding_box()["height"] + 12) if last.count() else end["y"] + 12
    drop_y = min(drop_y, page.viewport_size["height"] - 60)  # where a hand can see it, clear of autoscroll
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + start["height"] / 2 + 10, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, min(drop_y, end["y"] + end["height"] - 4), steps=12)
    # Hold still briefly, as a hand does. SortableJS's pointer fallback samples the pointer on a
    # 50 ms interval of the page's own clock; on a busy machine that clock runs late, and the page
    # handles the release (input) before an overdue timer. So the hold is three ticks of an interval
    # started now, on that same clock: Sortable's own interval, started earlier, has ticked first.
    page.evaluate(HOLD_THREE_TICKS)
    page.mouse.up()


def review_and_submit(page: Page, participant: Participant, prefix: str | None) -> None:
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.get_by_role("button", name="I'm done: check my sort").click()
    expect(page.get_by_role("heading", name="Your sort")).to_be_visible()
    if prefix:
        accessible(page, f"{prefix}-5-review")
    page.get_by_role("button", name="Send my sort").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    if prefix:
        accessible(page, f"{prefix}-6-thanks")


def test_a_participant_completes_the_demo_study_by_drag_and_drop(page, participant):
    agree_and_start(page, participant, "participate-desktop")
    presort_by_clicking(page)
    continue_to_grid(page)
    accessible(page, "participate-desktop-4-grid")

    placed: dict[int, int] = {}
    for i, value in enumerate(PLAN):
        card = page.locator(".p-piles .p-card").first
        number = int(card.get_attribute("data-number"))
        drag(page, card, page.locator(f".p-col[data-value='{value}'] .p-cards"))
        expect(page.locator(f".p-col[data-value='{value}'] [data-number='{number}']")).to_have_count(1)
        placed[number] = value
        if i == 2:
            # A full column refuses a card and says why; the card stays where it was.
            other = page.locator(".p-piles .p-card").first
            drag(page, other, page.locator(".p-col[data-value='-4'] .p-cards"))
            expect(page.locator("#save-status")).to_have_text("Column -4 is full (2 of 2). Move a card out first.")
            expect(page.locator(".p-col[data-value='-4'] .p-card")).to_have_count(2)
    # Cards can be moved again: swap a -4 card with a -3 card by dragging.
    low = page.locator(".p-col[data-value='-4'] .p-card").first
    low_number = int(low.get_attribute("data-number"))
    drag(page, low, page.locator(".p-piles [data-pile=neutral]"))
    high = page.locator(".p-col[data-value='-3'] .p-card").first
    high_number = int(high.get_attribute("data-number"))
    drag(page, high, page.locator(".p-col[data-value='-4'] .p-cards"))
    drag(page, page.locator(f"[data-number='{low_number}']"), page.locator(".p-col[data-value='-3'] .p-cards"))
    placed[low_number], placed[high_number] = -3, -4
    expect(page.locator("#left-count")).to_have_text("All cards are placed. You can still move them.")
    screenshot(page, "participate-desktop-4b-grid-full")

    review_and_submit(page, participant, "participate-desktop")
    assert stored_sort(participant) == placed

    # Back button and a second tab after sending: the thank-you page, never the sort again.
    page.go_back()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    second_tab = page.context.new_page()
    second_tab.goto(f"/p/{participant.token}/")
    expect(second_tab.get_by_role("heading", name="Thank you")).to_be_visible()
    assert Sort.objects.filter(participant=participant).count() == 1
    assert stored_sort(participant) == placed


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches `selector` (keyboard only, as a person would)."""
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_participant_completes_the_demo_study_by_keyboard_alone(page, participant):
    page.goto(f"/p/{participant.token}/")
    tab_to(page, "button[value=agree]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="How it works")).to_be_visible()
    tab_to(page, "form[action$='step/'] button")
    page.keyboard.press("Enter")
    expect(page.locator("#presort-counter")).to_have_text("Card 1 of 38")
    for i in range(38):
        page.keyboard.press(("ArrowLeft", "ArrowDown", "ArrowRight")[i % 3])
    expect(page.get_by_role("button", name="Continue to the grid")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#left-count")).to_have_text("38 cards still to place.")
    script_ready(page)

    tab_to(page, ".p-card")
    placed: dict[int, int] = {}
    for i, value in enumerate(PLAN):
        number = int(page.evaluate("document.activeElement.dataset.number"))
        page.keyboard.press("Enter")
        if i == 2:
            # Try the full column first: refused, with the reason announced.
            while int(page.locator(".p-col.is-target").get_attribute("data-value")) > -4:
                page.keyboard.press("ArrowLeft")
            page.keyboard.press("Enter")
            expect(page.locator("#announcer")).to_have_text("Column -4 is full (2 of 2). Move a card out first.")
        while (current := int(page.locator(".p-col.is-target").get_attribute("data-value"))) != value:
            page.keyboard.press("ArrowRight" if current < value else "ArrowLeft")
        page.keyboard.press("Enter")
        count = PLAN[: i + 1].count(value)
        expect(page.locator("#announcer")).to_have_text(
            f"Statement {number} placed in column {value:+d} ({count} of {GRID[value]} cards)."
            if value
            else f"Statement {number} placed in column 0 ({count} of {GRID[value]} cards)."
        )
        placed[number] = value

    expect(page.locator("#save-status")).to_have_text("Saved")
    tab_to(page, "[data-needs-all] button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your sort")).to_be_visible()
    tab_to(page, "textarea")
    page.keyboard.type("It matters to me.")
    tab_to(page, "[data-submit-form] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    assert stored_sort(participant) == placed
    sort = Sort.objects.get(participant=participant)
    assert list(sort.comments.values_list("text", flat=True)) == ["It matters to me."]


def test_a_participant_completes_the_demo_study_by_tapping_on_a_phone(phone, participant):
    """On a phone set to reduce motion (the throttled phone tests sort with the default motion):
    cards and columns come into view at once, no smooth scrolling, and the sort works the same."""
    phone.emulate_media(reduced_motion="reduce")
    agree_and_start(phone, participant, "participate-phone")
    assert phone.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
    presort_by_clicking(phone, tap=True)
    continue_to_grid(phone)
    accessible(phone, "participate-phone-4-grid")

    placed: dict[int, int] = {}
    for i, value in enumerate(PLAN):
        card = phone.locator(".p-piles .p-card").first
        number = int(card.get_attribute("data-number"))
        card.tap()
        if i == 3:
            # A long statement is readable in full once picked, whatever the column width.
            text = Statement.objects.get(study=participant.study, number=number).text
            expect(phone.locator("[data-dock-text]")).to_have_text(text)
            screenshot(phone, "participate-phone-4b-card-picked")
        if i % 4 == 3:
            phone.locator(f".p-col[data-value='{value}'] .p-colhead").tap()  # tap the column itself
        else:
            phone.locator(f"[data-place='{value}']").tap()  # or the column's button in the dock
        expect(phone.locator(f".p-col[data-value='{value}'] [data-number='{number}']")).to_have_count(1)
        placed[number] = value

    review_and_submit(phone, participant, "participate-phone")
    assert stored_sort(participant) == placed


def test_a_participant_closes_the_page_mid_sort_and_resumes_with_every_card_in_place(browser, live_server, participant):
    first = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = first.new_page()
    agree_and_start(page, participant, None)
    presort_by_clicking(page)
    continue_to_grid(page)
    for value in PLAN[:10]:
        card = page.locator(".p-piles .p-card").first
        card.click()
        page.locator(f"[data-place='{value}']").click()
    # one moved by drag, one moved from a column back to its pile
    drag(page, page.locator(".p-piles .p-card").first, page.locator(".p-col[data-value='2'] .p-cards"))
    back = page.locator(".p-col[data-value='-1'] .p-card").first
    back.click()
    page.get_by_role("button", name="Back to its pile").click()
    expect(page.locator("#save-status")).to_have_text("Saved")
    before = grid_in_page(page)
    first.close()

    assert SortDraft.objects.get(participant=participant).state["grid"] == {
        key.removeprefix("column "): numbers for key, numbers in before.items() if key.startswith("column ") and numbers
    }
    second = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = second.new_page()
    page.goto(f"/p/{participant.token}/")
    script_ready(page)
    assert grid_in_page(page) == before
    expect(page.locator("#left-count")).to_have_text("28 cards still to place.")

    columns = {int(key.removeprefix("column ")): ns for key, ns in before.items() if key.startswith("column ")}
    placed = {number: value for value, numbers in columns.items() for number in numbers}
    for value, capacity in GRID.items():
        while page.locator(f".p-col[data-value='{value}'] .p-card").count() < capacity:
            card = page.locator(".p-piles .p-card").first
            placed[int(card.get_attribute("data-number"))] = value
            card.click()
            page.locator(f"[data-place='{value}']").click()
    review_and_submit(page, participant, None)
    second.close()
    assert stored_sort(participant) == placed


def test_losing_the_connection_keeps_the_cards_and_saves_when_it_is_back(page, study):
    participant = study.invite(1)[0]
    page.goto(f"/p/{participant.token}/")
    page.get_by_role("button", name="I agree").click()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#presort-counter")).to_have_text("Card 1 of 6")  # drawn by the script: it is ready
    for _ in range(6):
        page.get_by_role("button", name="Neutral").click()
    page.get_by_role("button", name="Continue to the grid").click()
    expect(page.locator("#left-count")).to_have_text("6 cards still to place.")
    script_ready(page)
    page.context.set_offline(True)
    card = page.locator(".p-piles .p-card").first
    number = int(card.get_attribute("data-number"))
    card.click()
    page.locator("[data-place='1']").click()
    expect(page.locator("#save-status")).to_contain_text("Not saved yet: no connection")
    assert SortDraft.objects.get(participant=participant).state["grid"] == {}
    page.context.set_offline(False)
    expect(page.locator("#save-status")).to_have_text("Saved")
    assert SortDraft.objects.get(participant=participant).state["grid"] == {"1": [number]}
