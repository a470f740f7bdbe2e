"""How many factors and how stable they are: bootstrap jobs of a run, and the evidence panel.

The numbers come from the pure engine (qsort.analysis.bootstrap / .evidence); this module
decides what a request may ask for and queues the jobs (a bootstrap of a run, the evidence of
a study's sorts: qsort.runs.tasks), so a request never waits for them. A finished run's own
panel is cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.analysis import AnalysisResult
from qsort.analysis.evidence import evidence_for_result, factor_evidence, study_evidence
from qsort.runs.models import AnalysisRun, Bootstrap, FactorEvidence, Job, Part, result_parts
from qsort.runs.services import RunRefused, StudySorts, load_sorts, send_job
from qsort.studies.models import Study

#: A bootstrap of this many steps is what the form offers; qmboots' papers use 1,000-2,000.
DEFAULT_STEPS = 1000
MAX_STEPS = 5000
#: Parallel analysis draws for the evidence panel (the issue's figure).
EVIDENCE_DRAWS = 1000
#: Seed of the evidence panel's random sorts: fixed, so the same sorts give the same panel.
EVIDENCE_SEED = 20261130
#: How every panel (a study's, a chosen set's, a run's) draws its random sorts.
PANEL_OPTIONS: dict[str, Any] = {
    "draws": EVIDENCE_DRAWS,
    "seed": EVIDENCE_SEED,
    "max_retained": AnalysisRun.MAX_FACTORS,
}


def stored_result(run: AnalysisRun) -> dict[str, Any]:
    """The finished run's analysis JSON, or RunRefused saying why there is none."""
    require_done(run)
    result = run.result
    if not isinstance(result, dict) or not has_factors(result):
        raise _no_result(run)
    return result


def require_done(run: AnalysisRun) -> None:
    """RunRefused unless the run is finished (checked without loading its result)."""
    if run.status != AnalysisRun.Status.DONE:
        raise _no_result(run)


def _no_result(run: AnalysisRun) -> RunRefused:
    return RunRefused(_("This analysis has no result at the moment (it is %(status)s).") % {"status": run.status})


# --- the run's data ----------------------------------------------------------------------
def run_sorts(run: AnalysisRun) -> tuple[StudySorts, np.ndarray]:
    """The study's sorts and the values of exactly the run's sorts, in the run's order.

    Completed sorts never change, but one can be withdrawn after the run: then the run's data
    is gone and a bootstrap would not be of this run, so it is refused.
    """
    wanted = stored_result(run)["sorts"]
    sorts = load_sorts(run.study, run.parameters.get("conditions"))
    column = {label: q for q, label in enumerate(sorts.sort_ids)}
    missing = [label for label in wanted if label not in column]
    if missing:
        raise RunRefused(
            _("%(n)d sorts of this analysis are no longer in the study (withdrawn): run the analysis again first.")
            % {"n": len(missing)}
        )
    return sorts, sorts.data[:, [column[label] for label in wanted]]


def has_factors(result: Any) -> bool:
    """A stored analysis JSON with loadings to work from (not an empty or foreign object)."""
    return (
        isinstance(result, dict)
        and all(key in result for key in ("sorts", "statements", "loadings", "flags", "zscores", "factor_arrays"))
        and bool(result.get("unrotated_loadings"))
        and bool(result["unrotated_loadings"][0])
    )


# --- bootstrap jobs ----------------------------------------------------------------------
def clean_bootstrap_request(
    run: AnalysisRun, *, steps: Any = None, seed: Any = None, resamples: Any = None
) -> dict[str, Any]:
    """Check a request against the run: returns steps, seed and 0-based resamples, or raises
    RunRefused with a message for the researcher. Resamples come 1-based, as qmboots lists them."""
    if run.status != AnalysisRun.Status.DONE or run.result is None:
        raise RunRefused(_("Only a finished analysis can be bootstrapped."))
    if not has_factors(run.result):
        raise RunRefused(_("This analysis has no factors to bootstrap."))
    n_sorts = len(run.result["sorts"])
    if resamples is not None:
        if not isinstance(resamples, list) or not 1 <= len(resamples) <= MAX_STEPS:
            raise RunRefused(_("Give between 1 and %(max)d resamples.") % {"max": MAX_STEPS})
        for step, row in enumerate(resamples, start=1):
            if (
                not isinstance(row, list)
                or len(row) != n_sorts
                or not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= n_sorts for i in row)
            ):
                raise RunRefused(
                    _("Resample %(step)d must list %(n)d sort positions, each between 1 and %(n)d.")
                    % {"step": step, "n": n_sorts}
                )
        return {"steps": len(resamples), "seed": None, "resamples": [[i - 1 for i in row] for row in resamples]}
    steps = DEFAULT_STEPS if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise RunRefused(_("Choose between 1 and %(max)d bootstrap steps.") % {"max": MAX_STEPS})
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise RunRefused(_("The seed must be a whole number from 0 upwards."))
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31))
    return {"steps": steps, "seed": seed, "resamples": None}


