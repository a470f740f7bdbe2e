"""Which sorts define which factor (qmethod's ``qflag``), plus the engine's options."""

from __future__ import annotations

import numpy as np

#: Two-sided normal quantiles for the flagging level: a loading is significant when
#: |a| > z / sqrt(N statements) (Brown 1980; qmethod uses the .05 level).
LEVELS: dict[float, float] = {0.05: 1.96, 0.01: 2.576}
#: qmethod's (and PQMethod's) level, the default wherever a level is not chosen.
DEFAULT_LEVEL = 0.05


def threshold(n_statements: int, level: float = DEFAULT_LEVEL) -> float:
    return LEVELS[level] / float(np.sqrt(n_statements))


def automatic(loadings: np.ndarray, n_statements: int, level: float = DEFAULT_LEVEL) -> np.ndarray:
    """qmethod's automatic flags: a_ij^2 > sum_{k != j} a_ik^2 and |a_ij| > z/sqrt(N).

    Both tests are strict; by the first a sort is flagged on at most one factor.  Negative
    loaders pass the |a| test and are flagged (the caller warns).
    """
    sq = loadings**2  # works on a stack of loading matrices too: factors are the last axis
    majority = sq > sq.sum(axis=-1, keepdims=True) - sq
    flags: np.ndarray = majority & (np.abs(loadings) > threshold(n_statements, level))
    return flags


#: A sort's status in a run, the one definition every page, export and API reads.
FLAGGED, CONFOUNDED, NONSIGNIFICANT = "flagged", "confounded", "nonsignificant"


def significant(loadings: np.ndarray, n_statements: int, level: float = DEFAULT_LEVEL) -> np.ndarray:
    """Sorts x factors: |a| > z/sqrt(N), the loading is significant at ``level``."""
    above: np.ndarray = np.abs(loadings) > threshold(n_statements, level)
    return above


def sort_status(flags: np.ndarray, significant: np.ndarray) -> np.ndarray:
    """Each sort's status: flagged, confounded or nonsignificant (Q-METHOD.md step 4).

    Every sort on no factor is one of two kinds, as PQMethod's and qmethod's flagging leave
    them: *confounded* when it loads significantly on at least one factor yet carries no flag
    (by the automatic rule its variance is shared too evenly between factors: no loading holds
    the majority of its common variance; or the researcher removed its flag), and
    *nonsignificant* when no loading is significant.  A sort flagged on any factor is flagged.
    """
    status = np.where(significant.any(axis=1), CONFOUNDED, NONSIGNIFICANT).astype(object)
    status[flags.any(axis=1)] = FLAGGED
    return status


def mirrored(loadings: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Per factor: defined mainly by negative loaders (the flagged loadings sum below 0), so its
    array mirrors their viewpoint.  Centroid factors are not re-signed, so this happens."""
    negative: np.ndarray = (np.where(flags, loadings, 0.0).sum(axis=0) < 0) & flags.any(axis=0)
    return negative
