"""Several conditions of instruction: the model's rules, submit_sort per condition, the order,
stopping early, questions once or per condition, and where a later sort starts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from qsort.participate import services as flow
from qsort.studies.models import Condition, PostSortQuestion, Sort, Study
from qsort.studies.services import SortAlreadySubmitted, submit_sort
from qsort.studies.validation import SortInvalid

pytestmark = pytest.mark.django_db

FIRST = [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)]
SECOND = [(1, 1), (2, 1), (3, 0), (4, 0), (5, -1), (6, -1)]


@pytest.fixture
def two(study):
    """The small study with a second condition, "Recovery", after its first ("Q1")."""
    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps recovery?")
    return study


def test_a_new_study_has_one_condition_holding_its_question(owner):
    study = Study.objects.create(title="t", slug="t", owner=owner, condition_of_instruction="What helps?")
    [condition] = study.conditions.all()
    assert (condition.position, condition.label, condition.question) == (1, "Q1", "What helps?")
    study.condition_of_instruction = "What helps most?"
    study.save()
    assert study.conditions.get().question == "What helps most?"
    assert Study.objects.get(pk=study.pk).condition_of_instruction == "What helps most?"


def test_a_single_condition_study_needs_no_condition_named(study):
    sort, created = submit_sort(study.invite(1)[0], FIRST)
    assert created and sort.condition == study.conditions.get()
    assert sort.participant.is_completed


def test_with_two_conditions_the_condition_must_be_named_and_known(two):
    participant = two.invite(1)[0]
    with pytest.raises(SortInvalid, match="several conditions"):
        submit_sort(participant, FIRST)
    with pytest.raises(SortInvalid, match="'Relapse' is not a condition of this study"):
        submit_sort(participant, FIRST, condition="Relapse")
    assert not Sort.objects.exists()


def test_a_participant_sorts_once_per_condition_and_completes_after_the_last(two):
    participant = two.invite(1)[0]
    sort, created = submit_sort(participant, FIRST, condition="q1")  # labels match in any case
    participant.refresh_from_db()
    assert created and participant.stage == "consented" and participant.completed_at is None
    assert [c.label for c in participant.conditions_left()] == ["Recovery"]

    again, created_again = submit_sort(participant, FIRST, condition="Q1")
    assert again == sort and not created_again  # idempotent per (participant, condition)
    with pytest.raises(SortAlreadySubmitted):
        submit_sort(participant, SECOND, condition="Q1")

    submit_sort(participant, SECOND, condition="Recovery")
    participant.refresh_from_db()
    assert participant.is_completed and participant.stage == "completed"
    values = {s.condition.label: s.values_by_number() for s in participant.sorts.all()}
    assert values == {"Q1": dict(FIRST), "Recovery": dict(SECOND)}


def test_counterbalanced_order_alternates_from_one_participant_to_the_next(two):
    two.condition_order = Study.ConditionOrder.COUNTERBALANCED
    two.save()
    participants = two.invite(4)
    orders = [[c.label for c in two.conditions_in_order(p)] for p in participants]
    assert sorted(map(tuple, orders)) == [("Q1", "Recovery")] * 2 + [("Recovery", "Q1")] * 2
    assert orders[0] != orders[1] and orders[1] != orders[2]
    first = participants[0]
    assert first.current_condition().label == orders[0][0]
    two.condition_order = Study.ConditionOrder.FIXED
    two.save()
    assert {tuple(c.label for c in two.conditions_in_order(p)) for p in participants} == {("Q1", "Recovery")}


def test_stopping_early_needs_the_study_setting_and_a_completed_condition(two):
    participant = two.invite(1)[0]
    with pytest.raises(ValueError):
        participant.stop_early()
    submit_sort(participant, FIRST, condition="Q1")
    participant.refresh_from_db()
    with pytest.raises(ValueError):
        participant.stop_early()  # the study does not allow it
    two.allow_partial = True
    two.save()
    participant.refresh_from_db()
    participant.stop_early()
    participant.refresh_from_db()
    assert participant.is_completed and participant.sorts.count() == 1
    with pytest.raises(SortAlreadySubmitted):
        submit_sort(participant, SECOND, condition="Recovery")  # they chose to stop
    assert two.participant_counts()["completed"] == 1
    assert [(c.label, n) for c, n in two.condition_progress()] == [("Q1", 1), ("Recovery", 0)]


def test_a_once_per_participant_question_is_asked_after_the_first_sort_only(two):
    once = PostSortQuestion.objects.create(study=two, text="Your age?", required=True)
    each = PostSortQuestion.objects.create(study=two, text="Hardest card?", required=True, each_condition=True)
    participant = two.invite(1)[0]
    with pytest.raises(SortInvalid, match="Your age"):
        submit_sort(participant, FIRST, condition="Q1", answers={each.pk: "2"})
    submit_sort(participant, FIRST, condition="Q1", answers={each.pk: "2", once.pk: "40"})
    with pytest.raises(SortInvalid, match="is not a question of this study"):
        submit_sort(participant, SECOND, condition="Recovery", answers={each.pk: "5", once.pk: "41"})
    with pytest.raises(SortInvalid, match="Hardest card"):
        submit_sort(participant, SECOND, condition="Recovery")
    sort, _ = submit_sort(participant, SECOND, condition="Recovery", answers={each.pk: "5"})
    assert dict(sort.answers.values_list("question__text", "text")) == {"Hardest card?": "5"}


def test_drafts_are_kept_per_condition(two):
    participant = two.invite(1)[0]
    flow.consent(participant)
    recovery = two.conditions.get(label="Recovery")
    assert flow.save_draft(participant, {**flow.empty_state(), "version": 2, "grid": {"-1": [1]}})
    assert flow.save_draft(participant, {**flow.empty_state(), "version": 1, "grid": {"1": [6]}}, recovery)
    assert flow.draft_state(participant)["grid"] == {"-1": [1]}
    assert flow.draft_state(participant, recovery)["grid"] == {"1": [6]}
    # an older version for one condition is stale there, whatever the other condition holds
    assert not flow.save_draft(participant, {**flow.empty_state(), "version": 1}, two.conditions.get(label="Q1"))


@pytest.mark.parametrize(
    "start, expected_grid", [("fresh", {}), ("previous", {"-1": [1, 2], "0": [3, 4], "1": [5, 6]})]
)
def test_a_later_sort_starts_fresh_or_from_the_previous_placement(two, start, expected_grid):
    two.later_sorts_start = start
    two.save()
    participant = two.invite(1)[0]
    flow.consent(participant)
    submit_sort(participant, FIRST, condition="Q1")
    participant.refresh_from_db()
    state = flow.draft_state(participant)
    assert state["grid"] == expected_grid
    if start == "previous":
        assert dict(state["presort"]) == {
            1: "disagree",
            2: "disagree",
            3: "neutral",
            4: "neutral",
            5: "agree",
            6: "agree",
        }


def test_a_study_cannot_open_with_an_empty_question_in_any_condition(two):
    Condition.objects.filter(study=two, label="Recovery").update(question="  ")
    assert any("condition of instruction" in problem for problem in two.readiness_problems())


def test_the_migration_moves_each_question_and_sort_to_a_first_condition(migrating_db):
    """Existing data before 0005: one question per study, one sort per participant."""
    executor = MigrationExecutor(connection)
    before, after = [("studies", "0006_study_support_text_and_numbers")], [("studies", "0007_conditions")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="old")
    study = old.get_model("studies", "Study").objects.create(
        title="Old", slug="old", owner_id=user.pk, condition_of_instruction="What helps?"
    )
    participant = old.get_model("studies", "Participant").objects.create(study=study, token="t" * 30)
    sort = old.get_model("studies", "Sort").objects.create(participant=participant, study=study)
    draft_owner = old.get_model("studies", "Participant").objects.create(study=study, token="u" * 30)
    old.get_model("studies", "SortDraft").objects.create(participant=draft_owner, state={"version": 4})

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    condition = new.get_model("studies", "Condition").objects.get(study_id=study.pk)
    assert (condition.position, condition.label, condition.question) == (1, "Q1", "What helps?")
    assert new.get_model("studies", "Sort").objects.get(pk=sort.pk).condition_id == condition.pk
    draft = new.get_model("studies", "SortDraft").objects.get(participant_id=draft_owner.pk)
    assert draft.condition_id == condition.pk and draft.state == {"version": 4}

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
