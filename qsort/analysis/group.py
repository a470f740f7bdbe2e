"""A group's picture of a deck, for discussion in the room where it was sorted.

Pure numpy: a statements x sorts matrix of grid values in, a frozen summary out. The rules are
simple on purpose, so a facilitator can explain them to the group and a test can compute them
by hand:

- *agree most*: highest mean placement, ties broken by the lowest spread, then deck order; only
  cards the group placed on the agree side on average (mean above 0);
- *reject most*: lowest mean placement, ties broken the same way; only cards with a mean below 0;
- *split*: cards that some people placed strongly for and others strongly against (the two outer
  columns at each end of a grid reaching +-3 or further, the outermost column on smaller grids)
  come first, then the largest spread; cards everyone placed alike are never "split";
- spread is the population standard deviation of the placements (the group is the population).

A group summary is refused below `MIN_GROUP_SORTS` sorts, so no single person's sort can be read
off a board shown in a room (k-anonymity with k = 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MIN_GROUP_SORTS = 3
SHOWN_PER_LIST = 5


class GroupTooSmall(ValueError):
    """Fewer sorts than MIN_GROUP_SORTS: a summary could reveal one person's sort."""


@dataclass(frozen=True)
class GroupSummary:
    """Per statement (rows in deck order): mean, spread and how many people chose each column;
    and the row indices of the lists a facilitator puts up for discussion."""

    n_sorts: int
    columns: tuple[int, ...]
    means: npt.NDArray[np.float64]
    spreads: npt.NDArray[np.float64]
    polarised: npt.NDArray[np.bool_]
    counts: npt.NDArray[np.int64]  # statements x columns
    agree_most: tuple[int, ...]
    reject_most: tuple[int, ...]
    split: tuple[int, ...]


def strong_thresholds(columns: tuple[int, ...]) -> tuple[int, int]:
    """(strongly disagree at or below, strongly agree at or above) for a grid's column values."""
    low, high = min(columns), max(columns)
    return min(low + 1 if low <= -3 else low, -1), max(high - 1 if high >= 3 else high, 1)


def group_summary(
    values: npt.ArrayLike, columns: tuple[int, ...] | list[int], *, shown: int = SHOWN_PER_LIST
) -> GroupSummary:
    """Summarise `values` (statements x sorts, grid values) on a grid with these column values."""
    data = np.asarray(values, dtype=np.int64)
    if data.ndim != 2:
        raise ValueError("values must be a statements x sorts matrix")
    n_statements, n_sorts = data.shape
    if n_sorts < MIN_GROUP_SORTS:
        raise GroupTooSmall(f"A group picture needs at least {MIN_GROUP_SORTS} sorts; there are {n_sorts}.")
    grid = tuple(sorted({int(c) for c in columns}))
    if not grid:
        raise ValueError("the grid has no columns")
    outside = ~np.isin(data, grid)
    if outside.any():
        raise ValueError(f"value {int(data[outside][0])} is not a column of the grid")

    # Rank on exact integers (sums, and n^2 times the variance), so ties are ties whatever the
    # order of the people; floats are only for display.
    sums = data.sum(axis=1)
    scaled_variance = n_sorts * (data * data).sum(axis=1) - sums * sums
    means = sums / n_sorts
    spreads = np.sqrt(scaled_variance) / n_sorts
    low, high = strong_thresholds(grid)
    polarised = np.asarray((data <= low).any(axis=1) & (data >= high).any(axis=1), dtype=np.bool_)
    counts = (data[:, :, None] == np.asarray(grid)[None, None, :]).sum(axis=1)

    rows = np.arange(n_statements)
    agree = np.lexsort((rows, scaled_variance, -sums))
    reject = np.lexsort((rows, scaled_variance, sums))
    # Polarised first, then the widest spread, then deck order; unanimous cards are never split.
    split = [int(i) for i in np.lexsort((rows, -scaled_variance, ~polarised)) if scaled_variance[i] > 0]
    return GroupSummary(
        n_sorts=n_sorts,
        columns=grid,
        means=means,
        spreads=spreads,
        polarised=polarised,
        counts=counts,
        agree_most=tuple(int(i) for i in agree if sums[i] > 0)[:shown],
        reject_most=tuple(int(i) for i in reject if sums[i] < 0)[:shown],
        split=tuple(split[:shown]),
    )


def largest_differences(
    own: npt.ArrayLike, reference: npt.ArrayLike, *, shown: int = SHOWN_PER_LIST
) -> tuple[int, ...]:
    """Rows where one person's placements differ most from a reference (a factor's array or a
    group's mean): largest absolute difference first, deck order among ties; equal rows never."""
    mine = np.asarray(own, dtype=np.float64)
    theirs = np.asarray(reference, dtype=np.float64)
    if mine.shape != theirs.shape or mine.ndim != 1:
        raise ValueError("own and reference must be vectors of the same length")
    gap = np.abs(mine - theirs)
    order = np.lexsort((np.arange(mine.size), -gap))
    return tuple(int(i) for i in order if gap[i] > 0)[:shown]


def defining_counts(flags: npt.ArrayLike, groups: list[str], order: list[str]) -> npt.NDArray[np.int64]:
    """factors x groups: how many of each factor's defining sorts (`flags`, sorts x factors, the
    run's own) come from each group in `order` (a session, a condition); a sort whose group is
    not in `order` is not counted."""
    flagged = np.asarray(flags, dtype=bool)
    if flagged.ndim != 2 or flagged.shape[0] != len(groups):
        raise ValueError("flags must be sorts x factors, with one group per sort")
    membership = np.array([[group == name for name in order] for group in groups], dtype=np.int64)
    return (flagged.T.astype(np.int64) @ membership.reshape(len(groups), len(order))).astype(np.int64)
