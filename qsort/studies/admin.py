from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, Q

from qsort.studies.models import (
    Answer,
    Collaborator,
    Condition,
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

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class StudyCounts(TypedDict):
    """What StudyAdmin.get_queryset annotates each study with."""

    _statements: int
    _participants: int
    _sorts: int


class ParticipantCounts(TypedDict):
    """What ParticipantAdmin.get_queryset annotates each participant with."""

    _sorts: int
    _paper: int


class StatementInline(admin.TabularInline):
    model = Statement
    extra = 0
    fields = ["number", "text", "position"]


class GridColumnInline(admin.TabularInline):
    model = GridColumn
    extra = 0


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0
    fields = ["position", "label", "question", "instructions"]


class QuestionInline(admin.TabularInline):
    model = PostSortQuestion
    extra = 0


class CollaboratorInline(admin.TabularInline):
    model = Collaborator
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "owner",
        "status",
        "archived",
        "distribution",
        "n_statements",
        "n_participants",
        "n_sorts",
        "created_at",
        "updated_at",
    ]
    list_filter = ["status", "distribution", "archived", "open_link_enabled", "language"]
    search_fields = ["title", "slug", "owner__username", "conditions__question"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ConditionInline, GridColumnInline, StatementInline, QuestionInline, CollaboratorInline]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .annotate(
                _statements=Count("statements", distinct=True),
                _participants=Count("participants", distinct=True),
                _sorts=Count("sorts", distinct=True),
            )
        )

    @admin.display(description="statements", ordering="_statements")
    def n_statements(self, study: WithAnnotations[Study, StudyCounts]) -> int:
        return study._statements

    @admin.display(description="participants", ordering="_participants")
    def n_participants(self, study: WithAnnotations[Study, StudyCounts]) -> int:
        return study._participants

    @admin.display(description="sorts", ordering="_sorts")
    def n_sorts(self, study: WithAnnotations[Study, StudyCounts]) -> int:
        return study._sorts


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ["number", "text", "study", "position"]
    list_filter = ["study"]
    search_fields = ["text", "study__title", "study__slug"]
    list_select_related = ["study"]
    ordering = ["study", "number"]


@admin.register(GridColumn)
class GridColumnAdmin(admin.ModelAdmin):
    list_display = ["study", "value", "capacity"]
    list_filter = ["study"]
    search_fields = ["study__title", "study__slug"]
    list_select_related = ["study"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "study",
        "stage",
        "paper_sort",
        "created_at",
        "consented_at",
        "completed_at",
        "last_saved_at",
    ]
    list_filter = ["stage", "study__status", "study"]
    search_fields = ["code", "study__title", "study__slug"]
    list_select_related = ["study"]
    date_hierarchy = "created_at"
    # The token is a credential: operators see neither it nor anything derived from it.
    exclude = ["token"]
    readonly_fields = ["consented_at", "started_at", "completed_at", "last_saved_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_sorts=Count("sorts"), _paper=Count("sorts", filter=Q(sorts__entered_by__isnull=False)))
        )

    @admin.display(description="paper sort", boolean=True)
    def paper_sort(self, participant: WithAnnotations[Participant, ParticipantCounts]) -> bool | None:
        return None if not participant._sorts else participant._paper > 0


class CompletedSortPart:
    """Completed sorts never change (analyses, caches and reproducibility rely on it): operators
    may look, never add, edit or delete. A participant withdraws through their Participant row."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SortValueInline(CompletedSortPart, admin.TabularInline):
    model = SortValue
    extra = 0
    fields = ["statement", "value"]
    raw_id_fields = ["statement"]


class SortCommentInline(CompletedSortPart, admin.TabularInline):
    model = SortComment
    extra = 0
    raw_id_fields = ["statement"]


class AnswerInline(CompletedSortPart, admin.TabularInline):
    model = Answer
    extra = 0


@admin.register(Sort)
class SortAdmin(CompletedSortPart, admin.ModelAdmin):
    list_display = ["participant", "study", "condition", "submitted_at", "entered_by"]
    list_filter = ["study", "condition", ("entered_by", admin.EmptyFieldListFilter)]
    search_fields = ["participant__code", "study__title", "study__slug", "entered_by__username"]
    date_hierarchy = "submitted_at"
    list_select_related = ["participant", "study", "condition", "entered_by"]
    raw_id_fields = ["participant"]
    inlines = [SortValueInline, SortCommentInline, AnswerInline]


@admin.register(SortValue)
class SortValueAdmin(CompletedSortPart, admin.ModelAdmin):
    list_display = ["sort", "statement_number", "value", "study"]
    list_filter = ["value", "sort__study"]
    search_fields = ["sort__participant__code", "sort__study__title", "statement__text"]
    list_select_related = ["sort__participant", "sort__condition", "sort__study", "statement"]
    raw_id_fields = ["sort", "statement"]

    @admin.display(description="statement", ordering="statement__number")
    def statement_number(self, value: SortValue) -> int:
        return value.statement.number

    @admin.display(description="study", ordering="sort__study__title")
    def study(self, value: SortValue) -> Study:
        return value.sort.study


@admin.register(SortComment)
class SortCommentAdmin(CompletedSortPart, admin.ModelAdmin):
    list_display = ["text", "statement", "sort"]
    list_filter = ["sort__study"]
    search_fields = ["text", "sort__participant__code", "statement__text"]
    list_select_related = ["sort__participant", "sort__condition", "statement"]
    raw_id_fields = ["sort", "statement"]


@admin.register(Answer)
class AnswerAdmin(CompletedSortPart, admin.ModelAdmin):
    list_display = ["text", "question", "sort"]
    list_filter = ["question__study"]
    search_fields = ["text", "question__text", "sort__participant__code"]
    list_select_related = ["question", "sort__participant", "sort__condition"]
    raw_id_fields = ["sort", "question"]


@admin.register(SortDraft)
class SortDraftAdmin(admin.ModelAdmin):
    list_display = ["participant", "condition", "updated_at"]
    list_select_related = ["participant", "condition"]
    search_fields = ["participant__code"]
    readonly_fields = ["updated_at"]


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["label", "study", "position", "question"]
    list_filter = ["study"]
    search_fields = ["label", "question", "study__title", "study__slug"]
    list_select_related = ["study"]
    ordering = ["study", "position"]


@admin.register(PostSortQuestion)
class PostSortQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "study", "position", "required", "each_condition"]
    list_filter = ["required", "each_condition", "study"]
    search_fields = ["text", "study__title"]
    list_select_related = ["study"]


@admin.register(Collaborator)
class CollaboratorAdmin(admin.ModelAdmin):
    list_display = ["user", "study", "role", "added_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "study__title", "study__slug"]
    list_select_related = ["user", "study"]
    autocomplete_fields = ["user", "study"]
