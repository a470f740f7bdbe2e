"""Jobs recover by themselves (issue 11, points 2 and 12): no analysis inside a request, a
minimum interval and a retention limit for automatic runs, lost workers' runs taken over,
runs whose message was lost re-sent, stale runs visible and retryable through the API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.utils import timezone

from qsort.celery import app
from qsort.runs import services, tasks
from qsort.runs.models import (
    MAX_ATTEMPTS,
    AnalysisRun,
    Bootstrap,
    FactorEvidence,
    message_lost_before,
    worker_lost_before,
)
from qsort.runs.services import (
    AUTO_REANALYSE_MIN_INTERVAL,
    AUTOMATIC_RUNS_KEPT,
    load_sorts,
    recover_runs,
)
from qsort.runs.tasks import recover_runs as recover_runs_task
from qsort.runs.tasks import run_analysis
from qsort.studies.services import submit_sort
from tests.runs_support import VIEWPOINTS, add_sorts, execute, purge_queue, running_worker

PARAMETERS = {"factors": 2, "extraction": "pca", "rotation": "varimax"}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def sorted_study(study):
    add_sorts(study, 9)
    return study


@pytest.fixture
def auto_study(sorted_study, owner):
    sorted_study.auto_reanalyse = True
    sorted_study.save(update_fields=["auto_reanalyse"])
    execute(AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS))
    return sorted_study


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def complete_a_sort(study, code: str) -> None:
    submit_sort(study.invite(codes=[code])[0], list(enumerate(VIEWPOINTS[0], start=1)))


# --- point 2: never inside a request -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_new_sort_is_analysed_after_the_request_in_the_background(
    client, auto_study, settings, monkeypatch
):
    settings.QSORT_RUNS_IN_PROCESS = True
    monkeypatch.setattr(services, "AUTO_REANALYSE_DELAY", timedelta(seconds=0.5))
    participant = auto_study.invite(codes=["NEW1"])[0]
    participant.stage = "review"
    participant.save(update_fields=["stage"])
    placements = [f"{n}:{v}" for n, v in enumerate(VIEWPOINTS[0], start=1)]
    response = client.post(f"/p/{participant.token}/submit/", {"placement": placements})
    assert response.status_code == 302
    run = AnalysisRun.objects.get(study=auto_study, automatic=True)
    assert run.status == "queued"  # the response came back before the analysis began
    run = wait_for(lambda: AnalysisRun.objects.filter(pk=run.pk, status="done").first(), what="the background run")
    assert "NEW1" in run.result["sorts"]


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_researchers_run_is_queued_and_finished_in_the_background(
    client, researcher, sorted_study, settings
):
    settings.QSORT_RUNS_IN_PROCESS = True
    client.force_login(researcher)
    response = client.post(f"/studies/{sorted_study.slug}/results/", PARAMETERS)
    assert response.status_code == 302
    run = AnalysisRun.objects.get()
    wait_for(lambda: AnalysisRun.objects.filter(pk=run.pk, status="done").exists(), what="the background run")


@pytest.mark.django_db
def test_automatic_runs_keep_a_minimum_interval_per_study(auto_study, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complete_a_sort(auto_study, "NEW1")
    first = AnalysisRun.objects.get(study=auto_study, automatic=True)
    execute(first)  # done: the next sort needs a new run, but not before the interval
    with django_capture_on_commit_callbacks(execute=True):
        complete_a_sort(auto_study, "NEW2")
    second = AnalysisRun.objects.filter(study=auto_study, automatic=True).first()
    assert second.pk != first.pk and second.status == "queued"
    assert second.queued_at >= first.created_at + AUTO_REANALYSE_MIN_INTERVAL
    assert not second.is_stale  # due in the future: waiting, not stuck
    run_analysis(second.pk)  # an early delivery would analyse; only its countdown keeps the pace
    second.refresh_from_db()
    assert "NEW2" in second.result["sorts"]


@pytest.mark.django_db
def test_only_the_newest_automatic_runs_are_kept_and_researchers_runs_never_pruned(
    auto_study, django_capture_on_commit_callbacks
):
    manual = AnalysisRun.objects.get(study=auto_study)
    for i in range(AUTOMATIC_RUNS_KEPT + 2):
        with django_capture_on_commit_callbacks(execute=True):
            complete_a_sort(auto_study, f"NEW{i}")
        execute(AnalysisRun.objects.filter(study=auto_study, automatic=True).first())
    automatic = AnalysisRun.objects.filter(study=auto_study, automatic=True)
    assert automatic.count() == AUTOMATIC_RUNS_KEPT
    assert f"NEW{AUTOMATIC_RUNS_KEPT + 1}" in automatic.first().result["sorts"]
    assert AnalysisRun.objects.filter(pk=manual.pk).exists()


@pytest.mark.django_db
def test_a_stuck_automatic_run_is_sent_again_instead_of_blocking_later_ones(
    auto_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complete_a_sort(auto_study, "NEW1")
    stuck = AnalysisRun.objects.get(study=auto_study, automatic=True)
    AnalysisRun.objects.filter(pk=stuck.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        complete_a_sort(auto_study, "NEW2")
    stuck.refresh_from_db()
    assert AnalysisRun.objects.filter(study=auto_study, automatic=True).count() == 1
    assert not stuck.is_stale and len(callbacks) == 2  # re-sent (and the sort's own hook)
    execute(stuck)
    assert {"NEW1", "NEW2"} <= set(stuck.result["sorts"])


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_bootstraps_and_the_evidence_run_in_the_background_thread(
    client, researcher, sorted_study, settings, monkeypatch
):
    """Never in the request: each kind of job in its own background thread (qsort.runs.background)."""
    settings.QSORT_RUNS_IN_PROCESS = True
    threads: dict[str, str] = {}

    def recorded(name, function):
        def call(*args, **kwargs):
            threads[name] = threading.current_thread().name
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(tasks, "bootstrap", recorded("bootstrap", tasks.bootstrap))
    monkeypatch.setattr(tasks, "evidence_panel", recorded("evidence", tasks.evidence_panel))
    client.force_login(researcher)
    assert client.get(f"/studies/{sorted_study.slug}/results/").status_code == 200  # queues the evidence
    client.post(f"/studies/{sorted_study.slug}/results/", PARAMETERS)
    run = wait_for(lambda: AnalysisRun.objects.filter(status="done").first(), 120, "the background run")
    response = client.post(f"/studies/{sorted_study.slug}/results/{run.pk}/stability/start/", {"steps": 30})
    assert response.status_code == 302
    job = wait_for(lambda: Bootstrap.objects.filter(status="done").first(), 120, "the background bootstrap")
    assert job.result["call"]["nsteps"] == 30
    evidence = wait_for(
        lambda: FactorEvidence.objects.filter(study=sorted_study, status="done").first(), 120, "evidence"
    )
    assert evidence.result["parallel_analysis"]["draws"] == 1000
    assert threads["bootstrap"].startswith("qsort-run_bootstrap_")
    assert threads["evidence"].startswith("qsort-run_factor_evidence_")


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_long_bootstrap_does_not_hold_up_an_analysis(
    client, researcher, sorted_study, settings, monkeypatch
):
    """A bootstrap that is still working (held here until the analysis is done) leaves the
    analyses' thread free: a researcher's new run finishes meanwhile."""
    settings.QSORT_RUNS_IN_PROCESS = True
    started, release = threading.Event(), threading.Event()

    def held_bootstrap(*args, **kwargs):
        started.set()
        assert release.wait(60), "the test never released the bootstrap"
        return original(*args, **kwargs)

    original = tasks.bootstrap
    monkeypatch.setattr(tasks, "bootstrap", held_bootstrap)
    client.force_login(researcher)
    client.post(f"/studies/{sorted_study.slug}/results/", PARAMETERS)
    first = wait_for(lambda: AnalysisRun.objects.filter(status="done").first(), 120, "the first run")
    client.post(f"/studies/{sorted_study.slug}/results/{first.pk}/stability/start/", {"steps": 20})
    try:
        assert started.wait(60), "the bootstrap never started"
        client.post(f"/studies/{sorted_study.slug}/results/", PARAMETERS | {"factors": 3})
        second = wait_for(
            lambda: AnalysisRun.objects.filter(status="done").exclude(pk=first.pk).first(), 120, "the second run"
        )
        assert Bootstrap.objects.get().status == "running"  # still held while the second run finished
        assert len(second.result["factors"]) == 3
    finally:
        release.set()
    job = wait_for(lambda: Bootstrap.objects.filter(status="done").first(), 120, "the released bootstrap")
    assert job.result["call"]["nsteps"] == 20


# --- point 12: lost workers, lost messages --------------------------------------------------------


def lose_worker(run: AnalysisRun, *, attempts: int = 1) -> None:
    """The state a killed worker leaves: running, claimed, and no heartbeat for too long."""
    long_ago = worker_lost_before() - timedelta(seconds=1)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status="running", claim="dead-worker", attempts=attempts, started_at=long_ago, heartbeat_at=long_ago
    )


@pytest.mark.django_db
def test_a_redelivered_task_takes_over_a_run_whose_worker_died(sorted_study, owner):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS)
    lose_worker(run)
    run = execute(run)  # the redelivered message (acks_late, reject_on_worker_lost)
    assert (run.status, run.attempts, run.claim) == ("done", 2, "")


@pytest.mark.django_db
def test_a_duplicate_delivery_leaves_a_run_with_a_live_worker_alone(sorted_study, owner):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS)
    AnalysisRun.objects.filter(pk=run.pk).update(status="running", claim="alive", heartbeat_at=timezone.now())
    run = execute(run)
    assert (run.status, run.claim) == ("running", "alive")


@pytest.mark.django_db
def test_a_worker_written_off_cannot_overwrite_the_run_it_lost(sorted_study, owner, monkeypatch):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS)

    def written_off_meanwhile(*args, **kwargs):
        AnalysisRun.objects.filter(pk=run.pk).update(claim="the-next-worker")
        raise ValueError("this write must not land")

    monkeypatch.setattr("qsort.runs.tasks.analyse", written_off_meanwhile)
    run = execute(run)
    assert (run.status, run.claim, run.error) == ("running", "the-next-worker", "")


@pytest.mark.django_db
def test_the_sweep_requeues_lost_runs_resends_lost_messages_and_fails_hopeless_runs(
    sorted_study, owner, django_capture_on_commit_callbacks
):
    def new_run() -> AnalysisRun:
        return AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS)

    lost, hopeless, unsent, waiting, busy = (new_run() for _ in range(5))
    lose_worker(lost)
    lose_worker(hopeless, attempts=MAX_ATTEMPTS)
    AnalysisRun.objects.filter(pk=unsent.pk).update(queued_at=message_lost_before() - timedelta(seconds=1))
    AnalysisRun.objects.filter(pk=busy.pk).update(status="running", claim="alive", heartbeat_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert recover_runs()["runs"] == {"failed": 1, "taken_over": 1, "resent": 1}
    assert len(callbacks) == 2
    states = {r.pk: r for r in AnalysisRun.objects.all()}
    assert (states[lost.pk].status, states[lost.pk].claim) == ("queued", "")
    assert states[hopeless.pk].status == "failed"
    assert "worker running it was lost" in states[hopeless.pk].error
    assert states[unsent.pk].status == "queued" and states[unsent.pk].queued_at > unsent.queued_at
    assert states[waiting.pk].queued_at == waiting.queued_at
    assert states[busy.pk].claim == "alive"
    for run in (lost, unsent):
        assert execute(run).status == "done"


@pytest.mark.django_db
def test_the_sweep_takes_over_or_ends_lost_bootstraps_and_evidence_jobs(
    sorted_study, owner, django_capture_on_commit_callbacks
):
    run = execute(AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS))
    long_ago = worker_lost_before() - timedelta(seconds=1)
    lost_state = {"status": "running", "claim": "dead-worker", "started_at": long_ago, "heartbeat_at": long_ago}

    def bootstrap(**state) -> Bootstrap:
        return Bootstrap.objects.create(run=run, steps=20, seed=5, **state)

    lost = bootstrap(**lost_state, attempts=1)
    hopeless = bootstrap(**lost_state, attempts=MAX_ATTEMPTS)
    stopping = bootstrap(**lost_state, attempts=1, cancel_requested=True)
    unsent = bootstrap(queued_at=message_lost_before() - timedelta(seconds=1))
    busy = bootstrap(status="running", claim="alive", heartbeat_at=timezone.now(), attempts=1)
    lost_evidence = FactorEvidence.objects.create(study=sorted_study, factors=2, state="9:x", **lost_state, attempts=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        swept = recover_runs()
    assert swept["bootstraps"] == {"failed": 1, "taken_over": 1, "resent": 1}
    assert swept["evidence"] == {"failed": 0, "taken_over": 1, "resent": 0}
    assert len(callbacks) == 3
    states = {job.pk: job for job in Bootstrap.objects.all()}
    assert (states[lost.pk].status, states[lost.pk].claim, states[lost.pk].progress) == ("queued", "", 0)
    assert states[hopeless.pk].status == "failed" and "worker running it was lost" in states[hopeless.pk].error
    assert states[stopping.pk].status == "cancelled" and states[stopping.pk].finished_at
    assert states[unsent.pk].queued_at > unsent.queued_at
    assert (states[busy.pk].status, states[busy.pk].claim) == ("running", "alive")
    # the re-sent messages' work: the next worker claims each job and finishes it
    for job in (lost, unsent):
        tasks.run_bootstrap(job.pk)
        job.refresh_from_db()
        assert (job.status, job.attempts) == ("done", (job.pk == lost.pk) + 1)
    tasks.run_factor_evidence(lost_evidence.pk)
    lost_evidence.refresh_from_db()
    assert (lost_evidence.status, lost_evidence.attempts) == ("done", 2)
    assert lost_evidence.result["suggested"] >= 1


@pytest.mark.django_db
def test_a_worker_written_off_cannot_overwrite_the_bootstrap_it_lost(sorted_study, owner, monkeypatch):
    run = execute(AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS))
    job = Bootstrap.objects.create(run=run, steps=20, seed=5)

    real = tasks.bootstrap

    def taken_over_meanwhile(*args, **kwargs):
        Bootstrap.objects.filter(pk=job.pk).update(claim="the-next-worker")
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "bootstrap", taken_over_meanwhile)
    tasks.run_bootstrap(job.pk)
    job.refresh_from_db()
    assert (job.status, job.claim, job.result) == ("running", "the-next-worker", None)


@pytest.mark.django_db
def test_an_analysis_stopped_at_the_time_limit_fails_with_a_message(sorted_study, owner, monkeypatch):
    def never_ends(*args, **kwargs):
        raise SoftTimeLimitExceeded()  # what Celery raises in the task at soft_time_limit

    monkeypatch.setattr("qsort.runs.tasks.analyse", never_ends)
    run = execute(AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters=PARAMETERS))
    assert run.status == "failed" and run.error.startswith("The analysis took longer than 30 minutes")
    assert run_analysis.soft_time_limit == 30 * 60 and run_analysis.time_limit == 31 * 60


@pytest.mark.django_db(transaction=True)
def test_a_sort_completed_while_the_task_loads_the_sorts_does_not_break_the_run(sorted_study):
    """Found by benchmarks/load.py: the participants and the values were read at two moments."""
    late = []

    def sort_arrives_between_queries(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if '"studies_participant"' in sql and not late:
            thread = threading.Thread(target=complete_in_another_connection)
            thread.start()
            thread.join()
        return result

    def complete_in_another_connection():
        try:
            complete_a_sort(sorted_study, "LATE")
            late.append(True)
        finally:
            connection.close()

    with connection.execute_wrapper(sort_arrives_between_queries):
        sorts = load_sorts(sorted_study)
    assert late and sorted_study.sorts.count() == 10
    assert sorts.data.shape == (6, 9) and "LATE" not in sorts.sort_ids  # the moment before it
    assert (sorts.data != 0).any(axis=0).all()  # no empty column either


# --- the API shows stale runs and retries them ----------------------------------------------------


@pytest.mark.django_db
def test_the_api_reports_a_stale_run_and_retries_it(client, researcher, facilitator, stranger, sorted_study):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=researcher, parameters=PARAMETERS)
    lose_worker(run)
    client.force_login(researcher)
    detail = client.get(f"/api/analyses/{run.pk}/").json()
    assert (detail["status"], detail["stale"]) == ("running", True)
    for user, expected in ((stranger, 404), (facilitator, 403)):
        client.force_login(user)
        assert client.post(f"/api/analyses/{run.pk}/retry/").status_code == expected
    client.force_login(researcher)
    response = client.post(f"/api/analyses/{run.pk}/retry/")
    assert response.status_code == 202
    assert response.json() == {"id": run.pk, "status": "queued"}
    assert client.get(f"/api/analyses/{run.pk}/").json()["stale"] is False
    assert client.post(f"/api/analyses/{run.pk}/retry/").status_code == 409  # queued and fresh: nothing to retry
    assert execute(run).status == "done"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_queued_while_the_broker_was_down_is_sent_and_done_when_it_is_back(client, researcher, sorted_study):
    purge_queue()
    url = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"  # this process's sends fail, for real
    app._pool = app.amqp._producer_pool = None
    try:
        client.force_login(researcher)
        assert client.post(f"/studies/{sorted_study.slug}/results/", PARAMETERS).status_code == 302
    finally:
        app.conf.broker_write_url = url
        app._pool = app.amqp._producer_pool = None
    run = AnalysisRun.objects.get()
    assert run.status == "queued"
    # As if it had waited unclaimed past the sweep's limit (two heartbeats, 20 s in production).
    AnalysisRun.objects.filter(pk=run.pk).update(queued_at=message_lost_before() - timedelta(seconds=1))
    with running_worker(purge=False):
        recover_runs_task.delay()  # what beat sends every QSORT_RUN_HEARTBEAT_SECONDS
        wait_for(lambda: AnalysisRun.objects.filter(pk=run.pk, status="done").exists(), 60, "the re-sent run")


# --- a real worker killed mid-run -------------------------------------------------------------------


def start_worker_process(name: str, slow: float, *extra: str) -> subprocess.Popen:
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
        "QSORT_RUN_HEARTBEAT_SECONDS": "1",
        "SLOW_ANALYSIS_SECONDS": str(slow),
        "QSORT_TEST_QUEUE": app.conf.task_default_queue,
    }
    return subprocess.Popen([sys.executable, str(REPO / "tests" / "slow_worker.py"), name, *extra], env=env, cwd=REPO)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_real_worker_is_killed_is_finished_by_the_next_worker(
    client, researcher, sorted_study, settings, tmp_path
):
    settings.QSORT_RUN_HEARTBEAT_SECONDS = 1
    purge_queue()
    doomed = start_worker_process(f"doomed-{os.getpid()}@%h", 60)
    rescuer = None
    try:
        client.force_login(researcher)
        client.post(f"/studies/{sorted_study.slug}/results/", PARAMETERS)
        run = AnalysisRun.objects.get()
        wait_for(lambda: AnalysisRun.objects.filter(pk=run.pk, status="running").exists(), 60, "the first worker")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        run.refresh_from_db()
        assert run.status == "running" and run.attempts == 1
        wait_for(lambda: AnalysisRun.objects.get(pk=run.pk).is_stale, 10, "the run to look stale")
        rescuer = start_worker_process(f"rescuer-{os.getpid()}@%h", 0, "-B", "-s", str(tmp_path / "beat"))
        run = wait_for(lambda: AnalysisRun.objects.filter(pk=run.pk, status="done").first(), 60, "the takeover")
        assert run.attempts == 2 and len(run.result["sorts"]) == 9
    finally:
        for process in (doomed, rescuer):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(20)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_bootstrap_whose_real_worker_is_killed_is_finished_by_the_next_worker(
    client, researcher, sorted_study, settings, tmp_path
):
    settings.QSORT_RUN_HEARTBEAT_SECONDS = 1
    run = execute(AnalysisRun.objects.create(study=sorted_study, created_by=researcher, parameters=PARAMETERS))
    purge_queue()
    doomed = start_worker_process(f"doomed-{os.getpid()}@%h", 60)
    rescuer = None
    try:
        client.force_login(researcher)
        client.post(f"/studies/{sorted_study.slug}/results/{run.pk}/stability/start/", {"steps": 50, "seed": 3})
        job = Bootstrap.objects.get()
        wait_for(lambda: Bootstrap.objects.filter(pk=job.pk, status="running").exists(), 60, "the first worker")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        wait_for(lambda: Bootstrap.objects.get(pk=job.pk).lost_worker, 10, "the bootstrap to look lost")
        rescuer = start_worker_process(f"rescuer-{os.getpid()}@%h", 0, "-B", "-s", str(tmp_path / "beat"))
        job = wait_for(lambda: Bootstrap.objects.filter(pk=job.pk, status="done").first(), 60, "the takeover")
        assert job.attempts == 2 and job.result["call"]["nsteps"] == 50 and job.seed == 3
    finally:
        for process in (doomed, rescuer):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(20)
