"""Participant links (create, copy, CSV, QR), states, withdrawal, and paper-sort entry."""

from __future__ import annotations

import csv
import io

import pytest

from qsort.studies.models import Answer, Participant, Sort
from qsort.studies.services import submit_sort
from tests.conftest import make_study

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
FULL_SORT = [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)]


def test_a_facilitator_creates_links_with_codes_and_sees_them_once_to_copy(client, study, facilitator):
    client.force_login(facilitator)
    response = client.post("/studies/tiny/participants/invite/", {"count": 3, "codes": "P01, P02"}, follow=True)
    body = response.content.decode()
    created = list(study.participants.order_by("id"))
    assert [p.code for p in created] == ["P01", "P02", ""]
    assert "3 new links" in body and 'data-copy="#new-links-text"' in body
    for participant in created:
        assert participant.link in body
    again = client.get("/studies/tiny/participants/").content.decode()
    assert "new-links-text" not in again, "the copy box shows the new links once"


def test_the_open_study_link_is_shown_only_when_the_study_allows_it(client, study, facilitator):
    client.force_login(facilitator)
    assert "/s/tiny/" not in client.get("/studies/tiny/participants/").content.decode()
    study.open_link_enabled = True
    study.save(update_fields=["open_link_enabled"])
    page = client.get("/studies/tiny/participants/").content.decode()
    assert 'value="http://127.0.0.1:8000/s/tiny/"' in page


def test_codes_used_twice_are_refused_and_no_link_is_made(client, study, owner):
    study.invite(codes=["P01"])
    client.force_login(owner)
    response = client.post("/studies/tiny/participants/invite/", {"count": 0, "codes": "P01\nP02"}, follow=True)
    assert "used more than once in this study: P01" in response.content.decode()
    assert study.participants.count() == 1
    response = client.post("/studies/tiny/participants/invite/", {"count": 0, "codes": ""}, follow=True)
    assert "Ask for at least one link" in response.content.decode()
    response = client.post("/studies/tiny/participants/invite/", {"count": 501}, follow=True)
    assert "less than or equal to 500" in response.content.decode()
    assert study.participants.count() == 1


def test_the_list_shows_each_state_and_last_save(client, study, owner):
    done, sorting, _invited = study.invite(codes=["DONE", "BUSY", "NEW"])
    submit_sort(done, FULL_SORT)
    Participant.objects.filter(pk=sorting.pk).update(stage="sorting", last_saved_at=done.created_at)
    client.force_login(owner)
    response = client.get("/studies/tiny/participants/")
    stages = {value: n for value, _label, n in response.context["stages"]}
    assert (stages["completed"], stages["sorting"], stages["invited"]) == (1, 1, 1)
    body = response.content.decode()
    assert body.count("stage-dot completed") >= 2 and "Sorting" in body
    filtered = client.get("/studies/tiny/participants/?stage=sorting")
    assert [p.code for p in filtered.context["page"].object_list] == ["BUSY"]


def test_researchers_see_states_but_never_links_or_qr_codes(client, study, researcher):
    participant = study.invite(codes=["P01"])[0]
    client.force_login(researcher)
    body = client.get("/studies/tiny/participants/").content.decode()
    assert "P01" in body
    assert participant.token not in body and "/qr.svg" not in body and "links.csv" not in body
    assert client.get(f"/studies/tiny/participants/{participant.pk}/qr.svg").status_code == 403
    assert client.get("/studies/tiny/participants/links.csv").status_code == 403
    assert client.post(f"/studies/tiny/participants/{participant.pk}/withdraw/").status_code == 403
    assert Participant.objects.filter(pk=participant.pk).exists()


def test_the_links_csv_has_every_participant_and_neutralised_codes(client, study, owner):
    study.invite(codes=["=HYPERLINK(1)", "P02"])
    client.force_login(owner)
    response = client.get("/studies/tiny/participants/links.csv")
    assert response["Content-Disposition"] == 'attachment; filename="tiny-links.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["participant", "code", "stage", "link", "last_saved_at", "completed_at"]
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(1)", "P02"]
    assert {row[3] for row in rows[1:]} == {p.link for p in study.participants.all()}


