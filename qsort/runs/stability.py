"""How many factors and how stable they are: bootstrap jobs of a run, and the evidence panel.

The numbers come from the pure engine (qsort.analysis.bootstrap / .evidence); this module
decides what a request may ask for, queues the job, and caches the evidence panel so a page
view never recomputes 1,000 draws of parallel analysis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.analysis import AnalysisInputError
from qsort.analysis.evidence import factor_evidence, study_evidence
from qsort.runs.models import AnalysisRun, Bootstrap
from qsort.runs.services import PUBLISH_RETRY_POLICY, RunRefused, StudySorts, load_sorts
from qsort.studies.models import Study

#: A bootstrap of this many steps is what the form offers; qmboots' papers use 1,000-2,000.
DEFAULT_STEPS = 1000
MAX_STEPS = 5000
#: Parallel analysis draws for the evidence panel (the issue's figure).
EVIDENCE_DRAWS = 1000
#: Seed of the evidence panel's random sorts: fixed, so the panel is the same on every view.
EVIDENCE_SEED = 20261130
EVIDENCE_CACHE_SECONDS = 24 * 3600


def stored_result(run: AnalysisRun) -> dict[str, Any]:
    """The finished run's analysis JSON, or RunRefused saying why there is none."""
    result = run.result
    if run.status != AnalysisRun.Status.DONE or not isinstance(result, dict) or not has_factors(result):
        raise RunRefused(_("This analysis has no result at the moment (it is %(status)s).") % {"status": run.status})
    return result


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

    def send() -> None:
        run_bootstrap.apply_async((job.pk,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)

    transaction.on_commit(send, robust=True)


def cancel_bootstrap(job: Bootstrap) -> None:
    """A queued job is cancelled at once; a running one at its next batch (the worker checks),
    or at once when its worker was lost (no heartbeat: nobody would ever see the request)."""
    if job.lost_worker:
        Bootstrap.objects.filter(pk=job.pk, status=Bootstrap.Status.RUNNING).update(
            status=Bootstrap.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now()
        )
    Bootstrap.objects.filter(pk=job.pk, status=Bootstrap.Status.QUEUED).update(
        status=Bootstrap.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    )
    Bootstrap.objects.filter(pk=job.pk, status=Bootstrap.Status.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()


def latest_bootstrap(run: AnalysisRun) -> Bootstrap | None:
    """The run's newest finished bootstrap (what exports and the report show)."""
    return run.bootstraps.filter(status=Bootstrap.Status.DONE).first()


# --- number-of-factors evidence ----------------------------------------------------------
def _study_state(study: Study) -> tuple[int, str]:
    """The number of sorts, and a key that changes whenever a sort is added or withdrawn."""
    state = study.sorts.aggregate(count=Count("id"), newest=Max("id"))
    return state["count"], f"{state['count']}:{state['newest']}"


def _evidence_key(study: Study, state: str, factors: int) -> str:
    return f"qsort:evidence:{study.pk}:{state}:{factors}"


def evidence_for_study(
    study: Study, factors: int = AnalysisRun.MAX_FACTORS, *, state: tuple[int, str] | None = None
) -> dict[str, Any] | None:
    """The panel for the study's current sorts (a trial PCA + varimax with `factors`), cached
    until a sort is added or withdrawn. None when there are fewer than two sorts."""
    count, version = state or _study_state(study)
    if count < 2:
        return None
    key = _evidence_key(study, version, factors)
    cached = cache.get(key)
    if cached is not None:
        return cached
    sorts = load_sorts(study)
    try:
        panel = study_evidence(
            sorts.data,
            sorts.statement_ids,
            sorts.sort_ids,
            factors=factors,
            distribution=sorts.distribution,
            draws=EVIDENCE_DRAWS,
            seed=EVIDENCE_SEED,
        ).to_json()
    except AnalysisInputError as error:
        raise RunRefused(str(error)[:1].upper() + str(error)[1:]) from None
    cache.set(key, panel, timeout=EVIDENCE_CACHE_SECONDS)
    return panel


#: Up to this many sorts the results page computes a missing panel itself (well under a second
#: on an idle core); above, it shows a cached panel only (the API computes and caches one).
EVIDENCE_INLINE_MAX_SORTS = 300


def evidence_for_results_page(study: Study) -> dict[str, Any] | None:
    """The panel the run form takes its suggested number from, if it is cheap or cached."""
    state = _study_state(study)
    if state[0] > EVIDENCE_INLINE_MAX_SORTS:
        return cache.get(_evidence_key(study, state[1], AnalysisRun.MAX_FACTORS))
    try:
        return evidence_for_study(study, state=state)
    except RunRefused:  # e.g. a sort with one value everywhere: starting a run says so in words
        return None


def evidence_for_run(run: AnalysisRun) -> dict[str, Any]:
    """The panel for a finished run: its own loadings and flags, cached until the run is re-run
    (a withdrawal re-runs it under the same id, so the key holds when it finished)."""
    finished = run.finished_at.timestamp() if run.finished_at else 0
    key = f"qsort:evidence:run:{run.pk}:{finished}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    _, data = run_sorts(run)
    result = stored_result(run)
    k = len(result["unrotated_loadings"][0])
    panel = factor_evidence(
        data,
        unrotated=np.array(result["unrotated_loadings"], dtype=np.float64),
        rotated=np.array(result["loadings"], dtype=np.float64)[:, :k],
        flags=np.array(result["flags"], dtype=np.bool_)[:, :k],
        eigenvalues=np.array(result["eigenvalues"], dtype=np.float64),
        draws=EVIDENCE_DRAWS,
        seed=EVIDENCE_SEED,
    ).to_json()
    cache.set(key, panel, timeout=EVIDENCE_CACHE_SECONDS)
    return panel
