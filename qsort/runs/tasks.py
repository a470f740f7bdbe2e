"""The analysis task: claim the run, load the sorts, call the pure engine, store what it says."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.analysis import analyse
from qsort.runs.models import AnalysisRun
from qsort.runs.services import load_sorts

logger = logging.getLogger(__name__)

# The engine reports 0..100 within its own stages; loading the data comes first.
LOADING_SHARE = 10


@shared_task(ignore_result=True)
def run_analysis(run_id: int) -> None:
    # Claiming with a conditional UPDATE makes a duplicate delivery (acks_late) a no-op.
    claimed = AnalysisRun.objects.filter(pk=run_id, status=AnalysisRun.Status.QUEUED).update(
        status=AnalysisRun.Status.RUNNING, started_at=timezone.now(), stage="loading data", progress=0
    )
    if not claimed:
        return
    run = AnalysisRun.objects.select_related("study").get(pk=run_id)
    rows = AnalysisRun.objects.filter(pk=run_id)
    last = {"stage": "loading data", "progress": 0}

    def progress(stage: str, percent: int) -> None:
        value = min(99, LOADING_SHARE + percent * (100 - LOADING_SHARE) // 100)
        if (stage, value) != (last["stage"], last["progress"]):
            rows.update(stage=stage, progress=value)
            last.update(stage=stage, progress=value)

    parameters = run.parameters
    try:
        sorts = load_sorts(run.study, parameters.get("conditions"))
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
            status=AnalysisRun.Status.FAILED, error=message[:1].upper() + message[1:], finished_at=timezone.now()
        )
        return
    except Exception:
        logger.exception("Analysis run %s failed", run_id)
        rows.update(
            status=AnalysisRun.Status.FAILED,
            error=_(
                "The analysis stopped because of an unexpected error. Please try again; if it fails again, tell us."
            ),
            finished_at=timezone.now(),
        )
        return
    result["statement_texts"] = sorts.statement_texts
    rows.update(status=AnalysisRun.Status.DONE, result=result, stage="", progress=100, finished_at=timezone.now())
