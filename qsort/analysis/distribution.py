"""The grid used for factor arrays: shared by the sorts (forced) or given by the researcher."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from qsort.analysis.errors import AnalysisInputError


def shared_grid(data: np.ndarray) -> tuple[np.ndarray | None, int | None]:
    """(sorted grid, None) when every sort holds the same multiset of values (forced),
    else (None, index of the first sort that differs from the first sort)."""
    ordered = np.sort(data, axis=0)
    differs = np.flatnonzero((ordered != ordered[:, :1]).any(axis=0))
    if differs.size:
        return None, int(differs[0])
    return ordered[:, 0].copy(), None


def parse(values: str | Iterable[object]) -> np.ndarray:
    """Read a distribution given as one grid value per statement.

    Accepts ``"-3,-3,-2,..."``, the lines of a ``distribution.csv`` (an optional ``value``
    header, then one value a line), or any iterable of integers.
    """
    if isinstance(values, str):
        tokens = [t for t in re.split(r"[,\s;]+", values.strip()) if t]
        if tokens and not re.fullmatch(r"[+-]?\d+", tokens[0]):
            tokens = tokens[1:]  # a header such as "value"
    else:
        tokens = list(values)
    out = []
    for position, token in enumerate(tokens, start=1):
        text = str(token).strip()
        numeric = isinstance(token, (int, float, np.integer, np.floating))
        if numeric and not isinstance(token, bool) and float(token).is_integer():
            out.append(int(token))
        elif re.fullmatch(r"[+-]?\d+", text):
            out.append(int(text))
        else:
            raise AnalysisInputError(f"distribution value {position} ({text!r}) is not an integer grid value")
    if not out:
        raise AnalysisInputError("the distribution is empty")
    return np.sort(np.array(out, dtype=np.int64))


def summary(qscores: np.ndarray) -> tuple[list[int], list[int]]:
    """Grid values ascending and the number of cards each holds."""
    values, counts = np.unique(qscores, return_counts=True)
    return [int(v) for v in values], [int(c) for c in counts]
