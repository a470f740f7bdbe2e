"""Formula neutralising and safe file names (pure functions)."""

from __future__ import annotations

import pytest

from qsort.exchange.safety import neutralise, restore, safe_filename


@pytest.mark.parametrize("text", ["=1+1", "+44 123", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")'])
def test_text_that_a_spreadsheet_would_run_is_quoted_and_restored(text):
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize("value", [-2, 0, 3.5, None, True, "Plain text", "'Quoted' already", ""])
def test_numbers_and_harmless_text_are_left_alone(value):
    assert neutralise(value) == value
    if isinstance(value, str):
        assert restore(value) == value


@pytest.mark.parametrize(
    ("stem", "extension", "expected"),
    [
        ("relapse-and-recovery-sorts", "csv", "relapse-and-recovery-sorts.csv"),
        ('../../etc/passwd"; x', "csv", "etc-passwd-x.csv"),
        ("Études à Zürich", ".xlsx", "Etudes-a-Zurich.xlsx"),
        ("", "dat", "qsort.dat"),
        ("a" * 200, "json", "a" * 80 + ".json"),
    ],
)
def test_file_names_are_plain_ascii_without_paths_or_quotes(stem, extension, expected):
    assert safe_filename(stem, extension) == expected
