"""A real Celery worker on Redis runs an analysis started from the results page, and what it
stores is exactly what the engine returns for the same sorts."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from qsort.analysis import analyse
from qsort.analysis.evidence import evidence_for_result
from qsort.runs.models import AnalysisRun
from qsort.runs.stability import EVIDENCE_DRAWS, EVIDENCE_SEED
from tests.runs_support import running_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def worker():
    with running_worker():
        yield


def wait_until_finished(run_id: int, timeout: float = 60) -> AnalysisRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = AnalysisRun.objects.get(pk=run_id)
        if run.is_finished:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s (status {run.status})")


def test_a_real_worker_analyses_the_demo_study_and_stores_what_the_engine_returns(client, demo_study, worker):
    client.login(username="facilitator", password="qsort-demo-2026")
    response = client.post(
        f"/studies/{demo_study.slug}/results/", {"factors": 3, "extraction": "pca", "rotation": "varimax"}
    )
    run = AnalysisRun.objects.get()
    assert response["Location"] == f"/studies/{demo_study.slug}/results/{run.pk}/"

    run = wait_until_finished(run.pk)
    assert (run.status, run.progress, run.error) == ("done", 100, "")
    assert run.started_at is not None and run.finished_at >= run.started_at

    # The same sorts, read independently of the task, given straight to the engine.
    sorts = list(demo_study.sorts.order_by("submitted_at", "id").select_related("participant"))
    numbers = list(demo_study.statements.order_by("number").values_list("number", flat=True))
    data = np.array([[sort.values_by_number()[n] for sort in sorts] for n in numbers])
    engine = analyse(
        data,
        [str(n) for n in numbers],
        [sort.participant.code for sort in sorts],
        factors=3,
        extraction="pca",
        rotation="varimax",
    )
    expected = engine.to_json()
    stored = dict(run.result)
    assert stored.pop("statement_texts") == list(
        demo_study.statements.order_by("number").values_list("text", flat=True)
    )
    # The run's number-of-factors evidence is computed by the task and stored beside the result.
    evidence = evidence_for_result(data, engine, draws=EVIDENCE_DRAWS, seed=EVIDENCE_SEED, max_retained=8).to_json()
    assert stored.pop("evidence") == json.loads(json.dumps(evidence))
    # The sorts x sorts correlation matrix is never stored (computed where it is shown).
    assert "correlations" not in stored and expected.pop("correlations") is not None
    assert stored == json.loads(json.dumps(expected))  # JSON has lists where Python may have tuples
    assert stored["sorts"][:3] == ["D01", "D02", "D03"]

    page = client.get(f"/studies/{demo_study.slug}/results/{run.pk}/factors/1/").content.decode()
    assert 'aria-label="Composite sort of factor 1"' in page
