"""Correlation between Q-sorts, kept in factored form.

Every supported coefficient is a cosine similarity between suitably transformed sorts, so the
engine never needs the P x P matrix: it keeps a matrix Z (M rows x P sorts) with unit-norm
columns and R = Z^T Z.

- Pearson: Z = centred sorts scaled to unit norm (M = N statements).
- Spearman: Pearson on each sort's ranks (average ranks for ties), as R's
  ``cor(method = "spearman")``.
- Kendall tau-b: Z holds, for every pair of statements a < b, sign(x_a - x_b) scaled to unit
  norm (M = N(N-1)/2).  tau-b = (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)), which is
  exactly the cosine of two such sign vectors.  Memory grows as N^2 P, so Kendall is slow and
  large for tens of thousands of sorts; Pearson is the default for a reason.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from qsort.analysis.errors import AnalysisInputError
from qsort.analysis.ranks import average_ranks

CorrelationMethod = Literal["pearson", "spearman", "kendall"]
METHODS: tuple[str, ...] = ("pearson", "spearman", "kendall")


def _unit_columns(y: np.ndarray, sort_ids: list[str]) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->j", y, y))
    zero = np.flatnonzero(norms <= 1e-12 * max(1.0, float(np.abs(y).max(initial=0.0))))
    if zero.size:
        names = ", ".join(sort_ids[i] for i in zero[:5])
        raise AnalysisInputError(
            f"sort {names} has the same value for every statement (zero variance); "
            "it cannot be correlated with the other sorts"
        )
    y /= norms
    return y


def factor(data: np.ndarray, sort_ids: list[str], method: str = "pearson") -> np.ndarray:
    """Return Z with unit-norm columns such that the correlation matrix is ``Z.T @ Z``."""
    if method not in METHODS:
        raise AnalysisInputError(f"unknown correlation {method!r}; choose one of {', '.join(METHODS)}")
    x = np.asarray(data, dtype=np.float64)
    if method == "spearman":
        x = average_ranks(x)
    if method == "kendall":
        a, b = np.triu_indices(x.shape[0], k=1)
        y = np.sign(x[a] - x[b])
    else:
        y = x - x.mean(axis=0)
    return _unit_columns(y, sort_ids)


def matrix(z: np.ndarray) -> np.ndarray:
    """The P x P correlation matrix (only for moderate P: it grows with P squared)."""
    r: np.ndarray = z.T @ z
    np.fill_diagonal(r, 1.0)
    return r
