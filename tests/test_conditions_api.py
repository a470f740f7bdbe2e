"""Several conditions through the API: submit per condition, list and filter by condition, runs
that choose their conditions and carry the condition tables, and the OpenAPI schema."""

from __future__ import annotations

import pytest

from qsort.runs.models import AnalysisRun
from qsort.runs.services import RunRefused, load_sorts, start_run
from qsort.studies.models import Condition
from tests.runs_support import VIEWPOINTS, execute

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]


@pytest.fixture
def two(study):
    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps recovery?")
    return study


def sort_body(values: list[int], **extra) -> dict:
    return {"values": {str(n): v for n, v in enumerate(values, start=1)}, **extra}


def test_a_participant_client_names_the_condition_when_there_are_several(client, two):
    participant = two.invite(1)[0]
    assert client.post(f"/api/participate/{participant.token}/consent/").status_code in (200, 201)
    url = f"/api/participate/{participant.token}/sort/"
    missing = client.post(url, sort_body(VIEWPOINTS[0]), content_type="application/json")
    assert missing.status_code == 400 and "several conditions" in missing.json()["condition"][0]
    unknown = client.post(url, sort_body(VIEWPOINTS[0], condition="Nope"), content_type="application/json")
    assert unknown.status_code == 400 and "'Nope' is not a condition" in unknown.json()["condition"][0]

    first = client.post(url, sort_body(VIEWPOINTS[0], condition="Q1"), content_type="application/json")
    again = client.post(url, sort_body(VIEWPOINTS[0], condition="Q1"), content_type="application/json")
    other = client.post(url, sort_body(VIEWPOINTS[1], condition="Q1"), content_type="application/json")
    second = client.post(url, sort_body(VIEWPOINTS[1], condition="recovery"), content_type="application/json")
    assert (first.status_code, again.status_code, other.status_code, second.status_code) == (201, 200, 409, 201)
    participant.refresh_from_db()
    assert participant.is_completed and participant.sorts.count() == 2


def test_the_sorts_list_carries_the_condition_and_filters_by_it(client_for, researcher, two):
    from qsort.studies.services import submit_sort

    for participant in two.invite(codes=["A", "B"]):
        submit_sort(participant, enumerate(VIEWPOINTS[0], start=1), condition="Q1")
    submit_sort(two.participants.get(code="A"), enumerate(VIEWPOINTS[2], start=1), condition="Recovery")
    api = client_for(researcher)
    every = api.get("/api/studies/tiny/sorts/").json()["results"]
    assert [(s["participant"], s["condition"]) for s in every] == [("A", "Q1"), ("B", "Q1"), ("A", "Recovery")]
    recovery = api.get("/api/studies/tiny/sorts/", {"condition": "Recovery"}).json()["results"]
    assert [(s["participant"], s["values"]["1"]) for s in recovery] == [("A", -1)]
    bad = api.get("/api/studies/tiny/sorts/", {"condition": "Elsewhere"})
    assert bad.status_code == 400 and "condition" in bad.json()


def test_a_single_condition_study_keeps_its_run_parameters_and_sort_names(study):
    from tests.runs_support import add_sorts

    add_sorts(study, 6)
    run = execute(start_run(study, None, {"factors": 2, "extraction": "pca", "rotation": "varimax"}))
    assert "conditions" not in run.parameters and "conditions" not in run.result
    assert run.result["sorts"] == [f"S{i:02d}" for i in range(1, 7)]


def both_conditions(study, people: int = 6) -> None:
    """Each person sorts viewpoint i under Q1 and its mirror image under Recovery."""
    from qsort.studies.services import submit_sort

    for i, participant in enumerate(study.invite(codes=[f"S{i + 1:02d}" for i in range(people)])):
        values = VIEWPOINTS[i % 2]
        submit_sort(participant, enumerate(values, start=1), condition="Q1")
        submit_sort(participant, enumerate([-v for v in values], start=1), condition="Recovery")


