"""The analysis task: claim the run, load the sorts, call the pure engine, store what it says.

Recovery (issue 11): acks_late + reject_on_worker_lost (settings) redeliver the message of a
worker that died; the claim below takes over a run whose heartbeat stopped, and every write is
conditional on still holding the claim, so a worker that was written off cannot overwrite.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.analysis import AnalysisResult, analyse
from qsort.analysis.bootstrap import bootstrap
from qsort.analysis.conditions import compare_conditions
from qsort.analysis.errors import JobCancelled
from qsort.runs import services
from qsort.runs.models import AnalysisRun, Bootstrap, FactorEvidence, Job, heartbeat_interval
from qsort.runs.services import RunRefused, StudySorts, load_sorts
from qsort.runs.stability import (
    EVIDENCE_DRAWS,
    EVIDENCE_INLINE_MAX_SORTS,
    evidence_panel,
    run_evidence,
    run_evidence_job,
    run_sorts,
    stored_result,
    stored_run_evidence,
)
from qsort.studies.models import Study

logger = logging.getLogger(__name__)

# The engine reports 0..100 within its own stages; loading the data comes first.
LOADING_SHARE = 10


def analyse_sorts(
    sorts: StudySorts, parameters: dict[str, Any], progress: Callable[[str, int], None] | None = None
) -> AnalysisResult:
    """The engine on a study's sorts with a run's recorded decisions: the run task, and any replay
    of a run (the report's promise that the same sorts and decisions give the same arrays)."""
    return analyse(
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
        include_correlations=False,  # never stored: services.correlations_of computes it where shown
        progress=progress,
    )


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


# An analysis that never ends (an engine loop that does not converge) must still end "failed":
# the soft limit stops it with a message; the hard one, a minute later, ends its worker process.
@shared_task(
    ignore_result=True,
    soft_time_limit=settings.QSORT_RUN_TIME_LIMIT_SECONDS,
    time_limit=settings.QSORT_RUN_TIME_LIMIT_SECONDS + 60,
)
def run_analysis(run_id: int) -> None:
    claim = claim_work(AnalysisRun, run_id, stage="loading data")
    if claim is None:
        return
    rows = AnalysisRun.objects.filter(pk=run_id, claim=claim)
    with heartbeat(rows):
        _analyse(run_id, rows)


def claim_work(model, pk: int, **fields: Any) -> str | None:
    """Claim a queued row (a run or a job) for this worker; None when it is not ours to do.

    A conditional UPDATE: a duplicate delivery finds the row taken and does nothing; a
    redelivery (or the sweep's re-send) after its worker died finds the heartbeat stopped and
    takes it over. Every later write is conditional on the returned claim.
    """
    claim = secrets.token_hex(16)
    now = timezone.now()
    takeover = Q(pk__in=model.objects.filter(pk=pk).lost_worker().values("pk"))
    claimed = model.objects.filter(Q(pk=pk) & (Q(status="queued") | takeover)).update(
        status="running",
        claim=claim,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        progress=0,
        **fields,
    )
    return claim if claimed else None


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
        sorts = load_sorts(run.study, parameters.get("conditions"), selection=parameters)
        progress("loading data", 0)
        analysis = analyse_sorts(sorts, parameters, progress)
        result = analysis.to_json()
        if "conditions" in parameters:  # a study with several conditions: say which this run covers
            result["run_conditions"] = parameters["conditions"]
        if len(parameters.get("conditions", [])) > 1:
            result["conditions"] = compare_conditions(
                sorts.data,
                sorts.statement_ids,
                sorts.participants,
                sorts.conditions,
                parameters["conditions"],
                np.array(result["flags"], dtype=bool).reshape(len(sorts.sort_ids), -1),
            ).to_json()
        if len(sorts.sort_ids) <= EVIDENCE_INLINE_MAX_SORTS:  # the run's pages lay it out, never compute it
            progress("number-of-factors evidence", 100)
            result["evidence"] = _evidence_or_none(run_id, sorts, analysis)
    except ValueError as error:  # the engine's input errors are written for researchers, as clauses
        message = str(error)
        _fail(rows, message[:1].upper() + message[1:])
        return
    except SoftTimeLimitExceeded:
        logger.error("Analysis run %s stopped at the time limit", run_id)
        _fail(
            rows,
            _(
                "The analysis took longer than %(minutes)d minutes and was stopped. Try fewer factors or "
                "PCA extraction; if it happens again, tell us."
            )
            % {"minutes": settings.QSORT_RUN_TIME_LIMIT_SECONDS // 60},
        )
        return
    except Exception:
        logger.exception("Analysis run %s failed", run_id)
        _fail(
            rows,
            _("The analysis stopped because of an unexpected error. Please try again; if it fails again, tell us."),
        )
        return
    # Not stored: the sorts x sorts matrix was 98 % of a 1,000-sort run; correlations_of computes
    # it from the sorts where it is shown.  No key (rather than null) says "not stored".
    del result["correlations"]
    result["statement_texts"] = sorts.statement_texts
    done = rows.update(
        status=AnalysisRun.Status.DONE, result=result, stage="", progress=100, claim="", finished_at=timezone.now()
    )
    # A large run's panel is a job of its own: started now for a researcher's run; for an
    # automatic one (a 20,000-sort study may re-run every minute) when someone opens it.
    if done and "evidence" not in result and not run.automatic:
        run.refresh_from_db(fields=["status"])
        run_evidence_job(run)


def _evidence_or_none(run_id: int, sorts: StudySorts, analysis: AnalysisResult) -> dict[str, Any] | None:
    """The run's evidence panel; None (shown as "not available") if it cannot be computed, which
    must not fail an analysis that succeeded."""
    try:
        return run_evidence(sorts.data, analysis)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        logger.exception("The evidence panel of analysis run %s could not be computed", run_id)
        return None


def _fail(rows, message: str) -> None:
    rows.update(status=AnalysisRun.Status.FAILED, error=message, claim="", finished_at=timezone.now())


#: Below this many sort slots (steps x sorts) one process is faster than starting a pool.
POOL_MIN_CELLS = 200_000


def _workers(cells: int) -> int:
    return min(2, os.cpu_count() or 1) if cells >= POOL_MIN_CELLS else 1


Compute = Callable[[Any, Callable[[int, int], None], Callable[[], bool]], dict[str, Any]]


def run_job(model, job_id: int, compute: Compute, what: str, **finished: Any) -> None:
    """Claim a job (bootstrap, evidence), beat while `compute(job, progress, cancelled)` works,
    store what it returns, or end the job cancelled or failed with a message.

    Every write is conditional on the job still being this worker's and running: a cancel of a
    lost job, a takeover, or a withdrawal that deleted it is never overwritten.
    """
    claim = claim_work(model, job_id)
    if claim is None:
        return
    rows = model.objects.filter(pk=job_id, claim=claim, status=Job.Status.RUNNING)

    def progress(done: int, total: int) -> None:
        rows.update(progress=min(99, 100 * done // total), heartbeat_at=timezone.now())

    def cancelled() -> bool:
        # Cancel asked for, or the job is no longer ours (deleted, ended as lost, taken over).
        return not rows.filter(cancel_requested=False).exists()

    def finish(status: str, **fields: Any) -> None:
        rows.update(status=status, claim="", finished_at=timezone.now(), **fields)

    with heartbeat(rows):
        try:
            result = compute(model.objects.get(pk=job_id), progress, cancelled)
        except JobCancelled:
            finish(Job.Status.CANCELLED)
            return
        except model.DoesNotExist:  # deleted meanwhile (a withdrawal)
            return
        except (ValueError, RunRefused) as error:  # written for researchers, as clauses
            message = str(error)
            finish(Job.Status.FAILED, error=message[:1].upper() + message[1:])
            return
        except Exception:
            logger.exception("%s %s failed", model.__name__, job_id)
            finish(
                Job.Status.FAILED,
                error=_(
                    "%(what)s stopped because of an unexpected error. Please try again; if it fails again, tell us."
                )
                % {"what": what},
            )
            return
    finish(Job.Status.DONE, result=result, progress=100, **{key: value(result) for key, value in finished.items()})


@shared_task(ignore_result=True)
def run_bootstrap(bootstrap_id: int) -> None:
    """Bootstrap the run's own sorts with the engine (progress after each batch of steps; the
    engine asks whether the job was cancelled before each)."""

    def compute(job: Bootstrap, progress, cancelled) -> dict[str, Any]:
        run = AnalysisRun.objects.select_related("study").get(pk=job.run_id)
        sorts, data = run_sorts(run)
        result = stored_result(run)
        k = len(result["unrotated_loadings"][0])
        options = {"resamples": job.resamples} if job.resamples is not None else {"steps": job.steps, "seed": job.seed}
        return bootstrap(
            data,
            result["statements"],
            result["sorts"],
            target=np.array(result["loadings"], dtype=np.float64)[:, :k],
            original_flags=np.array(result["flags"], dtype=np.bool_)[:, :k],
            original_zscores=np.array(result["zscores"], dtype=np.float64)[:, :k],
            original_arrays=np.array(result["factor_arrays"], dtype=np.float64)[:, :k],
            extraction=result["parameters"]["extraction"],
            rotation=result["parameters"]["rotation"],
            correlation=result["parameters"].get("correlation", "pearson"),
            distribution=sorts.distribution,
            sort_distribution=True,
            workers=_workers(job.steps * data.shape[1]),
            progress=progress,
            cancelled=cancelled,
            **options,
        ).to_json()

    run_job(Bootstrap, bootstrap_id, compute, _("The bootstrap"), seed=lambda result: result["call"]["seed"])


@shared_task(ignore_result=True)
def run_factor_evidence(job_id: int) -> None:
    """The number-of-factors evidence of a study's sorts or of a large run (parallel analysis's
    draws dominate)."""

    def compute(job: FactorEvidence, progress, cancelled) -> dict[str, Any]:
        if job.run_id is not None:  # a run's own panel, from its stored result
            run = AnalysisRun.objects.select_related("study").get(pk=job.run_id)
            workers = _workers(EVIDENCE_DRAWS * len(stored_result(run)["sorts"]))
            return stored_run_evidence(run, workers=workers, progress=progress, cancelled=cancelled)
        sorts = load_sorts(Study.objects.get(pk=job.study_id), selection=job.selection)
        return evidence_panel(
            sorts,
            job.factors,
            workers=_workers(EVIDENCE_DRAWS * sorts.data.shape[1]),
            progress=progress,
            cancelled=cancelled,
        )

    run_job(FactorEvidence, job_id, compute, _("Computing the evidence"))
