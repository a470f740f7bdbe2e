"""Workspace workflows that touch several rows: listing studies with their figures, copying a
study as a template, reordering, storing a paper sort."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from qsort.rooms.models import Seat
from qsort.studies.models import Collaborator, Condition, GridColumn, Participant, PostSortQuestion, Statement, Study
from qsort.studies.services import submit_sort


def _count(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT per study: one subquery each instead of joins that multiply rows."""
    counted = queryset.filter(study=OuterRef("pk")).order_by().values("study").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


def studies_for_list(user, *, archived: bool = False) -> QuerySet[Study]:
    """The user's studies with every figure the study list shows, in a single query."""
    shared = Collaborator.objects.filter(user=user).values("study")
    last_save = (
        Participant.objects.filter(study=OuterRef("pk"), last_saved_at__isnull=False)
        .order_by("-last_saved_at")
        .values("last_saved_at")[:1]
    )
    return (
        Study.objects.filter(Q(owner=user) | Q(pk__in=shared), archived=archived)
        .select_related("owner")
        .annotate(
            n_statements=_count(Statement.objects.all()),
            n_invited=_count(Participant.objects.all()),
            # Consented, or completed on paper (a paper sort records no online consent).
            n_started=_count(Participant.objects.exclude(stage=Participant.Stage.INVITED)),
            n_completed=_count(Participant.objects.filter(completed_at__isnull=False)),
            last_activity=Greatest(F("updated_at"), Coalesce(Subquery(last_save), F("updated_at"))),
            collaborator_role=Subquery(Collaborator.objects.filter(study=OuterRef("pk"), user=user).values("role")[:1]),
        )
        .order_by("-last_activity", "-pk")
    )


@transaction.atomic
def duplicate_study(study: Study, owner) -> Study:
    """A new draft study with the same texts, conditions, deck, grid and questions; no participants, no team."""
    copy = Study.objects.create(
        title=(_("Copy of %(title)s") % {"title": study.title})[:200],
        slug=Study.objects.unique_slug(f"copy of {study.title}"),
        owner=owner,
        **{field: getattr(study, field) for field in Study.SETTINGS_FIELDS},
    )
    Condition.objects.bulk_create(
        Condition(study=copy, position=c.position, label=c.label, question=c.question, instructions=c.instructions)
        for c in study.conditions.all()
    )
    Statement.objects.bulk_create(
        Statement(study=copy, number=s.number, text=s.text, position=s.position) for s in study.statements.all()
    )
    GridColumn.objects.bulk_create(
        GridColumn(study=copy, value=c.value, capacity=c.capacity) for c in study.columns.all()
    )
    PostSortQuestion.objects.bulk_create(
        PostSortQuestion(
            study=copy, text=q.text, position=q.position, required=q.required, each_condition=q.each_condition
        )
        for q in study.questions.all()
    )
    return copy


def renumber_positions(items: Sequence, model) -> None:
    """Store the order of `items` as positions 1..n (statements or questions)."""
    for position, item in enumerate(items, start=1):
        item.position = position
    model.objects.bulk_update(items, ["position"])


def move(items: list, pk: int, step: int) -> list:
    """`items` with the one whose pk is `pk` moved by `step` places (clamped at the ends)."""
    index = next((i for i, item in enumerate(items) if item.pk == pk), None)
    if index is None:
        return items
    target = min(max(index + step, 0), len(items) - 1)
    items.insert(target, items.pop(index))
    return items


def reorder(items: list, pks: Iterable[int]) -> list:
    """`items` in the order of `pks`; items not named keep their relative order at the end."""
    rank = {pk: i for i, pk in enumerate(pks)}
    return sorted(items, key=lambda item: rank.get(item.pk, len(rank)))


@transaction.atomic
def enter_paper_sort(
    study: Study, participant: Participant | None, code: str, placements, user, *, condition=None, session=None
):
    """Store a paper sort for `participant`, or for a new one (with `code`) created with it:
    if the sort is refused, the new participant is rolled back too. `condition` is a label
    (needed when the study has several conditions); `session` (an id) seats a participant who
    has no seat yet in that focus-group session."""
    if participant is None:
        participant = Participant.objects.create(study=study, code=code)
    sort, _created = submit_sort(participant, placements, condition=condition, entered_by=user)
    if session is not None and not Seat.objects.filter(participant=participant).exists():
        study.sessions.get(pk=session).add_paper_participant(participant)
    return sort
