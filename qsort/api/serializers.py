"""The API's shapes. Nothing here ever includes a participant's token except the links handed
to the owner and facilitators when they create participants (`NewParticipantSerializer`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from qsort.runs.models import AnalysisRun, Bootstrap, FactorEvidence
from qsort.studies.models import (
    CONDITION_LABEL_MAX_LENGTH,
    GRID_MAX_VALUE,
    GRID_MIN_VALUE,
    PARTICIPANT_CODE_MAX_LENGTH,
    Answer,
    Condition,
    GridColumn,
    Participant,
    SortComment,
    Statement,
    Study,
)


class StatementSerializer(serializers.ModelSerializer):
    text = serializers.CharField(max_length=Statement.MAX_LENGTH)

    class Meta:
        model = Statement
        fields = ["number", "text"]
        read_only_fields = ["number"]


class GridColumnSerializer(serializers.Serializer):
    value = serializers.IntegerField(min_value=GRID_MIN_VALUE, max_value=GRID_MAX_VALUE)
    capacity = serializers.IntegerField(min_value=0, max_value=GridColumn.MAX_CAPACITY)


class GridField(serializers.ListField):
    """The grid as [{"value": -4, "capacity": 2}, ...]; stored as Study.grid()'s value -> capacity."""

    child = GridColumnSerializer()

    def run_child_validation(self, data: list) -> list[dict]:
        # A PATCH is partial, and DRF passes that on to the columns: check each one whole.
        errors: dict[str, Any] = {}
        columns = []
        for index, item in enumerate(data):
            column = GridColumnSerializer(data=item)
            if column.is_valid():
                columns.append(column.validated_data)
            else:
                errors[str(index)] = column.errors  # keyed like JSON writes it: {"0": {...}}
        if errors:
            raise serializers.ValidationError(errors)
        return columns

    # The stored value is Study.grid()'s dict, not the list ListField's stub expects.
    def to_representation(self, grid: dict[int, int]) -> list[dict[str, int]]:  # type: ignore[override]
        return [{"value": value, "capacity": capacity} for value, capacity in grid.items()]


# A field named like one of Field's own attributes (`label`, `required`) carries an ignore: DRF's
# metaclass moves declared fields off the class, which the stubs cannot follow.
class QuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(read_only=True)
    required = serializers.BooleanField(read_only=True)  # type: ignore[assignment]  # a declared field, not Field.required (stub)
    each_condition = serializers.BooleanField(read_only=True)


class ConditionSerializer(serializers.Serializer):
    position = serializers.IntegerField(read_only=True)
    label = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.label (stub)
        max_length=CONDITION_LABEL_MAX_LENGTH, validators=Condition._meta.get_field("label").validators
    )
    question = serializers.CharField(max_length=2000)
    instructions = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class StudyListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Study
        fields = ["slug", "title", "status", "distribution", "created_at", "updated_at"]


