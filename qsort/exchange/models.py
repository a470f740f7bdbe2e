"""Who downloaded what, when: data about vulnerable people leaves the platform only on record."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DownloadLog(models.Model):
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="downloads")
    run = models.ForeignKey("runs.AnalysisRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.CharField(max_length=40)  # the export's name, e.g. "sorts.csv" or "report.xlsx"
    via_api = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The Data page lists a study's latest downloads.
            models.Index(fields=["study", "-created_at"], name="downloadlog_study_created"),
        ]

    def __str__(self) -> str:
        return f"{self.file} of {self.study_id} by {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"
