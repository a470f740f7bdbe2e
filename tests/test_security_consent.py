"""Consent is the participant's own act: the API refuses a sort without it and never invents it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from qsort.studies.models import Participant, Sort
from qsort.workspace.services import enter_paper_sort

pytestmark = pytest.mark.django_db

VALUES = {"1": -1, "2": -1, "3": 0, "4": 0, "5": 1, "6": 1}


def post(path: str, body: dict | None = None):
    return APIClient().post(path, body or {}, format="json")


def test_the_api_refuses_a_sort_from_a_participant_who_never_consented(study):
    participant = study.invite(codes=["P01"])[0]
    response = post(f"/api/participate/{participant.token}/sort/", {"values": VALUES})
    assert response.status_code == 409
    assert "has not consented" in response.json()["detail"]
    assert "/consent/" in response.json()["detail"]
    assert not Sort.objects.exists()
    participant.refresh_from_db()
    assert participant.consented_at is None and participant.stage == "invited"


def test_consent_through_the_api_then_the_sort_keeps_the_consent_time(study):
    participant = study.invite(codes=["P01"])[0]
    consent = post(f"/api/participate/{participant.token}/consent/")
    assert consent.status_code == 200
    assert consent.json()["stage"] == "consented"
    participant.refresh_from_db()
    consented_at = participant.consented_at
    assert consented_at is not None
    # Consenting again keeps the first time.
    assert (
        post(f"/api/participate/{participant.token}/consent/").json()["consented_at"] == consent.json()["consented_at"]
    )
    assert post(f"/api/participate/{participant.token}/sort/", {"values": VALUES}).status_code == 201
    participant.refresh_from_db()
    assert participant.consented_at == consented_at
    assert participant.completed_at > consented_at


def test_consent_is_refused_by_a_closed_study_and_unknown_links(study):
    assert post("/api/participate/nope/consent/").status_code == 404
    participant = study.invite(codes=["P01"])[0]
    study.close()
    response = post(f"/api/participate/{participant.token}/consent/")
    assert response.status_code == 409 and "closed" in response.json()["detail"]
    assert Participant.objects.get(pk=participant.pk).consented_at is None


def test_a_paper_sort_records_no_invented_consent_time(study, owner):
    placements = [(int(n), v) for n, v in VALUES.items()]
    sort = enter_paper_sort(study, None, "PAPER1", placements, owner)
    participant = sort.participant
    assert participant.is_completed
    assert participant.consented_at is None
    # Its online link cannot consent after the fact.
    assert post(f"/api/participate/{participant.token}/consent/").status_code == 409


def test_the_consent_endpoint_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/participate/{token}/consent/"]["post"]
    assert "200" in operation["responses"]
