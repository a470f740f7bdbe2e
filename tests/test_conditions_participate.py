"""The participant flow with two conditions: question 1, a calm transition, question 2; drafts
per condition; stopping early when allowed; German words."""

from __future__ import annotations

import pytest

from qsort.participate import services as flow
from qsort.studies.models import Condition, PostSortQuestion

pytestmark = pytest.mark.django_db

FIRST = {"1": -1, "2": -1, "3": 0, "4": 0, "5": 1, "6": 1}


@pytest.fixture
def two(study):
    Condition.objects.create(
        study=study, position=2, label="Recovery", question="What helps recovery?", instructions="Think of today."
    )
    return study


def sort_via_pages(client, participant, values: dict[str, int], **answers) -> None:
    token = participant.token
    client.post(f"/p/{token}/step/", {"to": "presort"})
    flow.save_draft(
        participant,
        {
            "version": 50,
            "presort": [[int(n), "neutral"] for n in values],
            "grid": {str(v): [int(n) for n, w in values.items() if w == v] for v in set(values.values())},
            "comments": {},
            "answers": {},
        },
    )
    client.post(f"/p/{token}/step/", {"to": "sorting"})
    client.post(f"/p/{token}/step/", {"to": "review"})
    placements = [f"{n}:{v}" for n, v in values.items()]
    response = client.post(f"/p/{token}/submit/", {"placement": placements, **answers})
    assert response.status_code == 302, response.content.decode()[-2000:]


def test_a_participant_sorts_question_one_then_question_two(client, two):
    participant = two.invite(1)[0]
    client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    first = client.get(f"/p/{participant.token}/").content.decode()
    assert "Question 1 of 2" in first and "What matters most?" in first and "There are 2 questions" in first

    sort_via_pages(client, participant, FIRST)
    participant.refresh_from_db()
    assert participant.stage == "consented" and not participant.is_completed
    between = client.get(f"/p/{participant.token}/").content.decode()
    assert "Now the same cards again, for a different question:" in between
    assert "What helps recovery?" in between and "Question 2 of 2" in between and "Think of today." in between
    assert "Stop here" not in between  # the study does not allow stopping early

    client.post(f"/p/{participant.token}/step/", {"to": "presort"})
    presort = client.get(f"/p/{participant.token}/").content.decode()
    assert "What helps recovery?" in presort and "Question 2 of 2" in presort
    assert flow.draft_state(participant)["presort"] == []  # starts fresh

    sort_via_pages(client, participant, {n: -v for n, v in FIRST.items()})
    participant.refresh_from_db()
    assert participant.is_completed
    assert {s.condition.label: s.values_by_number()[1] for s in participant.sorts.all()} == {"Q1": -1, "Recovery": 1}
    assert not participant.drafts.exists()


def test_a_participant_may_stop_after_a_completed_condition_when_allowed(client, two):
    two.allow_partial = True
    two.save()
    participant = two.invite(1)[0]
    client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    refused = client.post(f"/p/{participant.token}/stop/", follow=True)
    assert "Please finish this question first." in refused.content.decode()
    sort_via_pages(client, participant, FIRST)
    assert "Stop here" in client.get(f"/p/{participant.token}/").content.decode()
    client.post(f"/p/{participant.token}/stop/")
    participant.refresh_from_db()
    assert participant.is_completed and participant.sorts.count() == 1
    assert two.participant_counts()["completed"] == 1


def test_a_once_asked_question_is_not_asked_again_in_the_second_review(client, two):
    once = PostSortQuestion.objects.create(study=two, text="How old are you?", position=1)
    participant = two.invite(1)[0]
    client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    sort_via_pages(client, participant, FIRST, **{f"answer-{once.pk}": "40"})
    client.post(f"/p/{participant.token}/step/", {"to": "presort"})
    flow.save_draft(
        participant, {**flow.empty_state(), "version": 60, "grid": {"-1": [1, 2], "0": [3, 4], "1": [5, 6]}}
    )
    participant.stage = "review"
    participant.save(update_fields=["stage"])
    review = client.get(f"/p/{participant.token}/").content.decode()
    assert "How old are you?" not in review


def test_the_transition_speaks_german_in_a_german_study(client, two):
    two.language = "de"
    two.save()
    participant = two.invite(1)[0]
    client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    assert "Frage 1 von 2" in client.get(f"/p/{participant.token}/").content.decode()
    sort_via_pages(client, participant, FIRST)
    between = client.get(f"/p/{participant.token}/").content.decode()
    assert "Jetzt noch einmal dieselben Karten, für eine andere Frage:" in between
