"""The analysis task: claim the run, load the sorts, call the pure engine, store what it says.

Recovery (issue 11): acks_late + reject_on_worker_lost (settings) redeliver the message of a
worker that died; the claim below takes over a run whose heartbeat stopped, and every write is
conditional on still holding the claim, so a worker that was written off cannot overwrite.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from celery import shared_task
from celery.signals import worker_ready
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.analysis import analyse
from qsort.runs import services
from qsort.runs.models import AnalysisRun, heartbeat_interval
from qsort.runs.services import load_sorts

logger = logging.getLogger(__name__)

# The engine reports 0..100 within its own stages; loading the data comes first.
LOADING_SHARE = 10


@contextmanager
def heartbeat(rows) -> Iterator[None]:
    """Beat while the engine works (it may spend minutes in one stage without a progress call)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_interval().total_seconds()):
                rows.update(heartbeat_at=timezone.now())
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name="qsort-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@shared_task(ignore_result=True)
def recover_runs() -> None:
    """The periodic sweep (beat): see services.recover_runs."""
    services.recover_runs()


@worker_ready.connect
def recover_on_start(**_kwargs) -> None:
    """A worker that (re)starts first picks up what a lost one left behind."""
    recover_runs.delay()


@shared_task(ignore_result=True)
def run_analysis(run_id: int) -> None:
    # A conditional UPDATE claims the run: a duplicate delivery finds it taken and does nothing;
    # a redelivery after its worker died finds the heartbeat stopped and takes it over.
    claim = secrets.token_hex(16)
    now = timezone.now()
    takeover = Q(pk__in=AnalysisRun.objects.filter(pk=run_id).lost_worker().values("pk"))
    claimed = AnalysisRun.objects.filter(Q(pk=run_id) & (Q(status=AnalysisRun.Status.QUEUED) | takeover)).update(
        status=AnalysisRun.Status.RUNNING,
        claim=claim,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        stage="loading data",
        progress=0,
    )
    if not claimed:
        return
    rows = AnalysisRun.objects.filter(pk=run_id, claim=claim)
    with heartbeat(rows):
        _analyse(run_id, rows)


def _analyse(run_id: int, rows) -> None:
    run = AnalysisRun.objects.select_related("study").get(pk=run_id)
    last = {"stage": "loading data", "progress": 0}

    def progress(stage: str, percent: int) -> None:
        value = min(99, LOADING_SHARE + percent * (100 - LOADING_SHARE) // 100)
        if (stage, value) != (last["stage"], last["progress"]):
            rows.update(stage=stage, progress=value)
            last.update(stage=stage, progress=value)

    parameters = run.parameters
    try:
        sorts = load_sorts(run.study, parameters)
        progress("loading data", 0)
        result = analyse(
            sorts.data,
            sorts.statement_ids,
            sorts.sort_ids,
            factors=parameters["factors"],
            extraction=parameters["extraction"],
            rotation=parameters["rotation"],
            distribution=sorts.distribution,
            flag_overrides=[tuple(o) for o in parameters.get("flag_overrides", [])],
            pair_rotations=[tuple(r) for r in parameters.get("pair_rotations", [])],
            reflections=tuple(parameters.get("reflections", [])),
            progress=progress,
        ).to_json()
    except ValueError as error:  # the engine's input errors are written for researchers, as clauses
        message = str(error)
        rows.update(
            status=AnalysisRun.Status.FAILED,
            error=message[:1].upper() + message[1:],
            claim="",
            finished_at=timezone.now(),
        )
        return
    except Exception:
        logger.exception("Analysis run %s failed", run_id)
        rows.update(
            status=AnalysisRun.Status.FAILED,
            error=_(
                "The analysis stopped because of an unexpected error. Please try again; if it fails again, tell us."
            ),
            claim="",
            finished_at=timezone.now(),
        )
        return
    result["statement_texts"] = sorts.statement_texts
    rows.update(
        status=AnalysisRun.Status.DONE, result=result, stage="", progress=100, claim="", finished_at=timezone.now()
    )
