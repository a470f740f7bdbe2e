"""A German study on a 360-px phone: long German words must fit, and the script speaks German."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from qsort.participate import services
from tests.browser.conftest import axe_violations, screenshot
from tests.conftest import make_study

pytestmark = pytest.mark.django_db(transaction=True)

GRID = {-4: 1, -3: 1, -2: 2, -1: 2, 0: 3, 1: 2, 2: 2, 3: 1, 4: 1}
STATEMENTS = [
    "Die Selbsthilfegruppenteilnahme gibt mir Halt.",
    "Rückfallvorbeugungsmaßnahmen sind mir wichtig.",
    "Meine Familie unterstützt mich.",
    "Ich habe Angst vor einem Rückfall.",
    "Arbeit gibt meinem Tag eine Struktur.",
    "Ich spreche offen über meine Suchterkrankung.",
    "Ohne Substitutionsbehandlung hätte ich es nicht geschafft.",
    "Sport hilft mir, mit Stress umzugehen.",
    "Ich vertraue meiner Beratungsstelle.",
    "Alte Freundschaften sind schwierig geworden.",
    "Ich brauche feste Tagesabläufe.",
    "Schlafstörungen machen mir zu schaffen.",
    "Ich bin stolz auf das, was ich erreicht habe.",
    "Behördenangelegenheiten überfordern mich.",
    "Ich schaue zuversichtlich in die Zukunft.",
]


def fits_the_screen(page) -> None:
    """Nothing on the page is wider than the phone (the review grid may scroll inside its box)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def german_study(owner, **fields):
    """An open German study of the 15 statements above, with a support text for "take a break"."""
    study = make_study(
        owner,
        slug="studie",
        status="draft",
        n_statements=0,
        grid=GRID,
        language="de",
        title="Was hilft Ihnen auf dem Weg aus der Abhängigkeit?",
        condition_of_instruction="Wie sehr stimmen Sie diesen Aussagen über Ihre Genesung zu?",
        consent_text="Ihre Antworten werden pseudonymisiert gespeichert. Sie können jederzeit aufhören.",
        label_disagree="Stimme überhaupt nicht zu",
        label_agree="Stimme voll und ganz zu",
        support_text="Wenn Sie reden möchten: Telefonseelsorge 0800 111 0 111, rund um die Uhr.",
        **fields,
    )
    for text in STATEMENTS:
        study.add_statement(text)
    study.open()
    return study


def test_a_german_study_fits_a_phone_and_its_script_speaks_german(phone, owner):
    study = german_study(owner)
    participant = study.invite(1)[0]

    phone.goto(f"/p/{participant.token}/")
    expect(phone.get_by_role("button", name="Ich stimme zu und beginne")).to_be_visible()
    assert phone.locator("html").get_attribute("lang") == "de"
    fits_the_screen(phone)
    assert axe_violations(phone) == []
    screenshot(phone, "participate-phone-de-consent")

    phone.get_by_role("button", name="Ich stimme zu und beginne").click()
    expect(phone.get_by_role("heading", name="So geht es")).to_be_visible()
    fits_the_screen(phone)
    screenshot(phone, "participate-phone-de-instructions")
    phone.get_by_role("button", name="Beginnen").click()

    expect(phone.locator("[data-qsort][data-ready]")).to_have_count(1)
    expect(phone.locator("#presort-counter")).to_have_text("Karte 1 von 15")
    fits_the_screen(phone)
    assert axe_violations(phone) == []
    screenshot(phone, "participate-phone-de-presort")

    # The rest of the first look is done on the server; the grid page is what matters here.
    state = services.draft_state(participant)
    state["presort"] = [[n, "agree" if n % 2 else "disagree"] for n in range(1, 16)]
    state["version"] += 1
    services.save_draft(participant, state)
    phone.reload()
    phone.get_by_role("button", name="Weiter zum Raster").click()

    expect(phone.locator("[data-qsort='grid'][data-ready]")).to_have_count(1)
    expect(phone.locator("#left-count")).to_have_text("Noch 15 Karten zu legen.")
    fits_the_screen(phone)
    assert axe_violations(phone) == []
    screenshot(phone, "participate-phone-de-grid")

    phone.locator(".p-piles .p-card").first.tap()
    expect(phone.locator("#dock-label")).to_have_text("In diese Spalte legen:")
    # The status line announces the placement, then "Gespeichert" once the autosave is back (on a
    # busy machine before a poll could see it): record every text it shows.
    phone.evaluate(
        """() => { window.__said = [];
             const status = document.querySelector('#save-status');
             new MutationObserver(() => window.__said.push(status.textContent))
               .observe(status, { childList: true, characterData: true, subtree: true }); }"""
    )
    phone.locator("[data-place='0']").tap()
    expect(phone.locator("#left-count")).to_have_text("Noch 14 Karten zu legen.")
    expect(phone.locator("[data-dock-msg]")).to_contain_text("Gelegt auf 0")
    phone.wait_for_function("said => window.__said.some((text) => text.includes(said))", arg="liegt jetzt in Spalte 0")
    for _ in range(13):
        phone.locator(".p-piles .p-card").first.tap()
        free = phone.evaluate(
            "Array.from(document.querySelectorAll('.p-col')).find(c => !c.classList.contains('is-full')).dataset.value"
        )
        phone.locator(f"[data-place='{free}']").tap()
    expect(phone.locator("#left-count")).to_have_text("Noch 1 Karte zu legen.")
    screenshot(phone, "participate-phone-de-grid-placed")

    phone.locator(".p-piles .p-card").first.tap()
    phone.locator("[data-place='4']").tap()
    expect(phone.locator("#left-count")).to_have_text("Alle Karten liegen. Sie können sie noch verschieben.")
    phone.get_by_role("button", name="Fertig: Sortierung prüfen").click()
    expect(phone.get_by_role("heading", name="Ihre Sortierung")).to_be_visible()
    expect(phone.get_by_role("heading", name="Warum haben Sie diese Karten hierhin gelegt?")).to_be_visible()
    fits_the_screen(phone)
    assert axe_violations(phone) == []
    screenshot(phone, "participate-phone-de-review")
