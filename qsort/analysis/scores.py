"""Factor scores, arrays, characteristics and statement comparisons (Q-METHOD.md 5-8)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qsort.analysis.ranks import average_ranks

#: qmethod's average reliability coefficient of a Q-sort (Brown 1980).
RELIABILITY = 0.8

#: |difference| above this many standard errors of the difference: qmethod's codes.
SIGNIFICANCE: tuple[tuple[float, str], ...] = (
    (4.8916, "6*"),
    (3.291, "***"),
    (2.576, "**"),
    (1.96, "*"),
)
CODES_05 = frozenset({"*", "**", "***", "6*"})
CODES_01 = frozenset({"**", "***", "6*"})
#: The codes from weakest to strongest: a distinguishing statement is marked with the weakest
#: code among its factor's pairs, the level at which it distinguishes the factor from all others.
CODE_ORDER = ("", "*", "**", "***", "6*")


def weights(loadings: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """w = a/(1 - a^2) for flagged sorts, 0 otherwise; the sign is kept (Brown 1980).

    A loading of exactly +-1 (a sort identical to the factor) would weigh infinitely: it is
    capped at 1 - 1e-12 so the sort simply dominates.
    """
    a = np.where(flags, loadings, 0.0)
    a = np.clip(a, -1 + 1e-12, 1 - 1e-12)
    return a / (1.0 - a**2)


def zscores(data: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Statement z-scores per factor: totals X w standardised with the n-1 sd.

    Columns whose weights are all zero (no defining sort) or whose totals are constant come
    back as NaN; the result object turns them into nulls.
    """
    totals = data @ w
    out = np.full(totals.shape, np.nan)
    sd = totals.std(axis=0, ddof=1)
    ok = (w != 0).any(axis=0) & (sd > 1e-12 * (np.abs(totals).max(axis=0) + 1e-300))
    out[:, ok] = (totals[:, ok] - totals[:, ok].mean(axis=0)) / sd[ok]
    return out


def factor_arrays(z: np.ndarray, qscores: np.ndarray) -> np.ndarray:
    """Statement s gets qscores[floor(r_s) - 1], r_s its average rank (1-based, ascending).

    qmethod's rule: with tied z-scores the array can depart from the grid; without ties it
    fills the grid exactly.  NaN columns stay NaN.
    """
    out = np.full(z.shape, np.nan)
    grid = np.sort(np.asarray(qscores, dtype=np.float64))
    for j in range(z.shape[1]):
        if np.isnan(z[0, j]):
            continue
        ranks = average_ranks(z[:, j])
        out[:, j] = grid[np.floor(ranks).astype(int) - 1]
    return out


@dataclass(frozen=True)
class Characteristics:
    defining: np.ndarray  # (K,) int
    eigenvalues: np.ndarray  # (K,) sum of squared loadings
    explained: np.ndarray  # (K,) percent
    reliability: np.ndarray  # (K,)
    se_scores: np.ndarray  # (K,) NaN without defining sorts
    z_correlations: np.ndarray  # (K, K) NaN off-diagonal without defining sorts
    se_differences: np.ndarray  # (K, K) NaN without defining sorts


def characteristics(loadings: np.ndarray, flags: np.ndarray, z: np.ndarray) -> Characteristics:
    """qmethod's ``qfcharact``: note its "eigenvalue" is the sum of squared rotated loadings."""
    p, k = loadings.shape
    n = flags.sum(axis=0)
    ss = (loadings**2).sum(axis=0)
    rel = np.where(n > 0, RELIABILITY * n / (1 + RELIABILITY * (n - 1)), 0.0)
    has = ~np.isnan(z[0]) if z.size else np.zeros(k, bool)
    se = np.full(k, np.nan)
    se[has] = z[:, has].std(axis=0, ddof=1) * np.sqrt(1 - rel[has])
    cor = np.full((k, k), np.nan)
    if has.any():
        sub = np.corrcoef(z[:, has], rowvar=False) if has.sum() > 1 else np.ones((1, 1))
        cor[np.ix_(has, has)] = sub
    np.fill_diagonal(cor, 1.0)
    sed = np.sqrt(se[:, None] ** 2 + se[None, :] ** 2)
    return Characteristics(n, ss, 100 * ss / p, rel, se, cor, sed)


@dataclass(frozen=True)
class Comparisons:
    pairs: list[tuple[int, int]]  # 0-based factor pairs i < j, both with z-scores
    differences: np.ndarray  # (N, len(pairs)) z_i - z_j
    codes: np.ndarray  # (N, len(pairs)) "", "*", "**", "***", "6*"
    distinguishes: list[list[int]]  # per statement, 0-based factors
    consensus: np.ndarray  # (N,) bool, no pair significant at .05
    consensus_01: np.ndarray  # (N,) bool, no pair significant at .01
    marks: np.ndarray  # (N, K) the code at which the statement distinguishes the factor, else ""


def compare(z: np.ndarray, se_differences: np.ndarray) -> Comparisons:
    """Distinguishing and consensus statements (qmethod's ``qdc``, Q-METHOD.md 8).

    Factor f is distinguished by a statement when every pair involving f is significant at
    .05; a statement is consensus when no pair is.  With fewer than two factors that have
    z-scores there are no pairs, and no statement is either.
    """
    n, k = z.shape
    has = [j for j in range(k) if not np.isnan(z[0, j])]
    pairs = [(a, b) for i, a in enumerate(has) for b in has[i + 1 :]]
    diff = np.empty((n, len(pairs)))
    codes = np.full((n, len(pairs)), "", dtype=object)
    for c, (a, b) in enumerate(pairs):
        diff[:, c] = z[:, a] - z[:, b]
        for factor, code in reversed(SIGNIFICANCE):
            codes[np.abs(diff[:, c]) > factor * se_differences[a, b], c] = code
    sig05 = np.isin(codes, list(CODES_05))
    sig01 = np.isin(codes, list(CODES_01))
    distinguishes: list[list[int]] = [[] for _ in range(n)]
    marks = np.full((n, k), "", dtype=object)
    strength = np.vectorize(CODE_ORDER.index, otypes=[int])(codes) if codes.size else np.zeros((n, 0), int)
    if pairs:
        for f in has:
            cols = [c for c, pair in enumerate(pairs) if f in pair]
            for s in np.flatnonzero(sig05[:, cols].all(axis=1)):
                distinguishes[s].append(f)
            weakest = strength[:, cols].min(axis=1)
            marks[:, f] = np.asarray(CODE_ORDER, dtype=object)[weakest]
        consensus = np.asarray(~sig05.any(axis=1))
        consensus_01 = np.asarray(~sig01.any(axis=1))
    else:
        consensus = consensus_01 = np.zeros(n, dtype=bool)
    return Comparisons(pairs, diff, codes, distinguishes, consensus, consensus_01, marks)
