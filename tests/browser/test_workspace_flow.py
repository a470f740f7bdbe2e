"""A facilitator's first study, end to end in headless Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from qsort.studies.models import Study
from qsort.studies.services import submit_sort
from tests.browser.conftest import htmx_settled, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

STATEMENTS = [f"Statement {i}: something that matters in recovery" for i in range(1, 21)]


def test_a_facilitator_creates_fills_opens_and_sees_a_completed_sort_counted(page, django_user_model):
    django_user_model.objects.create_user("sam", password="sam-pass-2026")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, "sam", "sam-pass-2026")
    expect(page).to_have_url("/studies/")

    page.get_by_role("link", name="New study").click()
    page.get_by_label("Title").fill("Evening group")
    page.get_by_label("Condition of instruction").fill("What keeps you going?")
    page.get_by_role("button", name="Create study").click()
    expect(page).to_have_url("/studies/evening-group/deck/")

    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Paste statements, one per line").fill("\n".join(STATEMENTS))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("button", name="Add 20 statements")).to_be_visible()
    page.get_by_role("button", name="Add 20 statements").click()
    expect(page.get_by_text("20 statements imported.")).to_be_visible()
    expect(page.locator("#statement-list > li")).to_have_count(20)
    expect(page.get_by_role("button", name="Preview")).to_be_visible()  # the import form is ready again
    assert page.evaluate("window.stillTheSamePage"), "the deck editor works without page reloads"

    page.get_by_role("link", name="Grid", exact=True).click()
    page.get_by_label("Range").select_option("4")  # htmx redraws the editor with a suggested shape
    expect(page.get_by_label("+4")).to_be_visible()
    htmx_settled(page)  # the new select listens only once htmx has processed it
    page.get_by_label("Range").select_option("3")
    expect(page.get_by_label("+4")).to_have_count(0)
    expect(page.locator("#grid-picture")).to_contain_text("20 places for 20 statements.")
    # A suggested shape is not a saved one: no tick, and it says so until "Save grid".
    expect(page.locator("#grid-picture")).to_contain_text("Not saved yet")
    expect(page.locator("#grid-picture")).not_to_contain_text("✓")
    htmx_settled(page)
    page.get_by_label("+3").fill("2")  # the live picture follows the typing
    expect(page.locator("#grid-picture")).to_contain_text("1 too many")
    page.get_by_label("+3").fill("1")
    expect(page.locator("#grid-picture")).to_contain_text("20 places for 20 statements.")
    screenshot(page, "flow-grid-desktop")
    page.get_by_role("button", name="Save grid").click()
    expect(page.get_by_text("Grid saved.")).to_be_visible()
    expect(page.locator("#grid-picture")).to_contain_text("✓ 20 places for 20 statements.")
    expect(page.locator("[data-unsaved]")).to_have_count(0)

    page.get_by_role("link", name="Overview", exact=True).click()
    # The readiness checklist names the empty consent text; the study opens once it is written.
    expect(page.get_by_text("The consent text is empty")).to_be_visible()
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Consent text").fill("Taking part is your choice. You can stop at any time.")
    page.get_by_label("Support text (shown when a participant takes a break)").fill("Call the group line: 0800 123.")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.get_by_role("link", name="Overview", exact=True).click()
    expect(page.get_by_text("The consent text is empty")).to_have_count(0)
    page.get_by_role("button", name="Open the study").click()
    expect(page.get_by_text("The study is open")).to_be_visible()

    page.get_by_role("link", name="Participants", exact=True).click()
    page.get_by_label("Number of links").fill("3")
    page.get_by_role("button", name="Create links").click()
    expect(page.get_by_role("heading", name="3 new links")).to_be_visible()
    page.get_by_role("button", name="Copy all").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    study = Study.objects.get(slug="evening-group")
    links = [p.link for p in study.participants.order_by("id")]
    assert len(links) == 3 and all(link in copied for link in links)

    # The participant flow is built on another branch in parallel; the participant's sort goes
    # through the same service it calls, so what the facilitator sees next is the same.
    grid = study.grid()
    values = [value for value, capacity in grid.items() for _ in range(capacity)]
    submit_sort(study.participants.order_by("id").first(), zip(range(1, 21), values, strict=True))

    page.get_by_role("link", name="Overview", exact=True).click()
    expect(page.locator(".big-figures")).to_contain_text("1 completed")
    page.get_by_role("link", name="Studies", exact=True).first.click()
    row = page.get_by_role("row", name="Evening group")
    expect(row.locator("td").nth(5)).to_have_text("1")
    screenshot(page, "flow-list-desktop")
