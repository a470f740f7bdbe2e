from django.contrib import admin

from qsort.exchange.models import DownloadLog


@admin.register(DownloadLog)
class DownloadLogAdmin(admin.ModelAdmin):
    """The audit trail: readable by staff, never edited."""

    list_display = ["created_at", "study", "user", "file", "run", "via_api"]
    list_filter = ["via_api", "file"]
    search_fields = ["study__slug", "user__username", "file"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
