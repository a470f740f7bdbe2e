"""The one sort validator: every path that stores a sort (participant flow, API, paper entry,
imports, admin) asks this function, so a sort is judged the same way wherever it comes from.

Messages are written for the people who will read them: participants, facilitators typing a
paper sort, researchers importing a file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from qsort.security.parsing import whole_number


class SortInvalid(ValueError):
    """A sort that breaks the study's rules; `messages` lists every problem found, and
    `about_placements` says whether they are about where the statements were placed (rather
    than about comments or answers), so an API can name the field without validating again."""

    def __init__(self, messages: list[str], *, about_placements: bool = False) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.about_placements = about_placements


@dataclass(frozen=True)
class SortRules:
    """What a sort is checked against: the study's statement numbers and its grid."""

    statement_numbers: frozenset[int]
    grid: Mapping[int, int]  # column value -> capacity
    forced: bool

    @classmethod
    def for_study(cls, study) -> SortRules:
        return cls(
            statement_numbers=frozenset(study.statements.values_list("number", flat=True)),
            grid=study.grid(),
            forced=study.is_forced,
        )


def signed(value: int) -> str:
    """Grid values as people write them: -4, 0, +4."""
    return f"{value:+d}" if value else "0"


def _numbers(items: list[int]) -> str:
    shown = ", ".join(str(n) for n in items[:10])
    if len(items) > 10:
        shown += _(" and %(count)d more") % {"count": len(items) - 10}
    return shown


def validate_sort(rules: SortRules, placements: Iterable[tuple[object, object]]) -> tuple[dict[int, int], list[str]]:
    """Check (statement number, value) pairs against the study.

    Returns the clean mapping statement number -> value and the list of problems (empty when
    the sort is valid). Pairs rather than a dict, so that a statement placed twice is seen.
    """
    problems: list[str] = []
    values: dict[int, int] = {}
    seen: Counter[int] = Counter()
    grid_low, grid_high = (min(rules.grid), max(rules.grid)) if rules.grid else (0, 0)

    for raw_number, raw_value in placements:
        number = whole_number(raw_number)
        if number is None:
            problems.append(_("'%(raw)s' is not a statement number.") % {"raw": raw_number})
            continue
        seen[number] += 1
        if number not in rules.statement_numbers:
            if seen[number] == 1:
                problems.append(_("Statement %(number)d is not part of this study.") % {"number": number})
            continue
        if seen[number] == 2:
            problems.append(_("Statement %(number)d is placed twice.") % {"number": number})
        if seen[number] > 1:
            continue
        value = whole_number(raw_value)
        if value is None:
            problems.append(
                _("Statement %(number)d has the value '%(raw)s', which is not a whole number.")
                % {"number": number, "raw": raw_value}
            )
            continue
        if value not in rules.grid:
            problems.append(
                _("Statement %(number)d is placed at %(value)s, outside the grid (%(low)s to %(high)s).")
                % {"number": number, "value": signed(value), "low": signed(grid_low), "high": signed(grid_high)}
            )
            continue
        values[number] = value

    missing = sorted(rules.statement_numbers - seen.keys())
    if missing:
        problems.append(
            ngettext(
                "Statement %(numbers)s is not placed yet.",
                "Statements %(numbers)s are not placed yet.",
                len(missing),
            )
            % {"numbers": _numbers(missing)}
        )

    counts = Counter(values.values())
    for column, capacity in sorted(rules.grid.items()):
        if counts.get(column, 0) > capacity:
            problems.append(
                _("Column %(column)s holds %(held)d cards, capacity %(capacity)d.")
                % {"column": signed(column), "held": counts[column], "capacity": capacity}
            )
    if rules.forced and not problems:
        # Under-full columns only matter once everything else is right: with a missing or
        # over-placed card some column is necessarily short, and saying so twice confuses.
        for column, capacity in sorted(rules.grid.items()):
            if counts.get(column, 0) < capacity:
                problems.append(
                    _("Column %(column)s holds %(held)d cards but needs %(capacity)d.")
                    % {"column": signed(column), "held": counts.get(column, 0), "capacity": capacity}
                )
    return values, problems


def check_sort(rules: SortRules, placements: Iterable[tuple[object, object]]) -> dict[int, int]:
    """Like `validate_sort`, but raises SortInvalid; returns statement number -> value."""
    values, problems = validate_sort(rules, placements)
    if problems:
        raise SortInvalid(problems, about_placements=True)
    return values
