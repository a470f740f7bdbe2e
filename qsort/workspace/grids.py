"""Grid shapes: a pure function, no Django, so it is tested on its own."""

from __future__ import annotations

import math

MIN_HALF_RANGE = 3  # -3..+3
MAX_HALF_RANGE = 6  # -6..+6, the widest grid the editor offers (see models.GRID_MIN_VALUE)


def suggest_capacities(n_statements: int, half_range: int) -> dict[int, int]:
    """A quasi-normal forced distribution for `n_statements` cards over -half_range..+half_range.

    Symmetric, summing to exactly `n_statements`, never rising towards the ends. Cards are dealt
    by the D'Hondt rule over a bell curve (sigma = 0.55 x the columns on one side with the centre, which
    gives the flattened shapes Q studies use, e.g. 2,3,5,6,6,6,5,3,2 for 38 cards): a side column
    takes cards in mirrored pairs, the centre two at a time, so the shape stays symmetric. Every
    column gets one card first when there are enough cards for that.
    """
    if not MIN_HALF_RANGE <= half_range <= MAX_HALF_RANGE:
        raise ValueError(f"The range must be between ±{MIN_HALF_RANGE} and ±{MAX_HALF_RANGE}.")
    if n_statements < 0:
        raise ValueError("The number of statements cannot be negative.")
    sigma = (half_range + 1) * 0.55
    weight = [math.exp(-(v * v) / (2 * sigma * sigma)) for v in range(half_range + 1)]
    # half[v] is the capacity of columns +v and -v; half[0] is the centre.
    half = [0] * (half_range + 1)
    remaining = n_statements
    if n_statements >= 2 * half_range + 1:
        half = [1] * (half_range + 1)
        remaining -= 2 * half_range + 1
    if remaining % 2:
        half[0] += 1  # an odd deck: the odd card goes to the centre, the rest comes in pairs
        remaining -= 1
    while remaining > 0:
        # Ties go to the column nearer the centre, which keeps the shape non-increasing outwards.
        best = max(range(half_range + 1), key=lambda v: (weight[v] / (half[v] + 1), -v))
        half[best] += 2 if best == 0 else 1
        remaining -= 2
    return {value: half[abs(value)] for value in range(-half_range, half_range + 1)}
