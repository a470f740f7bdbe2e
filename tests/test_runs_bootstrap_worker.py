"""A real Celery worker on Redis runs bootstrap jobs started through the API: progress while it
runs, a cancel that stops a running job, and a job that runs to the end."""

from __future__ import annotations

import time

import pytest

from qsort.analysis import bootstrap as engine
from qsort.runs.models import AnalysisRun, Bootstrap
from qsort.runs.services import start_run
from tests.runs_support import running_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
pytest_plugins = ["tests.api_support"]


def wait_for(predicate, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_runs_one_bootstrap_to_the_end_and_cancels_another(client_for, demo_study, monkeypatch):
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.get(pk=demo_study.owner_id)
    # Small batches, so a running job reports progress often and sees a cancel quickly.
    monkeypatch.setattr(engine, "BATCH_CELLS", 400)
    client = client_for(owner)
    with running_worker():
        run = start_run(demo_study, owner, {"factors": 3, "extraction": "pca", "rotation": "varimax"})
        run = wait_for(lambda: AnalysisRun.objects.filter(pk=run.pk, status="done").first(), "the analysis to finish")

        long_id = client.post(f"/api/analyses/{run.pk}/bootstrap/", {"steps": 5000}, format="json").json()["id"]
        seen = wait_for(
            lambda: Bootstrap.objects.filter(pk=long_id, status="running", progress__gt=0).first(),
            "the long bootstrap to report progress",
        )
        assert 0 < seen.progress < 100
        response = client.post(f"/api/bootstraps/{long_id}/cancel/")
        assert response.status_code == 200
        cancelled = wait_for(
            lambda: Bootstrap.objects.filter(pk=long_id, status="cancelled").first(), "the cancel to take effect"
        )
        assert cancelled.result is None and cancelled.progress < 100 and cancelled.finished_at

        short_id = client.post(f"/api/analyses/{run.pk}/bootstrap/", {"steps": 200, "seed": 4}, format="json").json()[
            "id"
        ]
        progress: set[int] = set()

        def finished():
            job = Bootstrap.objects.get(pk=short_id)
            progress.add(job.progress)
            return job if job.is_finished else None

        done = wait_for(finished, "the short bootstrap to finish")
    assert (done.status, done.progress, done.error) == ("done", 100, "")
    assert done.seed == 4 and done.result["call"]["nsteps"] == 200
    assert len(done.result["zscore_stats"]) == 3
    detail = client.get(f"/api/bootstraps/{short_id}/").json()
    assert detail["result"]["bootstrapped_factor_scores"] == done.result["bootstrapped_factor_scores"]
