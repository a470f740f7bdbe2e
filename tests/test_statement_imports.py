"""One statement importer: the deck page and the Data page accept and refuse the same pastes and
files, with the same verdicts, and the API and the model refuse what the previews skip."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qsort.studies.models import Statement, StatementsRefused, Study

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]

DECK_PAGE = ("/studies/tiny/deck/import/", "/studies/tiny/deck/import/confirm/")
DATA_PAGE = ("/studies/tiny/data/import/statements/", "/studies/tiny/data/import/statements/confirm/")
TOO_LONG = "x" * (Statement.MAX_LENGTH + 1)

# (what is given, the statements the preview would add, the verdicts on the other lines, an error)
CASES = [
    ("Housing first\nWork helps\n", ["Housing first", "Work helps"], [], ""),
    (
        "Housing first\n\nStatement number 1\nhousing   FIRST\n",
        ["Housing first"],
        ["Empty line.", "Already in the deck.", "Same as line 1."],
        "",
    ),
    (f"Fine\n{TOO_LONG}\n", ["Fine"], [f"Longer than {Statement.MAX_LENGTH} characters: shorten it first."], ""),
    ("'=SUM(A1)\n", ["=SUM(A1)"], [], ""),  # the quote our own exports add is taken off again
    ("<b>bold</b>  and\tspaced\n", ["<b>bold</b> and spaced"], [], ""),
    ("   \n", [], [], "Paste some statements or choose a CSV file."),
    (
        "\n".join(f"S{i}" for i in range(Study.MAX_STATEMENTS + 1)),
        [],
        [],
        f"At most {Study.MAX_STATEMENTS} statements can be imported at once ({Study.MAX_STATEMENTS + 1} given).",
    ),
]
FILES = [
    (b'number,text\n2,"Second, quoted"\n1,First\n', ["First", "Second, quoted"], [], ""),
    (b"text\r\nOne\r\none\r\n", ["One"], ["Same as line 2."], ""),
    (b"a,b,c\n", [], [], "Row 1 has 3 cells."),
    (b"\xff\xfe\x00\x00binary", [], [], "The file is not UTF-8 text."),
]


def verdicts(page: str) -> tuple[list[str], list[str], str]:
    """What a preview shows: the statements its confirm button sends, the skipped lines' reasons, an error."""
    added = [html.unescape(v) for v in re.findall(r'name="statement" value="([^"]*)"', page)]
    skipped = [html.unescape(v) for v in re.findall(r'<span class="flag">(.*?) Skipped\.</span>', page, re.S)]
    error = re.search(r'class="(?:message )?error" role="alert">(.*?)</p>', page, re.S)
    return added, skipped, html.unescape(error.group(1)) if error else ""


def preview(client, page: tuple[str, str], data: dict) -> tuple[list[str], list[str], str]:
    return verdicts(client.post(page[0], data).content.decode())


@pytest.mark.parametrize(("given", "added", "skipped", "error"), CASES)
def test_both_pages_judge_a_paste_the_same_way(client, facilitator, study, given, added, skipped, error):
    client.force_login(facilitator)
    for page in (DECK_PAGE, DATA_PAGE):
        shown_added, shown_skipped, shown_error = preview(client, page, {"text": given})
        assert shown_added == added, page
        assert shown_skipped == skipped, page
        assert error in shown_error and bool(shown_error) == bool(error), page
    assert study.statements.count() == 6  # previews save nothing


@pytest.mark.parametrize(("content", "added", "skipped", "error"), FILES)
def test_both_pages_judge_a_file_the_same_way(client, facilitator, study, content, added, skipped, error):
    client.force_login(facilitator)
    for page in (DECK_PAGE, DATA_PAGE):
        upload = SimpleUploadedFile("deck.csv", content, content_type="text/csv")
        shown_added, shown_skipped, shown_error = preview(client, page, {"file": upload})
        assert (shown_added, shown_skipped) == (added, skipped), page
        assert error in shown_error and bool(shown_error) == bool(error), page


@pytest.mark.parametrize("page", [DECK_PAGE, DATA_PAGE])
def test_confirming_on_either_page_adds_what_the_preview_showed_once(client, facilitator, study, page):
    client.force_login(facilitator)
    added, _skipped, _error = preview(client, page, {"text": "Housing first\n\nStatement number 1\nWork helps"})
    for _ in range(2):  # a double click adds nothing twice
        client.post(page[1], {"statement": added})
    assert list(study.statements.filter(number__gt=6).values_list("number", "text")) == [
        (7, "Housing first"),
        (8, "Work helps"),
    ]


def test_a_file_over_the_upload_limit_is_refused_by_both_pages_before_it_is_read(client, facilitator, study, settings):
    settings.QSORT_MAX_UPLOAD_BYTES = 100
    client.force_login(facilitator)
    for page in (DECK_PAGE, DATA_PAGE):
        upload = SimpleUploadedFile("big.csv", b"A statement\n" * 20, content_type="text/csv")
        _added, _skipped, error = preview(client, page, {"file": upload})
        assert error == "The file big.csv is 240\xa0bytes; files up to 100\xa0bytes can be imported. Nothing was saved."


def test_the_api_and_the_model_refuse_what_the_previews_skip(client_for, facilitator, study):
    client = client_for(facilitator)
    deck = [{"text": "Alpha"}, {"text": "Beta"}, {"text": " alpha "}, {"text": ""}]
    response = client.patch("/api/studies/tiny/", {"statements": deck[:3]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"statements": ["Statement 3: Same as line 1."]}
    response = client.patch("/api/studies/tiny/", {"statements": [{"text": TOO_LONG}]}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "statements": {"0": {"text": [f"Ensure this field has no more than {Statement.MAX_LENGTH} characters."]}}
    }
    assert study.statements.count() == 6  # nothing replaced
    response = client_for(facilitator).post("/api/studies/tiny/statements/", {"text": "statement NUMBER 1"})
    assert response.status_code == 400
    assert response.json() == {"text": ["Statement 1: Already in the deck."]}
    with pytest.raises(StatementsRefused):
        study.add_statements(["New", "new"])
    assert study.statements.count() == 6


def test_a_deck_never_grows_beyond_its_limit(study):
    study.add_statements(f"Extra {i}" for i in range(Study.MAX_STATEMENTS - 6))
    rows = study.preview_statements([(1, None, "One too many")])
    assert rows[0].problem == f"A deck holds at most {Study.MAX_STATEMENTS} statements."
    with pytest.raises(StatementsRefused):
        study.add_statement("One too many")


def test_replacing_the_deck_numbers_it_afresh_from_one(study):
    study.replace_deck(["Alpha", "  Beta  "])
    assert list(study.statements.values_list("number", "position", "text")) == [(1, 1, "Alpha"), (2, 2, "Beta")]