class StudySerializer(serializers.ModelSerializer):
    """A study's settings, deck and grid. `grid` and `statements` are writable while the deck is
    unlocked (the view turns a locked deck into 409); `status` accepts "open" and "closed"."""

    slug = serializers.SlugField(max_length=80)
    status = serializers.ChoiceField(choices=Study.Status.choices, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    statements = StatementSerializer(many=True, required=False)
    grid = GridField(required=False, max_length=20)
    questions = QuestionSerializer(many=True, read_only=True)
    condition_of_instruction = serializers.CharField(
        required=False, allow_blank=True, help_text="The first condition's question (the only one in most studies)."
    )
    conditions = ConditionSerializer(
        many=True,
        required=False,
        help_text="The conditions of instruction in order; the whole list is replaced (only texts once sorted).",
    )
    deck_locked = serializers.BooleanField(read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = [
            "slug",
            "title",
            "condition_of_instruction",
            *Study.SETTINGS_FIELDS,
            "conditions",
            "status",
            "deck_locked",
            "role",
            "statements",
            "grid",
            "questions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_role(self, study: Study) -> str | None:
        """The caller's role, which the view found through the access helper."""
        return self.context.get("role")

    def validate_slug(self, slug: str) -> str:
        if self.instance is not None and slug != self.instance.slug:
            raise serializers.ValidationError(_("A study's slug cannot be changed (links use it)."))
        if self.instance is None and Study.objects.filter(slug=slug).exists():
            raise serializers.ValidationError(_("This slug is taken; choose another."))
        return slug

    def validate_statements(self, statements: list[dict]) -> list[dict]:
        if any(not item.get("text") for item in statements):
            raise serializers.ValidationError(_("Every statement needs a text."))
        return statements

    def validate_conditions(self, conditions: list[dict]) -> list[dict]:
        labels = [item["label"].casefold() for item in conditions]
        if not conditions or len(set(labels)) != len(labels):
            raise serializers.ValidationError(_("Give at least one condition, each with its own label."))
        return conditions

    def validate_grid(self, columns: list[dict]) -> dict[int, int]:
        grid = {column["value"]: column["capacity"] for column in columns}
        if len(grid) != len(columns):
            raise serializers.ValidationError(_("Each grid value may appear only once."))
        return grid


class ParticipantSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a declared field, not Field.label (stub)

    class Meta:
        model = Participant
        fields = ["id", "code", "label", "stage", "created_at", "consented_at", "completed_at", "last_saved_at"]
        read_only_fields = fields


class NewParticipantsSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=0, max_value=Study.MAX_INVITES, default=0)
    codes = serializers.ListField(
        child=serializers.CharField(max_length=PARTICIPANT_CODE_MAX_LENGTH), max_length=Study.MAX_INVITES, default=list
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs["count"] and not attrs["codes"]:
            raise serializers.ValidationError({"count": [_("Ask for at least one participant (count or codes).")]})
        return attrs


class NewParticipantSerializer(serializers.ModelSerializer):
    """Only for the owner and facilitators, right after they create participants."""

    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a declared field, not Field.label (stub)
    link = serializers.CharField(read_only=True)

    class Meta:
        model = Participant
        fields = ["id", "code", "label", "link"]


class SortSerializer(serializers.Serializer):
    participant = serializers.CharField(read_only=True)
    condition = serializers.CharField(read_only=True, help_text="The label of the condition the sort was made under.")
    values = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    comments = serializers.DictField(child=serializers.CharField(), read_only=True)
    answers = serializers.DictField(child=serializers.CharField(), read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    entered_by_facilitator = serializers.BooleanField(read_only=True)


class SubmitSortSerializer(serializers.Serializer):
    condition = serializers.CharField(
        required=False, max_length=40, help_text="The condition's label; required when the study has more than one."
    )
    values = serializers.DictField(child=serializers.IntegerField(min_value=-99, max_value=99))
    comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=SortComment.MAX_LENGTH), default=dict
    )
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=Answer.MAX_LENGTH), default=dict
    )


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Participant
        fields = ["stage", "consented_at"]
        read_only_fields = fields


class SubmittedSortSerializer(serializers.Serializer):
    status = serializers.CharField()
    created = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()


#: What a run (the analyses endpoint) or a panel (factor-evidence) may be asked to leave out:
#: sorts by label (a participant's code, or P0012), sessions by id.
LABEL_MAX = PARTICIPANT_CODE_MAX_LENGTH
EXCLUDED_SORTS_MAX = 10_000
SESSIONS_MAX = 100
SESSION_ID_MAX = 2**31 - 1


class AnalysisRequestSerializer(serializers.Serializer):
    factors = serializers.IntegerField(min_value=1, max_value=AnalysisRun.MAX_FACTORS)
    extraction = serializers.ChoiceField(choices=AnalysisRun.Extraction.values, default=AnalysisRun.Extraction.PCA)
    rotation = serializers.ChoiceField(choices=AnalysisRun.Rotation.values, default=AnalysisRun.Rotation.VARIMAX)
    flags = serializers.ListField(
        child=serializers.ListField(min_length=3, max_length=3),
        default=list,
        help_text='Flag overrides as [sort id, factor number, true/false], e.g. [["D07", 2, true]].',
    )
    conditions = serializers.ListField(
        child=serializers.CharField(max_length=40),
        default=list,
        max_length=50,
        help_text='Labels of the conditions whose sorts enter the run, e.g. ["Relapse", "Recovery"]; all when empty.',
    )

    exclude_open_link = serializers.BooleanField(
        default=False, help_text="Leave out the sorts made through the study's open link."
    )
    sessions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=SESSION_ID_MAX),
        default=list,
        max_length=SESSIONS_MAX,
        help_text="Ids of focus-group sessions whose sorts alone enter the run; every sort when empty.",
    )
    excluded_sorts = serializers.ListField(
        child=serializers.CharField(max_length=LABEL_MAX),
        default=list,
        max_length=EXCLUDED_SORTS_MAX,
        help_text='Participant labels of sorts to leave out, e.g. ["D07", "P0012"].',
    )

    def validate_flags(self, flags: list[list]) -> list[list]:
        for sort_id, factor, flagged in flags:
            if not isinstance(sort_id, str) or type(factor) is not int or not isinstance(flagged, bool):
                raise serializers.ValidationError(_("Each flag is [sort id (text), factor (number), true/false]."))
        return flags

    def validate(self, attrs: dict) -> dict:
        if any(not 1 <= factor <= attrs["factors"] for _, factor, _ in attrs["flags"]):
            raise serializers.ValidationError({"flags": [_("A flag names a factor beyond the number of factors.")]})
        return attrs


