"""Studies, their decks and grids, participants and their sorts: the domain and its rules.

The database keeps the invariants (named constraints below); the one sort validator in
`validation.py` explains to people what a bad sort does wrong before it reaches them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models, transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from qsort.studies import deck

# PQMethod's .DAT header can describe grid values from -6 to +13; the grid editor offers
# symmetric ranges up to -6..+6, so every stored grid value lives in this window.
GRID_MIN_VALUE = -6
GRID_MAX_VALUE = 13


class DeckLocked(Exception):
    """Raised when a change would add, remove or renumber statements of a study with sorts."""

    message = _(
        "The deck is locked because participants have already sorted it: statements cannot be "
        "added, removed or renumbered any more (fixing a typo in a statement's text is still possible)."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(str(message or self.message))


class ConditionsLocked(DeckLocked):
    """Raised when conditions would be added, renamed, removed or reordered after sorts exist:
    the same lock as the deck's (sorts are named by them), with its own words."""

    message = _(
        "Participants have already sorted under these conditions: they can no longer be added, renamed, "
        "removed or reordered (fixing a typo in a question is still possible)."
    )


class StudyNotReady(Exception):
    """Raised when a study cannot be opened; the message says why."""


class StatementsRefused(ValueError):
    """New statements break the deck's rules (empty, too long, repeated, too many); one message each."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


class StatusRefused(ValueError):
    """A change of status the study's life cycle does not allow; the message says why."""


