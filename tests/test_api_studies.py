"""The API drives a study end to end: create, deck, grid, open, participants, sorts."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from qsort.studies.models import Participant, Sort, Study

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]  # one_sort_study, stored_run, client_for, tiny_sort


def test_a_script_creates_and_opens_a_study(client_for, owner):
    client = client_for(owner)
    response = client.post(
        "/api/studies/",
        {
            "slug": "from-r",
            "title": "From R",
            "condition_of_instruction": "What matters?",
            "consent_text": "You agree to take part.",
            "statements": [{"text": "One"}, {"text": "Two"}, {"text": "Three"}],
            "grid": [{"value": -1, "capacity": 1}, {"value": 0, "capacity": 1}, {"value": 1, "capacity": 1}],
            "status": "open",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["role"] == "owner"
    assert body["status"] == "open"
    assert body["statements"] == [
        {"number": 1, "text": "One"},
        {"number": 2, "text": "Two"},
        {"number": 3, "text": "Three"},
    ]
    study = Study.objects.get(slug="from-r")
    assert study.owner == owner
    assert study.grid() == {-1: 1, 0: 1, 1: 1}


def test_creating_a_study_reports_each_bad_field_by_name(client_for, owner, study):
    response = client_for(owner).post(
        "/api/studies/", {"slug": "tiny", "grid": [{"value": 99, "capacity": -1}]}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"slug", "grid", "title"}
    assert "taken" in errors["slug"][0]
    assert Study.objects.count() == 1


def test_opening_an_unready_study_says_why_under_status(client_for, owner):
    client = client_for(owner)
    client.post("/api/studies/", {"slug": "empty", "title": "Empty"}, format="json")
    response = client.patch("/api/studies/empty/", {"status": "open"}, format="json")
    assert response.status_code == 400
    assert "at least 2 statements" in response.json()["status"][0]
    assert Study.objects.get(slug="empty").status == "draft"


def test_the_deck_and_grid_are_refused_once_sorted_with_409(client_for, facilitator, one_sort_study):
    client = client_for(facilitator)
    response = client.patch("/api/studies/tiny/", {"grid": [{"value": 0, "capacity": 6}]}, format="json")
    assert response.status_code == 409
    assert "locked" in response.json()["grid"][0]
    response = client.post("/api/studies/tiny/statements/", {"text": "Late"}, format="json")
    assert response.status_code == 409
    assert "locked" in response.json()["text"][0]
    assert one_sort_study.grid() == {-1: 2, 0: 2, 1: 2}
    assert one_sort_study.statements.count() == 6
    # A typo fix is still allowed:
    response = client.patch("/api/studies/tiny/statements/2/", {"text": "Statement number two"}, format="json")
    assert response.status_code == 200
    assert one_sort_study.statements.get(number=2).text == "Statement number two"


def test_facilitators_add_statements_while_the_deck_is_unlocked(client_for, facilitator, study):
    response = client_for(facilitator).post("/api/studies/tiny/statements/", {"text": "Seventh"}, format="json")
    assert response.status_code == 201
    assert response.json() == {"number": 7, "text": "Seventh"}
    response = client_for(facilitator).post("/api/studies/tiny/statements/", {"text": ""}, format="json")
    assert response.status_code == 400
    assert "text" in response.json()


def test_creating_participants_returns_links_only_to_the_creator(client_for, facilitator, researcher, study):
    response = client_for(facilitator).post(
        "/api/studies/tiny/participants/", {"count": 3, "codes": ["A1", "A2"]}, format="json"
    )
    assert response.status_code == 201
    created = response.json()["participants"]
    assert [p["code"] for p in created] == ["A1", "A2", ""]
    tokens = list(study.participants.values_list("token", flat=True))
    assert sorted(p["link"].rsplit("/", 2)[1] for p in created) == sorted(tokens)
    listing = client_for(researcher).get("/api/studies/tiny/participants/")
    assert listing.status_code == 200
    assert [p["code"] for p in listing.json()["results"]] == ["A1", "A2", ""]
    assert all(token not in listing.content.decode() for token in tokens)
    assert "token" not in listing.json()["results"][0] and "link" not in listing.json()["results"][0]


def test_participant_codes_must_be_unique(client_for, owner, study):
    study.invite(codes=["A1"])
    response = client_for(owner).post("/api/studies/tiny/participants/", {"codes": ["A1", "B"]}, format="json")
    assert response.status_code == 400
    assert "A1" in response.json()["codes"][0]
    response = client_for(owner).post("/api/studies/tiny/participants/", {"count": 5000}, format="json")
    assert response.status_code == 400
    assert "count" in response.json()
    response = client_for(owner).post("/api/studies/tiny/participants/", {}, format="json")
    assert response.status_code == 400
    assert study.participants.count() == 1


def test_sorts_list_values_by_statement_number_comments_and_answers(tiny_sort, client_for, researcher, study):
    question = study.questions.create(text="Why?", position=0)
    participant = study.invite(codes=["P01"])[0]
    from qsort.studies.services import submit_sort

    submit_sort(participant, tiny_sort.items(), comments={1: "=bad idea"}, answers={question.pk: "Because"})
    response = client_for(researcher).get("/api/studies/tiny/sorts/")
    assert response.status_code == 200
    (sort,) = response.json()["results"]
    assert sort["participant"] == "P01"
    assert sort["values"] == {str(n): v for n, v in tiny_sort.items()}
    assert sort["comments"] == {"1": "=bad idea"}
    assert sort["answers"] == {str(question.pk): "Because"}
    assert sort["submitted_at"]
    assert participant.token not in response.content.decode()


def test_list_endpoints_do_not_grow_queries_with_rows(
    tiny_sort, client_for, researcher, study, django_assert_max_num_queries
):
    from qsort.studies.services import submit_sort

    for participant in study.invite(count=30):
        submit_sort(participant, tiny_sort.items())
    client = client_for(researcher)
    # Token authentication (django-rest-knox) costs two: the token with its user, and the
    # user's other tokens (expired ones are deleted).
    with django_assert_max_num_queries(11):
        assert len(client.get("/api/studies/tiny/sorts/").json()["results"]) == 30
    with django_assert_max_num_queries(9):
        assert len(client.get("/api/studies/tiny/participants/").json()["results"]) == 30


# --- a participant's client ---------------------------------------------------------------
def submit(token: str, body: dict) -> tuple[int, dict]:
    response = APIClient().post(f"/api/participate/{token}/sort/", body, format="json")
    return response.status_code, response.json()


def consenting(study) -> Participant:
    """An invited participant whose client has recorded their consent through the API."""
    participant = study.invite(codes=["P01"])[0]
    assert APIClient().post(f"/api/participate/{participant.token}/consent/").status_code == 200
    participant.refresh_from_db()
    return participant


def test_a_participant_submits_once_and_resubmitting_is_idempotent(tiny_sort, study):
    participant = consenting(study)
    body = {"values": {str(n): v for n, v in tiny_sort.items()}, "comments": {"1": "Hard one"}}
    status, data = submit(participant.token, body)
    assert status == 201
    assert data["created"] is True
    assert participant.token not in str(data)
    status, data = submit(participant.token, body)
    assert status == 200
    assert data["created"] is False
    assert Sort.objects.filter(participant=participant).count() == 1
    participant.refresh_from_db()
    assert participant.stage == Participant.Stage.COMPLETED


def test_a_different_sort_after_completion_is_refused_with_409(tiny_sort, study):
    participant = consenting(study)
    submit(participant.token, {"values": {str(n): v for n, v in tiny_sort.items()}})
    swapped = {**tiny_sort, 1: 1, 6: -1}
    status, data = submit(participant.token, {"values": {str(n): v for n, v in swapped.items()}})
    assert status == 409
    assert "already completed" in data["detail"]
    assert Sort.objects.get(participant=participant).values_by_number() == tiny_sort


def test_an_invalid_sort_is_explained_by_the_one_validator(study):
    participant = consenting(study)
    status, data = submit(participant.token, {"values": {"1": 1, "2": 1, "3": 1, "9": 0}})
    assert status == 400
    assert "Statement 9 is not part of this study." in data["values"]
    assert "Column +1 holds 3 cards, capacity 2." in data["values"]
    status, data = submit(participant.token, {"values": "nope"})
    assert status == 400 and "values" in data
    assert not Sort.objects.exists()


def test_unknown_links_and_closed_studies_are_refused(tiny_sort, study):
    status, _data = submit("not-a-token", {"values": {"1": 0}})
    assert status == 404
    participant = consenting(study)
    study.close()
    status, data = submit(participant.token, {"values": {str(n): v for n, v in tiny_sort.items()}})
    assert status == 409
    assert "closed" in data["detail"]
    assert not Sort.objects.exists()


def test_the_participant_endpoint_needs_no_csrf_token_and_ignores_sessions(tiny_sort, study, researcher):
    """It authenticates by the token in the URL only: a signed-in browser gains nothing."""
    participant = consenting(study)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(researcher)
    response = client.post(
        f"/api/participate/{participant.token}/sort/",
        {"values": {str(n): v for n, v in tiny_sort.items()}},
        format="json",
    )
    assert response.status_code == 201
    assert Sort.objects.get(participant=participant).entered_by is None


def test_no_response_to_a_researcher_contains_a_participant_token(client_for, researcher, stored_run):
    tokens = list(stored_run.study.participants.values_list("token", flat=True))
    client = client_for(researcher)
    urls = [
        "/api/studies/",
        "/api/studies/tiny/",
        "/api/studies/tiny/participants/",
        "/api/studies/tiny/sorts/",
        "/api/studies/tiny/analyses/",
        f"/api/analyses/{stored_run.pk}/",
        *(
            f"/api/studies/tiny/export/{name}"
            for name in ("sorts.csv", "statements.csv", "study.dat", "study.sta", "results.json")
        ),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not any(token in response.content.decode("cp1252") for token in tokens), url


def test_participants_can_be_filtered_by_stage(client_for, researcher, one_sort_study):
    one_sort_study.invite(codes=["W1"])
    response = client_for(researcher).get("/api/studies/tiny/participants/?stage=completed")
    assert [p["code"] for p in response.json()["results"]] == ["P01"]
    response = client_for(researcher).get("/api/studies/tiny/participants/?stage=invited")
    assert [p["code"] for p in response.json()["results"]] == ["W1"]


def test_problems_with_comments_are_not_blamed_on_the_values(tiny_sort, study):
    participant = consenting(study)
    body = {"values": {str(n): v for n, v in tiny_sort.items()}, "comments": {"99": "On a missing card"}}
    status, data = submit(participant.token, body)
    assert status == 400
    assert data == {"non_field_errors": ["A comment is attached to statement 99, which is not part of this study."]}


def test_an_unlocked_deck_and_grid_can_be_replaced_and_the_study_closed(client_for, facilitator, study):
    client = client_for(facilitator)
    response = client.patch(
        "/api/studies/tiny/",
        {
            "statements": [{"text": "Alpha"}, {"text": "Beta"}, {"text": "Gamma"}],
            "grid": [{"value": -1, "capacity": 1}, {"value": 0, "capacity": 1}, {"value": 1, "capacity": 1}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [s["text"] for s in response.json()["statements"]] == ["Alpha", "Beta", "Gamma"]
    assert list(study.statements.values_list("number", "text")) == [(1, "Alpha"), (2, "Beta"), (3, "Gamma")]
    assert study.grid() == {-1: 1, 0: 1, 1: 1}
    response = client.patch("/api/studies/tiny/", {"grid": [{"value": 0}]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"grid": {"0": {"capacity": ["This field is required."]}}}
    response = client.patch("/api/studies/tiny/", {"status": "closed"}, format="json")
    assert response.json()["status"] == "closed"
    response = client.patch("/api/studies/tiny/", {"status": "draft", "slug": "other"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"slug"}
    study.refresh_from_db()
    assert (study.slug, study.status) == ("tiny", "closed")
