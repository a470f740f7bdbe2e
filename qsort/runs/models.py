"""Analysis runs: what a researcher asked for, how far the worker got, and what came out."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
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


def heartbeat_interval() -> timedelta:
    return timedelta(seconds=settings.QSORT_RUN_HEARTBEAT_SECONDS)


def worker_lost_before() -> datetime:
    """A running run whose last heartbeat is older than this has lost its worker."""
    return timezone.now() - HEARTBEATS_MISSED * heartbeat_interval()


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


class AnalysisRunQuerySet(models.QuerySet):
    def lost_worker(self) -> AnalysisRunQuerySet:
        """Running runs whose worker stopped beating (claimed before any beat: the claim time)."""
        return self.alias(sign_of_life=Coalesce("heartbeat_at", "started_at")).filter(
            status=AnalysisRun.Status.RUNNING, sign_of_life__lt=worker_lost_before()
        )

    def for_dashboard(self) -> AnalysisRunQuerySet:
        """Runs with their result minus the sorts x sorts correlation matrix, which the dashboard
        never shows and which, at 1,000 sorts, is a million numbers to decode per page view."""
        if connection.vendor == "postgresql":
            # A constant expression, no user input: jsonb's "-" drops one key server-side.
            result = RawSQL(f"{AnalysisRun._meta.db_table}.result - 'correlations'", (), models.JSONField())  # noqa: S611
        else:
            result = F("result")
        return self.annotate(dashboard_result=result).defer("result")


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

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

    objects = AnalysisRunQuerySet.as_manager()

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