class AnalysisRunSerializer(serializers.ModelSerializer):
    study: serializers.SlugRelatedField[Study] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    stale = serializers.BooleanField(
        source="is_stale",
        read_only=True,
        help_text="Queued or running without progress for too long (its worker is gone): POST retry/ to re-queue.",
    )
    result = serializers.SerializerMethodField(
        help_text="In GET /api/analyses/<id>/ of a finished run, for roles that may download results; else null."
    )

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "study",
            "status",
            "progress",
            "stage",
            "stale",
            "parameters",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "result",
        ]
        read_only_fields = fields

    def get_result(self, run: AnalysisRun) -> dict | None:
        """The analysis JSON (shared/analysis-json.md) of a finished run, as the view loaded it
        (`result` in the context): only in one run's detail, only for roles that may download
        results, and each such read is logged (the view decides)."""
        return self.context.get("result")


class BootstrapRequestSerializer(serializers.Serializer):
    """Either `steps` (and an optional `seed`) or explicit `resamples`; the runs room checks them."""

    steps = serializers.IntegerField(required=False, help_text="Bootstrap steps (default 1,000, at most 5,000).")
    seed = serializers.IntegerField(
        required=False, min_value=0, help_text="Seed of the resamples; drawn and stored when absent."
    )
    resamples = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        required=False,
        help_text="One list per step of 1-based sort positions (the run's sort order), as qmboots lists them.",
    )

    def validate(self, data: dict) -> dict:
        if "resamples" in data and ("steps" in data or "seed" in data):
            raise serializers.ValidationError(_("Give either resamples, or steps and a seed, not both."))
        return data


class EvidenceQuerySerializer(serializers.Serializer):
    """The factor-evidence endpoint's query: the trial solution's size, and which sorts the panel
    leaves out (as a run's `excluded_sorts`, `exclude_open_link` and `sessions` do)."""

    factors = serializers.IntegerField(
        min_value=1,
        max_value=AnalysisRun.MAX_FACTORS,
        default=AnalysisRun.MAX_FACTORS,
        help_text="Factors of the trial solution the per-factor rules look at (1-8).",
    )
    exclude_open_link = serializers.BooleanField(
        default=False, help_text="Leave out the sorts made through the study's open link."
    )
    excluded_sorts = serializers.CharField(
        default="",
        allow_blank=True,
        max_length=EXCLUDED_SORTS_MAX * (LABEL_MAX + 1),
        help_text="Participant labels of sorts to leave out, separated by commas, e.g. D07,P0012.",
    )
    sessions = serializers.CharField(
        default="",
        allow_blank=True,
        max_length=SESSIONS_MAX * (len(str(SESSION_ID_MAX)) + 1),
        help_text="Ids of focus-group sessions whose sorts alone enter the panel, separated by commas.",
    )

    def validate_excluded_sorts(self, value: str) -> list[str]:
        """The same labels, as many and as long, as the analyses endpoint takes."""
        labels = [label.strip() for label in value.split(",") if label.strip()]
        if len(labels) > EXCLUDED_SORTS_MAX or any(len(label) > LABEL_MAX for label in labels):
            raise serializers.ValidationError(
                _("At most %(n)d labels of at most %(length)d characters each.")
                % {"n": EXCLUDED_SORTS_MAX, "length": LABEL_MAX}
            )
        return labels

    def validate_sessions(self, value: str) -> list[int]:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if len(ids) > SESSIONS_MAX or not all(part.isdigit() and 1 <= int(part) <= SESSION_ID_MAX for part in ids):
            raise serializers.ValidationError(
                _("At most %(n)d session ids, whole numbers separated by commas.") % {"n": SESSIONS_MAX}
            )
        return [int(part) for part in ids]


class FactorEvidenceJobSerializer(serializers.ModelSerializer):
    """The evidence job while it is computed (or when it ended without a panel)."""

    class Meta:
        model = FactorEvidence
        fields = [
            "id",
            "factors",
            "selection",
            "status",
            "progress",
            "cancel_requested",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class BootstrapSerializer(serializers.ModelSerializer):
    result = serializers.SerializerMethodField()

    class Meta:
        model = Bootstrap
        fields = [
            "id",
            "run",
            "status",
            "progress",
            "steps",
            "seed",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "result",
        ]
        read_only_fields = fields

    def get_result(self, job: Bootstrap) -> dict | None:
        """The bootstrap JSON (qsort/analysis/README.md, "Bootstrap JSON") once the job is done."""
        return job.result if job.status == Bootstrap.Status.DONE else None
