"""Analysis runs as a workflow: what a run may ask for, loading a study's sorts for the engine,
queueing (never failing a request because the broker is down) and automatic re-analysis."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.analysis import correlation, extraction
from qsort.analysis.engine import CORRELATIONS_LIMIT
from qsort.runs import background
from qsort.runs.models import MAX_ATTEMPTS, AnalysisRun, Bootstrap, FactorEvidence, Job, message_lost_before
from qsort.studies.models import Participant, Sort, SortValue, Study, participant_label, sort_name

logger = logging.getLogger(__name__)

# One quick retry (a pooled connection may be stale after a Redis restart), then give up: a
# request must not hang on a broker outage. Measured: ~0.15 s when Redis refuses connections.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Automatic re-analysis waits this long after a sort, so a burst of sorts shares one run, and
# starts at most once per interval per study; only the newest few automatic runs are kept.
AUTO_REANALYSE_DELAY = timedelta(seconds=30)
AUTO_REANALYSE_MIN_INTERVAL = timedelta(minutes=1)
AUTOMATIC_RUNS_KEPT = 3


class RunRefused(Exception):
    """The run cannot be started; the message says why, in plain words."""


@dataclass(frozen=True)
class StudySorts:
    """A study's completed sorts as the engine takes them: statements x sorts grid values."""

    data: np.ndarray
    statement_ids: list[str]
    statement_texts: list[str]
    sort_ids: list[str]
    distribution: list[int] | None
    # Per sort: its participant's label and its condition's label (for the conditions tables).
    participants: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)


def leave_out(study: Study, sorts: QuerySet[Sort], parameters: dict[str, Any] | None) -> QuerySet[Sort]:
    """`sorts` less those a run's parameters leave out: the open link's (`exclude_open_link`), any
    chosen by label (`excluded_sorts`), and those outside the chosen focus-group sessions
    (`sessions`, ids)."""
    parameters = parameters or {}
    if parameters.get("sessions"):
        sorts = sorts.filter(participant__seat__session_id__in=parameters["sessions"])
    if parameters.get("exclude_open_link"):
        sorts = sorts.exclude(participant__via_open_link=True)
    excluded = parameters.get("excluded_sorts") or []
    if excluded:
        sorts = sorts.exclude(participant_id__in=_participants_labelled(study, excluded).values())
    return sorts