def test_each_link_has_a_qr_code_as_svg(client, study, owner):
    participant = study.invite(count=1)[0]
    client.force_login(owner)
    response = client.get(f"/studies/tiny/participants/{participant.pk}/qr.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content and b"<path" in response.content
    other = make_study(owner, slug="other").invite(count=1)[0]
    assert client.get(f"/studies/tiny/participants/{other.pk}/qr.svg").status_code == 404


def test_withdrawing_asks_first_then_deletes_the_participant_and_their_sort(client, study, facilitator):
    question = study.questions.create(text="Why?", position=1)
    participant = study.invite(codes=["P01"])[0]
    submit_sort(participant, FULL_SORT, answers={question.pk: "Because"})
    client.force_login(facilitator)
    confirm = client.get(f"/studies/tiny/participants/{participant.pk}/withdraw/").content.decode()
    assert "Withdraw P01?" in confirm and "completed sort" in confirm
    assert Participant.objects.filter(pk=participant.pk).exists()
    response = client.post(f"/studies/tiny/participants/{participant.pk}/withdraw/", follow=True)
    assert "P01 is withdrawn" in response.content.decode()
    assert not Participant.objects.filter(pk=participant.pk).exists()
    assert not Sort.objects.exists() and not Answer.objects.exists()


def test_the_list_of_5000_participants_takes_a_bounded_number_of_queries(
    client, study, owner, django_assert_max_num_queries
):
    Participant.objects.bulk_create(Participant(study=study, code=f"C{i:05d}") for i in range(5000))
    client.force_login(owner)
    with django_assert_max_num_queries(7):  # one of them counts the sorts per condition
        response = client.get("/studies/tiny/participants/?page=3")
    assert response.context["total"] == 5000
    assert len(response.context["page"].object_list) == 100
    assert "C00200" in response.content.decode()


# --- paper sorts -------------------------------------------------------------------------------


def columns(**by_column: str) -> dict:
    """col_-1=..., written as m1="1 2", z="3,4", p1="5;6"."""
    names = {"m1": -1, "z": 0, "p1": 1}
    return {f"col_{names[key]}": value for key, value in by_column.items()}


def test_a_paper_sort_typed_column_by_column_is_stored_for_a_new_participant(client, study, facilitator):
    client.force_login(facilitator)
    response = client.post("/studies/tiny/paper-sort/", {"code": "ROOM-1", **columns(m1="1, 2", z="3 4", p1="5;6")})
    assert response.status_code == 302
    participant = study.participants.get(code="ROOM-1")
    assert participant.stage == "completed"
    assert participant.sorts.get().entered_by == facilitator
    assert participant.sorts.get().values_by_number() == dict(FULL_SORT)


def test_a_paper_sort_with_a_value_per_statement_goes_to_a_chosen_participant(client, study, owner):
    participant = study.invite(codes=["P07"])[0]
    client.force_login(owner)
    page = client.get(f"/studies/tiny/paper-sort/?participant={participant.pk}&mode=values").content.decode()
    assert "P07" in page and 'name="s_6"' in page
    data = {"mode": "values", "participant": participant.pk, **{f"s_{n}": str(v) for n, v in FULL_SORT}}
    client.post("/studies/tiny/paper-sort/", data)
    participant.refresh_from_db()
    assert participant.is_completed and participant.sorts.get().entered_by_facilitator


def test_live_validation_uses_the_one_sort_validator_and_stores_nothing(client, study, owner):
    client.force_login(owner)
    response = client.post("/studies/tiny/paper-sort/", {"code": "X", **columns(m1="1, 1, 9", z="3 4")}, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="feedback"')
    assert "Statement 1 is placed twice." in body
    assert "Statement 9 is not part of this study." in body
    assert "Statements 2, 5, 6 are not placed yet." in body
    response = client.post("/studies/tiny/paper-sort/", {"code": "X", **columns(m1="1 2", z="3 4", p1="5 6")}, **HTMX)
    assert "complete and valid" in response.content.decode()
    assert not Participant.objects.exists()


def test_an_invalid_paper_sort_is_not_stored_and_keeps_what_was_typed(client, study, owner):
    client.force_login(owner)
    response = client.post("/studies/tiny/paper-sort/", {"code": "ROOM-2", **columns(m1="1 2 3", z="4", p1="5 6")})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Column -1 holds 3 cards, capacity 2." in body
    assert 'value="1 2 3"' in body
    assert not Participant.objects.filter(code="ROOM-2").exists()


def test_a_completed_participant_cannot_get_a_second_paper_sort(client, study, owner):
    participant = study.invite(codes=["P01"])[0]
    submit_sort(participant, FULL_SORT)
    client.force_login(owner)
    response = client.post("/studies/tiny/paper-sort/", {"code": "P01", **columns(m1="3 4", z="1 2", p1="5 6")})
    assert "has already completed a sort" in response.content.decode()
    assert participant.sorts.get().values_by_number() == dict(FULL_SORT)
    assert client.get(f"/studies/tiny/paper-sort/?participant={participant.pk}").status_code == 404


def test_the_print_page_has_every_card_and_a_score_sheet_of_the_grid(client, demo_study):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="facilitator"))
    response = client.get("/studies/relapse-and-recovery/print/")
    body = response.content.decode()
    assert len(response.context["pages"]) == 5  # 38 cards, 8 per A4 sheet
    assert body.count('class="print-card"') == 38
    assert body.count('class="score-box"') == 38
    assert "Being a parent gives me a reason to keep going." in body
