"""Study rules on the models and in services: deck lock, opening, invitations, submitting."""

from __future__ import annotations

import math

import pytest

from qsort.studies.models import DeckLocked, Participant, Statement, StudyNotReady
from qsort.studies.services import SortAlreadySubmitted, StudyNotAcceptingSorts, submit_sort
from qsort.studies.validation import SortInvalid
from tests.conftest import make_study

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]
GOOD = [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)]


def test_opening_is_refused_until_the_grid_holds_the_deck(owner):
    study = make_study(owner, status="draft", grid={-1: 2, 0: 1, 1: 2})
    with pytest.raises(StudyNotReady, match="grid holds 5 cards but the deck has 6 statements"):
        study.open()
    study.set_grid({-1: 2, 0: 2, 1: 2})
    study.open()
    study.refresh_from_db()
    assert study.status == "open"


def test_opening_is_refused_while_the_consent_text_is_empty(owner, client):
    study = make_study(owner, status="draft", consent_text="  ")
    with pytest.raises(StudyNotReady, match="The consent text is empty"):
        study.open()
    client.force_login(owner)
    overview = client.get(f"/studies/{study.slug}/").content.decode()
    assert "The consent text is empty: participants must see what they agree to." in overview  # the checklist
    study.consent_text = "You agree to take part."
    study.save()
    study.open()
    assert study.status == "open"


def test_the_deck_locks_after_the_first_sort_but_typos_can_still_be_fixed(study):
    participant = study.invite(1)[0]
    submit_sort(participant, GOOD)
    with pytest.raises(DeckLocked, match="statements cannot be added, removed or renumbered"):
        study.add_statement("one more")
    statement = study.statements.get(number=2)
    with pytest.raises(DeckLocked):
        statement.delete()
    statement.number = 9
    with pytest.raises(DeckLocked):
        statement.save()
    fixed = Statement.objects.get(pk=statement.pk)
    fixed.text = "Statement number two, spelled right"
    fixed.save()
    assert study.statements.get(number=2).text == "Statement number two, spelled right"
    with pytest.raises(DeckLocked):
        study.set_grid({-2: 1, -1: 1, 0: 2, 1: 1, 2: 1})


def test_statement_numbers_are_assigned_one_to_n(owner):
    study = make_study(owner, n_statements=4, status="draft")
    assert list(study.statements.values_list("number", flat=True)) == [1, 2, 3, 4]


def test_participant_tokens_are_long_random_and_unique(study):
    participants = study.invite(count=50)
    tokens = {p.token for p in participants}
    assert len(tokens) == 50
    # token_urlsafe(24): 32 characters of a 64-symbol alphabet = 192 bits.
    assert all(len(t) * math.log2(64) >= 128 for t in tokens)
    assert all(p.link.endswith(f"/p/{p.token}/") for p in participants)


def test_invite_uses_codes_and_refuses_codes_used_twice(study):
    made = study.invite(count=3, codes=["A1", "A2"])
    assert [p.code for p in made] == ["A1", "A2", ""]
    with pytest.raises(ValueError, match="A1"):
        study.invite(codes=["A1"])
    with pytest.raises(ValueError, match="B1"):
        study.invite(codes=["B1", "B1"])


def test_submit_stores_every_value_and_completes_the_participant(study):
    participant = study.invite(1)[0]
    question = study.questions.create(text="Anything else?")
    sort, created = submit_sort(participant, GOOD, comments={"1": "Hard one"}, answers={question.pk: "No"})
    assert created
    assert sort.values_by_number() == dict(GOOD)
    assert sort.comments.get().text == "Hard one"
    assert sort.answers.get().text == "No"
    participant.refresh_from_db()
    assert participant.stage == Participant.Stage.COMPLETED and participant.completed_at is not None


def test_resubmitting_the_same_sort_is_idempotent_and_a_different_one_is_refused(study):
    participant = study.invite(1)[0]
    first, _ = submit_sort(participant, GOOD)
    again, created = submit_sort(participant, list(reversed(GOOD)))
    assert again.pk == first.pk and not created
    swapped = [(1, 1), (2, -1), (3, 0), (4, 0), (5, -1), (6, 1)]
    with pytest.raises(SortAlreadySubmitted):
        submit_sort(participant, swapped)
    assert first.values_by_number() == dict(GOOD)


def test_an_invalid_sort_stores_nothing(study):
    participant = study.invite(1)[0]
    with pytest.raises(SortInvalid, match="placed twice"):
        submit_sort(participant, [*GOOD, (1, 1)])
    assert not study.sorts.exists()
    participant.refresh_from_db()
    assert participant.completed_at is None


def test_closed_studies_refuse_participants_but_accept_paper_sorts(owner):
    study = make_study(owner, status="closed")
    participant = study.invite(1)[0]
    with pytest.raises(StudyNotAcceptingSorts):
        submit_sort(participant, GOOD)
    sort, created = submit_sort(participant, GOOD, entered_by=owner)
    assert created and sort.entered_by_facilitator


def test_required_comments_cover_the_extreme_columns(owner):
    study = make_study(owner, comments_required=True)
    participant = study.invite(1)[0]
    with pytest.raises(SortInvalid) as caught:
        submit_sort(participant, GOOD, comments={"1": "why"})
    assert caught.value.messages == [
        "Please say why you placed statement 2 at -1.",
        "Please say why you placed statement 5 at +1.",
        "Please say why you placed statement 6 at +1.",
    ]


def test_comments_on_unknown_statements_and_unknown_questions_are_refused(study):
    participant = study.invite(1)[0]
    with pytest.raises(SortInvalid, match="statement 42"):
        submit_sort(participant, GOOD, comments={"42": "?"})
    with pytest.raises(SortInvalid, match="not a question"):
        submit_sort(participant, GOOD, answers={"999": "?"})


def test_withdrawing_deletes_the_participant_and_their_sort(study):
    participant = study.invite(1)[0]
    submit_sort(participant, GOOD, comments={"1": "x"})
    participant.withdraw()
    assert not study.sorts.exists()
    assert not study.participants.exists()


def test_for_user_scopes_studies_to_owner_and_collaborators(study, owner, facilitator, researcher, stranger):
    from qsort.studies.models import Study

    for user in (owner, facilitator, researcher):
        assert list(Study.objects.for_user(user)) == [study]
    assert not Study.objects.for_user(stranger).exists()
    assert study.role_of(owner) == "owner"
    assert study.role_of(facilitator) == "facilitator"
    assert study.role_of(researcher) == "researcher"
    assert study.role_of(stranger) is None


def test_unique_slug_counts_up_past_taken_slugs(owner):
    from qsort.studies.models import Study

    assert Study.objects.unique_slug("Evening group!") == "evening-group"
    make_study(owner, slug="evening-group")
    make_study(owner, slug="evening-group-2")
    assert Study.objects.unique_slug("Evening group") == "evening-group-3"
    assert Study.objects.unique_slug("???") == "study"


def test_every_door_that_creates_links_reads_the_models_invite_limit(study, client_for, facilitator):
    from django.core.management import CommandError, call_command

    from qsort.studies.models import Study

    with pytest.raises(CommandError, match=f"between 1 and {Study.MAX_INVITES}"):
        call_command("invite", study.slug, "--count", str(Study.MAX_INVITES + 1))
    response = client_for(facilitator).post(
        "/api/studies/tiny/participants/", {"count": Study.MAX_INVITES + 1}, format="json"
    )
    assert response.status_code == 400
    assert f"less than or equal to {Study.MAX_INVITES}" in str(response.json())
    assert not study.participants.exists()