def start_bootstrap(run: AnalysisRun, user, **request: Any) -> Bootstrap:
    """Create a queued bootstrap and hand it to the worker once the row is committed."""
    cleaned = clean_bootstrap_request(run, **request)
    with transaction.atomic():
        job = Bootstrap.objects.create(run=run, created_by=user, **cleaned)
        enqueue_bootstrap(job)
    return job


def enqueue_bootstrap(job: Bootstrap) -> None:
    from qsort.runs.tasks import run_bootstrap  # the task module imports this one

    send_job(run_bootstrap, job.pk)


def cancel_job(job: Job) -> None:
    """A queued job (bootstrap, evidence) is cancelled at once; a running one at its next batch
    (the worker checks), or at once when its worker was lost (nobody would see the request)."""
    rows = type(job).objects.filter(pk=job.pk)
    now = timezone.now()
    if job.lost_worker:
        rows.filter(status=Job.Status.RUNNING).update(
            status=Job.Status.CANCELLED, cancel_requested=True, claim="", finished_at=now
        )
    rows.filter(status=Job.Status.QUEUED).update(status=Job.Status.CANCELLED, cancel_requested=True, finished_at=now)
    rows.filter(status=Job.Status.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()


def finished_bootstraps(run: AnalysisRun) -> QuerySet[Bootstrap]:
    """The run's finished bootstraps, newest first: the first is what the pages, exports and
    the report show."""
    return run.bootstraps.filter(status=Bootstrap.Status.DONE)


def latest_bootstrap(run: AnalysisRun) -> Bootstrap | None:
    """The run's newest finished bootstrap (what exports and the report show)."""
    return finished_bootstraps(run).first()


# --- number-of-factors evidence ----------------------------------------------------------
def study_state(study: Study) -> tuple[int, str]:
    """The number of sorts, and a key that changes whenever a sort is added or withdrawn."""
    state = study.sorts.aggregate(count=Count("id"), newest=Max("id"))
    return state["count"], f"{state['count']}:{state['newest']}"


def evidence_panel(sorts: StudySorts, factors: int, **parallel: Any) -> dict[str, Any]:
    """The panel for a study's sorts: a trial PCA + varimax with `factors` factors (the job's
    work, qsort.runs.tasks.run_factor_evidence). `parallel`: workers, progress, cancelled."""
    if sorts.data.shape[1] < 2:
        raise RunRefused(_("The evidence needs at least two completed sorts."))
    return study_evidence(
        sorts.data,
        sorts.statement_ids,
        sorts.sort_ids,
        factors=factors,
        distribution=sorts.distribution,
        **PANEL_OPTIONS,
        **parallel,
    ).to_json()


def evidence_job(
    study: Study,
    factors: int = AnalysisRun.MAX_FACTORS,
    *,
    selection: dict[str, Any] | None = None,
    user=None,
    again: bool = False,
) -> FactorEvidence | None:
    """The evidence job of the study's current sorts (less those `selection` leaves out, as
    clean_selection returns it): the newest for this data, choice and `factors`, or a new one
    queued when there is none (or, with `again`, when the newest was cancelled or failed). None
    with fewer than two sorts. A page view or an API read starts the job once per state of the
    data; older jobs of the same choice that ended are deleted."""
    count, state = study_state(study)
    if count < 2:
        return None
    selection = selection or {}
    return _current_job(
        FactorEvidence.objects.filter(study=study, factors=factors, run=None, selection=selection),
        Study.objects.filter(pk=study.pk),
        again=again,
        study=study,
        factors=factors,
        selection=selection,
        state=state,
        created_by=user,
    )


def run_evidence_job(run: AnalysisRun, *, user=None, again: bool = False) -> FactorEvidence:
    """The evidence job of a finished run whose task did not compute the panel beside the
    analysis (more than EVIDENCE_INLINE_MAX_SORTS sorts, or stored before runs had a panel):
    the run's newest, or a new one queued (with `again`, also when that was cancelled or
    failed). The run task starts it; a view of the run starts it for an older run. RunRefused
    for a run without a result to work from."""
    require_done(run)
    if not isinstance(run.parameters.get("factors"), int):
        raise _no_result(run)
    return _current_job(
        run.evidence_jobs.all(),
        AnalysisRun.objects.filter(pk=run.pk),
        again=again,
        study_id=run.study_id,
        run=run,
        factors=run.parameters["factors"],
        state=f"run:{run.pk}",
        created_by=user,
    )


def _current_job(jobs, lock, *, again: bool, state: str, **fields: Any) -> FactorEvidence:
    """The newest job of `jobs` for `state`, or a new one (`fields`) handed to the worker when
    there is none, or with `again` when it was cancelled or failed. The lock on the `lock` row
    makes it one job per state, not one per request; ended jobs of other states are deleted."""

    def usable() -> FactorEvidence | None:
        current = jobs.filter(state=state).defer("result").first()
        if current is not None and not (again and current.status in {Job.Status.CANCELLED, Job.Status.FAILED}):
            return current
        return None

    current = usable()  # the usual case: one look-up, no lock
    if current is not None:
        return current
    with transaction.atomic():
        lock.select_for_update().first()
        current = usable()
        if current is not None:
            return current
        jobs.exclude(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).delete()
        job = FactorEvidence.objects.create(state=state, **fields)
        from qsort.runs.tasks import run_factor_evidence  # the task module imports this one

        send_job(run_factor_evidence, job.pk)
    return job


def suggested_panel(study: Study) -> dict[str, Any] | None:
    """The newest finished panel of the study's current sorts (what the run form preselects
    from), or None while it is computed."""
    _count, state = study_state(study)
    return (
        FactorEvidence.objects.filter(
            study=study, run=None, selection={}, factors=AnalysisRun.MAX_FACTORS, state=state, status=Job.Status.DONE
        )
        .values_list("result", flat=True)
        .first()
    )


#: Up to this many sorts the run task computes the run's own panel beside its analysis (a second
#: or two at 80 sorts, ~4 s at 300); above, the run's evidence job does (run_evidence_job), so
#: a large run is ready to look at before its 1,000 draws of parallel analysis are.
EVIDENCE_INLINE_MAX_SORTS = 300


def run_evidence(data: np.ndarray, analysis: AnalysisResult) -> dict[str, Any]:
    """The panel of a run from its sorts' values and its analysis (its own loadings and flags):
    what the run task stores as ``result["evidence"]``."""
    return evidence_for_result(data, analysis, **PANEL_OPTIONS).to_json()


def stored_run_evidence(run: AnalysisRun, **parallel: Any) -> dict[str, Any]:
    """The same panel from a finished run's stored result (the run's evidence job): its sorts'
    values and its own loadings and flags, exactly as run_evidence had them.
    `parallel`: workers, progress, cancelled."""
    result = stored_result(run)
    _sorts, data = run_sorts(run)
    k = len(result["unrotated_loadings"][0])
    return factor_evidence(
        data,
        unrotated=np.array(result["unrotated_loadings"], dtype=np.float64),
        rotated=np.array(result["loadings"], dtype=np.float64)[:, :k],
        flags=np.array(result["flags"], dtype=np.bool_)[:, :k],
        eigenvalues=np.array(result["eigenvalues"], dtype=np.float64),
        **PANEL_OPTIONS,
        **parallel,
    ).to_json()


def evidence_for_run(run: AnalysisRun, result: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """A finished run's panel: the one its task stored with the result, or its evidence job's
    once done; None while that job works (or if it ended without one). `result`: the stored
    result, or the part of it holding "evidence", when the caller has it already."""
    require_done(run)
    if result is None:
        result = result_parts(run.pk, {"evidence": Part("evidence")})
    evidence: dict[str, Any] | None = result.get("evidence") or (
        run.evidence_jobs.filter(status=Job.Status.DONE).values_list("result", flat=True).first()
    )
    return evidence
