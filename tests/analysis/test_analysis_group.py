"""The group picture shown in the room: hand-computed small cases and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qsort.analysis.group import (
    MIN_GROUP_SORTS,
    GroupTooSmall,
    defining_counts,
    group_summary,
    largest_differences,
    strong_thresholds,
)

GRID = (-2, -1, 0, 1, 2)
# Five statements sorted by four people (columns), on a -2..+2 grid with capacities 1/1/1/1/1.
FOUR_SORTS = np.array(
    [
        [2, 2, 1, 2],  # 1: everyone agrees: mean 1.75
        [-2, -1, -2, -2],  # 2: everyone rejects: mean -1.75
        [1, -2, 2, -1],  # 3: polarised (-2 and +2), mean 0
        [0, 0, 0, 0],  # 4: unanimous neutral: never split
        [-1, 1, -1, 1],  # 5: spread 1, not polarised
    ]
)


def test_it_ranks_agreement_rejection_and_splits_as_worked_out_by_hand():
    summary = group_summary(FOUR_SORTS, GRID, shown=3)
    assert summary.n_sorts == 4
    assert summary.means.tolist() == [1.75, -1.75, 0.0, 0.0, 0.0]
    # Population SD of [1,-2,2,-1]: mean 0, squares 1+4+4+1 = 10, /4 = 2.5.
    assert summary.spreads[2] == pytest.approx(np.sqrt(2.5))
    assert summary.spreads[3] == 0 and summary.spreads[4] == pytest.approx(1.0)
    # Only statement 1 leans to agree and only 2 to disagree; the zeros belong to neither list.
    assert summary.agree_most == (0,)
    assert summary.reject_most == (1,)
    # Polarised statement 3 first, then the widest spread; unanimous statement 4 is left out.
    assert summary.split == (2, 4, 0)
    assert summary.polarised.tolist() == [False, False, True, False, False]


def test_agreement_ranks_by_mean_then_by_the_smallest_spread():
    values = np.array([[1, 1, 1], [2, 0, 1], [2, 2, 2], [-1, 0, 0]])
    summary = group_summary(values, GRID)
    assert summary.agree_most == (2, 0, 1), "means 2, then two at 1: the unanimous one first"
    assert summary.reject_most == (3,)


def test_the_heat_map_counts_each_column_and_adds_up_to_the_group():
    summary = group_summary(FOUR_SORTS, GRID)
    assert summary.columns == GRID
    assert summary.counts[0].tolist() == [0, 0, 0, 1, 3]
    assert summary.counts[2].tolist() == [1, 1, 0, 1, 1]
    assert (summary.counts.sum(axis=1) == 4).all()


def test_it_refuses_a_group_too_small_to_hide_one_person():
    with pytest.raises(GroupTooSmall, match="at least 3 sorts"):
        group_summary(FOUR_SORTS[:, : MIN_GROUP_SORTS - 1], GRID)


def test_it_refuses_values_off_the_grid():
    with pytest.raises(ValueError, match="value 3 is not a column"):
        group_summary(FOUR_SORTS + 1, GRID)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ((-4, -3, -2, -1, 0, 1, 2, 3, 4), (-3, 3)),
        ((-3, -2, -1, 0, 1, 2, 3), (-2, 2)),
        ((-2, -1, 0, 1, 2), (-2, 2)),
        ((-1, 0, 1), (-1, 1)),
        ((-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6), (-4, 5)),
    ],
)
def test_strong_means_the_two_outer_columns_or_the_outermost_on_a_grid_short_of_3(columns, expected):
    assert strong_thresholds(columns) == expected


def test_largest_differences_skip_equal_rows_and_keep_deck_order_among_ties():
    assert largest_differences([4, 0, -3, 1], [1, 0, 0, 2], shown=5) == (0, 2, 3)


sorts = st.integers(min_value=3, max_value=8).flatmap(lambda n: st.lists(st.permutations(GRID), min_size=n, max_size=n))


@settings(max_examples=60, deadline=None)
@given(sorts)
def test_reversing_every_sort_swaps_agreement_and_rejection(columns):
    values = np.array(columns).T
    summary, mirrored = group_summary(values, GRID), group_summary(-values, GRID)
    assert summary.agree_most == mirrored.reject_most
    assert summary.split == mirrored.split
    assert np.allclose(summary.spreads, mirrored.spreads)


@settings(max_examples=60, deadline=None)
@given(sorts, st.randoms())
def test_the_order_of_the_people_does_not_matter(columns, rng):
    values = np.array(columns).T
    shuffled = values[:, rng.sample(range(values.shape[1]), values.shape[1])]
    a, b = group_summary(values, GRID), group_summary(shuffled, GRID)
    assert (a.agree_most, a.reject_most, a.split) == (b.agree_most, b.reject_most, b.split)
    assert (a.counts == b.counts).all()


def test_defining_counts_tally_each_factors_defining_sorts_by_group():
    flags = [[True, False], [False, True], [True, False], [False, False], [True, False]]
    groups = ["Group A", "Group A", "Group B", "Group B", "none"]
    counts = defining_counts(flags, groups, ["Group A", "Group B"])
    # Factor 1: sorts 1 (A), 3 (B) and 5 (in no listed group); factor 2: sort 2 (A).
    assert counts.tolist() == [[1, 1], [1, 0]]
    assert defining_counts(flags, groups, []).shape == (2, 0)
    with pytest.raises(ValueError, match="one group per sort"):
        defining_counts(flags, groups[:-1], ["Group A"])
