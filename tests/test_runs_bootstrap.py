"""Bootstrap jobs, the evidence panel, the methods paragraph and the run report, through the API
(the task body runs here as a worker would; tests/test_runs_bootstrap_worker.py uses a real one)."""

from __future__ import annotations

import io
import json

import numpy as np
import openpyxl
import pytest
from docx import Document

from qsort.analysis.bootstrap import bootstrap
from qsort.runs.models import AnalysisRun, Bootstrap, FactorEvidence
from qsort.runs.report import methods_paragraph, run_methods
from qsort.runs.services import load_sorts, start_run
from qsort.runs.stability import run_sorts
from qsort.runs.tasks import analyse_sorts, run_bootstrap, run_factor_evidence
from tests.runs_support import execute

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]

REFERENCE_FIELDS = {
    "call",
    "seconds",
    "sorts",
    "statements",
    "resamples",
    "order_log",
    "sign_log",
    "zscore_stats",
    "bootstrapped_factor_scores",
    "loading_stats",
    "fsi",
    "original",
}


@pytest.fixture
def run(sorted_study, owner) -> AnalysisRun:
    """A finished 2-factor run of nine sorts, with a hand rotation, a reflection and a flag override."""
    parameters = {
        "factors": 2,
        "extraction": "pca",
        "rotation": "varimax",
        "pair_rotations": [[1, 2, 12.5]],
        "reflections": [2],
        "flag_overrides": [["S01", 2, True]],
    }
    return execute(start_run(sorted_study, owner, parameters))


def finish(job_id: int) -> Bootstrap:
    run_bootstrap(job_id)
    return Bootstrap.objects.get(pk=job_id)


