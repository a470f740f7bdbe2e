from django.contrib import admin

from qsort.rooms.models import InterviewPrompts, Seat, Session


class SeatInline(admin.TabularInline):
    model = Seat
    fields = ["number", "participant"]
    readonly_fields = ["number", "participant"]
    extra = 0
    can_delete = False


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["name", "study", "status", "seats", "starts_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "place", "study__title", "study__slug"]
    # The join token is a way into the session: never shown, never edited here.
    exclude = ["join_token"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [SeatInline]


@admin.register(InterviewPrompts)
class InterviewPromptsAdmin(admin.ModelAdmin):
    list_display = ["study"]
    search_fields = ["study__title", "study__slug"]
