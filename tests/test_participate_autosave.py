"""The autosave endpoint: what it stores, what it refuses, and that stale saves never win."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from qsort.participate import services
from qsort.studies.models import Participant, SortDraft
from qsort.studies.services import submit_sort
from tests.conftest import make_study

pytestmark = pytest.mark.django_db

GOOD = {
    "version": 5,
    "presort": [[1, "disagree"], [2, "agree"], [3, "neutral"]],
    "grid": {"-1": [1], "1": [2]},
    "comments": {"1": "It <script>alert(1)</script> hurts"},
    "answers": {},
}


@pytest.fixture
def participant(study):
    participant = study.invite(1)[0]
    services.consent(participant)
    return participant


def save(client: Client, participant: Participant, state: object, **extra):
    body = state if isinstance(state, bytes | str) else json.dumps(state)
    return client.post(f"/p/{participant.token}/save/", body, content_type="application/json", **extra)


def stored(participant: Participant) -> dict:
    return SortDraft.objects.get(participant=participant).state


def test_it_stores_the_draft_and_marks_the_time(client, participant):
    response = save(client, participant, GOOD)
    assert response.status_code == 200 and response.json() == {"saved": True, "version": 5}
    assert stored(participant) == GOOD
    participant.refresh_from_db()
    assert participant.last_saved_at is not None


def test_an_older_or_equal_version_never_replaces_newer_work(client, participant):
    save(client, participant, GOOD)
    response = save(client, participant, {**GOOD, "version": 4, "grid": {}})
    assert response.status_code == 409 and response.json()["stale"] is True
    assert save(client, participant, {**GOOD, "grid": {}}).status_code == 409
    assert stored(participant) == GOOD
    assert save(client, participant, {**GOOD, "version": 6, "grid": {}}).status_code == 200
    assert stored(participant)["grid"] == {}


def test_a_repeat_of_the_stored_draft_is_saved_not_a_conflict(client, participant):
    """A retry whose first answer was lost (a dropped connection) must not stop the page saving."""
    assert save(client, participant, GOOD).status_code == 200
    repeat = save(client, participant, GOOD)
    assert repeat.status_code == 200 and repeat.json() == {"saved": True, "version": 5}
    assert stored(participant) == GOOD
    different = save(client, participant, {**GOOD, "grid": {}})  # same version, other content: a real conflict
    assert different.status_code == 409 and different.json()["stale"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grid": {"-1": [1, 1]}}, "Statement 1 is placed twice."),
        ({"grid": {"-1": [1], "0": [1]}}, "Statement 1 is placed twice."),
        ({"grid": {"-1": [99]}}, "'99' is not a statement of this study."),
        ({"grid": {"4": [1]}}, "A column of the grid is not part of this study."),
        ({"grid": {"-1": [1, 2, 3]}}, "Column -1 is full (2 of 2)."),
        ({"presort": [[1, "maybe"]]}, "A card of the first sort is not a statement of this study."),
        ({"presort": [[1, "agree"], [1, "neutral"]]}, "Statement 1 is in two piles."),
        ({"comments": {"1": "x" * 2001}}, "longer than 2000 characters"),
        ({"answers": {"123456": "hi"}}, "belongs to nothing in this study"),
        ({"version": "7"}, "no version number"),
    ],
)
def test_it_refuses_a_broken_draft_with_a_clear_message(client, participant, change, message):
    save(client, participant, GOOD)
    response = save(client, participant, {**GOOD, "version": 9, **change})
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert stored(participant) == GOOD


def test_it_refuses_what_is_not_json(client, participant):
    response = save(client, participant, b"{not json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]


def test_it_refuses_a_body_over_64_kb_before_reading_it(client, participant):
    save(client, participant, GOOD)
    response = save(client, participant, {**GOOD, "version": 9, "padding": "x" * 70_000})
    assert response.status_code == 413
    assert "too large" in response.json()["error"]
    assert stored(participant) == GOOD


def test_it_needs_the_csrf_token(participant):
    client = Client(enforce_csrf_checks=True)
    client.get(f"/p/{participant.token}/")
    assert save(client, participant, GOOD).status_code == 403
    token = client.cookies["csrftoken"].value
    assert save(client, participant, GOOD, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_an_unknown_token_saves_nothing(client, participant):
    response = save(client, Participant(token="guessed-token"), GOOD)
    assert response.status_code == 404
    assert stored(participant)["version"] == 0


def test_nothing_is_saved_before_consent_or_after_completion(client, study):
    invited = study.invite(1)[0]
    assert save(client, invited, GOOD).status_code == 409
    assert not SortDraft.objects.filter(participant=invited).exists()

    done = study.invite(1)[0]
    submit_sort(done, {1: -1, 2: -1, 3: 0, 4: 0, 5: 1, 6: 1}.items())
    response = save(client, done, GOOD)
    assert response.status_code == 409 and "already complete" in response.json()["error"]
    assert not SortDraft.objects.filter(participant=done).exists()


def test_a_closed_study_takes_no_more_saves(client, owner):
    study = make_study(owner, slug="closing")
    participant = study.invite(1)[0]
    services.consent(participant)
    study.close()
    assert save(client, participant, GOOD).status_code == 409
    assert stored(participant)["version"] == 0


def test_a_draft_survives_a_new_connection_and_resumes_the_grid(client, participant):
    participant.stage = "sorting"
    participant.save()
    save(client, participant, GOOD)
    html = Client().get(f"/p/{participant.token}/").content.decode()
    column = html.split('data-column="-1"')[1].split('data-column="0"')[0]
    assert 'data-number="1"' in column and 'data-number="2"' not in column
    # statement text is data: shown as text, never as markup
    assert "<script>alert(1)</script>" not in html


def test_autosave_uses_a_handful_of_queries(client, participant, django_assert_max_num_queries):
    # participant, their current condition, three for the rules, two updates; plus a savepoint
    # pair inside the test's transaction
    with django_assert_max_num_queries(9):
        assert save(client, participant, GOOD).status_code == 200
