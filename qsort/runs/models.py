"""Analysis runs: what a researcher asked for, how far the worker got, and what came out."""

from __future__ import annotations

import gc
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qsort.studies.models import Study

# A queued run that no worker picked up in this time was probably never delivered (broker
# outage, worker down): the page offers a retry (the sweep re-sends it sooner, see services).
QUEUED_STALE_AFTER = timedelta(minutes=2)
# A worker lost (killed, out of memory, machine gone) leaves its run "running": the heartbeat
# it writes every QSORT_RUN_HEARTBEAT_SECONDS stops, and after three missed beats the run is
# taken over by the next delivery or sweep. A run that loses its worker this often fails.
HEARTBEATS_MISSED = 3
MAX_ATTEMPTS = 3
# A queued run nobody claimed this many heartbeats after it was due has lost its message (a broker
# outage, or a killed worker that held it): the sweep, every heartbeat, sends it again (a duplicate
# is harmless: the claim makes it a no-op). So a run is back on a worker within about 30 s at the
# default 10 s heartbeat, whichever way it was lost (benchmarks/load.py measures it).
HEARTBEATS_UNCLAIMED = 2


def heartbeat_interval() -> timedelta:
    return timedelta(seconds=settings.QSORT_RUN_HEARTBEAT_SECONDS)


def worker_lost_before() -> datetime:
    """A running run whose last heartbeat is older than this has lost its worker."""
    return timezone.now() - HEARTBEATS_MISSED * heartbeat_interval()


def message_lost_before() -> datetime:
    """A queued run due before this and still unclaimed has lost its message."""
    return timezone.now() - HEARTBEATS_UNCLAIMED * heartbeat_interval()


STAGES = {
    "loading data": _("Loading data"),
    "correlating": _("Correlating sorts"),
    "extracting": _("Extracting factors"),
    "rotating": _("Rotating"),
    "flagging": _("Flagging defining sorts"),
    "scoring": _("Computing factor scores"),
    "distinguishing": _("Finding distinguishing statements"),
    "saving": _("Saving the result"),
}


class WorkQuerySet(models.QuerySet):
    """Rows a worker claims (runs, bootstraps, evidence jobs): status, started_at, heartbeat_at."""

    def lost_worker(self) -> WorkQuerySet:
        """Running rows whose worker stopped beating (claimed before any beat: the claim time)."""
        return self.alias(sign_of_life=Coalesce("heartbeat_at", "started_at")).filter(
            status="running", sign_of_life__lt=worker_lost_before()
        )


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Extraction(models.TextChoices):
        PCA = "pca", _("Principal components (PCA)")
        CENTROID = "centroid", _("Centroid (Brown)")

    class Rotation(models.TextChoices):
        VARIMAX = "varimax", _("Varimax")
        NONE = "none", _("None")

    # PQMethod extracts at most 8 factors (7 by centroid); more is never interpretable in a Q study.
    MAX_FACTORS = 8

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="analysis_runs")
    # factors, extraction, rotation, correlation, flag overrides, pair rotations, ...
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=40, blank=True)
    # The analysis JSON contract (shared/analysis-json.md), plus the sort labels used.
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="analysis_runs"
    )
    # Set when a new sort re-ran the latest parameters (Study.auto_reanalyse), not a person.
    automatic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last put on the queue (creation or retry): the clock for "stale".
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # The worker that claimed the run writes only while this is its claim: a run taken over
    # (lost worker) or reset (a participant withdrew) ignores the late writes of the old one.
    claim = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = WorkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="analysisrun_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100), name="analysisrun_progress_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(result__isnull=False), name="analysisrun_done_has_result"
            ),
        ]
        indexes = [
            # The results page lists a study's runs, newest first.
            models.Index(fields=["study", "-created_at"], name="analysisrun_study_created"),
            # The recovery sweep looks for unfinished runs every few seconds.
            models.Index(
                fields=["status"], condition=Q(status__in=["queued", "running"]), name="analysisrun_unfinished"
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.study} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def is_stale(self) -> bool:
        """Queued or running for so long that its worker is gone; the page offers a retry."""
        now = timezone.now()
        if self.status == self.Status.QUEUED:
            return now - self.queued_at > QUEUED_STALE_AFTER
        if self.status == self.Status.RUNNING:
            last_sign_of_life = self.heartbeat_at or self.started_at
            return last_sign_of_life is not None and last_sign_of_life < worker_lost_before()
        return False

    @property
    def can_retry(self) -> bool:
        return self.status == self.Status.FAILED or self.is_stale

    @property
    def stage_label(self) -> str:
        return str(STAGES.get(self.stage, self.stage))

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


@dataclass(frozen=True)
class Part:
    """Part of a stored result: a top-level `field`, only its `rows` (indices) or only one
    `column` of each of its rows."""

    field: str
    rows: Sequence[int] | None = None
    column: int | None = None

    def path(self) -> str:
        """The part as a jsonpath over the whole result (integers only), runs of rows as `a to b`."""
        if not self.field.isidentifier():  # our own field names; never quoting to get wrong
            raise ValueError(self.field)
        if self.column is not None:
            return f"$.{self.field}[*][{int(self.column)}]"
        rows = [int(r) for r in self.rows or ()]
        ranges, start = [], 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i] != rows[i - 1] + 1:
                ranges.append(f"{rows[start]}" if i - 1 == start else f"{rows[start]} to {rows[i - 1]}")
                start = i
        return f"$.{self.field}[" + ",".join(ranges) + "]"

    def cut(self, value: Any) -> Any:
        if self.column is not None:
            return [row[self.column] for row in value]
        if self.rows is not None:
            return [value[i] for i in self.rows if i < len(value)]
        return value