def _participants_labelled(study: Study, labels: list[str]) -> dict[str, int]:
    """Participant ids of a study's completed sorts by their label (code, or P0012 without one)."""
    wanted = set(labels)
    found = {}
    for pk, code in Participant.objects.filter(study=study, sorts__isnull=False).distinct().values_list("pk", "code"):
        label = participant_label(code, pk)
        if label in wanted:
            found[label] = pk
    return found


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Reads that must agree see the database at one moment (PostgreSQL's REPEATABLE READ).

    Found by benchmarks/load.py: a sort committed (or withdrawn) between load_sorts' participant
    query and its values query failed the run. Inside an outer transaction (tests) the snapshot
    is that transaction's own and cannot be changed any more, so it is left as it is.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":  # SQLite's transactions are serializable already
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def load_sorts(
    study: Study, conditions: list[str] | None = None, selection: dict[str, Any] | None = None
) -> StudySorts:
    """Three queries whatever the size: statements, sorts (for labels), values.

    Sorts are labelled by participant label (code or neutral number), never by token, and kept
    in submission order so runs of the same data are comparable.  On PostgreSQL each sort's
    values come as one array (20,000 rows for 20,000 sorts, not 1.2 million tuples).
    `conditions` (labels) limits the sorts to those conditions; when it names more than one,
    each sort's name carries its condition ("P0007·Relapse"), since a participant then has
    several sorts. `selection` (a run's parameters) may leave some sorts out (see `leave_out`).
    """
    with one_snapshot():
        statements = list(study.statements.order_by("id").values_list("id", "number", "text"))
        chosen = Sort.objects.filter(study=study)
        if conditions:
            chosen = chosen.filter(condition__label__in=conditions)
        chosen = leave_out(study, chosen, selection)
        sorts = list(
            chosen.order_by("submitted_at", "id").values_list(
                "id", "participant_id", "participant__code", "condition__label"
            )
        )
        kept = {sort_pk for sort_pk, *_rest in sorts}
        of_study = SortValue.objects.filter(sort__study=study)
        if conditions:
            of_study = of_study.filter(sort__condition__label__in=conditions)
        values_by_sort = [row for row in of_study.per_sort() if row[0] in kept]
    by_number = sorted(range(len(statements)), key=lambda i: statements[i][1])
    row_of = {statements[i][0]: row for row, i in enumerate(by_number)}
    column_of = {sort_pk: column for column, (sort_pk, *_rest) in enumerate(sorts)}
    data = np.zeros((len(statements), len(sorts)), dtype=np.int64)
    every_statement = [statement[0] for statement in statements]  # by id, as the values come
    whole = [(column_of[sort_pk], values) for sort_pk, pks, values in values_by_sort if pks == every_statement]
    if whole:  # the usual case, every sort complete: one assignment for all of them
        columns, values = zip(*whole, strict=True)
        data[np.ix_([row_of[s] for s in every_statement], columns)] = np.array(values, dtype=np.int64).T
    for sort_pk, statement_pks, sort_values in values_by_sort:
        if statement_pks != every_statement:
            data[[row_of[s] for s in statement_pks], column_of[sort_pk]] = sort_values
    ordered = [statements[i] for i in by_number]
    participants = [participant_label(code, participant_pk) for _, participant_pk, code, _ in sorts]
    labels = [condition for *_rest, condition in sorts]
    several = len(conditions or set(labels)) > 1
    return StudySorts(
        data=data,
        statement_ids=[str(number) for _, number, _ in ordered],
        statement_texts=[text for _, _, text in ordered],
        sort_ids=[sort_name(p, c) if several else p for p, c in zip(participants, labels, strict=True)],
        distribution=factor_array_distribution(study, data),
        participants=participants,
        conditions=labels,
    )


def correlations_of(study: Study, result: dict[str, Any]) -> list[list[float]] | None:
    """The run's sorts x sorts correlation matrix as the analysis JSON gives it (`correlations`).

    Runs no longer store it (at 1,000 sorts it was 98 % of the row): it is computed here from
    the sorts the run analysed, with the run's correlation method, only where it is shown.  A
    run stored before keeps its own.  None above the engine's limit, as in the JSON, or when a
    sort the run analysed is gone (withdrawn).
    """
    if "correlations" in result:
        return result["correlations"]
    labels = result["sorts"]
    if len(labels) > CORRELATIONS_LIMIT:
        return None
    sorts = load_sorts(study, result.get("run_conditions"))
    column_of = {label: column for column, label in enumerate(sorts.sort_ids)}
    if any(label not in column_of for label in labels):
        return None
    data = sorts.data[:, [column_of[label] for label in labels]]
    method = result["parameters"].get("correlation", "pearson")
    return correlation.matrix(correlation.factor(data, list(labels), method)).tolist()


def factor_array_distribution(study: Study, data: np.ndarray) -> list[int] | None:
    """The grid values a factor array is laid out on, one per statement.

    A forced study needs none: every sort holds the grid and the engine reads it there. A free
    study whose grid holds exactly the deck uses the grid; with room to spare, the typical sort
    does: rank by rank, the median of the sorts' own sorted values.
    """
    if study.is_forced:
        return None
    grid = study.grid()
    if sum(grid.values()) == data.shape[0]:
        return [value for value, capacity in grid.items() for _ in range(capacity)]
    if data.shape[1] == 0:
        return None
    return np.rint(np.median(np.sort(data, axis=0), axis=1)).astype(int).tolist()


def clean_conditions(study: Study, wanted: list[str] | None) -> list[str]:
    """The labels of the conditions a run covers, in the study's order: those asked for (any
    case), or all of them. Raises RunRefused naming an unknown label."""
    labels = list(study.conditions.values_list("label", flat=True))
    if not wanted:
        return labels
    by_key = {label.casefold(): label for label in labels}
    unknown = [str(w) for w in wanted if str(w).strip().casefold() not in by_key]
    if unknown:
        raise RunRefused(
            _("'%(label)s' is not a condition of this study (%(labels)s).")
            % {"label": unknown[0][:40], "labels": ", ".join(labels)}
        )
    chosen = {by_key[str(w).strip().casefold()] for w in wanted}
    return [label for label in labels if label in chosen]


def clean_selection(study: Study, parameters: dict[str, Any]) -> dict[str, Any]:
    """Which sorts a run (or an evidence panel) leaves out, checked against the study (see
    `leave_out`): raises RunRefused naming a label or session that is not the study's. Only the
    keys in use, in one order, so the same choice is always the same value."""
    excluded = sorted({str(label).strip() for label in parameters.get("excluded_sorts") or [] if str(label).strip()})
    unknown = sorted(set(excluded) - _participants_labelled(study, excluded).keys())
    if unknown:
        raise RunRefused(
            _("No completed sort is labelled %(labels)s: check the codes to leave out.")
            % {"labels": ", ".join(unknown)}
        )
    selection: dict[str, Any] = {}
    if parameters.get("exclude_open_link"):
        selection["exclude_open_link"] = True
    if excluded:
        selection["excluded_sorts"] = excluded
    sessions = sorted({int(pk) for pk in parameters.get("sessions") or []})
    if sessions:
        known = set(study.sessions.filter(pk__in=sessions).values_list("pk", flat=True))
        if known != set(sessions):
            raise RunRefused(_("Choose sessions of this study."))
        selection["sessions"] = sessions
    return selection


def clean_parameters(study: Study, parameters: dict[str, Any], *, n_sorts: int | None = None) -> dict[str, Any]:
    """The run's parameters, checked against the study: raises RunRefused with a clear message.

    A study with several conditions records which conditions the run covers ("conditions");
    a single-condition study's parameters stay as they always were."""
    conditions = clean_conditions(study, parameters.get("conditions"))
    selection = clean_selection(study, parameters)
    if n_sorts is None:
        n_sorts = leave_out(study, study.sorts.filter(condition__label__in=conditions), selection).count()
    if n_sorts == 0:
        raise RunRefused(_("There are no completed sorts yet: an analysis needs at least two."))
    if n_sorts < 2:
        raise RunRefused(_("There is only one completed sort: an analysis needs at least two."))
    factors = int(parameters["factors"])
    if factors < 1:
        raise RunRefused(_("Choose at least one factor."))
    if factors > n_sorts:
        raise RunRefused(
            _(
                "You asked for %(factors)d factors but the study has only %(sorts)d completed sorts: "
                "choose at most %(sorts)d."
            )
            % {"factors": factors, "sorts": n_sorts}
        )
    n_statements = study.statements.count()
    if factors >= n_statements:
        raise RunRefused(
            _("With %(n)d statements an analysis can find at most %(max)d factors.")
            % {"n": n_statements, "max": n_statements - 1}
        )
    if factors > AnalysisRun.MAX_FACTORS:
        raise RunRefused(_("Choose at most %(max)d factors.") % {"max": AnalysisRun.MAX_FACTORS})
    if parameters.get("extraction") not in AnalysisRun.Extraction.values:
        raise RunRefused(_("Choose PCA or centroid extraction."))
    if parameters.get("rotation") not in AnalysisRun.Rotation.values:
        raise RunRefused(_("Choose varimax or no rotation."))
    for first, second, _angle in parameters.get("pair_rotations", []):
        if not (1 <= first <= factors and 1 <= second <= factors) or first == second:
            raise RunRefused(_("A hand rotation needs two different factors of this analysis."))
    for factor in parameters.get("reflections", []):
        if not 1 <= factor <= factors:
            raise RunRefused(_("Factor %(factor)d is not part of this analysis.") % {"factor": factor})
    cleaned = {
        "factors": factors,
        "extraction": parameters["extraction"],
        "rotation": parameters["rotation"],
        "flag_overrides": [list(o) for o in parameters.get("flag_overrides", [])],
        "pair_rotations": [list(r) for r in parameters.get("pair_rotations", [])],
        "reflections": sorted(set(parameters.get("reflections", []))),
        **selection,
    }
    if study.has_several_conditions:
        cleaned["conditions"] = conditions
    return cleaned


def start_run(study: Study, user, parameters: dict[str, Any], *, automatic: bool = False) -> AnalysisRun:
    """Create a queued run and hand it to the worker once the row is committed."""
    cleaned = clean_parameters(study, parameters)
    with transaction.atomic():
        run = AnalysisRun.objects.create(study=study, created_by=user, parameters=cleaned, automatic=automatic)
        enqueue(run)
    return run


def derive_run(run: AnalysisRun, user, **changes: Any) -> AnalysisRun:
    """A new run with this run's parameters and some changed (flags, rotation, reflection)."""
    return start_run(run.study, user, {**run.parameters, **changes})


def flag_overrides_for(
    run: AnalysisRun, wanted: set[tuple[int, int]], *, shown: set[int] | None = None
) -> list[list[Any]]:
    """The overrides that turn this run's flags into `wanted` ((sort index, factor) pairs).

    With `shown` (sort indices: the page of the table the researcher saw), only those sorts'
    flags change. Earlier overrides are kept unless contradicted, so re-running keeps every
    hand choice.
    """
    result = run.result
    assert result is not None  # a done run (the views' _done_run): analysisrun_done_has_result
    overrides = {(sort, factor): flag for sort, factor, flag in run.parameters.get("flag_overrides", [])}
    for index, (sort_id, flags) in enumerate(zip(result["sorts"], result["flags"], strict=True)):
        if shown is not None and index not in shown:
            continue
        for factor, flagged in enumerate(flags, start=1):
            if ((index, factor) in wanted) != flagged:
                overrides[(sort_id, factor)] = not flagged
    return [[sort, factor, flag] for (sort, factor), flag in overrides.items()]


# Reset a run to "queued, nobody's": a retry, a takeover of a lost worker's run, a re-run.
REQUEUED = {
    "status": AnalysisRun.Status.QUEUED,
    "progress": 0,
    "stage": "",
    "error": "",
    "claim": "",
    "heartbeat_at": None,
    "started_at": None,
    "finished_at": None,
}


def retry(run: AnalysisRun) -> None:
    """Put a failed or stale run back on the queue, same parameters, same row."""
    with transaction.atomic():
        AnalysisRun.objects.filter(pk=run.pk).update(**REQUEUED, attempts=0, queued_at=timezone.now())
        enqueue(run)


def enqueue(run: AnalysisRun, *, countdown: float | None = None) -> None:
    """Send the run to the worker after commit (see send_job)."""
    from qsort.runs.tasks import run_analysis  # the task module imports this one

    send_job(run_analysis, run.pk, countdown=countdown)


def send_job(task, pk: int, *, countdown: float | None = None) -> None:
    """Send a job (an analysis run, a bootstrap, an evidence panel) to the worker after commit;
    a broker outage is logged, never raised.

    The job stays queued in the database, so nothing is lost: the sweep (recover_runs) re-sends
    it once the broker is back. Without a broker the job goes to the web process's background
    thread, never into the request.
    """
    if settings.QSORT_RUNS_IN_PROCESS:

        def send() -> None:
            background.submit(task, pk, delay=countdown or 0)
            recover_runs()  # without beat, each enqueue is the moment to pick up what a restart left
    else:

        def send() -> None:
            task.apply_async((pk,), countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY_POLICY)

    transaction.on_commit(send, robust=True)


# Reset a bootstrap or evidence job to "queued, nobody's" (a takeover of a lost worker's job).
JOB_REQUEUED = {
    "status": Job.Status.QUEUED,
    "progress": 0,
    "claim": "",
    "heartbeat_at": None,
    "started_at": None,
}


def recover_runs() -> dict[str, dict[str, int]]:
    """The sweep: re-send queued work nobody picked up, hand lost workers' work to a new one.

    For analysis runs, bootstraps and evidence jobs alike (see _sweep); a lost job whose cancel
    was asked for is ended as cancelled, since nobody was left to see the request.
    """
    from qsort.runs.tasks import run_bootstrap, run_factor_evidence

    now = timezone.now()
    for model in (Bootstrap, FactorEvidence):
        model.objects.lost_worker().filter(cancel_requested=True).update(
            status=Job.Status.CANCELLED, claim="", finished_at=now
        )
    return {
        "runs": _sweep(
            AnalysisRun,
            REQUEUED,
            _(
                "The analysis stopped %(n)d times because the worker running it was lost (for example, it ran "
                "out of memory). Try fewer factors or ask your administrator to give the worker more memory."
            )
            % {"n": MAX_ATTEMPTS},
            enqueue=lambda pk: enqueue(AnalysisRun(pk=pk)),
        ),
        "bootstraps": _sweep(
            Bootstrap,
            JOB_REQUEUED,
            _(
                "The bootstrap stopped %(n)d times because the worker running it was lost (for example, it ran "
                "out of memory). Try fewer steps, or ask your administrator to give the worker more memory."
            )
            % {"n": MAX_ATTEMPTS},
            enqueue=lambda pk: send_job(run_bootstrap, pk),
        ),
        "evidence": _sweep(
            FactorEvidence,
            JOB_REQUEUED,
            _(
                "Computing the evidence stopped %(n)d times because the worker running it was lost (for "
                "example, it ran out of memory). Ask your administrator to give the worker more memory."
            )
            % {"n": MAX_ATTEMPTS},
            enqueue=lambda pk: send_job(run_factor_evidence, pk),
        ),
    }


def _sweep(model, requeued: dict[str, Any], lost_message: str, *, enqueue) -> dict[str, int]:
    """One kind of work: a queued row is re-sent when it waited past message_lost_before() (its
    message was lost with a broker outage or a purge; a duplicate message is harmless, the
    claim makes it a no-op). A running row whose heartbeat stopped is queued again, or failed
    with `lost_message` once it has lost its worker MAX_ATTEMPTS times (work that kills its
    worker, e.g. out of memory, must not loop forever)."""
    now = timezone.now()
    lost = model.objects.lost_worker()
    failed = lost.filter(attempts__gte=MAX_ATTEMPTS).update(
        status="failed", claim="", finished_at=now, error=lost_message
    )
    taken_over = list(lost.values_list("pk", flat=True))
    model.objects.filter(pk__in=taken_over, status="running").update(**requeued, queued_at=now)
    resend = list(
        model.objects.filter(status="queued", queued_at__lt=message_lost_before()).values_list("pk", flat=True)
    )
    model.objects.filter(pk__in=resend).update(queued_at=now)
    for pk in [*taken_over, *resend]:
        logger.warning("%s %s: re-sent to a worker", model._meta.verbose_name.capitalize(), pk)
        enqueue(pk)
    return {"failed": failed, "taken_over": len(taken_over), "resent": len(resend)}


def rerun_without_sort(sort: Sort, *, origin: object = None) -> None:
    """Withdrawal: no stored run keeps anything of a withdrawn participant's sort.

    Their label, loadings and flags sit in a run's result, and their sort shaped every factor
    array and z-score in it, so redacting rows would not be enough: each run that used the sort
    (or names it in a flag override or an error, or is running with it loaded) loses its result
    and is queued again, same id and parameters minus their overrides (its bootstraps are deleted:
    they resampled the sort and list its loadings). Until the re-run finishes
    the run has no result, so no page or download can show the old one. Called on Sort's
    pre_delete (runs/receivers.py), so every door that deletes a sort does this; deleting the
    whole study (`origin`) skips it: its runs go too.
    """
    if isinstance(origin, Study) or getattr(origin, "model", None) is Study:
        return  # the whole study is being deleted: its runs go with it
    label = sort.participant.label
    # A run over several conditions names the sort "P0007·Relapse"; over one, "P0007".
    names = {label, sort_name(label, sort.condition.label)}
    affected = []
    for run in AnalysisRun.objects.filter(study_id=sort.study_id).only("id", "status", "result", "parameters", "error"):
        overrides = run.parameters.get("flag_overrides", [])
        if (
            run.status == AnalysisRun.Status.RUNNING
            or (run.result is not None and names & set(run.result.get("sorts", [])))
            or any(override[0] in names for override in overrides)
            or label in run.error
        ):
            parameters = {**run.parameters, "flag_overrides": [o for o in overrides if o[0] not in names]}
            affected.append(run.pk)
            AnalysisRun.objects.filter(pk=run.pk).update(
                **REQUEUED, result=None, parameters=parameters, attempts=0, queued_at=timezone.now()
            )
    # A bootstrap resampled the old sorts and describes the old result: it goes with it.
    Bootstrap.objects.filter(run_id__in=affected).delete()
    for run_id in affected:
        enqueue(AnalysisRun(pk=run_id))


def reanalyse_after_new_sort(study_id: int) -> AnalysisRun | None:
    """Automatic re-analysis: re-run the latest parameters, at most one pending run per study.

    The study row is locked so two sorts completing together cannot queue two runs. A pending
    automatic run will read this sort too, so none is added; a stuck one is re-sent rather than
    blocking. A new run waits AUTO_REANALYSE_DELAY (a burst of sorts shares it) and at least
    AUTO_REANALYSE_MIN_INTERVAL after the previous automatic run (a flood of sorts cannot turn
    into a flood of analyses). Only the newest AUTOMATIC_RUNS_KEPT automatic runs are kept.
    """
    with transaction.atomic():
        study = Study.objects.select_for_update().filter(pk=study_id, auto_reanalyse=True).first()
        if study is None:
            return None
        runs = AnalysisRun.objects.filter(study=study).defer("result")
        latest = runs.first()
        if latest is None:
            return None
        pending = runs.filter(automatic=True, status=AnalysisRun.Status.QUEUED).first()
        if pending is not None:
            if pending.is_stale:
                retry(pending)
            return None
        try:
            parameters = clean_parameters(study, latest.parameters)
        except RunRefused:
            return None
        now = timezone.now()
        due = now + AUTO_REANALYSE_DELAY
        previous = runs.filter(automatic=True).first()
        if previous is not None:
            due = max(due, previous.created_at + AUTO_REANALYSE_MIN_INTERVAL)
        run = AnalysisRun.objects.create(study=study, parameters=parameters, automatic=True, queued_at=due)
        enqueue(run, countdown=(due - now).total_seconds())
        finished = runs.filter(automatic=True, status__in=[AnalysisRun.Status.DONE, AnalysisRun.Status.FAILED])
        runs.filter(pk__in=finished.values_list("pk", flat=True)[AUTOMATIC_RUNS_KEPT - 1 :]).delete()
    return run


def scree_eigenvalues(study: Study) -> list[float]:
    """Eigenvalues of the current sorts' correlation matrix, to help choose the number of factors.

    Cached by the study's sort count and newest sort id: completed sorts never change, so that
    pair changes whenever the data does (a sort added or withdrawn). At 2,000 sorts this saves
    loading 120,000 values on every view of the results page.
    """
    state = study.sorts.aggregate(count=Count("id"), newest=Max("id"))
    key = f"qsort:scree:{study.pk}:{state['count']}:{state['newest']}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    values: list[float] = []
    if state["count"] >= 2:
        sorts = load_sorts(study)
        try:
            values = extraction.eigenvalues(correlation.factor(sorts.data, sorts.sort_ids)).tolist()
        except ValueError:  # e.g. a sort with one value everywhere: a run will say so in words
            values = []
    cache.set(key, values, timeout=24 * 3600)
    return values
