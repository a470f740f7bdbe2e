from django.contrib import admin

from qsort.runs.models import AnalysisRun


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["study__title", "created_by__username"]
    list_select_related = ["study", "created_by"]
    readonly_fields = ["result", "created_at", "started_at", "finished_at"]