def _decode(text: str) -> Any:
    """JSON text of a stored result as Python values, with the cycle collector paused meanwhile:
    a result of 20,000 sorts is some 300,000 lists and numbers, and making them set off full
    collections of the whole process (half of a 200 ms API answer). JSON holds no cycles, so
    there is nothing for the collector to find; a caller that paused it keeps it paused."""
    if not gc.isenabled():
        return json.loads(text)
    gc.disable()
    try:
        return json.loads(text)
    finally:
        gc.enable()


def load_result(run_id: int, *, correlations: bool = True) -> dict[str, Any]:
    """One run's stored result, with or without the sorts x sorts correlation matrix older runs
    stored (runs no longer do: services.correlations_of computes it where it is shown).

    The matrix is dropped in the database, and only when it is there: jsonb's "-" rebuilds the
    whole value (20 ms of a 4 MB result at 20,000 sorts). Decoded by the json module: orjson
    takes half the time but builds a document of ten times the text's size first (58 MB there).
    """
    if connection.vendor != "postgresql":
        result = AnalysisRun.objects.values_list("result", flat=True).get(pk=run_id)
        assert result is not None  # asked of done runs only: analysisrun_done_has_result
        return result if correlations else {k: v for k, v in result.items() if k != "correlations"}
    value = (
        "result" if correlations else "CASE WHEN result ? 'correlations' THEN result - 'correlations' ELSE result END"
    )
    with connection.cursor() as cursor:
        # Our own table and constant expressions; the id is a parameter.
        cursor.execute(f"SELECT ({value})::text FROM {AnalysisRun._meta.db_table} WHERE id = %s", [run_id])  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        raise AnalysisRun.DoesNotExist
    assert row[0] is not None  # asked of done runs only: analysisrun_done_has_result
    return _decode(row[0])


