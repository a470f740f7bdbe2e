"""Withdrawal (issue 11, point 9): nothing of a withdrawn participant remains in any stored run
or any download. Their sort shaped every number of a run that used it, so those runs are re-run
without it; until then they hold no result at all."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from qsort.exchange.services import RUN_FILES, STUDY_FILES
from qsort.runs.models import AnalysisRun, Bootstrap
from qsort.studies.models import Participant
from qsort.studies.services import submit_sort
from tests.conftest import make_study
from tests.runs_support import VIEWPOINTS, add_sorts, execute

pytestmark = pytest.mark.django_db

LABEL = "WDRAW7"
COMMENT = "the night my brother left zq81"
PCA = {"factors": 2, "extraction": "pca", "rotation": "varimax"}


def readable(body: bytes) -> str:
    """The text of a download: every part of an XLSX (a zip of XML), or the file itself."""
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return body.decode("utf-8", "replace") if not body.startswith(b"\xff") else body.decode("latin-1")


def downloads(client, study) -> dict[str, str]:
    files = {}
    for name in STUDY_FILES:
        response = client.get(f"/api/studies/{study.slug}/export/{name}")
        assert response.status_code == 200, (name, response.status_code)
        files[name] = readable(response.content)
    for run in AnalysisRun.objects.filter(study=study, status="done"):
        for name in RUN_FILES:
            response = client.get(f"/api/analyses/{run.pk}/export/{name}")
            assert response.status_code == 200, (name, response.status_code)
            files[f"run {run.pk} {name}"] = readable(response.content)
    return files


def stored_runs_text(study) -> str:
    return "".join(
        json.dumps(run.result) + json.dumps(run.parameters) + run.error
        for run in AnalysisRun.objects.filter(study=study)
    )


@pytest.fixture
def withdrawn_setup(study, owner):
    add_sorts(study, 8)
    participant = study.invite(codes=[LABEL])[0]
    submit_sort(participant, list(enumerate(VIEWPOINTS[1], start=1)), comments={"2": COMMENT})
    flagged = execute(
        AnalysisRun.objects.create(
            study=study, created_by=owner, parameters={**PCA, "flag_overrides": [[LABEL, 2, True], ["S01", 1, True]]}
        )
    )
    centroid = execute(AnalysisRun.objects.create(study=study, parameters={**PCA, "rotation": "none"}))
    Bootstrap.objects.create(run=flagged, steps=10, status="done", result={"sorts": [LABEL, "S01"]})
    failed = AnalysisRun.objects.create(
        study=study, parameters=PCA, status="failed", error=f"Sort {LABEL} has the same value everywhere."
    )
    return participant, [flagged, centroid, failed]


def test_a_withdrawn_participant_leaves_no_trace_in_any_run_or_download(
    client, owner, researcher, study, withdrawn_setup, django_capture_on_commit_callbacks
):
    participant, runs = withdrawn_setup
    other_study = make_study(owner, slug="other")
    add_sorts(other_study, 4)
    untouched = execute(AnalysisRun.objects.create(study=other_study, parameters=PCA))
    client.force_login(researcher)
    before = downloads(client, study)
    holding = sorted(name for name, text in before.items() if LABEL in text or COMMENT in text)
    # The search can find them: their label or comment is in the data, results and reports.
    assert {"sorts.csv", "results.json", f"run {runs[0].pk} result.json", f"run {runs[1].pk} report.xlsx"} <= set(
        holding
    )
    assert LABEL in stored_runs_text(study)

    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=False) as sends:
        response = client.post(f"/studies/{study.slug}/participants/{participant.pk}/withdraw/")
    assert response.status_code == 302
    assert not Participant.objects.filter(pk=participant.pk).exists()
    # At once, before any worker re-runs them: no stored run holds anything of theirs.
    assert LABEL not in stored_runs_text(study)
    assert not Bootstrap.objects.filter(run__study=study).exists()  # it resampled their sort
    assert len(sends) == 3
    assert set(AnalysisRun.objects.filter(study=study).values_list("status", flat=True)) == {"queued"}
    untouched.refresh_from_db()
    assert untouched.status == "done" and untouched.attempts == 1

    for run in runs:
        execute(run)
    assert [run.status for run in runs] == ["done", "done", "done"]
    assert runs[0].parameters["flag_overrides"] == [["S01", 1, True]]  # their override is gone, others kept
    assert len(runs[0].result["sorts"]) == len(runs[0].result["loadings"]) == 8
    assert LABEL not in stored_runs_text(study) and COMMENT not in stored_runs_text(study)

    client.force_login(researcher)
    after = downloads(client, study)
    assert set(before) < set(after)  # the failed run, re-run, now has downloads too
    assert [name for name, text in after.items() if LABEL in text or COMMENT in text] == []
    assert "S01" in after["sorts.csv"] and "S01" in after[f"run {runs[0].pk} result.json"]


def test_deleting_a_whole_study_does_not_requeue_its_runs(study, withdrawn_setup, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as sends:
        study.delete()
    assert sends == [] and not AnalysisRun.objects.exists()
