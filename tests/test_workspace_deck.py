"""Deck editor (htmx add, edit, reorder, delete; bulk import with preview; the lock) and grid editor."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qsort.studies.models import Statement
from qsort.studies.services import submit_sort
from tests.conftest import make_study

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
FULL_SORT = [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)]


@pytest.fixture
def draft(owner, facilitator):
    from qsort.studies.models import Collaborator

    study = make_study(owner, slug="draft", status="draft", n_statements=3, grid={-1: 1, 0: 1, 1: 1})
    Collaborator.objects.create(study=study, user=facilitator, role="facilitator")
    return study


def texts(study) -> list[str]:
    return list(study.statements.order_by("position", "number").values_list("text", flat=True))


def test_adding_a_statement_with_htmx_returns_the_deck_partial(client, draft, facilitator):
    client.force_login(facilitator)
    response = client.post("/studies/draft/deck/add/", {"new-text": "  A  new\nstatement "}, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="deck"')
    assert "<html" not in body
    assert draft.statements.get(number=4).text == "A new statement"
    assert "4 statements" in body


def test_an_empty_statement_is_refused_with_a_message(client, draft, owner):
    client.force_login(owner)
    response = client.post("/studies/draft/deck/add/", {"new-text": "   "}, **HTMX)
    assert "This field is required." in response.content.decode()
    assert draft.statements.count() == 3


def test_statement_text_with_html_is_shown_as_text(client, draft, owner):
    draft.add_statement("<script>alert(1)</script> & <b>bold</b>")
    client.force_login(owner)
    body = client.get("/studies/draft/deck/").content.decode()
    assert "<script>alert(1)</script>" not in body and "<b>bold</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body


def test_editing_deleting_and_moving_statements(client, draft, owner):
    client.force_login(owner)
    first, second, third = draft.statements.order_by("number")
    form = client.get(f"/studies/draft/deck/{first.pk}/edit/", **HTMX).content.decode()
    assert f'name="s{first.pk}-text"' in form and "<html" not in form
    assert "<html" in client.get(f"/studies/draft/deck/{first.pk}/edit/").content.decode(), "works without JavaScript"
    client.post(f"/studies/draft/deck/{first.pk}/edit/", {f"s{first.pk}-text": "Statement one, fixed"}, **HTMX)
    client.post(f"/studies/draft/deck/{third.pk}/move/", {"direction": "up"}, **HTMX)
    assert texts(draft) == ["Statement one, fixed", "Statement number 3", "Statement number 2"]
    client.post("/studies/draft/deck/reorder/", {"order": [second.pk, first.pk, third.pk]}, **HTMX)
    assert texts(draft) == ["Statement number 2", "Statement one, fixed", "Statement number 3"]
    client.post(f"/studies/draft/deck/{second.pk}/delete/", **HTMX)
    assert list(draft.statements.values_list("number", flat=True)) == [1, 3]


def test_an_invalid_edit_stays_in_its_row(client, draft, owner):
    client.force_login(owner)
    statement = draft.statements.get(number=1)
    response = client.post(f"/studies/draft/deck/{statement.pk}/edit/", {f"s{statement.pk}-text": ""}, **HTMX)
    assert response["HX-Retarget"] == f"#statement-{statement.pk}"
    assert "This field is required." in response.content.decode()
    statement.refresh_from_db()
    assert statement.text == "Statement number 1"


def test_another_studys_statement_is_404(client, draft, owner, stranger):
    other = make_study(stranger, slug="theirs", status="draft")
    theirs = other.statements.first()
    client.force_login(owner)
    assert client.post(f"/studies/draft/deck/{theirs.pk}/delete/", **HTMX).status_code == 404
    assert Statement.objects.filter(pk=theirs.pk).exists()


def test_after_the_first_sort_the_deck_is_locked_but_typos_can_be_fixed(client, study, owner):
    submit_sort(study.invite(count=1)[0], FULL_SORT)
    client.force_login(owner)
    page = client.get("/studies/tiny/deck/").content.decode()
    assert "The deck is locked" in page
    assert "/deck/add/" not in page and "drag-handle" not in page
    response = client.post("/studies/tiny/deck/add/", {"new-text": "Too late"}, **HTMX)
    assert "The deck is locked" in response.content.decode()
    statement = study.statements.get(number=2)
    response = client.post(f"/studies/tiny/deck/{statement.pk}/delete/", **HTMX)
    assert "The deck is locked" in response.content.decode()
    response = client.post(f"/studies/tiny/deck/{statement.pk}/move/", {"direction": "up"}, **HTMX)
    assert "The deck is locked" in response.content.decode()
    response = client.post("/studies/tiny/deck/import/", {"text": "New one"}, **HTMX)
    assert "The deck is locked" in response.content.decode()
    client.post(f"/studies/tiny/deck/{statement.pk}/edit/", {f"s{statement.pk}-text": "Statement number two"}, **HTMX)
    assert study.statements.count() == 6
    assert study.statements.get(number=2).text == "Statement number two"
    assert list(study.statements.order_by("position").values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6]


def test_a_pasted_list_is_previewed_then_imported_on_confirmation(client, draft, owner):
    client.force_login(owner)
    pasted = "Housing first\n\nStatement number 1\nHousing first\n<i>Work</i> helps"
    response = client.post("/studies/draft/deck/import/", {"text": pasted}, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="import"')
    assert "Empty line. Skipped." in body
    assert "Already in the deck. Skipped." in body
    assert "Same as line 1. Skipped." in body
    assert "&lt;i&gt;Work&lt;/i&gt; helps" in body and "<i>Work</i>" not in body
    assert draft.statements.count() == 3, "nothing is saved by the preview"
    assert "Add 2 statements" in body

    confirmed = {"statement": ["Housing first", "<i>Work</i> helps"]}
    response = client.post("/studies/draft/deck/import/confirm/", confirmed, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="deck"')
    assert "2 statements imported." in body
    assert '<section class="card" id="import" aria-labelledby="import-heading" hx-swap-oob="true">' in body
    assert texts(draft)[-2:] == ["Housing first", "<i>Work</i> helps"]
    assert list(draft.statements.values_list("number", flat=True)) == [1, 2, 3, 4, 5]


def test_confirming_twice_does_not_import_twice(client, draft, owner):
    client.force_login(owner)
    for _ in range(2):
        response = client.post("/studies/draft/deck/import/confirm/", {"statement": ["Once only"]}, follow=True)
    assert "0 statements imported." in response.content.decode()
    assert draft.statements.filter(text="Once only").count() == 1


def test_a_csv_upload_is_previewed_in_the_order_of_its_numbers(client, draft, owner):
    client.force_login(owner)
    upload = SimpleUploadedFile("deck.csv", b'number,text\n2,"Second, quoted"\n1,First\n', content_type="text/csv")
    response = client.post("/studies/draft/deck/import/", {"file": upload})
    assert [row.text for row in response.context["preview"]] == ["First", "Second, quoted"]
    assert draft.statements.count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfe\x00\x00binary", "not UTF-8"), (b"a,b,c\n", "Row 1 has 3 cells")],
)
def test_a_bad_csv_gets_a_clear_error_and_nothing_is_saved(client, draft, owner, content, message):
    client.force_login(owner)
    upload = SimpleUploadedFile("deck.csv", content, content_type="text/csv")
    response = client.post("/studies/draft/deck/import/", {"file": upload}, **HTMX)
    assert message in response.content.decode()
    assert draft.statements.count() == 3


def test_an_empty_import_asks_for_something(client, draft, owner):
    client.force_login(owner)
    response = client.post("/studies/draft/deck/import/", {"text": "  "}, **HTMX)
    assert "Paste some statements or choose a CSV file." in response.content.decode()


# --- grid --------------------------------------------------------------------------------------


def grid_post(half_range: int, capacities: list[int], **extra) -> dict:
    data = {"half_range": half_range, "distribution": "forced", **extra}
    data.update({f"cap_{v}": c for v, c in zip(range(-half_range, half_range + 1), capacities, strict=True)})
    return data


def test_saving_a_grid_that_fits_the_deck(client, owner):
    study = make_study(owner, status="draft", n_statements=20, grid={0: 1})
    client.force_login(owner)
    response = client.post("/studies/tiny/grid/", grid_post(3, [1, 3, 4, 4, 4, 3, 1]), follow=True)
    assert "Grid saved." in response.content.decode()
    assert study.grid() == {-3: 1, -2: 3, -1: 4, 0: 4, 1: 4, 2: 3, 3: 1}


def test_a_grid_that_does_not_sum_is_saved_with_a_warning_and_the_study_cannot_open(client, owner):
    study = make_study(owner, status="draft", n_statements=20, grid={0: 1})
    client.force_login(owner)
    response = client.post("/studies/tiny/grid/", grid_post(3, [1, 1, 1, 1, 1, 1, 1]), follow=True)
    assert "It holds 7 cards but the deck has 20 statements" in response.content.decode()
    response = client.post("/studies/tiny/open/", follow=True)
    assert "the column capacities must add up to the number of statements" in response.content.decode()
    study.refresh_from_db()
    assert study.status == "draft"


def test_a_grid_with_a_missing_or_negative_capacity_is_refused(client, owner):
    study = make_study(owner, status="draft", n_statements=7, grid={-1: 2, 0: 3, 1: 2})
    client.force_login(owner)
    data = grid_post(3, [1, 1, 1, 1, 1, 1, 1])
    data["cap_2"] = ""
    response = client.post("/studies/tiny/grid/", data)
    assert "Give every column a capacity" in response.content.decode()
    response = client.post("/studies/tiny/grid/", grid_post(3, [1, 1, 1, 1, 1, 1, -1]))
    assert "greater than or equal to 0" in response.content.decode()
    assert study.grid() == {-1: 2, 0: 3, 1: 2}


def test_the_live_picture_redraws_as_capacities_are_typed(client, owner):
    make_study(owner, status="draft", n_statements=20, grid={0: 1})
    client.force_login(owner)
    response = client.post("/studies/tiny/grid/picture/", grid_post(3, [1, 2, 3, 4, 3, 2, 1]), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="grid-picture"')
    assert body.count('class="box"') == 16
    assert "16 places for 20 statements: 4 too few." in body


def test_suggest_fills_in_a_quasi_normal_shape_for_the_deck(client, owner):
    study = make_study(owner, status="draft", n_statements=38, grid={0: 1})
    client.force_login(owner)
    response = client.post("/studies/tiny/grid/suggest/", grid_post(4, [0] * 9), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="grid-editor"')
    shown = [int(re.search(rf'name="cap_{v}" id="id_cap_{v}" value="(\d+)"', body).group(1)) for v in range(-4, 5)]
    assert shown == [2, 3, 5, 6, 6, 6, 5, 3, 2]
    assert "38 places for 38 statements." in body
    assert study.grid() == {0: 1}, "a suggestion is not saved until the facilitator saves it"
    response = client.post("/studies/tiny/grid/suggest/", grid_post(4, [0] * 9), follow=True)  # without JavaScript
    assert "A suggested shape for 38 statements: save it to keep it." in response.content.decode()
    assert 'name="cap_0" id="id_cap_0" value="6"' in response.content.decode()
    assert study.grid() == {0: 1}


def test_the_grid_cannot_change_after_the_first_sort(client, study, owner):
    submit_sort(study.invite(count=1)[0], FULL_SORT)
    client.force_login(owner)
    assert "The grid is locked" in client.get("/studies/tiny/grid/").content.decode()
    response = client.post("/studies/tiny/grid/", grid_post(3, [0, 1, 1, 2, 1, 1, 0]), follow=True)
    assert "participants have sorted on it" in response.content.decode()
    assert study.grid() == {-1: 2, 0: 2, 1: 2}
