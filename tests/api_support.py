"""Fixtures shared by the exchange and API tests, loaded with `pytest_plugins = ["tests.api_support"]`
(a plugin module rather than a conftest.py, to stay inside our room)."""

from __future__ import annotations

import copy
import functools

import pytest
import requests
import schemathesis
from knox.models import AuthToken
from rest_framework.test import APIClient

from qsort.rooms.models import Session
from qsort.runs.models import AnalysisRun
from qsort.studies.models import Collaborator
from qsort.studies.services import submit_sort

TINY_SORT = {1: -1, 2: -1, 3: 0, 4: 0, 5: 1, 6: 1}


@pytest.fixture
def tiny_sort() -> dict[int, int]:
    """A valid sort of the `study` fixture (statement number -> value)."""
    return dict(TINY_SORT)


@pytest.fixture
def one_sort_study(study):
    """The `study` fixture with one completed sort (participant P01): its deck is locked."""
    participant = study.invite(codes=["P01"])[0]
    submit_sort(participant, TINY_SORT.items())
    return study


@pytest.fixture
def stored_run(one_sort_study):
    """A finished run row with a small stored result (not computed): for access and download tests."""
    return AnalysisRun.objects.create(
        study=one_sort_study, status="done", progress=100, parameters={"factors": 1}, result={"answer": 42}
    )


def token_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _instance, token = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def client_for():
    """client_for(user): an API client authenticated with the user's token."""
    return token_client


@functools.cache
def served_schema(base_url: str) -> dict:
    """The OpenAPI schema the live server serves: built once per test process (it depends on the
    code, not on the data), not once per fuzzed operation (about a second each)."""
    return requests.get(f"{base_url}/api/schema/?format=json", timeout=30).json()


@pytest.fixture
def live_api(live_server, owner, researcher, facilitator, stranger):
    """A live server with one study of every kind of object, and the schema it serves."""
    from tests.conftest import make_study

    study = make_study(owner, slug="tiny")
    Collaborator.objects.create(study=study, user=researcher, role="researcher")
    waiting, done = study.invite(codes=["P01", "P02"])
    submit_sort(done, {1: -1, 2: -1, 3: 0, 4: 0, 5: 1, 6: 1}.items())
    run = AnalysisRun.objects.create(study=study, status="done", progress=100, parameters={}, result={"x": 1})
    session = Session.objects.create(study=study, name="Focus group", seats=4)
    api = schemathesis.openapi.from_dict(copy.deepcopy(served_schema(live_server.url)))
    api.known = {  # real path parameters, so generated bodies reach the code behind them
        "slug": "tiny",
        "run_id": run.pk,
        "token": waiting.token,
        "number": 1,
        "session_id": session.pk,
    }
    api.base_url = live_server.url
    api.token = AuthToken.objects.create(user=owner)[1]
    return api


@pytest.fixture
def no_server_error(live_api):
    """no_server_error(case): call the live server as the owner, on real objects where the path
    names one, and fail on any 5xx."""
    return lambda case: _call_without_server_error(case, live_api)


def _call_without_server_error(case, live_api) -> None:
    for name, value in live_api.known.items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    response = case.call(base_url=live_api.base_url, headers={"Authorization": f"Token {live_api.token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
