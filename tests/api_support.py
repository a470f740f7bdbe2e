"""Fixtures shared by the exchange and API tests, loaded with `pytest_plugins = ["tests.api_support"]`
(a plugin module rather than a conftest.py, to stay inside our room)."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from qsort.runs.models import AnalysisRun
from qsort.studies.services import submit_sort

TINY_SORT = {1: -1, 2: -1, 3: 0, 4: 0, 5: 1, 6: 1}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The personas' passwords are hashed on every test; MD5 keeps the suite quick (tests only)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tiny_sort() -> dict[int, int]:
    """A valid sort of the `study` fixture (statement number -> value)."""
    return dict(TINY_SORT)


@pytest.fixture
def sorted_study(study):
    """The `study` fixture with one completed sort (participant P01): its deck is locked."""
    participant = study.invite(codes=["P01"])[0]
    submit_sort(participant, TINY_SORT.items())
    return study


@pytest.fixture
def done_run(sorted_study):
    return AnalysisRun.objects.create(
        study=sorted_study, status="done", progress=100, parameters={"factors": 1}, result={"answer": 42}
    )


def token_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def client_for():
    """client_for(user): an API client authenticated with the user's token."""
    return token_client