def test_a_run_over_both_conditions_names_sorts_by_condition_and_compares_them(client_for, researcher, two):
    both_conditions(two)
    response = client_for(researcher).post(
        "/api/studies/tiny/analyses/",
        {"factors": 2, "extraction": "pca", "rotation": "varimax", "conditions": ["q1", "Recovery"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    run = execute(AnalysisRun.objects.get(pk=response.json()["id"]))
    assert run.status == "done", run.error
    assert run.parameters["conditions"] == ["Q1", "Recovery"]
    assert run.result["sorts"][:2] == ["S01·Q1", "S01·Recovery"]
    tables = run.result["conditions"]
    assert tables["conditions"] == ["Q1", "Recovery"]
    # every flagged sort is counted once, under its own condition
    labels = [name.split("·")[1] for name in run.result["sorts"]]
    assert tables["factor_counts"] == [
        [
            sum(1 for row, c in zip(run.result["flags"], labels, strict=True) if row[f] and c == wanted)
            for wanted in ("Q1", "Recovery")
        ]
        for f in range(2)
    ]
    persons = {p["participant"]: p for p in tables["persons"]}
    assert set(persons) == {f"S{i:02d}" for i in range(1, 7)}
    assert all(p["correlation"] == pytest.approx(-1.0) for p in persons.values())  # mirror images
    shift = {s["statement"]: s for s in tables["shifts"]}
    # statement 1: +1 under Q1 for S01, S03, S05 (viewpoint 0), -1 for the others; mirrored in Recovery
    assert shift["1"]["means"] == [0.0, 0.0] and shift["1"]["effect"] == 0.0


def test_a_run_over_one_condition_uses_only_its_sorts_with_plain_names(two):
    both_conditions(two)
    run = execute(
        start_run(two, None, {"factors": 2, "extraction": "pca", "rotation": "varimax", "conditions": ["Recovery"]})
    )
    assert run.status == "done" and run.parameters["conditions"] == ["Recovery"]
    assert run.result["sorts"] == [f"S{i:02d}" for i in range(1, 7)] and "conditions" not in run.result
    assert load_sorts(two, ["Recovery"]).data[0].tolist() == [-1, 1, -1, 1, -1, 1]


def test_a_run_naming_an_unknown_condition_is_refused(two):
    both_conditions(two)
    with pytest.raises(RunRefused, match="'Relapse' is not a condition"):
        start_run(two, None, {"factors": 2, "extraction": "pca", "rotation": "varimax", "conditions": ["Relapse"]})


def test_the_openapi_schema_shows_the_condition_fields(client_for, owner):
    schema = client_for(owner).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert "condition" in components["SubmitSort"]["properties"]
    assert "conditions" in components["AnalysisRequest"]["properties"]
    assert "condition" in components["Sort"]["properties"]
    sorts = schema["paths"]["/api/studies/{slug}/sorts/"]["get"]["parameters"]
    assert "condition" in [p["name"] for p in sorts]


def test_a_script_creates_a_study_with_two_conditions_and_may_only_fix_their_texts_after_sorts(client_for, owner):
    api = client_for(owner)
    conditions = [
        {"label": "Relapse", "question": "What causes relapse?"},
        {"label": "Recovery", "question": "What helps recovery?", "instructions": "Think of today."},
    ]
    created = api.post(
        "/api/studies/",
        {
            "slug": "two-api",
            "title": "Two by API",
            "consent_text": "You agree.",
            "conditions": conditions,
            "statements": [{"text": "One"}, {"text": "Two"}],
            "grid": [{"value": -1, "capacity": 1}, {"value": 1, "capacity": 1}],
            "status": "open",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert [(c["position"], c["label"]) for c in created.json()["conditions"]] == [(1, "Relapse"), (2, "Recovery")]
    participant = api.post("/api/studies/two-api/participants/", {"codes": ["A"]}, format="json").json()
    token = participant["participants"][0]["link"].rstrip("/").rsplit("/", 1)[1]
    assert api.post(f"/api/participate/{token}/consent/").status_code in (200, 201)  # the client's own consent page
    sent = api.post(
        f"/api/participate/{token}/sort/", {"condition": "Relapse", "values": {"1": -1, "2": 1}}, format="json"
    )
    assert sent.status_code == 201
    renamed = api.patch(
        "/api/studies/two-api/", {"conditions": [conditions[0], {**conditions[1], "label": "Help"}]}, format="json"
    )
    assert renamed.status_code == 409 and "conditions" in renamed.json()
    fixed = api.patch(
        "/api/studies/two-api/",
        {"conditions": [conditions[0], {**conditions[1], "question": "What helps most?"}]},
        format="json",
    )
    assert fixed.status_code == 200 and fixed.json()["conditions"][1]["question"] == "What helps most?"
    duplicate = api.patch("/api/studies/two-api/", {"conditions": [conditions[0], conditions[0]]}, format="json")
    assert duplicate.status_code == 400
