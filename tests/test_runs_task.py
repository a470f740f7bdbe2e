"""The task's contract: progress at each stage, plain-words failures, duplicate deliveries,
automatic re-analysis after a new sort, and broker outages that lose nothing."""

from __future__ import annotations

import logging

import pytest

import qsort.runs.tasks as tasks
from qsort.celery import app
from qsort.runs.models import AnalysisRun
from qsort.runs.services import load_sorts
from qsort.runs.tasks import run_analysis
from qsort.studies.services import submit_sort
from tests.conftest import make_study
from tests.runs_support import VIEWPOINTS, execute

pytestmark = pytest.mark.django_db
PARAMETERS = {"factors": 2, "extraction": "pca", "rotation": "varimax"}


def test_the_task_records_every_stage_as_it_goes(sorted_study, owner, monkeypatch):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS)
    seen: list[tuple[str, int, str]] = []
    engine = tasks.analyse

    def watched(*args, progress, **kwargs):
        def report(stage: str, percent: int) -> None:
            progress(stage, percent)
            seen.append(AnalysisRun.objects.values_list("stage", "progress", "status").get(pk=run.pk))

        return engine(*args, progress=report, **kwargs)

    monkeypatch.setattr(tasks, "analyse", watched)
    execute(run)
    stages = [stage for stage, _, _ in seen]
    for stage in ("correlating", "extracting", "rotating", "flagging", "scoring", "distinguishing"):
        assert stage in stages
    assert all(status == "running" for _, _, status in seen)
    progress = [value for _, value, _ in seen]
    assert progress == sorted(progress) and progress[0] >= 10 and progress[-1] <= 99
    assert (run.status, run.progress, run.stage) == ("done", 100, "")


def test_sorts_are_labelled_by_participant_code_never_by_token(sorted_study):
    sorts = load_sorts(sorted_study)
    assert sorts.sort_ids == [f"S{i:02d}" for i in range(1, 10)]
    assert sorts.data.shape == (6, 9)
    assert sorts.data[:, 0].tolist() != [0] * 6
    tokens = set(sorted_study.participants.values_list("token", flat=True))
    assert not tokens & set(sorts.sort_ids)


def test_loading_the_sorts_takes_three_queries_whatever_their_number(sorted_study, django_assert_num_queries):
    with django_assert_num_queries(3):
        load_sorts(sorted_study)


def test_an_input_the_engine_refuses_fails_the_run_with_its_message(owner):
    study = make_study(owner, slug="free", distribution="free", grid={-1: 6, 0: 6, 1: 6})
    first, *others = study.invite(codes=["FLAT", "A", "B", "C"])
    submit_sort(first, [(n, 0) for n in range(1, 7)])  # every card in the middle column
    for participant, values in zip(others, VIEWPOINTS, strict=True):
        submit_sort(participant, list(enumerate(values, start=1)))
    run = execute(AnalysisRun.objects.create(study=study, created_by=owner, parameters=PARAMETERS))
    assert run.status == "failed"
    assert run.error.startswith("Sort FLAT has the same value for every statement")
    assert "Traceback" not in run.error
    assert run.finished_at is not None


def test_a_free_study_with_room_to_spare_lays_its_arrays_on_the_typical_sort(owner):
    study = make_study(owner, slug="free", distribution="free", grid={-1: 3, 0: 3, 1: 3})
    participants = study.invite(codes=["A", "B", "C", "D"])
    shapes = [[1, 1, 0, 0, -1, -1], [1, 0, 0, 0, -1, -1], [1, 1, 0, 0, 0, -1], [-1, 0, 1, -1, 0, 1]]
    for participant, values in zip(participants, shapes, strict=True):
        submit_sort(participant, list(enumerate(values, start=1)))
    sorts = load_sorts(study)
    assert sorts.distribution == [-1, -1, 0, 0, 1, 1]
    run = execute(AnalysisRun.objects.create(study=study, created_by=owner, parameters={**PARAMETERS, "factors": 1}))
    assert run.status == "done", run.error
    assert run.result["distribution"] == {"values": [-1, 0, 1], "counts": [2, 2, 2]}


