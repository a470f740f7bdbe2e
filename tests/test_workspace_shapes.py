"""Pure helpers: the suggested grid shape, the one statement reader and the one judgement of new statements."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from qsort.exchange.statements import BadImport, read_statements
from qsort.studies.models import Study
from qsort.workspace.grids import suggest_capacities


@given(n=st.integers(min_value=0, max_value=400), half_range=st.integers(min_value=3, max_value=6))
def test_the_suggested_grid_is_symmetric_sums_to_the_deck_and_rises_to_the_centre(n, half_range):
    grid = suggest_capacities(n, half_range)
    capacities = [grid[v] for v in range(-half_range, half_range + 1)]
    assert list(grid) == list(range(-half_range, half_range + 1))
    assert sum(capacities) == n
    assert capacities == capacities[::-1]
    left_half = capacities[: half_range + 1]
    assert left_half == sorted(left_half)
    if n >= 2 * half_range + 1:
        assert min(capacities) >= 1


def test_the_suggestion_for_the_demo_deck_is_a_familiar_shape():
    assert list(suggest_capacities(38, 4).values()) == [2, 3, 5, 6, 6, 6, 5, 3, 2]
    assert list(suggest_capacities(20, 3).values()) == [1, 3, 4, 4, 4, 3, 1]


@pytest.mark.parametrize("half_range", [2, 7])
def test_it_refuses_ranges_the_editor_does_not_offer(half_range):
    with pytest.raises(ValueError, match="range"):
        suggest_capacities(20, half_range)


def rows_from_paste(text: str):
    return read_statements(text=text)


def rows_from_csv(data: bytes):
    return read_statements(upload=SimpleUploadedFile("deck.csv", data, content_type="text/csv"))


def preview_import(rows, existing):
    return Study.judge_statements(rows, existing)


def test_the_preview_flags_empty_lines_and_duplicates_before_anything_is_saved():
    rows = preview_import(
        rows_from_paste("Family matters\n\n  family   MATTERS \nHousing first\nAlready here\n"),
        existing=["already here"],
    )
    by_line = {row.line: row for row in rows}
    assert [row.text for row in rows if row.importable] == ["Family matters", "Housing first"]
    assert by_line[2].problem == "Empty line."
    assert by_line[3].problem == "Same as line 1."
    assert by_line[5].problem == "Already in the deck."


def test_a_csv_with_numbers_is_imported_in_the_order_of_its_numbers_and_a_header_is_skipped():
    data = b'number,text\n2,"Second, with a comma"\n1,First\n2,Another second\n'
    rows = preview_import(rows_from_csv(data), existing=[])
    assert [row.text for row in rows if row.importable] == ["First", "Second, with a comma"]
    assert rows[-1].problem == "Number 2 is also used on line 2."


def test_a_text_only_csv_with_semicolons_and_a_bom_is_read():
    rows = rows_from_csv("\ufefftext;\nOne;\nTwo;\n".encode())
    assert [text for _, _, text in rows] == ["One", "Two"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00b\x00a\x00d", "not UTF-8"),
        (b"x,y,z\n", "Row 1 has 3 cells"),
        (b"word,other words\n", "Row 1 has 2 cells"),
    ],
)
def test_a_bad_csv_is_refused_with_a_message_that_says_what_to_do(data, message):
    with pytest.raises(BadImport, match=message):
        rows_from_csv(data)
