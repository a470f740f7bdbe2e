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
    assert "It flipped for me" in page and "Conditions: Q1, Recovery" in page
    assert "S01·Q1" in client.get(f"/studies/tiny/results/{run.pk}/loadings/").content.decode()
    assert "r = -1.00" in page  # S01's sorts are mirror images


def test_a_single_condition_run_page_has_no_condition_section(client, study, researcher):
    from qsort.runs.services import start_run
    from tests.runs_support import add_sorts

    add_sorts(study, 6)
    run = execute(start_run(study, researcher, {"factors": 2, "extraction": "pca", "rotation": "varimax"}))
    client.force_login(researcher)
    assert "Conditions compared" not in client.get(f"/studies/tiny/results/{run.pk}/").content.decode()
    assert client.get(f"/studies/tiny/results/{run.pk}/conditions/").status_code == 404


def test_overview_and_participants_count_sorts_per_condition(client, study, facilitator):
    from qsort.studies.services import submit_sort

    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps recovery?")
    both, first_only = study.invite(codes=["BOTH", "FIRST"])
    for condition in ("Q1", "Recovery"):
        submit_sort(both, [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)], condition=condition)
    submit_sort(first_only, [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)], condition="Q1")
    client.force_login(facilitator)
    overview = client.get("/studies/tiny/")
    assert [(c.label, n) for c, n in overview.context["condition_progress"]] == [("Q1", 2), ("Recovery", 1)]
    assert overview.context["counts"]["completed"] == 1
    assert "What helps recovery?" in overview.content.decode()
    page = client.get("/studies/tiny/participants/").content.decode()
    assert "Completed sorts per condition:" in page
    assert "2 of 2 conditions" in page and "1 of 2 conditions" in page


def test_a_paper_sort_is_entered_for_the_chosen_condition(client, study, facilitator):
    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps recovery?")
    client.force_login(facilitator)
    form = client.get("/studies/tiny/paper-sort/").content.decode()
    assert 'name="condition"' in form and '<option value="Recovery">' in form
    columns = {"col_-1": "1 2", "col_0": "3 4", "col_1": "5 6"}
    response = client.post("/studies/tiny/paper-sort/", {"code": "PAPER", "condition": "Recovery", **columns})
    assert response.status_code == 302
    sort = study.sorts.get(participant__code="PAPER")
    assert sort.condition.label == "Recovery" and sort.entered_by == facilitator
    participant = sort.participant
    assert not participant.is_completed and [c.label for c in participant.conditions_left()] == ["Q1"]
    missing = client.post("/studies/tiny/paper-sort/", {"code": "OTHER", **columns})
    assert "This field is required." in missing.content.decode()
    assert not study.participants.filter(code="OTHER").exists()


def test_the_conditions_editor_adds_renames_reorders_and_removes_before_any_sort(client, study, facilitator):
    client.force_login(facilitator)
    assert "/studies/tiny/conditions/" in client.get("/studies/tiny/settings/").content.decode()
    added = client.post(
        "/studies/tiny/conditions/", {"new-label": "Recovery", "new-question": "What helps?", "new-instructions": ""}
    )
    assert added.status_code == 302
    recovery = study.conditions.get(label="Recovery")
    clash = client.post("/studies/tiny/conditions/", {"new-label": "recovery", "new-question": "Again?"})
    assert clash.status_code == 400 and "Another condition of this study has this label." in clash.content.decode()
    bad = client.post("/studies/tiny/conditions/", {"new-label": "a_b", "new-question": "?"})
    assert bad.status_code == 400 and study.conditions.count() == 2
    client.post(f"/studies/tiny/conditions/{recovery.pk}/move/", {"direction": "up"})
    assert [c.label for c in study.conditions.all()] == ["Recovery", "Q1"]
    client.post(
        f"/studies/tiny/conditions/{recovery.pk}/edit/",
        {f"c{recovery.pk}-label": "Helps", f"c{recovery.pk}-question": "What helps most?"},
    )
    recovery.refresh_from_db()
    assert (recovery.label, recovery.question, recovery.position) == ("Helps", "What helps most?", 1)
    client.post(f"/studies/tiny/conditions/{recovery.pk}/delete/")
    assert [(c.label, c.position) for c in study.conditions.all()] == [("Q1", 1)]


def test_after_a_sort_only_the_texts_of_a_condition_change(client, study, facilitator, stranger, researcher):
    from qsort.studies.services import submit_sort

    second = Condition.objects.create(study=study, position=2, label="Recovery", question="What hepls?")
    submit_sort(study.invite(1)[0], [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)], condition="Q1")
    client.force_login(facilitator)
    page = client.get("/studies/tiny/conditions/").content.decode()
    assert "can no longer be added, renamed" in page and "Add a condition" not in page
    client.post(
        f"/studies/tiny/conditions/{second.pk}/edit/",
        {f"c{second.pk}-label": "Renamed", f"c{second.pk}-question": "What helps?"},
    )
    second.refresh_from_db()
    assert (second.label, second.question) == ("Recovery", "What helps?")  # the typo fixed, the label kept
    client.post(f"/studies/tiny/conditions/{second.pk}/move/", {"direction": "up"})
    client.post(f"/studies/tiny/conditions/{second.pk}/delete/")
    client.post("/studies/tiny/conditions/", {"new-label": "Third", "new-question": "?"})
    assert [(c.label, c.position) for c in study.conditions.all()] == [("Q1", 1), ("Recovery", 2)]
    client.force_login(stranger)
    assert client.get("/studies/tiny/conditions/").status_code == 404
    client.force_login(researcher)
    assert client.post("/studies/tiny/conditions/", {"new-label": "X", "new-question": "?"}).status_code == 403


def test_the_print_page_has_a_score_sheet_per_condition(client, study, facilitator):
    client.force_login(facilitator)
    single = client.get("/studies/tiny/print/").content.decode()
    assert single.count('class="sheet score-sheet"') == 1 and "“What matters most?”" in single
    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps recovery?")
    page = client.get("/studies/tiny/print/").content.decode()
    assert page.count('class="sheet score-sheet"') == 2
    assert "Tiny study · Q1" in page and "Tiny study · Recovery" in page and "“What helps recovery?”" in page