def test_a_researcher_bootstraps_a_run_and_reads_the_summaries(client_for, researcher, run):
    client = client_for(researcher)
    response = client.post(f"/api/analyses/{run.pk}/bootstrap/", {"steps": 40, "seed": 9}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["steps"] == 40 and body["seed"] == 9 and body["result"] is None
    job = finish(body["id"])
    assert (job.status, job.progress, job.error) == ("done", 100, "")
    detail = client.get(f"/api/bootstraps/{job.pk}/").json()
    assert detail["status"] == "done" and detail["progress"] == 100
    result = detail["result"]
    assert set(result) >= REFERENCE_FIELDS
    assert result["call"]["nsteps"] == 40 and result["call"]["seed"] == 9
    assert len(result["resamples"]) == 40 and result["seconds"] > 0
    assert result["sorts"] == run.result["sorts"]
    # the same seed through the engine directly gives the same numbers
    _, data = run_sorts(run)
    direct = bootstrap(
        data,
        run.result["statements"],
        run.result["sorts"],
        target=np.array(run.result["loadings"]),
        original_flags=np.array(run.result["flags"]),
        original_zscores=np.array(run.result["zscores"], dtype=float),
        original_arrays=np.array(run.result["factor_arrays"], dtype=float),
        steps=40,
        seed=9,
    ).to_json()
    assert direct["zscore_stats"] == result["zscore_stats"]
    assert direct["bootstrapped_factor_scores"] == result["bootstrapped_factor_scores"]


def test_explicit_resamples_are_one_based_and_repeat_exactly(client_for, owner, run):
    resamples = [[(i + step) % 9 + 1 for i in range(9)] for step in range(5)]
    response = client_for(owner).post(f"/api/analyses/{run.pk}/bootstrap/", {"resamples": resamples}, format="json")
    assert response.status_code == 202, response.json()
    job = finish(response.json()["id"])
    assert job.result["resamples"] == resamples and job.result["call"]["seed"] is None
    assert job.steps == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"steps": 0}, "non_field_errors"),
        ({"steps": 100_000}, "non_field_errors"),
        ({"steps": "many"}, "steps"),
        ({"seed": -1}, "seed"),
        ({"resamples": [[1, 2, 3]]}, "non_field_errors"),
        ({"resamples": [[0] * 9]}, "non_field_errors"),
        ({"resamples": [[1] * 9], "steps": 3}, "non_field_errors"),
        ({"resamples": "all"}, "resamples"),
    ],
)
def test_bad_requests_are_named_and_start_nothing(client_for, owner, run, body, field):
    response = client_for(owner).post(f"/api/analyses/{run.pk}/bootstrap/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Bootstrap.objects.exists()


def test_roles_and_strangers(client_for, facilitator, stranger, researcher, run):
    job = Bootstrap.objects.create(run=run, steps=10, seed=1)
    assert client_for(facilitator).post(f"/api/analyses/{run.pk}/bootstrap/", {}, format="json").status_code == 403
    assert client_for(facilitator).get(f"/api/bootstraps/{job.pk}/").status_code == 200
    assert client_for(facilitator).post(f"/api/bootstraps/{job.pk}/cancel/").status_code == 403
    for url in (f"/api/bootstraps/{job.pk}/", f"/api/studies/{run.study.slug}/factor-evidence/"):
        assert client_for(stranger).get(url).status_code == 404
    assert client_for(stranger).post(f"/api/analyses/{run.pk}/bootstrap/", {}, format="json").status_code == 404
    assert client_for(stranger).post(f"/api/bootstraps/{job.pk}/cancel/").status_code == 404
    for file in ("bootstrap.json", "bootstrap.xlsx", "report.docx"):
        assert client_for(stranger).get(f"/api/analyses/{run.pk}/export/{file}").status_code == 404
        assert client_for(facilitator).get(f"/api/analyses/{run.pk}/export/{file}").status_code == 403
    assert client_for(None).get(f"/api/bootstraps/{job.pk}/").status_code == 401
    assert client_for(researcher).get("/api/bootstraps/999999/").status_code == 404


def test_a_queued_bootstrap_is_cancelled_at_once_and_never_runs(client_for, owner, run):
    client = client_for(owner)
    job_id = client.post(f"/api/analyses/{run.pk}/bootstrap/", {"steps": 20}, format="json").json()["id"]
    response = client.post(f"/api/bootstraps/{job_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    job = finish(job_id)
    assert job.status == "cancelled" and job.result is None
    assert client.post(f"/api/bootstraps/{job_id}/cancel/").status_code == 409


def test_a_running_bootstrap_stops_at_its_next_batch(owner, run):
    job = Bootstrap.objects.create(run=run, steps=10, seed=1, status="queued", cancel_requested=True)
    job = finish(job.pk)
    assert job.status == "cancelled" and job.finished_at is not None and job.result is None


def test_a_withdrawal_deletes_the_runs_bootstraps_and_a_run_without_result_is_not_bootstrapped(owner, run):
    done = finish(Bootstrap.objects.create(run=run, steps=10, seed=1).pk)
    assert done.status == "done"
    run.study.sorts.first().delete()  # withdrawal: the run is queued again without its result
    assert not Bootstrap.objects.filter(run=run).exists()
    job = finish(Bootstrap.objects.create(run=run, steps=10, seed=1).pk)
    assert job.status == "failed" and "no result at the moment" in job.error


def test_a_bootstrap_of_sorts_no_longer_in_the_study_is_refused(owner, run):
    run.result = {**run.result, "sorts": [*run.result["sorts"][:-1], "GONE"]}
    run.save(update_fields=["result"])
    job = finish(Bootstrap.objects.create(run=run, steps=10, seed=1).pk)
    assert job.status == "failed" and "no longer in the study" in job.error


def test_factor_evidence_endpoint_is_a_job_with_progress_and_cancel(client_for, facilitator, researcher, run):
    client = client_for(facilitator)
    url = f"/api/studies/{run.study.slug}/factor-evidence/?factors=3"
    response = client.get(url)
    assert response.status_code == 202, response.json()
    queued = response.json()
    assert (queued["status"], queued["progress"], queued["factors"]) == ("queued", 0, 3)
    assert client.get(url).json()["id"] == queued["id"]  # one job per state of the sorts, not per request
    run_factor_evidence(queued["id"])
    response = client.get(url)
    assert response.status_code == 200, response.json()
    panel = response.json()
    assert [c["key"] for c in panel["criteria"]] == ["kaiser", "parallel", "parallel_horn", "humphrey", "two_loadings"]
    assert panel["parallel_analysis"]["draws"] == 1000 and panel["factors"] <= 3
    low, high = panel["suggested_range"]
    assert low <= panel["suggested"] <= high
    assert all(c["reason"] for c in panel["criteria"])
    assert client.get(f"/api/studies/{run.study.slug}/factor-evidence/?factors=x").status_code == 400
    assert client.get(f"/api/studies/{run.study.slug}/factor-evidence/?factors=9").status_code == 400

    # another trial size is its own job; a researcher cancels it, and may start it again
    other = client.get(f"/api/studies/{run.study.slug}/factor-evidence/?factors=2").json()
    cancel = f"/api/studies/{run.study.slug}/factor-evidence/{other['id']}/cancel/"
    assert client.post(cancel).status_code == 403  # a facilitator reads, never starts or stops
    researcher_client = client_for(researcher)
    response = researcher_client.post(cancel)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert researcher_client.post(cancel).status_code == 409
    run_factor_evidence(other["id"])  # a late delivery of a cancelled job does nothing
    assert FactorEvidence.objects.get(pk=other["id"]).status == "cancelled"
    response = client.get(f"/api/studies/{run.study.slug}/factor-evidence/?factors=2")
    assert response.status_code == 409 and response.json()["status"] == "cancelled"
    again = researcher_client.post(f"/api/studies/{run.study.slug}/factor-evidence/?factors=2")
    assert again.status_code == 202 and again.json()["id"] != other["id"]


def test_a_running_evidence_job_reports_progress_and_stops_at_a_cancel(run, monkeypatch):
    from qsort.analysis import evidence as engine
    from qsort.runs.stability import evidence_job

    job = evidence_job(run.study)
    seen = []
    real = engine._random_eigenvalues

    def watched(*args):
        state = FactorEvidence.objects.get(pk=job.pk)
        seen.append((state.status, state.progress))
        if len(seen) == 4:  # a researcher presses cancel while the draws run
            FactorEvidence.objects.filter(pk=job.pk).update(cancel_requested=True)
        return real(*args)

    monkeypatch.setattr(engine, "_random_eigenvalues", watched)
    run_factor_evidence(job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.result is None and job.finished_at and not job.claim
    assert seen[0] == ("running", 0) and 0 < seen[3][1] < 100


def test_exports_bootstrap_json_xlsx_and_the_docx_report(client_for, researcher, run):
    client = client_for(researcher)
    assert client.get(f"/api/analyses/{run.pk}/export/bootstrap.json").status_code == 409  # none yet
    started = client.post(f"/api/analyses/{run.pk}/bootstrap/", {"steps": 30, "seed": 3}, format="json")
    job = finish(started.json()["id"])

    response = client.get(f"/api/analyses/{run.pk}/export/bootstrap.json")
    assert response.status_code == 200
    assert json.loads(response.content) == job.result

    response = client.get(f"/api/analyses/{run.pk}/export/bootstrap.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {"Bootstrap", "Bootstrapped arrays", "Stability index", "F1 z-scores", "F2 loadings", "Steps"} <= set(
        workbook.sheetnames
    )

    response = client.get(f"/api/analyses/{run.pk}/export/report.docx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.docx"')
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert run_methods(run) in text
    assert "Factor arrays" in text and "Stability (bootstrap)" in text and "How many factors" in text
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    arrays = run.result["factor_arrays"]
    for s, sid in enumerate(run.result["statements"][:3]):
        assert sid in cells and str(arrays[s][0]) in cells


def test_methods_paragraph_says_every_recorded_decision(run):
    job = Bootstrap.objects.create(run=run, steps=25, seed=77)
    job = finish(job.pk)
    text = methods_paragraph(run.result, None, job.result)
    assert "9 Q-sorts of 6 statements" in text
    assert "principal component analysis" in text and "varimax" in text
    assert "significant at p < .05 (|a| > 1.96/sqrt(6) = 0.800)" in text
    assert "factors 1 and 2 by 12.5 degrees" in text
    assert "Factor 2 was reflected" in text
    assert "flagged S01 on factor 2 by hand" in text
    assert "25 bootstrap steps" in text and "seed 77" in text
    assert "qsort 0.1.0" in text
    centroid = {**run.result, "parameters": {**run.result["parameters"], "extraction": "centroid"}}
    assert "centroid" in methods_paragraph(centroid)


def test_replaying_a_runs_recorded_decisions_gives_byte_identical_arrays(run):
    replay = analyse_sorts(load_sorts(run.study), run.parameters).to_json()
    assert json.dumps(replay["factor_arrays"]).encode() == json.dumps(run.result["factor_arrays"]).encode()
    assert json.dumps(replay["flags"]) == json.dumps(run.result["flags"])


def test_the_schema_lists_the_new_endpoints(client_for, owner):
    schema = client_for(owner).get("/api/schema/?format=json").json()
    for path in (
        "/api/analyses/{run_id}/bootstrap/",
        "/api/bootstraps/{bootstrap_id}/",
        "/api/bootstraps/{bootstrap_id}/cancel/",
        "/api/studies/{slug}/factor-evidence/",
        "/api/studies/{slug}/factor-evidence/{job_id}/cancel/",
        "/api/analyses/{run_id}/factor-evidence/",
    ):
        assert path in schema["paths"], path


def test_the_results_page_shows_the_evidence_job_then_preselects_the_suggested_number(client, owner, sorted_study):
    from django.utils.html import escape

    client.force_login(owner)
    page = client.get(f"/studies/{sorted_study.slug}/results/").content.decode()
    job = FactorEvidence.objects.get(study=sorted_study)
    assert 'id="evidence-status"' in page and "<progress" in page and "every 1s" in page
    polled = client.get(
        f"/studies/{sorted_study.slug}/results/", headers={"HX-Request": "true", "HX-Target": "evidence-status"}
    )
    assert polled.content.decode().lstrip().startswith('<div id="evidence-status"')
    run_factor_evidence(job.pk)
    page = client.get(f"/studies/{sorted_study.slug}/results/").content.decode()
    panel = FactorEvidence.objects.get(pk=job.pk).result
    assert f'name="factors" value="{panel["suggested"]}"' in page
    for criterion in panel["criteria"]:
        assert escape(f"{criterion['name']} {criterion['factors']}") in page
        assert escape(criterion["reason"]) in page
    assert "every 1s" not in page


def test_cancelling_a_job_whose_worker_was_lost_ends_it_at_once(client_for, owner, run):
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(hours=1)
    job = Bootstrap.objects.create(
        run=run, steps=10, seed=1, status="running", started_at=long_ago, heartbeat_at=long_ago
    )
    assert job.lost_worker
    response = client_for(owner).post(f"/api/bootstraps/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    alive = Bootstrap.objects.create(run=run, steps=10, seed=1, status="running", started_at=timezone.now())
    assert not alive.lost_worker
    assert client_for(owner).post(f"/api/bootstraps/{alive.pk}/cancel/").json()["status"] == "running"
    alive.refresh_from_db()
    assert alive.cancel_requested


# --- the panel of a run too large for its task to compute it beside the analysis ------------------
@pytest.fixture
def large_run(run, owner, monkeypatch) -> AnalysisRun:
    """The `run` fixture's analysis again, as if its nine sorts were more than the task computes
    the panel for: the run's own panel is a job."""
    from qsort.runs import tasks

    monkeypatch.setattr(tasks, "EVIDENCE_INLINE_MAX_SORTS", 8)
    return execute(start_run(run.study, owner, run.parameters))


def test_a_large_runs_panel_is_a_job_the_run_starts_and_equals_the_inline_panel(run, large_run):
    from qsort.runs.stability import evidence_for_run, evidence_job

    assert "evidence" in run.result and "evidence" not in large_run.result
    job = FactorEvidence.objects.get(run=large_run)
    assert (job.status, job.study_id, job.factors) == ("queued", run.study_id, 2)
    assert evidence_for_run(large_run) is None
    evidence_job(run.study)  # the study's own job neither takes nor deletes the run's
    assert FactorEvidence.objects.filter(run=None).count() == 1
    run_factor_evidence(job.pk)
    job.refresh_from_db()
    assert (job.status, job.progress) == ("done", 100)
    assert job.result == run.result["evidence"]  # the same sorts and solution: the same panel, to the bit
    assert evidence_for_run(large_run) == job.result
    methods = run_methods(large_run)
    assert methods == run_methods(run)  # the methods paragraph reads the job's panel
    assert "parallel analysis with 1,000 sets of random Q-sorts" in methods


def test_the_run_page_polls_a_large_runs_evidence_job_then_lays_out_its_panel(client, owner, large_run):
    from django.utils.html import escape

    client.force_login(owner)
    url = f"/studies/{large_run.study.slug}/results/{large_run.pk}/"
    page = client.get(url).content.decode()
    assert 'id="evidence-status"' in page and "<progress" in page and "every 1s" in page
    assert "Cancel" in page
    polled = client.get(url, headers={"HX-Request": "true", "HX-Target": "evidence-status"}).content.decode()
    assert polled.lstrip().startswith('<div id="evidence-status"') and "every 1s" in polled
    job = FactorEvidence.objects.get(run=large_run)
    run_factor_evidence(job.pk)
    polled = client.get(url, headers={"HX-Request": "true", "HX-Target": "evidence-status"}).content.decode()
    assert "every 1s" not in polled
    panel = FactorEvidence.objects.get(pk=job.pk).result
    for criterion in panel["criteria"]:
        assert escape(criterion["reason"]) in polled
    assert "this run has 2" in polled
    assert FactorEvidence.objects.filter(run=large_run).count() == 1  # views never start a second


def test_a_large_runs_evidence_job_is_cancelled_and_computed_again_from_its_page(client, owner, large_run, stranger):
    slug = large_run.study.slug
    job = FactorEvidence.objects.get(run=large_run)
    client.force_login(owner)
    response = client.post(f"/studies/{slug}/results/evidence/{job.pk}/cancel/")
    assert response.status_code == 302 and response["Location"].endswith(f"/results/{large_run.pk}/#evidence")
    job.refresh_from_db()
    assert job.status == "cancelled"
    page = client.get(f"/studies/{slug}/results/{large_run.pk}/").content.decode()
    assert "Computing the evidence was cancelled." in page and "every 1s" not in page
    assert f'action="/studies/{slug}/results/{large_run.pk}/evidence/"' in page
    response = client.post(f"/studies/{slug}/results/{large_run.pk}/evidence/")
    assert response.status_code == 302
    again = FactorEvidence.objects.get(run=large_run)
    assert again.pk != job.pk and again.status == "queued"
    client.force_login(stranger)  # not a member of this study: it does not exist for them
    assert client.post(f"/studies/{slug}/results/{large_run.pk}/evidence/").status_code == 404
    assert client.post(f"/studies/{slug}/results/evidence/{again.pk}/cancel/").status_code == 404


def test_the_api_answers_a_runs_panel_stored_or_from_its_job(client_for, owner, facilitator, stranger, run, large_run):
    client = client_for(owner)
    stored = client.get(f"/api/analyses/{run.pk}/factor-evidence/")
    assert stored.status_code == 200 and stored.json() == run.result["evidence"]
    url = f"/api/analyses/{large_run.pk}/factor-evidence/"
    waiting = client.get(url)
    assert waiting.status_code == 202 and waiting.json()["status"] == "queued"
    job_id = waiting.json()["id"]
    cancelled = client.post(f"/api/studies/{run.study.slug}/factor-evidence/{job_id}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert client.get(url).status_code == 409
    again = client.post(url)
    assert again.status_code == 202 and again.json()["id"] != job_id
    run_factor_evidence(again.json()["id"])
    done = client.get(url)
    assert done.status_code == 200 and done.json() == run.result["evidence"]
    assert client_for(stranger).get(url).status_code == 404  # not a member
    assert client_for(facilitator).post(url).status_code in {403, 404}  # may view, not analyse
    assert client_for(facilitator).get(url).status_code == 200


def test_the_report_page_of_any_run_shows_its_methods_paragraph_with_the_jobs_panel(client, owner, large_run):
    """The page reads only what the paragraph needs of the result, so it shows it at every size."""
    from django.utils.html import escape

    client.force_login(owner)
    url = f"/studies/{large_run.study.slug}/results/{large_run.pk}/report/"
    before = client.get(url).content.decode()
    assert escape(run_methods(large_run)) in before and "parallel analysis with" not in run_methods(large_run)
    run_factor_evidence(FactorEvidence.objects.get(run=large_run).pk)
    methods = run_methods(large_run)
    assert "parallel analysis with 1,000 sets of random Q-sorts" in methods
    assert escape(methods) in client.get(url).content.decode()


def test_a_large_automatic_run_starts_its_evidence_job_only_when_someone_opens_it(client, owner, run, monkeypatch):
    """Automatic re-analysis of a large study may re-run every minute: its 1,000 draws wait for a reader."""
    from qsort.runs import tasks

    monkeypatch.setattr(tasks, "EVIDENCE_INLINE_MAX_SORTS", 8)
    automatic = execute(AnalysisRun.objects.create(study=run.study, parameters=run.parameters, automatic=True))
    assert automatic.status == "done" and "evidence" not in automatic.result
    assert not FactorEvidence.objects.filter(run=automatic).exists()
    client.force_login(owner)
    page = client.get(f"/studies/{run.study.slug}/results/{automatic.pk}/").content.decode()
    assert FactorEvidence.objects.get(run=automatic).status == "queued" and "every 1s" in page


def test_the_panel_of_a_chosen_set_of_sorts_leaves_them_out_before_any_run(client_for, owner, sorted_study):
    """As a run leaves sorts out (the same rules, clean_selection), so does the study's panel: a
    job of its own per choice, beside the panel of every sort."""
    from qsort.runs.stability import evidence_panel

    client = client_for(owner)
    base = f"/api/studies/{sorted_study.slug}/factor-evidence/?factors=2"
    chosen = client.get(base + "&excluded_sorts=S01,S02")
    assert chosen.status_code == 202, chosen.json()
    assert chosen.json()["selection"] == {"excluded_sorts": ["S01", "S02"]}
    every = client.get(base).json()
    assert every["id"] != chosen.json()["id"] and every["selection"] == {}
    assert client.get(base + "&excluded_sorts=S02,%20S01").json()["id"] == chosen.json()["id"]  # the same choice
    run_factor_evidence(chosen.json()["id"])
    panel = client.get(base + "&excluded_sorts=S01,S02").json()
    expected = evidence_panel(load_sorts(sorted_study, selection={"excluded_sorts": ["S01", "S02"]}), 2)
    assert panel == expected and panel["sorts"] == 7
    assert FactorEvidence.objects.get(pk=every["id"]).status == "queued"  # the panel of every sort is kept
    unknown = client.get(base + "&excluded_sorts=NOPE")
    assert unknown.status_code == 400 and "NOPE" in unknown.json()["non_field_errors"][0]
    assert client.get(base + "&sessions=abc").status_code == 400
    assert client.get(base + "&sessions=999").status_code == 400  # not a session of this study
    # As many and as long labels and sessions as a run may leave out (the analyses endpoint's limits).
    assert client.get(base + "&excluded_sorts=" + "x" * 41).status_code == 400
    assert client.get(base + "&sessions=" + ",".join(["1"] * 101)).status_code == 400
