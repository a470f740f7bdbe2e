"""The one sort validator: its messages for each kind of bad sort."""

from __future__ import annotations

import pytest

from qsort.studies.validation import SortInvalid, SortRules, check_sort, validate_sort

RULES = SortRules(statement_numbers=frozenset(range(1, 7)), grid={-1: 2, 0: 2, 1: 2}, forced=True)
GOOD = [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)]


def problems(placements, rules=RULES):
    return validate_sort(rules, placements)[1]


def test_a_good_sort_has_no_problems_and_maps_numbers_to_values():
    values, found = validate_sort(RULES, GOOD)
    assert found == []
    assert values == {1: -1, 2: -1, 3: 0, 4: 0, 5: 1, 6: 1}


def test_it_names_a_statement_placed_twice():
    assert "Statement 3 is placed twice." in problems([*GOOD, (3, 1)])


def test_it_names_missing_statements():
    assert problems(GOOD[:-1]) == ["Statement 6 is not placed yet."]
    assert "Statements 5, 6 are not placed yet." in problems(GOOD[:-2])


def test_it_names_unknown_statements():
    assert "Statement 99 is not part of this study." in problems([*GOOD, (99, 0)])
    assert "'x' is not a statement number." in problems([*GOOD, ("x", 0)])


def test_it_names_values_outside_the_grid_and_non_integers():
    found = problems([(1, 4), *GOOD[1:]])
    assert "Statement 1 is placed at +4, outside the grid (-1 to +1)." in found
    assert "Statement 1 has the value 'a', which is not a whole number." in problems([(1, "a"), *GOOD[1:]])
    assert "Statement 1 has the value '0.5', which is not a whole number." in problems([(1, 0.5), *GOOD[1:]])
    assert problems([(1, True), *GOOD[1:]])[0].startswith("Statement 1 has the value 'True'")


def test_it_names_an_over_full_column_with_its_capacity():
    found = problems([(1, -1), (2, 1), (3, 0), (4, 0), (5, 1), (6, 1)])
    assert found == ["Column +1 holds 3 cards, capacity 2."]


def test_it_names_an_under_full_column_only_when_nothing_else_is_wrong():
    rules = SortRules(statement_numbers=frozenset(range(1, 7)), grid={-1: 2, 0: 3, 1: 2}, forced=True)
    assert problems(GOOD, rules) == ["Column 0 holds 2 cards but needs 3."]


def test_a_free_distribution_only_checks_capacities():
    free = SortRules(statement_numbers=RULES.statement_numbers, grid={-1: 3, 0: 3, 1: 3}, forced=False)
    assert problems([(1, -1), (2, -1), (3, -1), (4, 0), (5, 1), (6, 1)], free) == []


def test_string_numbers_and_values_from_forms_are_accepted():
    assert problems([(str(n), f"{v:+d}") for n, v in GOOD]) == []


def test_check_sort_raises_with_every_message():
    with pytest.raises(SortInvalid) as caught:
        check_sort(RULES, [(1, 9), (1, 0)])
    assert "Statement 1 is placed twice." in caught.value.messages
    assert "Statements 2, 3, 4, 5, 6 are not placed yet." in caught.value.messages
