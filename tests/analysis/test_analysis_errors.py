"""Bad input gives an AnalysisInputError naming the culprit, never a crash or a NaN."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_helpers import REFERENCE

from qsort.analysis import AnalysisInputError, analyse, read_sorts_csv


@pytest.fixture()
def lipset():
    return read_sorts_csv(REFERENCE / "lipset" / "sorts.csv")


def _run(values, statements, sorts, **options):
    options.setdefault("factors", 2)
    return analyse(values, statements, sorts, **options)


def test_it_is_a_value_error() -> None:
    assert issubclass(AnalysisInputError, ValueError)


def test_it_rejects_a_sort_with_all_equal_values(lipset) -> None:
    x = lipset.values.copy()
    x[:, 4] = 0
    with pytest.raises(AnalysisInputError, match=r"JP5.*same value"):
        _run(x, lipset.statement_ids, lipset.sort_ids, distribution=lipset.values[:, 0])


@pytest.mark.parametrize("bad, words", [(np.nan, "missing"), (None, "missing"), (1.5, "1.5"), ("x", "'x'")])
def test_it_rejects_a_missing_or_non_integer_value(lipset, bad, words) -> None:
    x = lipset.values.astype(object)
    x[2, 3] = bad
    with pytest.raises(AnalysisInputError, match=f"US4.*sta_3.*{words}"):
        _run(x, lipset.statement_ids, lipset.sort_ids)


def test_it_rejects_a_value_outside_the_grid(lipset) -> None:
    x = lipset.values.copy()
    x[5, 1] = 7
    with pytest.raises(AnalysisInputError, match=r"US2.*sta_6.*7 is outside the grid -4\.\.4"):
        _run(x, lipset.statement_ids, lipset.sort_ids, distribution=lipset.values[:, 0])


def test_it_asks_for_the_distribution_when_sorts_do_not_share_one(lipset) -> None:
    x = lipset.values.copy()
    x[0, 2] = 4
    with pytest.raises(AnalysisInputError, match=r"sort .US3. differs.*give the distribution"):
        _run(x, lipset.statement_ids, lipset.sort_ids)
    with pytest.raises(AnalysisInputError, match="3 values for 33 statements"):
        _run(x, lipset.statement_ids, lipset.sort_ids, distribution=[1, 2, 3])
    with pytest.raises(AnalysisInputError, match="distribution value 2"):
        _run(x, lipset.statement_ids, lipset.sort_ids, distribution="1,x,3")


@pytest.mark.parametrize("factors", [10, 33, 0, -1, 2.5])
def test_it_rejects_more_factors_than_the_data_allows(lipset, factors) -> None:
    with pytest.raises(AnalysisInputError, match="factor"):
        _run(lipset.values, lipset.statement_ids, lipset.sort_ids, factors=factors)


def test_it_rejects_factors_the_correlations_do_not_support(lipset) -> None:
    x = np.repeat(lipset.values[:, :2], 3, axis=1)  # 6 sorts, only 2 distinct
    with pytest.raises(AnalysisInputError, match="only support 2"):
        _run(x, lipset.statement_ids, [f"s{i}" for i in range(6)], factors=3)


def test_it_rejects_fewer_than_two_sorts(lipset) -> None:
    with pytest.raises(AnalysisInputError, match="at least 2 sorts"):
        _run(lipset.values[:, :1], lipset.statement_ids, lipset.sort_ids[:1], factors=1)


def test_it_rejects_duplicate_ids(lipset) -> None:
    sorts = list(lipset.sort_ids)
    sorts[3] = "US1"
    with pytest.raises(AnalysisInputError, match="sort id 'US1' appears more than once"):
        _run(lipset.values, lipset.statement_ids, sorts)
    statements = list(lipset.statement_ids)
    statements[7] = "sta_1"
    with pytest.raises(AnalysisInputError, match="statement id 'sta_1' appears more than once"):
        _run(lipset.values, statements, lipset.sort_ids)


def test_it_rejects_ids_that_do_not_fit_the_data(lipset) -> None:
    with pytest.raises(AnalysisInputError, match="8 sort ids for 9 sorts"):
        _run(lipset.values, lipset.statement_ids, lipset.sort_ids[:8])


@pytest.mark.parametrize(
    "options, words",
    [
        ({"extraction": "ml"}, "extraction 'ml'"),
        ({"rotation": "promax"}, "rotation 'promax'"),
        ({"correlation": "cosine"}, "correlation 'cosine'"),
        ({"flag_level": 0.1}, "flag_level"),
        ({"flag_overrides": [("XX9", 1, True)]}, "no sort 'XX9'"),
        ({"flag_overrides": [("US1", 5, True)]}, "factor 5 is not between 1 and 2"),
        ({"pair_rotations": [(1, 1, 10)]}, "two different factors"),
        ({"reflections": [3]}, "reflection: factor 3"),
        ({"split_bipolar": 0}, "split_bipolar: factor 0"),
    ],
)
def test_it_rejects_bad_options(lipset, options, words) -> None:
    with pytest.raises(AnalysisInputError, match=words):
        _run(lipset.values, lipset.statement_ids, lipset.sort_ids, **options)


def test_identical_sorts_give_numbers_not_nan(lipset) -> None:
    x = np.column_stack([lipset.values[:, 0]] * 2 + [lipset.values[:, 1]])
    out = _run(x, lipset.statement_ids, ["a", "b", "c"], factors=1).to_json()
    import json

    json.dumps(out, allow_nan=False)
