"""In Chromium: start a run of the demo study, watch the progress reach 100 %, go through the
run's pages (overview, a factor, loadings and flags, consensus, stability, report); every page
on a phone stays within the screen and passes axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from qsort.runs.models import AnalysisRun, FactorEvidence
from qsort.runs.tasks import run_factor_evidence
from tests.browser.conftest import axe_violations, screenshot, sign_in
from tests.runs_support import purge_queue, running_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker():
    with running_worker():
        yield


RUN_PAGES = ("", "factors/1/", "loadings/", "consensus/", "stability/", "report/")


def start_a_run(page, study) -> None:
    sign_in(page, "facilitator")
    page.goto(f"/studies/{study.slug}/results/")
    page.get_by_role("spinbutton", name="Number of factors").fill("3")
    page.get_by_label("Extraction").select_option("pca")
    page.get_by_role("button", name="Start the analysis").click()
    expect(page).to_have_url(re.compile(r"/results/\d+/$"))


def test_a_researcher_starts_a_run_watches_it_finish_and_reads_factor_one(page, demo_study, worker):
    start_a_run(page, demo_study)
    progress = page.locator("#run-body progress")
    expect(progress).to_have_attribute("value", "100", timeout=30_000)
    expect(page.locator(".run-progress .percent")).to_have_text("100 %")
    page.get_by_role("navigation", name="Pages of this run").get_by_role("link", name="Factor 1").click()
    expect(page).to_have_url(re.compile(r"/results/\d+/factors/1/$"))
    composite = page.get_by_label("Composite sort of factor 1")
    expect(composite).to_be_visible()
    expect(composite.locator(".column")).to_have_count(9)
    expect(composite.locator(".card-st")).to_have_count(38)
    run = AnalysisRun.objects.get()
    assert run.status == "done"
    top = run.result["statements"][[row[0] for row in run.result["factor_arrays"]].index(4)]
    expect(composite.locator(".column").last).to_contain_text(demo_study.statements.get(number=int(top)).text)
    assert axe_violations(page) == []
    screenshot(page, "runs-dashboard-desktop")


def test_the_progress_bar_updates_live_when_a_worker_picks_the_run_up(page, demo_study):
    purge_queue()
    start_a_run(page, demo_study)  # no worker yet: the run waits in the queue
    expect(page.locator("#run-body .badge")).to_have_text("Queued")
    expect(page.locator("#run-body progress")).to_have_attribute("value", "0")
    page.evaluate("window.sameDocument = true")
    with running_worker(purge=False):
        expect(page.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
        tabs = page.get_by_role("navigation", name="Pages of this run")
        expect(tabs.get_by_role("link", name="Factor 1")).to_be_visible()
        expect(page.get_by_role("table").first).to_contain_text("Eigenvalue")
    assert page.evaluate("window.sameDocument === true")  # htmx swapped the results in: no reload


def test_the_loadings_plot_switches_factors_and_a_rotation_is_previewed(page, demo_study, worker):
    start_a_run(page, demo_study)
    expect(page.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
    page.get_by_role("link", name="Loadings and flags").click()
    page.select_option("#plot-y", "3")
    expect(page.locator("#loadings-plot svg")).to_have_attribute("aria-label", re.compile("factor 3 \\(up\\)"))
    page.fill("#id_angle", "25")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#rotation-preview svg")).to_be_visible()
    page.get_by_role("button", name="Run with this rotation").click()
    expect(page.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
    assert AnalysisRun.objects.order_by("-pk").first().parameters["pair_rotations"] == [[1, 2, 25.0]]


def test_the_results_pages_fit_a_phone_and_pass_axe(phone, demo_study, worker):
    start_a_run(phone, demo_study)
    expect(phone.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(phone) == []
    screenshot(phone, "runs-dashboard-phone")
    run = AnalysisRun.objects.get()
    for name in RUN_PAGES:
        phone.goto(f"/studies/{demo_study.slug}/results/{run.pk}/{name}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, name
        assert axe_violations(phone) == [], name
        screenshot(phone, f"runs-{name.strip('/').replace('/', '-') or 'overview'}-phone")
    phone.goto(f"/studies/{demo_study.slug}/results/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(phone) == []
    screenshot(phone, "runs-results-phone")


def test_every_page_of_a_run_reads_well_on_a_desktop(page, demo_study, worker):
    start_a_run(page, demo_study)
    expect(page.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
    run = AnalysisRun.objects.get()
    for name in RUN_PAGES:
        page.goto(f"/studies/{demo_study.slug}/results/{run.pk}/{name}")
        current = page.locator('.run-tabs a[aria-current="page"]')
        expect(current).to_have_count(1)
        assert axe_violations(page) == [], name
        screenshot(page, f"runs-{name.strip('/').replace('/', '-') or 'overview'}-desktop")


def test_the_loadings_table_shows_every_sort_without_a_scroll_box_and_labels_never_overlap(page, demo_study, worker):
    start_a_run(page, demo_study)
    expect(page.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
    page.get_by_role("link", name="Loadings and flags").click()
    rows = page.locator("table.loadings tbody tr")
    expect(rows).to_have_count(demo_study.sorts.count())
    box = page.locator("table.loadings").evaluate("t => t.parentElement.clientHeight >= t.offsetHeight")
    assert box  # the table is as tall as its rows: no nested vertical scrolling
    labels = page.locator("#loadings-plot .point-labels.wide text")
    boxes = [labels.nth(i).bounding_box() for i in range(labels.count())]
    assert boxes, "some labels fit"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            apart = apart or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
            assert apart, (a, b)
    points = page.locator("#loadings-plot g.point")
    expect(points).to_have_count(demo_study.sorts.count())
    points.first.focus()
    expect(points.first.locator(".hover-label")).to_be_visible()
    # the filter shows only confounded sorts, in place
    page.get_by_role("link", name=re.compile(r"^Flagged \(")).click()
    expect(page).to_have_url(re.compile(r"status=flagged"))
    flagged = sum(1 for row in AnalysisRun.objects.get().result["sort_status"] if row == "flagged")
    expect(rows).to_have_count(flagged)


def test_a_glossary_word_explains_itself_on_focus_and_marks_stand_apart(page, demo_study, worker):
    start_a_run(page, demo_study)
    expect(page.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
    page.get_by_role("navigation", name="Pages of this run").get_by_role("link", name="Factor 1").click()
    term = page.locator(".term", has_text="Crib sheet").first
    tip = term.locator(".tip")
    assert tip.bounding_box()["width"] <= 1  # hidden until asked
    term.focus()
    expect(tip).to_contain_text("reading aid")
    assert tip.bounding_box()["width"] > 100
    mark = page.locator("td.q .mark").first
    value = mark.locator("xpath=preceding-sibling::span[@class='q-value']")
    gap = mark.bounding_box()["x"] - (value.bounding_box()["x"] + value.bounding_box()["width"])
    assert gap >= 4  # "+4 6*" never reads as "+46*"


def test_a_researcher_bootstraps_the_run_cancels_one_and_reads_the_stability_plot(page, demo_study, worker):
    from qsort.runs.models import Bootstrap

    start_a_run(page, demo_study)
    expect(page.locator("#run-body progress")).to_have_attribute("value", "100", timeout=30_000)
    page.get_by_role("navigation", name="Pages of this run").get_by_role("link", name="Stability").click()
    expect(page.get_by_text("No bootstrap of this run yet.")).to_be_visible()
    page.get_by_label("Steps").fill("5000")
    page.get_by_role("button", name="Run a bootstrap").click()
    status = page.locator("#bootstrap-status")
    expect(status.locator("progress")).to_be_visible()
    page.get_by_role("button", name="Cancel the bootstrap").click()
    expect(page.get_by_text("The last bootstrap was cancelled.")).to_be_visible(timeout=30_000)
    assert Bootstrap.objects.get().status == "cancelled"
    page.get_by_label("Steps").fill("100")
    page.get_by_label("Seed (optional)").fill("11")
    page.get_by_role("button", name="Run a bootstrap").click()
    expect(page.get_by_role("link", name="The bootstrap is done: show its results")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="The bootstrap is done: show its results").click()
    forests = page.locator(".chart-box.forest svg")
    expect(forests).to_have_count(3)
    job = Bootstrap.objects.filter(status="done").get()
    expect(forests.first.locator("g.forest-row")).to_have_count(len(job.result["statements"]))
    assert axe_violations(page) == []
    screenshot(page, "runs-stability-desktop")
    page.get_by_role("link", name="Report").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Run report (DOCX)").click()
    from docx import Document

    document = Document(download.value.path())
    text = "\n".join(p.text for p in document.paragraphs)
    assert "bootstrap" in text.lower()


def test_the_run_form_takes_the_suggested_number_when_the_evidence_arrives_unless_one_was_typed(page, sorted_study):
    """The study's evidence job finishes while the results page is open: the polled panel and
    the form's hint come in without a reload, and the run form preselects the suggestion; a
    number the researcher typed meanwhile (a second tab) is left alone."""
    purge_queue()  # no worker: the evidence job waits until this test runs it
    sign_in(page, "owner")
    page.goto(f"/studies/{sorted_study.slug}/results/")
    expect(page.locator("#evidence-status .badge")).to_have_text("Queued")
    field = page.get_by_role("spinbutton", name="Number of factors")
    expect(field).to_have_value("3")  # the form's own default while nothing is suggested
    typed = page.context.new_page()
    typed.goto(f"/studies/{sorted_study.slug}/results/")
    typed.get_by_role("spinbutton", name="Number of factors").fill("6")
    page.evaluate("window.sameDocument = true")
    job = FactorEvidence.objects.get(study=sorted_study)
    run_factor_evidence(job.pk)  # as the worker would
    suggested = FactorEvidence.objects.get(pk=job.pk).result["suggested"]
    assert suggested not in {3, 6}, "the study must suggest a number the form does not start with"
    expect(page.locator("#evidence-status table").first).to_be_visible(timeout=10_000)
    expect(page.locator("#evidence-suggestion")).to_contain_text(f"Suggested: {suggested} factors")
    expect(field).to_have_value(str(suggested))
    assert page.evaluate("window.sameDocument === true")  # htmx swapped it in: no reload
    expect(typed.locator("#evidence-suggestion")).to_contain_text(f"Suggested: {suggested} factors")
    expect(typed.get_by_role("spinbutton", name="Number of factors")).to_have_value("6")
