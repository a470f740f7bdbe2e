"""Run results through the API only for roles that may download, every read logged; analysis
settings only for roles that may analyse."""

from __future__ import annotations

import pytest

from qsort.exchange.models import DownloadLog

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]


def test_a_facilitator_sees_a_runs_status_but_not_its_result(client_for, facilitator, stored_run):
    response = client_for(facilitator).get(f"/api/analyses/{stored_run.pk}/")
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["result"] is None
    assert not DownloadLog.objects.exists()


@pytest.mark.parametrize("persona", ["owner", "researcher"])
def test_a_result_read_through_the_api_is_logged_like_a_download(request, client_for, stored_run, persona):
    user = request.getfixturevalue(persona)
    response = client_for(user).get(f"/api/analyses/{stored_run.pk}/")
    assert response.json()["result"] == {"answer": 42}
    log = DownloadLog.objects.get()
    assert (log.user, log.run, log.file, log.via_api) == (user, stored_run, "result.json", True)


def test_the_list_of_runs_never_carries_results(client_for, owner, stored_run):
    runs = client_for(owner).get(f"/api/studies/{stored_run.study.slug}/analyses/").json()["results"]
    assert runs and all(run["result"] is None for run in runs)
    assert not DownloadLog.objects.exists()


def test_a_facilitator_cannot_switch_on_automatic_reanalysis(client_for, facilitator, study):
    response = client_for(facilitator).patch(f"/api/studies/{study.slug}/", {"auto_reanalyse": True}, format="json")
    assert response.status_code == 403
    assert "cannot change analysis settings: auto_reanalyse" in response.json()["detail"]
    study.refresh_from_db()
    assert study.auto_reanalyse is False
    # Other settings, and sending the unchanged value, are fine.
    body = {"title": "Renamed", "auto_reanalyse": False}
    assert client_for(facilitator).patch(f"/api/studies/{study.slug}/", body, format="json").status_code == 200


def test_the_owner_may_switch_it(client_for, owner, study):
    response = client_for(owner).patch(f"/api/studies/{study.slug}/", {"auto_reanalyse": True}, format="json")
    assert response.status_code == 200
    study.refresh_from_db()
    assert study.auto_reanalyse is True
