"""Analysis runs: what a researcher asked for, how far the worker got, and what came out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qsort.studies.models import Study


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
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

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
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.study} ({self.status})"
