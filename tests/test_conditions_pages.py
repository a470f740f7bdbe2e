"""Facilitator and researcher pages with several conditions: the run form chooses conditions,
the run page lays out the condition tables, single-condition pages stay as they were."""

from __future__ import annotations

import pytest

from qsort.runs.models import AnalysisRun
from qsort.studies.models import Condition, SortComment
from tests.runs_support import execute
from tests.test_conditions_api import both_conditions

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(study):
    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps recovery?")
    both_conditions(study)
    return study


def test_the_run_form_offers_the_conditions_and_a_run_uses_the_ones_ticked(client, two, researcher):
    client.force_login(researcher)
    page = client.get("/studies/tiny/results/").content.decode()
    assert 'name="conditions" value="Q1"' in page and 'name="conditions" value="Recovery"' in page
    response = client.post(
        "/studies/tiny/results/", {"factors": 2, "extraction": "pca", "rotation": "varimax", "conditions": ["Recovery"]}
    )
    assert response.status_code == 302
    assert AnalysisRun.objects.get().parameters["conditions"] == ["Recovery"]


def test_a_single_condition_study_shows_no_condition_choice(client, study, researcher):
    client.force_login(researcher)
    assert 'name="conditions"' not in client.get("/studies/tiny/results/").content.decode()


def test_the_run_page_lays_out_the_condition_tables_with_a_persons_own_comments(client, two, researcher):
    sort = two.sorts.get(participant__code="S01", condition__label="Recovery")
    SortComment.objects.create(sort=sort, statement=two.statements.get(number=1), text="It flipped for me")
    client.force_login(researcher)
    client.post(
        "/studies/tiny/results/",
        {"factors": 2, "extraction": "pca", "rotation": "varimax", "conditions": ["Q1", "Recovery"]},
    )
    run = execute(AnalysisRun.objects.get())
    overview = client.get(f"/studies/tiny/results/{run.pk}/").content.decode()
    assert f"/studies/tiny/results/{run.pk}/conditions/" in overview
    page = client.get(f"/studies/tiny/results/{run.pk}/conditions/").content.decode()
    assert "Conditions compared" in page and "Defining sorts of each factor, by condition" in page
    assert "Statements placed most differently: Q1 → Recovery" in page
    assert "S01·Q1" in page and "It flipped for me" in page
    assert "r = -1.00" in page  # S01's sorts are mirror images


def test_a_single_condition_run_page_has_no_condition_section(client, study, researcher):
    from qsort.runs.services import start_run
    from tests.runs_support import add_sorts

    add_sorts(study, 6)
    run = execute(start_run(study, researcher, {"factors": 2, "extraction": "pca", "rotation": "varimax"}))
    client.force_login(researcher)
    assert "Conditions compared" not in client.get(f"/studies/tiny/results/{run.pk}/").content.decode()
    assert client.get(f"/studies/tiny/results/{run.pk}/conditions/").status_code == 404