class StudyQuerySet(models.QuerySet):
    def unique_slug(self, title: str) -> str:
        """A free slug made from the title: "evening-group", then "evening-group-2", ..."""
        base = slugify(title)[:60].strip("-") or "study"
        slug, n = base, 1
        while self.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def for_user(self, user) -> StudyQuerySet:
        """Studies the user owns or collaborates on (any role)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner=user) | Q(collaborators__user=user)).distinct()


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Distribution(models.TextChoices):
        FORCED = "forced", _("Forced (every column must be filled exactly)")
        FREE = "free", _("Free (columns are a guide; any number of cards per column)")

    # A Q-set has 20-80 statements; 500 leaves room for piloting without letting a paste run away.
    MAX_STATEMENTS = 500
    # Personal links one request may create (Participants page, API, invite command); code that
    # builds studies (imports, benchmarks) may create more through `invite`.
    MAX_INVITES = 500

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_studies")

    class ConditionOrder(models.TextChoices):
        FIXED = "fixed", _("Fixed: every participant sorts the conditions in the order listed")
        COUNTERBALANCED = "counterbalanced", _("Counterbalanced: the order rotates from one participant to the next")

    class SecondSortStart(models.TextChoices):
        FRESH = "fresh", _("Fresh: a new pre-sort, with an empty grid")
        PREVIOUS = "previous", _("From the previous sort: the cards start where the participant placed them last")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    consent_text = models.TextField(blank=True)
    welcome_text = models.TextField(blank=True)
    thank_you_text = models.TextField(blank=True)
    support_text = models.TextField(
        blank=True,
        help_text=_(
            "Shown when a participant takes a break: e.g. who to call if sorting brought up difficult memories."
        ),
    )
    show_statement_numbers = models.BooleanField(
        default=False, help_text=_("Show participants each card's statement number (off: the text alone).")
    )
    label_disagree = models.CharField(max_length=60, default="Most disagree")
    label_agree = models.CharField(max_length=60, default="Most agree")
    distribution = models.CharField(max_length=10, choices=Distribution.choices, default=Distribution.FORCED)
    open_link_enabled = models.BooleanField(
        default=False, help_text=_("Anyone with the study link can take part (a new participant each time).")
    )
    # A flood through the open link stops here; the facilitator sees when it is reached.
    open_link_cap = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text=_("At most this many people can join through the open link; later visitors are told it is full."),
    )
    comments_required = models.BooleanField(default=False)
    auto_reanalyse = models.BooleanField(
        default=False, help_text=_("Re-run the latest analysis when a new sort is completed.")
    )
    language = models.CharField(max_length=10, default="en", choices=settings.LANGUAGES)
    # How a study with several conditions of instruction is taken (no effect with one condition).
    condition_order = models.CharField(
        max_length=16,
        choices=ConditionOrder.choices,
        default=ConditionOrder.FIXED,
        verbose_name=_("Order of conditions"),
    )
    later_sorts_start = models.CharField(
        max_length=10,
        choices=SecondSortStart.choices,
        default=SecondSortStart.FRESH,
        verbose_name=_("Second and later sorts start"),
    )
    allow_partial = models.BooleanField(
        default=False,
        verbose_name=_("Participants may stop after any completed condition"),
        help_text=_("Their completed sorts count; the conditions they did not reach stay empty."),
    )
    room_shows_comments = models.BooleanField(
        default=False,
        help_text=_(
            "The discussion board of a session shows the group's comments on extreme cards, without "
            "saying who wrote them."
        ),
    )
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StudyQuerySet.as_manager()

    # What a facilitator sets up (texts and options), besides the title: edited in the
    # workspace and the API, and carried over when a study is duplicated.
    # The conditions themselves (questions) are rows of Condition, copied separately.
    SETTINGS_FIELDS = (
        "consent_text",
        "welcome_text",
        "thank_you_text",
        "support_text",
        "show_statement_numbers",
        "label_disagree",
        "label_agree",
        "distribution",
        "open_link_enabled",
        "open_link_cap",
        "comments_required",
        "auto_reanalyse",
        "language",
        "condition_order",
        "later_sorts_start",
        "allow_partial",
        "room_shows_comments",
    )
    # Of those, the settings that belong to the analysis: only roles that may analyse change them
    # (the results page's switch and the API alike).
    ANALYSIS_SETTINGS_FIELDS = ("auto_reanalyse",)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["draft", "open", "closed"]), name="study_status_valid"),
            models.CheckConstraint(condition=Q(distribution__in=["forced", "free"]), name="study_distribution_valid"),
            models.CheckConstraint(condition=~Q(slug=""), name="study_slug_not_empty"),
            models.CheckConstraint(
                condition=Q(condition_order__in=["fixed", "counterbalanced"]), name="study_condition_order_valid"
            ),
            models.CheckConstraint(
                condition=Q(later_sorts_start__in=["fresh", "previous"]), name="study_later_sorts_start_valid"
            ),
        ]

    def __init__(self, *args, **kwargs) -> None:
        self._pending_question: str | None = None
        self._first_question: str | None = None
        super().__init__(*args, **kwargs)

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        if self._pending_question is not None:
            question, self._pending_question = self._pending_question, None
            self._first_question = None
            first = self.conditions.first()
            if first is None:
                Condition.objects.create(study=self, position=1, label=DEFAULT_CONDITION_LABEL, question=question)
            elif first.question != question:
                first.question = question
                first.save(update_fields=["question"])

    def get_absolute_url(self) -> str:
        return reverse("workspace:overview", args=[self.slug])

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._first_question = None

    # --- conditions of instruction ---------------------------------------------------
    @property
    def condition_of_instruction(self) -> str:
        """The first condition's question: the whole story in a single-condition study.

        Settable (also as a create() keyword), so studies made with one question, the settings
        form and the API keep one field; several conditions are edited as Condition rows.
        """
        if self._pending_question is not None:
            return self._pending_question
        if self.pk is None:
            return ""
        if self._first_question is None:  # one query per instance, however often a page asks
            self._first_question = self.conditions.values_list("question", flat=True).first() or ""
        return self._first_question

    @condition_of_instruction.setter
    def condition_of_instruction(self, question: str) -> None:
        self._pending_question = question

    @property
    def has_several_conditions(self) -> bool:
        return self.conditions.count() > 1

    def conditions_in_order(self, participant: Participant, conditions=None) -> list[Condition]:
        """The conditions (or the given queryset of them) in the order this participant sorts them.

        Counterbalanced studies rotate the list by the participant's number, so consecutive
        participants start with different conditions (AB, BA, AB, ... with two).
        """
        conditions = list(self.conditions.all() if conditions is None else conditions)
        if self.condition_order == self.ConditionOrder.COUNTERBALANCED and len(conditions) > 1:
            shift = participant.pk % len(conditions)
            conditions = conditions[shift:] + conditions[:shift]
        return conditions

    def ensure_conditions_unlocked(self) -> None:
        """Conditions are added, renamed, removed and reordered only while nobody has sorted:
        sorts, runs and exports are named by them. Their question texts may always be fixed."""
        if self.sorts.exists():
            raise ConditionsLocked()

    def add_condition(self, label: str, question: str, instructions: str = "") -> Condition:
        with transaction.atomic():
            Study.objects.select_for_update().filter(pk=self.pk).first()
            self.ensure_conditions_unlocked()
            position = (self.conditions.aggregate(m=Max("position"))["m"] or 0) + 1
            return Condition.objects.create(
                study=self, position=position, label=label, question=question, instructions=instructions
            )

    def set_conditions(self, items: list[dict[str, str]]) -> None:
        """Replace the conditions by `items` ({label, question, instructions}, in order). Once
        sorts exist only the texts may change: the labels must stay as they are, in order."""
        with transaction.atomic():
            Study.objects.select_for_update().filter(pk=self.pk).first()
            current = list(self.conditions.all())
            if self.sorts.exists():
                if [c.label for c in current] != [item["label"] for item in items]:
                    raise ConditionsLocked()
                for condition, item in zip(current, items, strict=True):
                    condition.question = item["question"]
                    condition.instructions = item.get("instructions", "")
                    condition.save(update_fields=["question", "instructions"])
                return
            self.conditions.all().delete()
            Condition.objects.bulk_create(
                Condition(
                    study=self,
                    position=position,
                    label=item["label"],
                    question=item["question"],
                    instructions=item.get("instructions", ""),
                )
                for position, item in enumerate(items, start=1)
            )
            self._first_question = None

    def reorder_conditions(self, ordered: list[Condition]) -> None:
        """Store `ordered` (all of the study's conditions) as positions 1..n."""
        with transaction.atomic():
            self.ensure_conditions_unlocked()
            # Two steps, so the unique (study, position) never sees two rows on one position.
            self.conditions.update(position=models.F("position") + 1000)
            for position, condition in enumerate(ordered, start=1):
                Condition.objects.filter(pk=condition.pk, study=self).update(position=position)

    def remove_condition(self, condition: Condition) -> None:
        with transaction.atomic():
            self.ensure_conditions_unlocked()
            if self.conditions.count() < 2:
                raise ConditionsLocked(gettext("A study needs at least one condition."))
            condition.delete()
            self.reorder_conditions(list(self.conditions.all()))

    # --- roles -----------------------------------------------------------------------
    def role_of(self, user) -> str | None:
        """'owner', 'facilitator', 'researcher' or None for a stranger."""
        if not user.is_authenticated:
            return None
        if self.owner_id == user.pk:
            return Collaborator.Role.OWNER
        collaborator = self.collaborators.filter(user=user).only("role").first()
        return collaborator.role if collaborator else None

    # --- deck ------------------------------------------------------------------------
    @property
    def deck_locked(self) -> bool:
        """Once anyone has sorted the deck, its statements and their numbers are fixed."""
        return self.sorts.exists()

    def ensure_deck_unlocked(self) -> None:
        if self.deck_locked:
            raise DeckLocked()

    def next_statement_number(self) -> int:
        return (self.statements.aggregate(m=Max("number"))["m"] or 0) + 1

    @classmethod
    def judge_statements(
        cls, rows: Iterable[tuple[int, int | None, str]], existing: Iterable[str] = ()
    ) -> list[deck.ImportRow]:
        """Each (line, number, text) row with the reason it cannot join a deck holding `existing`."""
        return deck.judge(rows, existing, max_length=Statement.MAX_LENGTH, max_statements=cls.MAX_STATEMENTS)

    def preview_statements(self, rows: Iterable[tuple[int, int | None, str]]) -> list[deck.ImportRow]:
        """What an import would add to this deck, row by row, before anything is saved."""
        return self.judge_statements(rows, self.statements.values_list("text", flat=True))

    def add_statement(self, text: str) -> Statement:
        return self.add_statements([text])[0]

    def add_statements(self, texts: Iterable[str]) -> list[Statement]:
        """Append statements, numbered after the last one; all or none (StatementsRefused says why)."""
        with transaction.atomic():
            Study.objects.select_for_update().filter(pk=self.pk).first()
            self.ensure_deck_unlocked()
            return self._create_statements(list(self.statements.values_list("text", flat=True)), texts)

    def import_statements(self, texts: Iterable[str]) -> list[Statement]:
        """A confirmed import: adds the texts the deck's rules still accept now (its preview showed
        the others as skipped), so confirming twice or after another import adds nothing twice."""
        with transaction.atomic():
            Study.objects.select_for_update().filter(pk=self.pk).first()
            rows = self.preview_statements((n, None, text) for n, text in enumerate(texts, start=1))
            return self.add_statements(row.text for row in rows if row.importable)

    def replace_deck(self, texts: Iterable[str]) -> list[Statement]:
        """A whole new deck, numbered 1..N; refused once anyone has sorted (DeckLocked)."""
        with transaction.atomic():
            Study.objects.select_for_update().filter(pk=self.pk).first()
            self.ensure_deck_unlocked()
            self.statements.all().delete()
            return self._create_statements([], texts)

    @classmethod
    def statement_problems(cls, texts: Iterable[str], existing: Iterable[str] = ()) -> list[str]:
        """Why these statements cannot all join a deck holding `existing` ("Statement 3: ..."), if they cannot."""
        rows = cls.judge_statements(((n, None, text) for n, text in enumerate(texts, start=1)), existing)
        return [
            gettext("Statement %(line)d: %(problem)s") % {"line": row.line, "problem": row.problem}
            for row in sorted(rows, key=lambda row: row.line)
            if not row.importable
        ]

    def _create_statements(self, existing: list[str], texts: Iterable[str]) -> list[Statement]:
        # Called with the study row locked and the deck checked unlocked, so one insert is safe.
        texts = list(texts)
        if refused := self.statement_problems(texts, existing):
            raise StatementsRefused(refused)
        first = self.next_statement_number()
        return Statement.objects.bulk_create(
            Statement(study=self, number=number, position=number, text=deck.tidy(text))
            for number, text in enumerate(texts, start=first)
        )

    # --- grid ------------------------------------------------------------------------
    @property
    def is_forced(self) -> bool:
        return self.distribution == self.Distribution.FORCED

    def grid(self) -> dict[int, int]:
        """Column value -> capacity, ascending by value."""
        return dict(self.columns.order_by("value").values_list("value", "capacity"))

    def set_grid(self, capacities: dict[int, int]) -> None:
        """Replace the grid (value -> capacity). Refused once sorts exist: they were made on it."""
        with transaction.atomic():
            self.ensure_deck_unlocked()
            self.columns.all().delete()
            GridColumn.objects.bulk_create(
                GridColumn(study=self, value=value, capacity=capacity) for value, capacity in sorted(capacities.items())
            )

    def readiness_problems(self) -> list[str]:
        """Reasons the study cannot open yet, in plain words; empty when it can."""
        problems = []
        n_statements = self.statements.count()
        grid = self.grid()
        if n_statements < 2:
            problems.append(gettext("The deck needs at least 2 statements."))
        if not grid:
            problems.append(gettext("The grid has no columns yet."))
        elif self.is_forced and sum(grid.values()) != n_statements:
            problems.append(
                gettext(
                    "The grid holds %(cards)d cards but the deck has %(statements)d statements: "
                    "the column capacities must add up to the number of statements."
                )
                % {"cards": sum(grid.values()), "statements": n_statements}
            )
        elif not self.is_forced and sum(grid.values()) < n_statements:
            problems.append(
                gettext("The grid has room for %(cards)d cards but the deck has %(statements)d statements.")
                % {"cards": sum(grid.values()), "statements": n_statements}
            )
        questions = [c.question for c in self.conditions.all()]
        if not questions or not all(q.strip() for q in questions):
            problems.append(gettext("The condition of instruction (the question participants sort by) is empty."))
        if not self.consent_text.strip():
            problems.append(gettext("The consent text is empty: participants must see what they agree to."))
        return problems

    def open(self) -> None:
        problems = self.readiness_problems()
        if problems:
            raise StudyNotReady(" ".join(problems))
        self.status = self.Status.OPEN
        self.save(update_fields=["status", "updated_at"])

    def close(self) -> None:
        self.status = self.Status.CLOSED
        self.save(update_fields=["status", "updated_at"])

    def set_status(self, status: str) -> None:
        """The one life cycle, for the pages and the API: a study opens when it is ready
        (StudyNotReady says why not), closes at any time, and never goes back to draft."""
        if status == self.status:
            return
        if status == self.Status.OPEN:
            self.open()
        elif status == self.Status.CLOSED:
            self.close()
        else:
            raise StatusRefused(gettext("A study cannot go back to draft."))

    @property
    def open_link(self) -> str:
        """The study-wide link that creates a new participant per visitor (when enabled)."""
        return settings.SITE_URL + reverse("participate:open_link", args=[self.slug])

    @property
    def accepts_sorts(self) -> bool:
        return self.status == self.Status.OPEN and not self.archived

    def open_link_joined(self) -> int:
        return self.participants.filter(via_open_link=True).count()

    @property
    def open_link_full(self) -> bool:
        """The open link has let in as many people as its cap allows."""
        return self.open_link_enabled and self.open_link_joined() >= self.open_link_cap

    # --- participants ----------------------------------------------------------------
    def invite(self, count: int = 1, codes: Iterable[str] = ()) -> list[Participant]:
        """Create personal links: one participant per code, then unnamed ones up to `count`."""
        codes = [c.strip() for c in codes if c and c.strip()]
        taken = {c for c in codes if codes.count(c) > 1}
        taken |= set(self.participants.filter(code__in=codes).values_list("code", flat=True))
        if taken:
            raise ValueError(f"These codes are used more than once in this study: {', '.join(sorted(taken))}.")
        total = max(count, len(codes))
        participants = [Participant(study=self, code=codes[i] if i < len(codes) else "") for i in range(total)]
        return Participant.objects.bulk_create(participants)

    def participant_counts(self) -> dict[str, int]:
        counts = self.participants.aggregate(
            invited=Count("id"),
            started=Count("id", filter=~Q(stage=Participant.Stage.INVITED)),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
        )
        return counts

    def condition_progress(self) -> list[tuple[Condition, int]]:
        """Each condition with its number of completed sorts, in the study's order (one query)."""
        return [(c, c.n_sorts) for c in self.conditions.annotate(n_sorts=Count("sorts"))]


DEFAULT_CONDITION_LABEL = "Q1"
# Labels name sorts in exports (P0007_Relapse) and results (P0007·Relapse): short, no separators.
CONDITION_LABEL_MAX_LENGTH = 30
#: A participant's pseudonymous code (and so a sort's label, which is the code or P0012).
PARTICIPANT_CODE_MAX_LENGTH = 40


class Condition(models.Model):
    """One condition of instruction: a question the whole deck is sorted by.

    A study has one or more, in order; every participant sorts the same deck and grid once per
    condition, and the analysis can compare a person's sorts across conditions.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="conditions")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(
        max_length=CONDITION_LABEL_MAX_LENGTH,
        validators=[
            RegexValidator(
                r"^[^_·/\\]+$", _("A condition's label cannot contain '_', '·', '/' or '\\' (sort names use them).")
            )
        ],
        help_text=_("A short name for results and exports, e.g. 'Relapse'."),
    )
    question = models.TextField(
        help_text=_("The question participants sort by, e.g. 'What helps a person sustain recovery?'")
    )
    instructions = models.TextField(blank=True, help_text=_("Optional words shown with this question only."))

    class Meta:
        ordering = ["study", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "position"], name="condition_unique_position_per_study"),
            models.UniqueConstraint(fields=["study", "label"], name="condition_unique_label_per_study"),
            models.CheckConstraint(condition=~Q(label=""), name="condition_label_not_empty"),
            # Exports name a sort <participant>_<label>, split again at the last "_" on import.
            models.CheckConstraint(condition=~Q(label__contains="_"), name="condition_label_no_underscore"),
            models.CheckConstraint(condition=Q(position__gte=1), name="condition_position_positive"),
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            stored = Condition.objects.filter(pk=self.pk).values_list("label", "position").first()
            if stored is not None and stored != (self.label, self.position):
                self.study.ensure_conditions_unlocked()
        super().save(*args, **kwargs)


class GridColumn(models.Model):
    """One column of the sorting grid: a value (e.g. -4) and how many cards it holds."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="columns")
    value = models.SmallIntegerField()
    capacity = models.PositiveSmallIntegerField()

    MAX_CAPACITY = 99  # cards one column can hold, on the grid page and through the API

    class Meta:
        ordering = ["study", "value"]
        constraints = [
            models.UniqueConstraint(fields=["study", "value"], name="gridcolumn_unique_value_per_study"),
            models.CheckConstraint(
                condition=Q(value__gte=GRID_MIN_VALUE) & Q(value__lte=GRID_MAX_VALUE), name="gridcolumn_value_in_range"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=0), name="gridcolumn_capacity_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.value:+d}: {self.capacity}"


class Statement(models.Model):
    """A card of the deck. `number` is stable (1..N, what exports and analysis use);
    `position` is only the order the deck is shown in the editor and printed."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="statements")
    number = models.PositiveIntegerField()
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)

    MAX_LENGTH = 1000  # characters: a card is read at a glance

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="statement_unique_number_per_study"),
            models.CheckConstraint(condition=Q(number__gte=1), name="statement_number_positive"),
            models.CheckConstraint(condition=~Q(text=""), name="statement_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.text[:60]}"

    def save(self, *args, **kwargs) -> None:
        if self.study.deck_locked:
            if self._state.adding:
                raise DeckLocked()
            stored_number = Statement.objects.filter(pk=self.pk).values_list("number", flat=True).first()
            if stored_number is not None and stored_number != self.number:
                raise DeckLocked()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.study.ensure_deck_unlocked()
        return super().delete(*args, **kwargs)


class PostSortQuestion(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)
    required = models.BooleanField(default=False)
    # With several conditions: asked after every sort, or only after the participant's first.
    each_condition = models.BooleanField(
        default=False,
        verbose_name=_("Ask after every condition"),
        help_text=_("Otherwise it is asked once, after the participant's first sort."),
    )

    class Meta:
        ordering = ["study", "position", "id"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="question_text_not_empty")]

    def __str__(self) -> str:
        return self.text[:60]


class Collaborator(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        FACILITATOR = "facilitator", _("Facilitator")
        RESEARCHER = "researcher", _("Researcher")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations")
    role = models.CharField(max_length=12, choices=Role.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="collaborator_unique_per_study"),
            # The owner is implicit (Study.owner); collaborators are facilitators or researchers.
            models.CheckConstraint(condition=Q(role__in=["facilitator", "researcher"]), name="collaborator_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) on {self.study}"


def participant_label(code: str, pk: int) -> str:
    """What researchers see of a participant: the code, or a neutral number. Never the token.

    A plain function so exports can label rows fetched with values_list, without the model."""
    return code or f"P{pk:04d}"


def sort_name(participant: str, condition: str) -> str:
    """A sort's name in results and plots when a run covers several conditions: "P0007·Relapse".

    Exports that need a plain name use "<participant>_<condition>" (see exchange)."""
    return f"{participant}·{condition}"


def new_participant_token() -> str:
    """192 random bits, URL-safe: unguessable personal links."""
    return secrets.token_urlsafe(24)


class Participant(models.Model):
    """A pseudonymous participant: no name, email or IP address is ever stored."""

    class Stage(models.TextChoices):
        INVITED = "invited", _("Invited")
        CONSENTED = "consented", _("Consented")
        PRESORT = "presort", _("Pre-sort")
        SORTING = "sorting", _("Sorting")
        REVIEW = "review", _("Review")
        COMPLETED = "completed", _("Completed")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    token = models.CharField(max_length=64, unique=True, default=new_participant_token, editable=False)
    code = models.CharField(
        max_length=PARTICIPANT_CODE_MAX_LENGTH,
        blank=True,
        help_text=_("Optional pseudonymous code chosen by the facilitator, e.g. P07."),
    )
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.INVITED)
    # Joined through the study's open link (anyone with the link) rather than a personal one:
    # counted against Study.open_link_cap, and an analysis may leave these sorts out.
    via_open_link = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_saved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "code"], condition=~Q(code=""), name="participant_unique_code_per_study"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=["invited", "consented", "presort", "sorting", "review", "completed"]),
                name="participant_stage_valid",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(stage="completed"), name="participant_completed_has_stage"
            ),
        ]
        indexes = [
            # The workspace's participant list filters a study's participants by stage.
            models.Index(fields=["study", "stage"], name="participant_study_stage"),
        ]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        """The personal link's path: a credential, so never logged or shown to researchers."""
        return reverse("participate:personal_link", args=[self.token])

    @property
    def label(self) -> str:
        """What researchers see: the code, or a neutral number. Never the token."""
        return participant_label(self.code, self.pk)

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    @property
    def link(self) -> str:
        return settings.SITE_URL + self.get_absolute_url()

    def conditions_in_order(self) -> list[tuple[Condition, bool]]:
        """The study's conditions in this participant's order, each with whether they have sorted
        it: one query."""
        sorted_ = Sort.objects.filter(participant=self, condition=models.OuterRef("pk"))
        annotated = self.study.conditions.annotate(done=models.Exists(sorted_))
        return [(c, bool(getattr(c, "done", False))) for c in self.study.conditions_in_order(self, annotated)]

    def conditions_left(self) -> list[Condition]:
        """The conditions this participant has not sorted yet, in their order (one query)."""
        return [c for c, done in self.conditions_in_order() if not done]

    def current_condition(self) -> Condition | None:
        """The condition the participant is sorting now (or next); None once none is left."""
        left = self.conditions_left()
        return left[0] if left else None

    def stop_early(self) -> None:
        """Finish after a completed condition, when the study allows it: what is done counts."""
        if not self.study.allow_partial or not self.sorts.exists():
            raise ValueError("This participant cannot stop early.")
        self.stage = self.Stage.COMPLETED
        self.completed_at = self.last_saved_at = timezone.now()
        self.save(update_fields=["stage", "completed_at", "last_saved_at"])

    def withdraw(self) -> None:
        """The right to withdraw: the participant and every answer they gave are deleted."""
        self.delete()


class SortDraft(models.Model):
    """Unfinished work of a participant, saved as they go, so they can resume anywhere.

    `state` is the participant flow's own JSON (stage, piles, placements, comments, answers);
    it is kept apart from the final Sort, which only exists once it validates.
    """

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="drafts")
    condition = models.ForeignKey("Condition", on_delete=models.CASCADE, related_name="drafts")
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One draft per condition: the autosave's conditional UPDATE relies on it.
            models.UniqueConstraint(fields=["participant", "condition"], name="sortdraft_once_per_condition"),
        ]

    def __str__(self) -> str:
        return f"Draft of {self.participant} ({self.condition})"


