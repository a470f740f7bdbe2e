"""Every API endpoint against every persona: anonymous 401, stranger 404, a role without the
capability 403, the roles with it get through (and the database shows what they did)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from qsort.exchange.models import DownloadLog
from qsort.studies.access import ALLOWED, Can

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]  # one_sort_study, stored_run, client_for


# (method, url, body, capability, status for a role that has the capability)
ENDPOINTS = [
    ("get", "/api/studies/tiny/", None, Can.VIEW, 200),
    ("patch", "/api/studies/tiny/", {"title": "Renamed"}, Can.EDIT, 200),
    ("get", "/api/studies/tiny/statements/", None, Can.VIEW, 200),
    ("post", "/api/studies/tiny/statements/", {"text": "One more"}, Can.EDIT, 409),  # sorted: deck locked
    ("get", "/api/studies/tiny/statements/1/", None, Can.VIEW, 200),
    ("patch", "/api/studies/tiny/statements/1/", {"text": "Statement one, typo fixed"}, Can.EDIT, 200),
    ("get", "/api/studies/tiny/participants/", None, Can.VIEW, 200),
    ("post", "/api/studies/tiny/participants/", {"count": 1}, Can.EDIT, 201),
    ("get", "/api/studies/tiny/sorts/", None, Can.DOWNLOAD, 200),
    ("get", "/api/studies/tiny/analyses/", None, Can.VIEW, 200),
    ("get", "/api/analyses/{run}/", None, Can.VIEW, 200),
    ("get", "/api/studies/tiny/export/sorts.csv", None, Can.DOWNLOAD, 200),
    ("get", "/api/studies/tiny/export/study.dat", None, Can.DOWNLOAD, 200),
    ("get", "/api/analyses/{run}/export/result.json", None, Can.DOWNLOAD, 200),
]
ROLES = ["owner", "facilitator", "researcher", "stranger"]


@pytest.mark.parametrize(("method", "url", "body", "capability", "allowed_status"), ENDPOINTS)
@pytest.mark.parametrize("persona", ROLES)
def test_each_endpoint_admits_exactly_the_roles_with_its_capability(
    request, client_for, stored_run, persona, method, url, body, capability, allowed_status
):
    user = request.getfixturevalue(persona)
    response = getattr(client_for(user), method)(url.format(run=stored_run.pk), body, format="json")
    has_capability = persona in ALLOWED[capability]
    expected = 404 if persona == "stranger" else (allowed_status if has_capability else 403)
    assert response.status_code == expected, response.content[:300]
    if expected in (403, 404):
        assert "detail" in response.json()


@pytest.mark.parametrize(("method", "url", "body", "capability", "allowed_status"), ENDPOINTS)
def test_anonymous_clients_get_401_with_a_token_challenge(stored_run, method, url, body, capability, allowed_status):
    response = getattr(APIClient(), method)(url.format(run=stored_run.pk), body, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_stranger_sees_no_studies_and_anonymous_gets_401(client_for, study, stranger, researcher):
    assert client_for(stranger).get("/api/studies/").json()["results"] == []
    assert [s["slug"] for s in client_for(researcher).get("/api/studies/").json()["results"]] == ["tiny"]
    assert APIClient().get("/api/studies/").status_code == 401


def test_refused_requests_change_nothing(client_for, one_sort_study, researcher, stranger):
    for user in (researcher, stranger):
        client_for(user).patch("/api/studies/tiny/", {"title": "Hijacked"}, format="json")
        client_for(user).post("/api/studies/tiny/participants/", {"count": 3}, format="json")
    one_sort_study.refresh_from_db()
    assert one_sort_study.title == "Tiny study"
    assert one_sort_study.participants.count() == 1


def test_downloads_are_logged_only_when_served(client_for, stored_run, owner, facilitator, researcher):
    client_for(facilitator).get("/api/studies/tiny/export/sorts.csv")  # 403
    client_for(researcher).get("/api/studies/tiny/export/sorts.csv")
    client_for(owner).get(f"/api/analyses/{stored_run.pk}/export/result.json")
    logs = list(DownloadLog.objects.order_by("id").values_list("user__username", "file", "run_id", "via_api"))
    assert logs == [("resea", "sorts.csv", None, True), ("owner", "result.json", stored_run.pk, True)]


def test_session_authentication_needs_csrf_for_writes(study, facilitator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(facilitator)
    assert client.get("/api/studies/tiny/").status_code == 200
    response = client.patch("/api/studies/tiny/", {"title": "No token"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
