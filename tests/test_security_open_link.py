"""A study's open link lets in at most `open_link_cap` people; analyses may leave its sorts out."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from qsort.participate import services as participate
from qsort.runs.models import AnalysisRun
from qsort.runs.services import RunRefused, load_sorts, start_run
from qsort.studies.models import Participant
from qsort.studies.services import submit_sort
from tests.runs_support import VIEWPOINTS, add_sorts, execute

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]


@pytest.fixture
def capped(study):
    study.open_link_enabled = True
    study.open_link_cap = 3
    study.save(update_fields=["open_link_enabled", "open_link_cap"])
    return study


def join(study) -> int:
    return Client().post(f"/s/{study.slug}/", {"choice": "agree"}).status_code


def test_the_cap_holds_and_late_visitors_are_told_kindly(capped):
    assert [join(capped) for _ in range(5)] == [302, 302, 302, 200, 200]
    assert Participant.objects.filter(study=capped, via_open_link=True).count() == 3
    late = Client().get(f"/s/{capped.slug}/").content.decode()
    assert "already has all the participants it can take through this link" in late
    assert "I agree" not in late
    # Personal links still work.
    assert Client().get(capped.invite(1)[0].get_absolute_url()).status_code == 200


def test_the_facilitator_sees_that_the_open_link_is_full(client, capped, facilitator):
    client.force_login(facilitator)
    assert "The open link is full" not in client.get(f"/studies/{capped.slug}/").content.decode()
    for _ in range(3):
        join(capped)
    for page in (f"/studies/{capped.slug}/", f"/studies/{capped.slug}/participants/"):
        html = client.get(page).content.decode()
        assert "The open link is full: 3 people have joined through it" in html
        assert "Raise the limit in Settings" in html


def test_the_cap_is_a_setting_of_the_facilitator_and_the_api(client_for, facilitator, capped):
    response = client_for(facilitator).patch(f"/api/studies/{capped.slug}/", {"open_link_cap": 50}, format="json")
    assert response.status_code == 200 and response.json()["open_link_cap"] == 50
    response = client_for(facilitator).patch(f"/api/studies/{capped.slug}/", {"open_link_cap": 0}, format="json")
    assert response.status_code == 400


def _sort(participant, viewpoint) -> None:
    participate.consent(participant)
    submit_sort(participant, list(enumerate(viewpoint, start=1)))


def test_an_analysis_can_leave_out_the_open_link_sorts_or_chosen_ones(study, owner):
    add_sorts(study, 6)
    for i in range(3):
        participant = Participant.objects.create(study=study, via_open_link=True)
        _sort(participant, VIEWPOINTS[i % 3])
    assert load_sorts(study).data.shape[1] == 9
    parameters = {"factors": 2, "extraction": "pca", "rotation": "varimax"}
    run = execute(start_run(study, owner, {**parameters, "exclude_open_link": True}))
    assert run.status == AnalysisRun.Status.DONE
    assert run.result["sorts"] == [f"S{i:02d}" for i in range(1, 7)]
    assert run.parameters["exclude_open_link"] is True
    run = execute(start_run(study, owner, {**parameters, "excluded_sorts": ["S02", " S05 "]}))
    assert len(run.result["sorts"]) == 7 and "S02" not in run.result["sorts"] and "S05" not in run.result["sorts"]
    with pytest.raises(RunRefused, match="No completed sort is labelled NOPE"):
        start_run(study, owner, {**parameters, "excluded_sorts": ["NOPE"]})
    # A run of every sort keeps its parameters as they were.
    assert "exclude_open_link" not in start_run(study, owner, parameters).parameters


def test_the_results_form_and_the_api_offer_the_choice(client, client_for, study, owner):
    add_sorts(study, 6)
    client.force_login(owner)
    page = client.get(f"/studies/{study.slug}/results/").content.decode()
    assert "Leave out the sorts made through the open link" in page
    response = client.post(
        f"/studies/{study.slug}/results/",
        {"factors": 2, "extraction": "pca", "rotation": "varimax", "excluded_sorts": "S01, S02"},
    )
    assert response.status_code == 302
    assert AnalysisRun.objects.latest("id").parameters["excluded_sorts"] == ["S01", "S02"]
    response = client_for(owner).post(
        f"/api/studies/{study.slug}/analyses/", {"factors": 2, "exclude_open_link": True}, format="json"
    )
    assert response.status_code == 201
    assert AnalysisRun.objects.get(pk=response.json()["id"]).parameters["exclude_open_link"] is True
    response = APIClient()
    assert (
        client_for(owner)
        .post(f"/api/studies/{study.slug}/analyses/", {"factors": 2, "excluded_sorts": ["ZZ"]}, format="json")
        .status_code
        == 400
    )
