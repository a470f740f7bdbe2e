"""Reading the sorts CSV and the distribution."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_helpers import REFERENCE

from qsort.analysis import AnalysisInputError, read_sorts_csv, read_sorts_text
from qsort.analysis import distribution as dist


def test_it_reads_the_lipset_layout() -> None:
    table = read_sorts_csv(REFERENCE / "lipset" / "sorts.csv")
    assert table.sort_ids == ["US1", "US2", "US3", "US4", "JP5", "CA6", "UK7", "US8", "FR9"]
    assert table.statement_ids[0] == "sta_1" and len(table.statement_ids) == 33
    assert table.values.dtype == np.int64 and table.values.shape == (33, 9)
    assert table.values[0].tolist() == [-1, -1, 2, 3, -4, 1, 2, -2, 3]


def test_it_tolerates_spaces_signs_a_bom_and_blank_lines() -> None:
    table = read_sorts_text("\ufeffstatement_id, a ,b\n\ns1, +1 ,-2\ns2,0,3\n\n")
    assert table.sort_ids == ["a", "b"]
    assert table.values.tolist() == [[1, -2], [0, 3]]


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("statement_id\n", "names no sorts"),
        ("statement_id,a,b\n", "no statements"),
        ("statement_id,a,b\ns1,1,2\ns2,1\n", "line 3 .*'s2'.* 1 values, the header names 2"),
        ("statement_id,a,b\ns1,1,2,3\n", "line 2 .*3 values"),
        ("statement_id,a,b\ns1,1,x\n", "sort 'b', statement 's1'.*'x', not an integer"),
        ("statement_id,a,b\ns1,1,2.5\n", "'2.5', not an integer"),
        ("statement_id,a,b\ns1,,2\n", "sort 'a', statement 's1'.*missing"),
        ("statement_id,a,a\ns1,1,2\n", "sort id 'a' appears more than once"),
        ("statement_id,a,b\ns1,1,2\ns1,2,1\n", "statement id 's1' appears more than once"),
        ("statement_id,a,\ns1,1,2\n", "column 3 of the header has no name"),
        ("statement_id,a,b\n,1,2\n", "line 2 has no statement id"),
    ],
)
def test_it_names_what_is_wrong(text, words) -> None:
    with pytest.raises(AnalysisInputError, match=words):
        read_sorts_text(text)


def test_it_reads_the_distribution_file_and_inline_values() -> None:
    text = (REFERENCE / "synthetic" / "c10_nonforced_2v" / "distribution.csv").read_text()
    grid = dist.parse(text)
    assert grid.size == 30 and (np.diff(grid) >= 0).all()
    assert dist.parse("1,-1,0").tolist() == [-1, 0, 1]
    assert dist.parse([2, 0, 1]).tolist() == [0, 1, 2]
    assert dist.summary(np.array([-1, 0, 0, 1])) == ([-1, 0, 1], [1, 2, 1])
    with pytest.raises(AnalysisInputError, match="empty"):
        dist.parse("value\n")


def test_forced_is_detected() -> None:
    grid, differing = dist.shared_grid(np.array([[1, 2], [2, 1], [3, 3]]))
    assert grid.tolist() == [1, 2, 3] and differing is None
    grid, differing = dist.shared_grid(np.array([[1, 2], [2, 2], [3, 3]]))
    assert grid is None and differing == 1