def test_an_unexpected_error_fails_the_run_in_plain_words_and_is_logged(sorted_study, owner, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory in a BLAS thread")

    monkeypatch.setattr(tasks, "analyse", broken)
    with caplog.at_level(logging.ERROR, logger="qsort.runs.tasks"):
        run = execute(AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS))
    assert run.status == "failed"
    assert run.error.startswith("The analysis stopped because of an unexpected error.")
    assert "BLAS" not in run.error
    assert "out of memory in a BLAS thread" in caplog.text


def test_a_duplicate_delivery_of_a_finished_run_changes_nothing(sorted_study, owner):
    run = execute(AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS))
    finished_at = run.finished_at
    run_analysis(run.pk)
    run.refresh_from_db()
    assert (run.status, run.finished_at) == ("done", finished_at)
    run_analysis(987654321)  # a message for a run that no longer exists is dropped quietly


# --- automatic re-analysis -------------------------------------------------------------------


def complete_a_sort(study, code: str, django_capture_on_commit_callbacks) -> None:
    participant = study.invite(codes=[code])[0]
    with django_capture_on_commit_callbacks(execute=True):
        submit_sort(participant, list(enumerate(VIEWPOINTS[0], start=1)))


@pytest.fixture
def auto_study(sorted_study, owner):
    sorted_study.auto_reanalyse = True
    sorted_study.save(update_fields=["auto_reanalyse"])
    execute(AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters={**PARAMETERS, "factors": 3}))
    return sorted_study


@pytest.fixture
def no_broker():
    """A broker outage: Redis refuses connections (a closed port), for real."""
    url = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.broker_write_url = url
    app._pool = None
    app.amqp._producer_pool = None


def test_a_new_sort_queues_one_automatic_run_with_the_latest_parameters(auto_study, django_capture_on_commit_callbacks):
    complete_a_sort(auto_study, "NEW1", django_capture_on_commit_callbacks)
    complete_a_sort(auto_study, "NEW2", django_capture_on_commit_callbacks)
    automatic = AnalysisRun.objects.filter(study=auto_study, automatic=True)
    assert automatic.count() == 1  # debounced: the second sort joins the queued run
    run = automatic.get()
    assert (run.status, run.created_by, run.parameters["factors"]) == ("queued", None, 3)
    execute(run)
    assert "NEW2" in run.result["sorts"]


def test_no_automatic_run_without_the_study_option_or_a_previous_run(
    sorted_study, owner, django_capture_on_commit_callbacks
):
    complete_a_sort(sorted_study, "NEW1", django_capture_on_commit_callbacks)
    assert not AnalysisRun.objects.exists()  # option off
    sorted_study.auto_reanalyse = True
    sorted_study.save(update_fields=["auto_reanalyse"])
    complete_a_sort(sorted_study, "NEW2", django_capture_on_commit_callbacks)
    assert not AnalysisRun.objects.exists()  # nothing to re-run yet


def test_a_broker_outage_neither_fails_a_submission_nor_loses_the_run(
    auto_study, django_capture_on_commit_callbacks, no_broker, caplog
):
    with caplog.at_level(logging.ERROR):
        complete_a_sort(auto_study, "NEW1", django_capture_on_commit_callbacks)
    assert auto_study.sorts.filter(participant__code="NEW1").exists()
    run = AnalysisRun.objects.get(study=auto_study, automatic=True)
    assert run.status == "queued"  # kept: stale after a while, then retried
    assert "127.0.0.1:1" in caplog.text


def test_a_broker_outage_when_a_researcher_starts_a_run_keeps_the_run_queued(
    client, researcher, sorted_study, no_broker, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/studies/{sorted_study.slug}/results/", PARAMETERS)
    run = AnalysisRun.objects.get()
    assert response.status_code == 302
    assert run.status == "queued"
