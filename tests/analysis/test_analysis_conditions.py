"""The condition views, against small cases computed by hand, plus properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qsort.analysis.conditions import compare_conditions, signed_rank, significance
from qsort.analysis.errors import AnalysisInputError


def test_signed_rank_on_a_hand_computed_case():
    # |d| ranks 1..5; positive ranks 1+2+3+4 = 10, negative 5: W = 5, r = (10 - 5) / 15.
    # Exact null: 10 of the 32 sign patterns have a rank sum <= 5, so p = 2 * 10/32.
    statistic, p, effect = signed_rank(np.array([1, 2, 3, 4, -5]))
    assert statistic == 5
    assert p == pytest.approx(0.625)
    assert effect == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "n, p, mark",
    [(5, 2 / 32, ""), (6, 2 / 64, "*"), (8, 2 / 256, "**")],
)
def test_every_change_upward_gives_r_one_and_the_exact_p(n, p, mark):
    statistic, p_value, effect = signed_rank(np.arange(1, n + 1))
    assert statistic == 0 and effect == 1.0
    assert p_value == pytest.approx(p)
    assert significance(p_value) == mark


@pytest.mark.parametrize("seed", range(8))
def test_tied_differences_get_scipys_exact_p_without_its_permutation_test(seed):
    # Grid differences tie nearly always; SciPy re-ranks all 2**n sign patterns for them (n <= 13),
    # seconds per statement at n = 13. Ours counts the same null by convolution: same p, exactly.
    from scipy import stats

    rng = np.random.default_rng(seed)
    d = rng.integers(-3, 4, size=int(rng.integers(3, 11))).astype(float)
    d[0] = d[1] = 2.0  # at least one tie
    statistic, p, _ = signed_rank(d)
    expected = stats.wilcoxon(d[d != 0], zero_method="wilcox")
    assert statistic == expected.statistic
    assert p == pytest.approx(expected.pvalue, abs=1e-15)


def test_no_change_at_all_is_no_test():
    assert signed_rank(np.zeros(4)) == (None, None, None)
    assert significance(None) == ""


def two_condition_case():
    """Four statements, two people (A, B), conditions R then H; A moves, B hardly."""
    #                 A·R  A·H  B·R  B·H
    data = np.array([[-1, 1, -1, -1], [0, 0, 0, 1], [0, 0, 0, 0], [1, -1, 1, 0]])
    participants = ["A", "A", "B", "B"]
    conditions = ["R", "H", "R", "H"]
    flags = np.array([[True, False], [False, True], [True, False], [True, False]])
    return data, participants, conditions, flags


def test_the_three_views_on_a_hand_computed_case():
    data, participants, conditions, flags = two_condition_case()
    result = compare_conditions(data, ["s1", "s2", "s3", "s4"], participants, conditions, ["R", "H"], flags)
    # factor x condition: factor 1 is defined by A·R, B·R (R) and B·H (H); factor 2 by A·H.
    assert result.factor_counts.tolist() == [[2, 1], [0, 1]]

    a, b = result.persons
    assert (a.participant, a.first, a.second) == ("A", "R", "H")
    assert a.correlation == pytest.approx(-1.0)  # A reversed statements 1 and 4 exactly
    assert (a.factors_first, a.factors_second) == ((1,), (2,))
    assert a.moved == (("s1", -1, 1), ("s4", 1, -1))
    # B: R = (-1, 0, 0, 1), H = (-1, 1, 0, 0): r = 0.5 by hand (covariance 1/4 over variances 1/2)
    assert b.correlation == pytest.approx(0.5)
    assert b.moved == (("s2", 0, 1), ("s4", 1, 0))

    shifts = {s.statement: s for s in result.shifts}
    assert shifts["s4"].difference == pytest.approx(-1.5)  # changes -2 and -1
    assert (shifts["s4"].mean_first, shifts["s4"].mean_second) == (1.0, -0.5)
    assert shifts["s4"].effect == -1.0 and shifts["s4"].pairs == 2
    assert shifts["s3"].p is None and shifts["s3"].significance == ""
    assert result.shifts[0].statement == "s4"  # the largest |difference| first


def test_swapping_the_two_labels_swaps_every_sign():
    data, participants, conditions, flags = two_condition_case()
    ids = ["s1", "s2", "s3", "s4"]
    plain = compare_conditions(data, ids, participants, conditions, ["R", "H"], flags)
    swapped = compare_conditions(data, ids, participants, ["H", "R", "H", "R"], ["R", "H"], flags)
    before = {s.statement: s for s in plain.shifts}
    for shift in swapped.shifts:
        assert shift.difference == -before[shift.statement].difference
    assert swapped.factor_counts.tolist() == plain.factor_counts[:, ::-1].tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.integers(3, 9), st.integers(0, 2**31 - 1))
def test_property_swapping_condition_labels_negates_differences_and_effects(people, statements, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(-3, 4, size=(statements, 2 * people))
    participants = [f"P{i}" for i in range(people) for _ in range(2)]
    conditions = ["Relapse", "Recovery"] * people
    swapped = ["Recovery", "Relapse"] * people
    flags = rng.random((2 * people, 2)) > 0.6
    ids = [str(i) for i in range(1, statements + 1)]
    order = ["Relapse", "Recovery"]
    plain = {s.statement: s for s in compare_conditions(data, ids, participants, conditions, order, flags).shifts}
    other = {s.statement: s for s in compare_conditions(data, ids, participants, swapped, order, flags).shifts}
    for sid, shift in plain.items():
        assert other[sid].difference == pytest.approx(-shift.difference)
        assert (other[sid].mean_first, other[sid].mean_second) == (shift.mean_second, shift.mean_first)
        if shift.effect is None:
            assert other[sid].effect is None and other[sid].p is None
        else:
            assert other[sid].effect == pytest.approx(-shift.effect)
            assert other[sid].p == pytest.approx(shift.p)
            assert -1 <= shift.effect <= 1 and 0 < shift.p <= 1


def test_three_conditions_compare_every_pair_in_the_study_order():
    rng = np.random.default_rng(3)
    data = rng.integers(-2, 3, size=(5, 6))
    result = compare_conditions(
        data, list("abcde"), ["A", "A", "A", "B", "B", "B"], ["X", "Y", "Z"] * 2, ["X", "Y", "Z"], np.zeros((6, 1))
    )
    assert {(p.first, p.second) for p in result.persons} == {("X", "Y"), ("X", "Z"), ("Y", "Z")}
    assert len(result.shifts) == 3 * 5
    assert result.to_json()["conditions"] == ["X", "Y", "Z"]


def test_a_person_with_one_sort_only_counts_in_the_factor_table_but_not_the_pairs():
    data, _participants, _conditions, flags = two_condition_case()
    keep = [0, 1, 2]  # B has no H sort
    result = compare_conditions(
        data[:, keep], ["s1", "s2", "s3", "s4"], ["A", "A", "B"], ["R", "H", "R"], ["R", "H"], flags[keep]
    )
    assert [p.participant for p in result.persons] == ["A"]
    assert {s.pairs for s in result.shifts} == {1}
    assert result.factor_counts.tolist() == [[2, 0], [0, 1]]


def test_it_rejects_two_sorts_of_one_person_under_one_condition_and_unknown_conditions():
    data, participants, _conditions, flags = two_condition_case()
    with pytest.raises(AnalysisInputError, match="two sorts"):
        compare_conditions(data, list("abcd"), participants, ["R", "R", "R", "H"], ["R", "H"], flags)
    with pytest.raises(AnalysisInputError, match="not in the run"):
        compare_conditions(data, list("abcd"), participants, ["R", "Q", "R", "H"], ["R", "H"], flags)
