"""Which sorts define which factor (qmethod's ``qflag``), plus the engine's options."""

from __future__ import annotations

import numpy as np

#: Two-sided normal quantiles for the flagging level: a loading is significant when
#: |a| > z / sqrt(N statements) (Brown 1980; qmethod uses the .05 level).
LEVELS: dict[float, float] = {0.05: 1.96, 0.01: 2.576}


def threshold(n_statements: int, level: float = 0.05) -> float:
    return LEVELS[level] / np.sqrt(n_statements)


def automatic(loadings: np.ndarray, n_statements: int, level: float = 0.05) -> np.ndarray:
    """qmethod's automatic flags: a_ij^2 > sum_{k != j} a_ik^2 and |a_ij| > z/sqrt(N).

    Both tests are strict; by the first a sort is flagged on at most one factor.  Negative
    loaders pass the |a| test and are flagged (the caller warns).
    """
    sq = loadings**2  # works on a stack of loading matrices too: factors are the last axis
    majority = sq > sq.sum(axis=-1, keepdims=True) - sq
    return majority & (np.abs(loadings) > threshold(n_statements, level))


def unflagged_status(
    loadings: np.ndarray, flags: np.ndarray, n_statements: int, level: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the sorts on no factor: (confounded, non-significant).

    Confounded: a significant loading on at least one factor, yet no flag (it fails the
    majority-of-common-variance rule, or the researcher removed its flag).  Non-significant:
    no loading above the threshold.
    """
    none = ~flags.any(axis=1)
    significant = (np.abs(loadings) > threshold(n_statements, level)).any(axis=1)
    return none & significant, none & ~significant
