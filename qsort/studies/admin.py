from django.contrib import admin, messages
from django.db.models import Count

from qsort.studies.models import (
    Answer,
    Collaborator,
    GridColumn,
    Participant,
    PostSortQuestion,
    Sort,
    SortComment,
    SortDraft,
    SortValue,
    Statement,
    Study,
)
from qsort.studies.validation import SortRules, validate_sort


class StatementInline(admin.TabularInline):
    model = Statement
    extra = 0
    fields = ["number", "text", "position"]


class GridColumnInline(admin.TabularInline):
    model = GridColumn
    extra = 0


class QuestionInline(admin.TabularInline):
    model = PostSortQuestion
    extra = 0


class CollaboratorInline(admin.TabularInline):
    model = Collaborator
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "owner", "status", "distribution", "n_statements", "n_sorts", "updated_at"]
    list_filter = ["status", "distribution", "archived"]
    search_fields = ["title", "slug", "owner__username"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [GridColumnInline, StatementInline, QuestionInline, CollaboratorInline]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .annotate(_statements=Count("statements", distinct=True), _sorts=Count("sorts", distinct=True))
        )

    @admin.display(description="statements", ordering="_statements")
    def n_statements(self, study: Study) -> int:
        return study._statements

    @admin.display(description="sorts", ordering="_sorts")
    def n_sorts(self, study: Study) -> int:
        return study._sorts


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ["number", "text", "study"]
    list_filter = ["study"]
    search_fields = ["text", "study__title"]
    list_select_related = ["study"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["label", "study", "stage", "created_at", "completed_at", "last_saved_at"]
    list_filter = ["stage", "study"]
    search_fields = ["code", "study__title"]
    list_select_related = ["study"]
    # The token is a credential: operators see neither it nor anything derived from it.
    exclude = ["token"]
    readonly_fields = ["consented_at", "started_at", "completed_at", "last_saved_at"]


class SortValueInline(admin.TabularInline):
    model = SortValue
    extra = 0
    fields = ["statement", "value"]
    raw_id_fields = ["statement"]


class SortCommentInline(admin.TabularInline):
    model = SortComment
    extra = 0
    raw_id_fields = ["statement"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0


@admin.register(Sort)
class SortAdmin(admin.ModelAdmin):
    list_display = ["participant", "study", "submitted_at", "entered_by"]
    list_filter = ["study"]
    search_fields = ["participant__code", "study__title"]
    list_select_related = ["participant", "study", "entered_by"]
    raw_id_fields = ["participant"]
    inlines = [SortValueInline, SortCommentInline, AnswerInline]

    def save_related(self, request, form, formsets, change) -> None:
        """Admin edits go through the same sort validator as every other door."""
        super().save_related(request, form, formsets, change)
        sort = form.instance
        placements = [(v.statement.number, v.value) for v in sort.values.select_related("statement")]
        _, problems = validate_sort(SortRules.for_study(sort.study), placements)
        for problem in problems:
            messages.warning(request, f"This sort no longer validates: {problem}")


@admin.register(SortDraft)
class SortDraftAdmin(admin.ModelAdmin):
    list_display = ["participant", "updated_at"]
    list_select_related = ["participant"]
    search_fields = ["participant__code"]
    readonly_fields = ["updated_at"]


@admin.register(PostSortQuestion)
class PostSortQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "study", "position", "required"]
    list_filter = ["study"]
    search_fields = ["text"]


@admin.register(Collaborator)
class CollaboratorAdmin(admin.ModelAdmin):
    list_display = ["user", "study", "role", "added_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "study__title"]
