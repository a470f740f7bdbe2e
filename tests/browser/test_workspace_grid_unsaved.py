"""The grid editor never passes off an unsaved shape as the study's grid: it says "Not saved yet"
until "Save grid", and leaving with such a shape asks first (its beforeunload handler cancels)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import htmx_settled, sign_in
from tests.conftest import make_study

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unsaved_shape_says_so_and_leaving_asks_first(page, owner):
    study = make_study(owner, slug="shape", status="draft", n_statements=12, grid={0: 12})
    sign_in(page, "owner")
    page.goto(f"/studies/{study.slug}/grid/")
    expect(page.locator("#grid-picture")).to_contain_text("✓ 12 places for 12 statements.")
    expect(page.locator("[data-unsaved]")).to_have_count(0)

    page.get_by_role("button", name="Suggest a shape for 12 statements").click()
    htmx_settled(page)
    expect(page.locator("[data-unsaved]")).to_have_text("Not saved yet: press “Save grid” to keep this shape.")
    expect(page.locator("#grid-picture")).not_to_contain_text("✓")

    assert asks_before_leaving(page)

    page.get_by_role("button", name="Save grid").click()  # saving leaves without asking
    expect(page.get_by_text("Grid saved.")).to_be_visible()
    expect(page.locator("[data-unsaved]")).to_have_count(0)
    assert study.grid() != {0: 12}
    assert not asks_before_leaving(page)


def asks_before_leaving(page) -> bool:
    """Whether the page's beforeunload handler asks the browser to confirm leaving."""
    return page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e);"
        " return e.defaultPrevented; }"
    )
