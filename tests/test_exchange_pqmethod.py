"""PQMethod .DAT/.STA files: the fixed-width layout of shared/Q-METHOD.md, byte for byte."""

from __future__ import annotations

import csv

import pytest

from qsort.exchange import pqmethod
from tests.conftest import SHARED

LIPSET = SHARED / "reference" / "lipset"
LIPSET_GRID = {-4: 2, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 2}


def lipset_sorts() -> list[tuple[str, list[int]]]:
    with open(LIPSET / "sorts.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    names = rows[0][1:]
    return [(name, [int(row[i + 1]) for row in rows[1:]]) for i, name in enumerate(names)]


def lipset_statements() -> list[str]:
    with open(LIPSET / "statements.csv", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def test_lipset_dat_matches_the_documented_first_lines():
    lines = pqmethod.write_dat("Lipset", LIPSET_GRID, lipset_sorts()).decode("cp1252").split("\r\n")
    assert lines[0] == "  0  9 33 Lipset"
    assert lines[1] == " -4  4  0  0  2  3  4  5  5  5  4  3  2" + "  0" * 9
    assert lines[2] == "US1       -1 0-2 0-2 1 0-1 0-1 1 1 2 3-1-4-3-3-1-4 3 2 3 1 1 0 4 2 2-3-2-2 4"
    assert lines[-1] == "", "every line, the last included, ends with CR LF"
    assert len(lines) == 2 + 9 + 1


def test_every_sort_line_is_exactly_ten_plus_two_n_wide():
    """qmethod's import.pqmethod derives N from this width, so a trailing space would break it."""
    lines = pqmethod.write_dat("Lipset", LIPSET_GRID, lipset_sorts()).decode("cp1252").split("\r\n")[2:-1]
    assert [len(line) for line in lines] == [10 + 2 * 33] * 9
    assert [line[:10] for line in lines[:2]] == ["US1       ", "US2       "]
    header = pqmethod.write_dat("Lipset", LIPSET_GRID, lipset_sorts()).decode("cp1252").split("\r\n")[1]
    assert len(header) == 3 * 22


def test_titles_are_cut_to_68_characters_on_one_line():
    title = "A title\nwith a line break and " + "x" * 100
    first = pqmethod.write_dat(title, {0: 2}, [("a", [0, 0])]).decode("cp1252").split("\r\n")[0]
    assert first.startswith("  0  1  2 A title with a line break and xxx")
    assert len(first) == 10 + 68


def test_sort_names_are_short_unique_and_without_spaces():
    assert pqmethod.sort_names(["P 01", "averyverylongcode", "averyverylongcode", "", "ü"]) == [
        "P01",
        "averyver",
        "averyve2",
        "S4",
        "S5",
    ]


def test_more_than_999_sorts_cannot_be_written():
    with pytest.raises(ValueError, match="at most 999"):
        pqmethod.write_dat("big", {0: 1}, [(f"s{i}", [0]) for i in range(1000)])


def test_sta_is_one_statement_per_line_in_windows_1252():
    data = pqmethod.write_sta(["First, with “quotes”", "Second\nline"])
    assert data == "First, with “quotes”\r\nSecond line\r\n".encode("cp1252")


def test_lipset_round_trips_through_the_readers():
    sorts = lipset_sorts()
    parsed, problems = pqmethod.read_dat(pqmethod.write_dat("Lipset", LIPSET_GRID, sorts))
    assert problems == []
    assert parsed.title == "Lipset"
    assert parsed.n_statements == 33
    assert (parsed.low, parsed.high) == (-4, 4)
    assert parsed.counts == LIPSET_GRID
    assert [(name, list(values)) for name, values in parsed.sorts] == sorts
    statements, problems = pqmethod.read_sta(pqmethod.write_sta(lipset_statements()))
    assert problems == []
    assert statements == lipset_statements()


def test_the_dat_reader_accepts_lf_and_utf8():
    text = "  0  1  2 Ünïcode\n -1  1" + "  0" * 5 + "  1  0  1" + "  0" * 12 + "\nA         -1 1\n"
    parsed, problems = pqmethod.read_dat(text.encode("utf-8"))
    assert problems == []
    assert parsed.title == "Ünïcode"
    assert parsed.counts == {-1: 1, 0: 0, 1: 1}
    assert parsed.sorts == (("A", (-1, 1)),)


def test_the_dat_reader_reports_every_problem_with_its_line():
    good = pqmethod.write_dat("t", {-1: 1, 0: 1, 1: 1}, [("a", [-1, 0, 1]), ("b", [1, 0, -1])]).decode("cp1252")
    lines = good.split("\r\n")[:-1]
    lines[3] = "a          1 0"  # a name used before, and two values instead of three
    lines.append("           x 0 1")
    data = "\r\n".join(lines).encode()
    parsed, problems = pqmethod.read_dat(data)
    assert parsed is None
    assert problems == [
        "Line 4: the name 'a' is used by an earlier sort.",
        "Line 4: expected 3 values of 2 characters after the name, found 4 characters.",
        "Line 5: the sort has no name in its first 10 characters.",
        "Line 5: statement(s) 1 have no whole-number value.",
    ]


def test_the_dat_reader_refuses_a_broken_header():
    parsed, problems = pqmethod.read_dat(b"hello\r\nworld\r\n")
    assert parsed is None
    assert problems[0].startswith("Line 1: expected")
    assert problems[1].startswith("Line 2: expected")


def test_the_sta_reader_reports_empty_lines():
    statements, problems = pqmethod.read_sta(b"one\r\n\r\nthree\r\n\r\n")
    assert statements == ["one", "", "three"]
    assert problems == ["Line 2: the statement is empty."]
