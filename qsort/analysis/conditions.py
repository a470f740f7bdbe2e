"""Comparing conditions of instruction: the same people sorting the same deck for different questions.

Pure numpy/scipy. From a run's grid values, each sort's participant and condition, and the
run's flags, ``compare_conditions`` builds three views (issue 12):

* factor x condition: how many defining sorts of each factor come from each condition;
* within each person: the correlation between their sorts in two conditions, the factors each
  sort defines, and the statements that moved most between them;
* across participants: per statement, the paired difference between two conditions with a
  Wilcoxon signed-rank test and the matched-pairs rank-biserial correlation as effect size
  (Kerby 2014), flagged at .05 (*) and .01 (**). No correction for the many statements
  tested: the flags are a guide to where to look, as PQMethod's distinguishing flags are.

Differences are always "second minus first" for a pair (first, second) taken in the order the
study lists its conditions, so swapping the two conditions' labels swaps every sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

from qsort.analysis.errors import AnalysisInputError

#: How many statements the within-person view lists per pair of sorts.
MOVED_PER_PERSON = 5
SIGNIFICANCE_LEVELS = ((0.01, "**"), (0.05, "*"))


@dataclass(frozen=True)
class PersonComparison:
    """One participant's two sorts under conditions `first` and `second`."""

    participant: str
    first: str
    second: str
    correlation: float | None  # None when a sort has the same value everywhere
    factors_first: tuple[int, ...]  # 1-based factors the first sort defines (flags)
    factors_second: tuple[int, ...]
    moved: tuple[tuple[str, int, int], ...]  # (statement, value first, value second), largest change first


@dataclass(frozen=True)
class StatementShift:
    """How one statement's placement differs between two conditions, over the people who sorted both."""

    statement: str
    first: str
    second: str
    pairs: int
    mean_first: float
    mean_second: float
    difference: float  # mean of (second - first)
    statistic: float | None  # Wilcoxon's W (the smaller rank sum); None with no non-zero change
    p: float | None
    effect: float | None  # rank-biserial r in [-1, 1]: +1 when every change is upward
    significance: str  # "**" (p < .01), "*" (p < .05) or ""


@dataclass(frozen=True)
class ConditionComparison:
    conditions: tuple[str, ...]
    factor_counts: np.ndarray  # factors x conditions: defining sorts per factor and condition
    persons: tuple[PersonComparison, ...]
    shifts: tuple[StatementShift, ...]  # per pair of conditions, largest |difference| first

    def to_json(self) -> dict[str, Any]:
        return {
            "conditions": list(self.conditions),
            "factor_counts": [[int(v) for v in row] for row in self.factor_counts],
            "persons": [
                {
                    "participant": p.participant,
                    "conditions": [p.first, p.second],
                    "correlation": p.correlation,
                    "factors": [list(p.factors_first), list(p.factors_second)],
                    "moved": [{"statement": s, "values": [a, b]} for s, a, b in p.moved],
                }
                for p in self.persons
            ],
            "shifts": [
                {
                    "statement": s.statement,
                    "conditions": [s.first, s.second],
                    "pairs": s.pairs,
                    "means": [s.mean_first, s.mean_second],
                    "difference": s.difference,
                    "statistic": s.statistic,
                    "p": s.p,
                    "effect": s.effect,
                    "significance": s.significance,
                }
                for s in self.shifts
            ],
        }


def significance(p: float | None) -> str:
    if p is None:
        return ""
    return next((mark for level, mark in SIGNIFICANCE_LEVELS if p < level), "")


#: SciPy's own bound: with tied differences it takes the p-value from all 2**n sign patterns up to
#: this many, and from the normal approximation above.
EXACT_WITH_TIES = 13


