"""The database itself rejects bad rows, whatever code path tries to write them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from qsort.runs.models import AnalysisRun
from qsort.studies.models import (
    Collaborator,
    Condition,
    GridColumn,
    Participant,
    Sort,
    SortDraft,
    SortValue,
    Statement,
    Study,
)

pytestmark = pytest.mark.django_db


def rejects(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_it_rejects_a_second_study_with_the_same_slug(study, owner):
    rejects(lambda: Study.objects.create(title="x", slug=study.slug, owner=owner, condition_of_instruction="q"))


def test_it_rejects_an_unknown_status(owner):
    rejects(lambda: Study.objects.create(title="x", slug="x", owner=owner, condition_of_instruction="q", status="gone"))


def test_it_rejects_a_duplicate_statement_number(study):
    rejects(lambda: Statement.objects.bulk_create([Statement(study=study, number=1, text="again")]))


def test_it_rejects_statement_number_zero(owner):
    fresh = Study.objects.create(title="x", slug="x", owner=owner, condition_of_instruction="q")
    rejects(lambda: Statement.objects.bulk_create([Statement(study=fresh, number=0, text="zero")]))


def test_it_rejects_empty_statement_text(owner):
    fresh = Study.objects.create(title="x", slug="x", owner=owner, condition_of_instruction="q")
    rejects(lambda: Statement.objects.bulk_create([Statement(study=fresh, number=1, text="")]))


def test_it_rejects_a_grid_column_twice_or_out_of_range(study):
    rejects(lambda: GridColumn.objects.create(study=study, value=0, capacity=1))
    rejects(lambda: GridColumn.objects.create(study=study, value=14, capacity=1))
    rejects(lambda: GridColumn.objects.create(study=study, value=-7, capacity=1))


def test_it_rejects_a_participant_code_used_twice_in_a_study_but_allows_blank_codes(study):
    Participant.objects.create(study=study, code="P01")
    rejects(lambda: Participant.objects.create(study=study, code="P01"))
    Participant.objects.create(study=study)
    Participant.objects.create(study=study)
    assert study.participants.filter(code="").count() == 2


def test_it_rejects_a_completed_time_without_the_completed_stage(study):
    from django.utils import timezone

    rejects(lambda: Participant.objects.create(study=study, completed_at=timezone.now()))


def test_it_rejects_a_second_sort_for_a_participant_in_the_same_condition(study):
    participant = Participant.objects.create(study=study)
    first, second = study.conditions.first(), Condition.objects.create(study=study, position=2, label="B", question="?")
    Sort.objects.create(participant=participant, study=study, condition=first)
    rejects(lambda: Sort.objects.create(participant=participant, study=study, condition=first))
    Sort.objects.create(participant=participant, study=study, condition=second)
    assert participant.sorts.count() == 2


def test_it_rejects_a_second_draft_for_a_participant_in_the_same_condition(study):
    participant = Participant.objects.create(study=study)
    SortDraft.objects.create(participant=participant, condition=study.conditions.first())
    rejects(lambda: SortDraft.objects.create(participant=participant, condition=study.conditions.first()))


def test_it_rejects_conditions_with_a_clashing_position_or_label_or_an_underscore(study):
    rejects(lambda: Condition.objects.create(study=study, position=1, label="Other", question="?"))
    rejects(
        lambda: Condition.objects.create(study=study, position=2, label=study.conditions.first().label, question="?")
    )
    rejects(lambda: Condition.objects.create(study=study, position=2, label="", question="?"))
    rejects(lambda: Condition.objects.create(study=study, position=2, label="a_b", question="?"))


def test_it_rejects_a_statement_twice_in_a_sort_and_values_outside_any_grid(study):
    participant = Participant.objects.create(study=study)
    sort = Sort.objects.create(participant=participant, study=study, condition=study.conditions.first())
    statement = study.statements.get(number=1)
    SortValue.objects.create(sort=sort, statement=statement, value=0)
    rejects(lambda: SortValue.objects.create(sort=sort, statement=statement, value=1))
    rejects(lambda: SortValue.objects.create(sort=sort, statement=study.statements.get(number=2), value=20))


def test_it_rejects_owner_as_a_collaborator_role_and_duplicates(study, facilitator):
    rejects(lambda: Collaborator.objects.create(study=study, user=facilitator, role="researcher"))
    rejects(lambda: Collaborator.objects.create(study=study, user=study.owner, role="owner"))


def test_it_rejects_progress_over_100_and_done_without_result(study):
    rejects(lambda: AnalysisRun.objects.create(study=study, progress=101))
    rejects(lambda: AnalysisRun.objects.create(study=study, status="done"))
    rejects(lambda: AnalysisRun.objects.create(study=study, status="paused"))


def test_it_rejects_sort_rows_that_mix_studies(study, owner):
    from tests.conftest import make_study

    other = make_study(owner, slug="other")
    participant = Participant.objects.create(study=study)
    rejects(lambda: Sort.objects.create(participant=participant, study=other, condition=other.conditions.first()))
    rejects(lambda: Sort.objects.create(participant=participant, study=study, condition=other.conditions.first()))
    sort = Sort.objects.create(participant=participant, study=study, condition=study.conditions.first())
    rejects(lambda: SortValue.objects.create(sort=sort, statement=other.statements.get(number=1), value=0))


def test_a_study_with_sorts_can_be_deleted_whole_but_its_sorted_statements_cannot_alone(study):
    from django.db.models import RestrictedError

    from qsort.studies.services import submit_sort

    submit_sort(study.invite(1)[0], [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)])
    with pytest.raises(RestrictedError), transaction.atomic():
        Statement.objects.filter(study=study, number=1).delete()
    study.delete()
    assert not SortValue.objects.exists()
    assert not Statement.objects.exists()