def result_parts(run_id: int, parts: dict[str, Part]) -> dict[str, Any]:
    """Parts of one run's result, by name, in one query.

    A result is the analysis JSON (5 MB at 20,000 sorts), and each jsonb operator on the stored
    value would detoast all of it again: PostgreSQL copies it into memory once (`|| '{}'`, in a
    subquery kept apart by OFFSET 0), then cuts the parts out (a jsonpath over the whole value:
    `r -> 'loadings'` would copy all the loadings first), so only what a page shows crosses to
    Python. Elsewhere (SQLite, `make run`) the result is decoded and cut here.
    """
    if not parts:
        return {}
    if connection.vendor != "postgresql":
        result = AnalysisRun.objects.values_list("result", flat=True).get(pk=run_id)
        assert result is not None  # parts are asked of done runs only: analysisrun_done_has_result
        return {name: part.cut(result.get(part.field)) for name, part in parts.items()}
    columns, params = [], []
    for part in parts.values():
        if part.rows is None and part.column is None:
            columns.append("r -> %s")
            params.append(part.field)
        elif part.rows is not None and not part.rows:
            columns.append("'[]'::jsonb")
        else:
            columns.append("jsonb_path_query_array(r, %s::jsonpath)")
            params.append(part.path())
    table = AnalysisRun._meta.db_table
    # The table name is ours and every value is a parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM (SELECT result || '{{}}'::jsonb AS r FROM {table} "  # noqa: S608
        "WHERE id = %s OFFSET 0) AS one"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, run_id])
        row = cursor.fetchone()
    if row is None:
        raise AnalysisRun.DoesNotExist
    return {name: _decode(value) if isinstance(value, str) else value for name, value in zip(parts, row, strict=True)}


class Job(models.Model):
    """A long computation of one worker, with progress and cancel: a bootstrap of a run, the
    number-of-factors evidence of a study.  The worker claims a queued job (``claim``), beats
    (``heartbeat_at``) while it works, and writes only while the job is still its own; the
    recovery sweep (services.recover_runs) takes over a job whose worker was lost, or ends it
    with a message after MAX_ATTEMPTS losses. ``cancel_requested`` is how a web request stops a
    running job: the worker checks it between batches."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last put on the queue (creation or takeover): the sweep's clock for re-sending.
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    # Written by the worker's heartbeat thread: a running job whose beats stopped lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = WorkQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed", "cancelled"]),
                name="%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100), name="%(class)s_progress_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(result__isnull=False), name="%(class)s_done_has_result"
            ),
        ]

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED}

    @property
    def can_cancel(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def lost_worker(self) -> bool:
        """Running, but no heartbeat for several intervals: its worker is gone."""
        beat = self.heartbeat_at or self.started_at
        return self.status == self.Status.RUNNING and beat is not None and beat < worker_lost_before()


class Bootstrap(Job):
    """A bootstrap of one finished run (qmboots' procedure, qsort.analysis.bootstrap).

    Either ``steps`` with a ``seed`` (drawn and stored when not given, so the bootstrap can be
    repeated) or explicit ``resamples`` (0-based sort indices per step). ``result`` holds the
    bootstrap JSON (qsort/analysis/README.md, "Bootstrap JSON").
    """

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="bootstraps")
    steps = models.PositiveIntegerField()
    seed = models.BigIntegerField(null=True, blank=True)
    resamples = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="bootstraps"
    )

    class Meta(Job.Meta):
        pass

    def __str__(self) -> str:
        return f"Bootstrap {self.pk} of run {self.run_id} ({self.status})"


class FactorEvidence(Job):
    """The number-of-factors evidence panel of a study's sorts as they were (``state``: the
    number of sorts and the newest sort's id, which change whenever a sort is added or
    withdrawn), from a trial solution with ``factors`` factors. ``result`` holds the panel
    (qsort.analysis.evidence.FactorEvidence.to_json).

    ``selection``: the sorts the panel leaves out, as a run's parameters say it
    (qsort.runs.services.clean_selection; empty: every sort). With a ``run``: the panel of that
    finished run (its sorts, its own loadings and flags), for a run too large for its task to
    compute the panel beside the analysis."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="factor_evidence")
    run = models.ForeignKey(AnalysisRun, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence_jobs")
    factors = models.PositiveSmallIntegerField()
    selection = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(Job.Meta):
        indexes = [models.Index(fields=["study", "factors", "state"], name="factorevidence_lookup")]

    def __str__(self) -> str:
        of = f"run {self.run_id}" if self.run_id else str(self.study)
        return f"Evidence of {of} with {self.factors} factors ({self.status})"
