"""The Data page and an import preview in real Chromium, desktop and 360-px phone."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

DECK_CSV = 'number,text\n1,Peer support groups\n2,\n3,Peer support groups\n4,=HYPERLINK("http://x","y")\n'


def _finished_run(study):
    from qsort.runs.models import AnalysisRun
    from tests.test_exchange_results import analyse_study

    result = analyse_study(study)
    return AnalysisRun.objects.create(
        study=study, status="done", progress=100, parameters=result["parameters"], result=result
    )


def _open_data_page(page, demo_study) -> None:
    sign_in(page, "facilitator")
    page.goto(f"/studies/{demo_study.slug}/data/")


@pytest.mark.parametrize("device", ["page", "phone"])
def test_the_data_page_lists_downloads_and_imports(request, demo_study, device):
    page = request.getfixturevalue(device)
    run = _finished_run(demo_study)
    _open_data_page(page, demo_study)
    assert page.get_by_role("heading", name="Downloads", exact=True).is_visible()
    assert page.locator(f"a[href$='/data/runs/{run.pk}/report.xlsx']").is_visible()
    assert page.get_by_role("heading", name="Imports", exact=True).is_visible()
    assert "locked" in page.locator("#statements-import + p").inner_text()
    with page.expect_download() as download:
        page.locator("a[href$='/data/study.dat']").click()
    assert download.value.suggested_filename == "RELAPSEA.DAT"
    page.reload()
    assert "study.dat" in page.locator("table").inner_text()
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert axe_violations(page) == []
    screenshot(page, f"exchange-data-{device}")


@pytest.mark.parametrize("device", ["page", "phone"])
def test_a_sorts_import_preview_shows_every_problem(request, demo_study, device, tmp_path):
    page = request.getfixturevalue(device)
    _open_data_page(page, demo_study)
    bad = tmp_path / "sorts.csv"
    rows = ["statement_id,D01,NEW1"] + [f"{n},0,0" for n in range(1, 39)]
    bad.write_text("\n".join(rows) + "\n")
    page.set_input_files("#sorts-file", str(bad))
    page.get_by_role("button", name="Preview sorts").click()
    preview = page.get_by_role("region", name="Sorts preview")
    assert "nothing was saved" in preview.inner_text()
    assert "Column 2 (D01): this participant already has a sort." in preview.inner_text()
    assert "Column 3 (NEW1): Column 0 holds 38 cards, capacity 8." in preview.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert axe_violations(page) == []
    screenshot(page, f"exchange-import-preview-{device}")


def test_the_pqmethod_import_page_on_a_phone(phone, demo_study, tmp_path):
    sign_in(phone, "facilitator")
    (tmp_path / "X.STA").write_text("First statement\nSecond statement\nThird\n")
    (tmp_path / "X.DAT").write_text(
        "  0  2  3 Tiny PQMethod study\n -1  1"
        + "  0" * 5
        + "  1  1  1"
        + "  0" * 12
        + "\nA         -1 0 1\nB          1 0-1\n"
    )
    phone.goto("/studies/import/")
    phone.set_input_files("#sta", str(tmp_path / "X.STA"))
    phone.set_input_files("#dat", str(tmp_path / "X.DAT"))
    phone.get_by_role("button", name="Preview").click()
    assert "3 statements and 2 sorts will be imported" in phone.locator("main").inner_text()
    assert axe_violations(phone) == []
    screenshot(phone, "exchange-pqmethod-preview-phone")
    phone.get_by_role("button", name="Create the study").click()
    phone.wait_for_url(re.compile(r"/studies/tiny-pqmethod-study/data/"))
    assert "created with 3 statements and 2 sorts" in phone.locator(".messages").inner_text()


def test_the_api_docs_render_from_our_own_static_files(page, db):
    requests_made: list[str] = []
    page.on("request", lambda request: requests_made.append(request.url))
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/participate/{token}/sort/" in p for p in paths)
    base = page.url.split("/api/")[0]
    assert all(url.startswith(base) or url.startswith("data:") for url in requests_made), requests_made
    screenshot(page, "exchange-api-docs")
