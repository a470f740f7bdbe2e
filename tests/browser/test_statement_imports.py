"""The one statement importer in real Chromium: the deck page and the Data page show the same
preview of the same paste, readable on a desktop and a 360-px phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, screenshot, sign_in
from tests.conftest import make_study

pytestmark = pytest.mark.django_db(transaction=True)

PASTE = 'Peer support groups\n\nStatement number 1\npeer SUPPORT   groups\n=HYPERLINK("http://x","y")\n'


def preview_rows(page) -> list[str]:
    return [" ".join(row.split()) for row in page.locator("table.import-preview tbody tr").all_inner_texts()]


@pytest.mark.parametrize("device", ["page", "phone"])
def test_both_pages_preview_a_paste_alike_and_readably(request, django_user_model, device):
    page = request.getfixturevalue(device)
    owner = django_user_model.objects.create_user("deckowner", password="deck-pass-123")
    study = make_study(owner, slug="decks", status="draft", n_statements=3, grid={-1: 1, 0: 1, 1: 1})
    sign_in(page, "deckowner")

    page.goto(f"/studies/{study.slug}/deck/")
    page.locator("#import textarea").fill(PASTE)
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("button", name="Add 2 statements").wait_for()
    on_deck_page = preview_rows(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert axe_violations(page) == []
    screenshot(page, f"statements-preview-deck-{device}")

    page.goto(f"/studies/{study.slug}/data/")
    page.locator("#statements-import ~ form textarea").fill(PASTE)
    page.get_by_role("button", name="Preview statements").click()
    page.get_by_role("button", name="Add 2 statements").wait_for()
    assert preview_rows(page) == on_deck_page
    assert on_deck_page == [
        "1 Peer support groups ✓ will be added",
        '5 =HYPERLINK("http://x","y") ✓ will be added',
        "2 (empty) Empty line. Skipped.",
        "3 Statement number 1 Already in the deck. Skipped.",
        "4 peer SUPPORT groups Same as line 1. Skipped.",
    ]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, f"statements-preview-data-{device}")

    page.get_by_role("button", name="Add 2 statements").click()
    page.get_by_text("2 statements added to the deck.").wait_for()
    assert list(study.statements.filter(number__gt=3).values_list("text", flat=True)) == [
        "Peer support groups",
        '=HYPERLINK("http://x","y")',
    ]