def signed_rank(differences: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """(W, two-sided p, rank-biserial r) of paired differences; zeros are dropped (Wilcoxon's
    own rule). All three are None when no difference is non-zero.

    The p-value is SciPy's ``wilcoxon(method="auto")``, but its slow case (tied differences, as
    grid values nearly always are, and n <= 13: a permutation test that re-ranks each of the
    2**n sign patterns, seconds per statement) is computed by ``_tied_exact_p`` instead."""
    d = np.asarray(differences, dtype=np.float64)
    d = d[d != 0]
    if d.size == 0:
        return None, None, None
    ranks = stats.rankdata(np.abs(d))
    up, down = float(ranks[d > 0].sum()), float(ranks[d < 0].sum())
    effect = (up - down) / (up + down)
    if d.size <= EXACT_WITH_TIES and np.unique(np.abs(d)).size < d.size:
        return min(up, down), _tied_exact_p(ranks, d > 0), effect
    test = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return float(test.statistic), float(test.pvalue), effect


def _tied_exact_p(ranks: np.ndarray, positive: np.ndarray) -> float:
    """Two-sided p of the positive rank sum over all 2**n sign patterns (the permutation test's
    exact null), counted by convolution: midranks doubled are whole numbers, so the number of
    patterns giving each doubled sum builds up one rank at a time."""
    doubled = np.rint(2 * ranks).astype(np.int64)
    observed = int(doubled[positive].sum())
    counts = np.zeros(int(doubled.sum()) + 1)
    counts[0] = 1.0
    for weight in doubled:
        counts[weight:] = counts[weight:] + counts[:-weight]
    patterns = 2.0**doubled.size
    below, above = counts[: observed + 1].sum(), counts[observed:].sum()
    return float(min(1.0, 2 * min(below, above) / patterns))


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def compare_conditions(
    data: np.ndarray,
    statement_ids: Sequence[str],
    participants: Sequence[str],
    conditions: Sequence[str],
    condition_order: Sequence[str],
    flags: np.ndarray,
    *,
    moved_per_person: int = MOVED_PER_PERSON,
) -> ConditionComparison:
    """The three condition views for a run: `data` is statements x sorts, `participants` and
    `conditions` label each sort, `condition_order` lists the run's conditions in the study's
    order, `flags` is sorts x factors (the run's defining sorts)."""
    x = np.asarray(data, dtype=np.int64)
    flags = np.asarray(flags, dtype=bool)
    n_statements, n_sorts = x.shape
    if not (len(participants) == len(conditions) == n_sorts == flags.shape[0]) or len(statement_ids) != n_statements:
        raise AnalysisInputError("the sorts' participants, conditions and flags do not match the data")
    order = tuple(condition_order)
    unknown = set(conditions) - set(order)
    if unknown:
        raise AnalysisInputError(f"sorts under conditions not in the run: {', '.join(sorted(unknown))}")
    column: dict[tuple[str, str], int] = {}
    for index, key in enumerate(zip(participants, conditions, strict=True)):
        if key in column:
            raise AnalysisInputError(f"participant {key[0]!r} has two sorts under condition {key[1]!r}")
        column[key] = index

    factor_counts = np.array(
        [[int(flags[[c == label for c in conditions], f].sum()) for label in order] for f in range(flags.shape[1])],
        dtype=np.int64,
    ).reshape(flags.shape[1], len(order))

    people = list(dict.fromkeys(participants))
    persons: list[PersonComparison] = []
    shifts: list[StatementShift] = []
    for first, second in combinations(order, 2):
        both = [
            (person, column[(person, first)], column[(person, second)])
            for person in people
            if (person, first) in column and (person, second) in column
        ]
        for person, a, b in both:
            change = x[:, b] - x[:, a]
            ranked = sorted((s for s in range(n_statements) if change[s]), key=lambda s: (-abs(change[s]), s))
            persons.append(
                PersonComparison(
                    participant=person,
                    first=first,
                    second=second,
                    correlation=_correlation(x[:, a], x[:, b]),
                    factors_first=tuple(int(f) + 1 for f in np.flatnonzero(flags[a])),
                    factors_second=tuple(int(f) + 1 for f in np.flatnonzero(flags[b])),
                    moved=tuple((statement_ids[s], int(x[s, a]), int(x[s, b])) for s in ranked[:moved_per_person]),
                )
            )
        if not both:
            continue
        firsts = x[:, [a for _, a, _ in both]]
        seconds = x[:, [b for _, _, b in both]]
        pair_shifts = []
        for s in range(n_statements):
            statistic, p, effect = signed_rank(seconds[s] - firsts[s])
            pair_shifts.append(
                StatementShift(
                    statement=statement_ids[s],
                    first=first,
                    second=second,
                    pairs=len(both),
                    mean_first=float(firsts[s].mean()),
                    mean_second=float(seconds[s].mean()),
                    difference=float((seconds[s] - firsts[s]).mean()),
                    statistic=statistic,
                    p=p,
                    effect=effect,
                    significance=significance(p),
                )
            )
        shifts += sorted(pair_shifts, key=lambda shift: -abs(shift.difference))
    return ConditionComparison(order, factor_counts, tuple(persons), tuple(shifts))
