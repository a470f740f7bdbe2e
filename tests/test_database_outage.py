"""A database outage is a pause, not a crash: 503 with Retry-After, JSON for the API and the
autosave, a plain page for people. The outage is real (a connection to a closed port, or this
test's own server process ended), made for this test's connection only: the shared PostgreSQL
keeps running for everyone else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client

from qsort.errors import RETRY_AFTER_SECONDS
from qsort.participate import services
from qsort.studies.models import SortDraft

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_down() -> Iterator[None]:
    """Point this thread's connection at a port where nothing listens, then put it back."""
    connection.close()
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


@pytest.fixture
def participant(study):
    participant = study.invite(1)[0]
    services.consent(participant)
    return participant


def assert_paused(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_an_autosave_during_an_outage_gets_503_json_and_the_next_one_saves(participant):
    client = Client(raise_request_exception=False)
    url = f"/p/{participant.token}/save/"
    state = {"version": 3, "presort": [[1, "agree"]], "grid": {}, "comments": {}, "answers": {}}
    with database_down():
        response = client.post(url, state, content_type="application/json")
    assert_paused(response)
    assert response.json()["error"].startswith("Saving paused, we will retry")
    assert response.json()["retry_after"] == RETRY_AFTER_SECONDS
    assert client.post(url, state, content_type="application/json").status_code == 200  # the page's retry
    assert SortDraft.objects.get(participant=participant).state["presort"] == [[1, "agree"]]


def test_the_api_during_an_outage_gets_503_json(owner):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    with database_down():
        response = client.get("/api/studies/")
    assert_paused(response)
    assert "Saving paused" in response.json()["error"]


def test_a_page_during_an_outage_is_a_plain_page_saying_saving_is_paused(participant):
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get(f"/p/{participant.token}/")
    assert_paused(response)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Saving paused, we will retry" in page and f"{RETRY_AFTER_SECONDS} seconds" in page
    assert participant.token not in page


def test_other_server_errors_stay_500(owner, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    monkeypatch.setattr("qsort.api.views.StudyList.get_queryset", lambda self: 1 / 0)
    response = client.get("/api/studies/")
    assert response.status_code == 500 and "Retry-After" not in response


def serve(handler: WSGIHandler, path: str) -> int:
    """One GET as gunicorn's sync worker serves it: the WSGI handler in this thread, whose database
    connection lives on between requests (CONN_MAX_AGE). Django's test Client cannot show this: it
    skips the connection checks that run as each request starts and ends."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_HOST": "testserver"}
    setup_testing_defaults(environ)
    status = []
    response = handler(environ, lambda line, headers, exc_info=None: status.append(line))
    response.close()  # the server's last step: request_finished, where old connections are closed
    return int(status[0].split()[0])


def end_backend(pid: int) -> None:
    """End one PostgreSQL server process from another connection (as a restart ends them all),
    and wait until it is gone."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"], autocommit=True
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            pass


def test_a_persistent_connection_that_died_between_requests_is_replaced_not_a_500(participant):
    """CONN_HEALTH_CHECKS: the first query of a request checks the kept connection and reconnects."""
    assert connection.settings_dict["CONN_MAX_AGE"] > 0  # kept between requests, as in production
    handler = WSGIHandler()
    page = f"/p/{participant.token}/"
    assert serve(handler, page) == 200
    kept = connection.connection.info.backend_pid
    assert serve(handler, page) == 200 and connection.connection.info.backend_pid == kept  # reused
    end_backend(kept)
    assert serve(handler, page) == 200
    assert connection.connection.info.backend_pid != kept
