"""The run's Stability page lays out the bootstrap engine's summaries: start, progress, cancel,
the forest plot per factor, the stability index, unstable positions, and the flag frequencies
beside the loadings. Nothing here is recomputed: every figure is read from the bootstrap JSON."""

from __future__ import annotations

import re

import pytest

from qsort.runs.models import AnalysisRun, Bootstrap
from qsort.runs.tasks import run_bootstrap
from tests.runs_support import add_sorts, execute

pytestmark = pytest.mark.django_db
PCA2 = {"factors": 2, "extraction": "pca", "rotation": "varimax"}


@pytest.fixture
def run(study, owner) -> AnalysisRun:
    add_sorts(study, 9)
    return execute(AnalysisRun.objects.create(study=study, created_by=owner, parameters={**PCA2}))


def url(run: AnalysisRun, suffix: str = "") -> str:
    return f"/studies/{run.study.slug}/results/{run.pk}/{suffix}"


def test_a_researcher_starts_a_bootstrap_watches_it_and_reads_its_stability(client, researcher, run):
    client.force_login(researcher)
    assert "No bootstrap of this run yet." in client.get(url(run, "stability/")).content.decode()
    response = client.post(url(run, "stability/start/"), {"steps": 30, "seed": 7})
    assert response["Location"] == url(run, "stability/")
    job = Bootstrap.objects.get()
    assert (job.steps, job.seed, job.created_by) == (30, 7, researcher)
    waiting = client.get(url(run, "stability/"), headers={"HX-Request": "true", "HX-Target": "bootstrap-status"})
    html = waiting.content.decode()
    assert html.lstrip().startswith('<div id="bootstrap-status"') and 'hx-trigger="every 1s"' in html
    assert "Cancel the bootstrap" in html and "<html" not in html

    run_bootstrap(job.pk)
    job.refresh_from_db()
    result = job.result
    page = client.get(url(run, "stability/")).content.decode()
    assert "Cancel the bootstrap" not in page and 'hx-trigger="every 1s"' not in page
    assert page.count('class="chart-box forest"') == 2
    for f in range(2):
        assert f"{result['fsi']['FSindex'][f]:.2f}" in page
        forest = page.split(f'id="stability-{f + 1}"')[1].split("</section>")[0]
        assert forest.count('<g class="forest-row') == len(result["statements"])
        assert forest.count('<g class="forest-row unstable">') == len(result["unstable_statements"][f])
        for sid in result["unstable_statements"][f]:
            assert f'<span class="st-num">{sid}</span>' in forest

    loadings = client.get(url(run, "loadings/")).content.decode()
    frequencies = {
        sort: freq
        for stats in result["loading_stats"][:1]
        for sort, freq in zip(stats["sort"], stats["flag_freq"], strict=True)
    }
    for sort, freq in frequencies.items():
        row = re.search(rf'id="sort-\d+">{sort}</th>(.*?)</tr>', loadings, re.S).group(1)
        assert f"flagged in {round(100 * freq)} %" in row


def test_a_running_bootstrap_can_be_cancelled_from_the_page(client, owner, run):
    client.force_login(owner)
    client.post(url(run, "stability/start/"), {"steps": 20})
    job = Bootstrap.objects.get()
    client.post(url(run, f"stability/{job.pk}/cancel/"))
    job.refresh_from_db()
    assert job.status == "cancelled" and job.cancel_requested
    page = client.get(url(run, "stability/")).content.decode()
    assert "The last bootstrap was cancelled." in page and "Run a bootstrap" in page


def test_bad_steps_are_refused_in_words_and_start_nothing(client, owner, run):
    client.force_login(owner)
    for steps in ("0", "99999", "many"):
        page = client.post(url(run, "stability/start/"), {"steps": steps}, follow=True).content.decode()
        assert "message error" in page or "whole numbers" in page
    assert not Bootstrap.objects.exists()


def test_facilitators_read_but_cannot_start_or_cancel_and_strangers_see_nothing(
    client, facilitator, stranger, owner, run
):
    job = Bootstrap.objects.create(run=run, steps=10, seed=1, created_by=owner)
    client.force_login(facilitator)
    page = client.get(url(run, "stability/")).content.decode()
    assert "Run a bootstrap" not in page and "Cancel the bootstrap" not in page
    assert client.post(url(run, "stability/start/"), {"steps": 10}).status_code == 403
    assert client.post(url(run, f"stability/{job.pk}/cancel/")).status_code == 403
    client.force_login(stranger)
    assert client.get(url(run, "stability/")).status_code == 404
    assert client.post(url(run, "stability/start/"), {"steps": 10}).status_code == 404
    assert client.post(url(run, f"stability/{job.pk}/cancel/")).status_code == 404
    job.refresh_from_db()
    assert job.status == "queued" and not job.cancel_requested and Bootstrap.objects.count() == 1


def test_the_overview_lays_out_the_engines_evidence_panel(client, owner, run):
    from qsort.runs.stability import evidence_for_run

    client.force_login(owner)
    page = client.get(url(run)).content.decode()
    panel = evidence_for_run(run)
    low, high = panel["suggested_range"]
    assert f"The criteria suggest {low} to {high} factors" in page
    for criterion in panel["criteria"]:
        assert criterion["name"] in page


def test_the_run_task_stores_the_panel_and_the_pages_only_lay_it_out(client, owner, run, monkeypatch):
    from qsort.analysis import evidence

    panel = run.result["evidence"]
    assert panel["suggested_range"] and panel["criteria"]

    def computed_in_the_request(*_args, **_kwargs):
        raise AssertionError("a page computed the evidence panel")

    monkeypatch.setattr(evidence, "factor_evidence", computed_in_the_request)
    client.force_login(owner)
    low, high = panel["suggested_range"]
    assert f"The criteria suggest {low} to {high} factors" in client.get(url(run)).content.decode()
    assert client.get(url(run, "report/")).status_code == 200


def test_the_report_page_offers_the_docx_report_and_the_methods_paragraph(client, owner, run):
    from django.utils.html import escape

    from qsort.runs.report import run_methods

    client.force_login(owner)
    page = client.get(url(run, "report/")).content.decode()
    assert f"/studies/{run.study.slug}/data/runs/{run.pk}/report.docx" in page
    assert "bootstrap.xlsx" not in page
    assert escape(run_methods(run)) in page
    job = Bootstrap.objects.create(run=run, steps=20, seed=3, created_by=owner)
    run_bootstrap(job.pk)
    page = client.get(url(run, "report/")).content.decode()
    assert f"/studies/{run.study.slug}/data/runs/{run.pk}/bootstrap.xlsx" in page
    with_bootstrap = run_methods(run)
    assert "bootstrap" in with_bootstrap.lower() and escape(with_bootstrap) in page