class Sort(models.Model):
    """A completed Q-sort: the value of every statement of the study, exactly once."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="sorts")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sorts")
    # RESTRICT: a condition with sorts cannot be deleted alone, only with its whole study.
    condition = models.ForeignKey("Condition", on_delete=models.RESTRICT, related_name="sorts")
    submitted_at = models.DateTimeField(default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Set when a facilitator typed in a paper sort for the participant."),
    )

    class Meta:
        ordering = ["study", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "condition"], name="sort_once_per_condition"),
        ]
        indexes = [
            # Analysis and exports load a study's sorts in submission order.
            models.Index(fields=["study", "submitted_at"], name="sort_study_submitted"),
        ]

    def __str__(self) -> str:
        return f"Sort of {self.participant} ({self.condition})"

    @property
    def entered_by_facilitator(self) -> bool:
        return self.entered_by_id is not None

    def values_by_number(self) -> dict[int, int]:
        return dict(self.values.values_list("statement__number", "value"))


class SortValueQuerySet(models.QuerySet):
    def per_sort(self, by: str = "statement_id") -> Iterator[tuple[int, list[int], list[int]]]:
        """(sort id, statements, values) for each sort, in one query; statements are named and
        ordered by `by` (their id, or "statement__number" at the cost of a join). On PostgreSQL
        each sort's values come as one array: 20,000 rows for 20,000 sorts, not 1.2 million
        tuples to build and walk."""
        if connection.vendor == "postgresql":
            yield from (
                self.order_by()
                .values("sort_id")
                .annotate(statements=ArrayAgg(by, order_by=by), values=ArrayAgg("value", order_by=by))
                .values_list("sort_id", "statements", "values")
            )
            return
        current: tuple[int, list[int], list[int]] | None = None
        for sort_pk, statement, value in self.order_by("sort_id", by).values_list("sort_id", by, "value"):
            if current is None or current[0] != sort_pk:
                if current is not None:
                    yield current
                current = (sort_pk, [], [])
            current[1].append(statement)
            current[2].append(value)
        if current is not None:
            yield current


class SortValue(models.Model):
    sort = models.ForeignKey(Sort, on_delete=models.CASCADE, related_name="values")
    # RESTRICT, not PROTECT: a statement with sort values cannot be deleted on its own, but
    # deleting the whole study (which cascades to its sorts too) is allowed.
    statement = models.ForeignKey(Statement, on_delete=models.RESTRICT, related_name="sort_values")
    value = models.SmallIntegerField()

    objects = SortValueQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sort", "statement"], name="sortvalue_statement_once_per_sort"),
            models.CheckConstraint(
                condition=Q(value__gte=GRID_MIN_VALUE) & Q(value__lte=GRID_MAX_VALUE), name="sortvalue_value_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"statement {self.statement_id}: {self.value:+d}"


class SortComment(models.Model):
    """A participant's post-sort comment on one statement (usually one placed at an extreme)."""

    sort = models.ForeignKey(Sort, on_delete=models.CASCADE, related_name="comments")
    statement = models.ForeignKey(Statement, on_delete=models.RESTRICT, related_name="comments")
    text = models.TextField()

    MAX_LENGTH = 2000  # characters, from the participant page, the API and imports alike

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sort", "statement"], name="sortcomment_once_per_statement"),
            models.CheckConstraint(condition=~Q(text=""), name="sortcomment_text_not_empty"),
        ]
        indexes = [
            # The results pages show each statement's first comments and count them all: a range
            # of this index per statement (else PostgreSQL walks the ids of every comment).
            models.Index(fields=["statement", "id"], name="sortcomment_statement_first"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Answer(models.Model):
    sort = models.ForeignKey(Sort, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(PostSortQuestion, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField()

    MAX_LENGTH = 4000  # characters, from the participant page, the API and imports alike

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sort", "question"], name="answer_once_per_question"),
        ]

    def __str__(self) -> str:
        return self.text[:60]
