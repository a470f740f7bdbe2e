"""How many factors to keep: the criteria Q researchers argue about, side by side.

No single rule decides (the qmethod maintainer refuses a default), so the panel shows each
criterion's count with its reason and a suggested *range*; the researcher chooses.

- Kaiser-Guttman: eigenvalues of the sorts' correlation matrix above 1.
- Q-specific parallel analysis: the eigenvalues of correlation matrices of random sorts drawn
  from the study's own grid (each random sort is a random permutation of an observed sort's
  values: for a forced grid that is the grid itself; for a free grid, each participant's own
  value distribution), ``draws`` times; a factor is kept while the observed eigenvalue exceeds
  the 95th percentile of the random ones at the same position.
- Humphrey's rule (Brown 1980): the cross-product of a factor's two largest absolute loadings
  exceeds twice the standard error 1/√N (N statements); counted on the unrotated factors, in order.
- Two or more significant loadings (|a| > 1.96/√N) per factor of the rotated solution.
- Also shown: cumulative explained variance and the defining sorts per factor.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from qsort.analysis import correlation as corr
from qsort.analysis import extraction as extract
from qsort.analysis import flagging
from qsort.analysis.bootstrap import one_blas_thread
from qsort.analysis.engine import analyse
from qsort.analysis.result import AnalysisResult

#: Parallel analysis defaults: draws and the percentile the observed eigenvalue must beat.
DRAWS = 1000
PERCENTILE = 95.0

#: Random sorts per batch of draws (draws x sorts), to bound memory.
DRAW_CELLS = 200_000


@dataclass(frozen=True)
class ParallelAnalysis:
    draws: int
    percentile: float
    seed: int
    mean: np.ndarray  # random eigenvalues' mean per position
    threshold: np.ndarray  # their percentile per position
    retained: int  # leading observed eigenvalues above the threshold


def leading_count(passes: np.ndarray) -> int:
    """How many entries pass before the first that fails."""
    fails = np.flatnonzero(~np.asarray(passes, dtype=bool))
    return int(fails[0]) if fails.size else len(passes)


def _random_eigenvalues(columns: np.ndarray, draws: int, seed: np.random.SeedSequence) -> np.ndarray:
    """Eigenvalues (largest first) of ``draws`` correlation matrices of permuted sorts.

    Each sort's standardised values are permuted (standardising commutes with permuting), and
    the N x N Gram matrix carries the non-zero eigenvalues.  float32: the percentiles need
    nowhere near double precision, and it halves the time of the products.
    """
    rng = np.random.default_rng(seed)
    n = columns.shape[1]
    out = np.empty((draws, n))
    with one_blas_thread():
        for d in range(draws):
            shuffled = rng.permuted(columns, axis=1)
            out[d] = np.linalg.eigvalsh(shuffled.T @ shuffled)[::-1]
    return out


def parallel_analysis(
    data: np.ndarray,
    observed: np.ndarray | None = None,
    *,
    draws: int = DRAWS,
    percentile: float = PERCENTILE,
    seed: int = 0,
    workers: int = 1,
) -> ParallelAnalysis:
    """Q-specific parallel analysis on statements x sorts ``data`` (see the module docstring).

    Pearson correlations; every random sort keeps its observed sort's values, so a forced
    grid stays forced.  Eigenvalues come from the statements' Gram matrix (N x N), never
    from the sorts x sorts matrix.
    """
    x = np.asarray(data, dtype=np.float64)
    n, p = x.shape
    if observed is None:
        observed = extract.eigenvalues(corr.factor(x, [str(i) for i in range(p)]))
    centred = x - x.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    norms = np.where(norms > 0, norms, 1.0)
    columns = np.ascontiguousarray((centred / norms).T, dtype=np.float32)  # (P, N), standardised
    size = max(1, min(DRAW_CELLS // p, -(-draws // 8)))  # at least 8 batches to share out
    batches = [min(size, draws - start) for start in range(0, draws, size)]
    # One seed per batch (spawned from the seed), so the draws do not depend on the workers.
    seeds = np.random.SeedSequence(seed).spawn(len(batches))
    if workers > 1 and len(batches) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            values = list(pool.map(_random_eigenvalues, [columns] * len(batches), batches, seeds))
    else:
        values = [_random_eigenvalues(columns, b, s) for b, s in zip(batches, seeds, strict=True)]
    random = np.concatenate(values)[:, : min(n, p)]
    threshold = np.percentile(random, percentile, axis=0)
    m = min(len(observed), threshold.size)
    return ParallelAnalysis(
        draws=draws,
        percentile=percentile,
        seed=seed,
        mean=random.mean(axis=0),
        threshold=threshold,
        retained=leading_count(np.asarray(observed[:m]) > threshold[:m]),
    )


def humphrey(loadings: np.ndarray, n_statements: int) -> tuple[np.ndarray, float]:
    """Per factor: the product of its two largest absolute loadings, and the bar 2/√N it must beat."""
    ordered = -np.sort(-np.abs(loadings), axis=0)
    product = ordered[0] * ordered[1] if loadings.shape[0] > 1 else np.zeros(loadings.shape[1])
    return product, 2.0 / np.sqrt(n_statements)


def significant_loadings(loadings: np.ndarray, n_statements: int) -> np.ndarray:
    """Per factor: how many sorts load with |a| > 1.96/√N."""
    counts: np.ndarray = (np.abs(loadings) > flagging.threshold(n_statements)).sum(axis=0)
    return counts


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    count: int
    reason: str


@dataclass(frozen=True)
class FactorEvidence:
    """The panel: per-criterion counts with reasons, per-factor facts, a suggested range."""

    n_statements: int
    n_sorts: int
    factors: int  # how many factors the per-factor facts cover
    eigenvalues: np.ndarray
    cumulative_variance: np.ndarray  # (factors,) percent, of the unrotated factors
    parallel: ParallelAnalysis
    humphrey_products: np.ndarray  # (factors,)
    humphrey_bar: float
    significant: np.ndarray  # (factors,) significant loadings per rotated factor
    defining: np.ndarray  # (factors,) defining sorts per rotated factor
    criteria: tuple[Criterion, ...]
    suggested_range: tuple[int, int]
    suggested: int

    def to_json(self) -> dict[str, Any]:
        pa = self.parallel
        return {
            "statements": self.n_statements,
            "sorts": self.n_sorts,
            "factors": self.factors,
            "eigenvalues": [float(v) for v in self.eigenvalues],
            "parallel_analysis": {
                "draws": pa.draws,
                "percentile": pa.percentile,
                "seed": pa.seed,
                "random_mean": [float(v) for v in pa.mean],
                "threshold": [float(v) for v in pa.threshold],
                "retained": pa.retained,
            },
            "per_factor": [
                {
                    "factor": f + 1,
                    "eigenvalue": float(self.eigenvalues[f]),
                    "cumulative_variance": float(self.cumulative_variance[f]),
                    "above_parallel_threshold": bool(self.eigenvalues[f] > pa.threshold[f]),
                    "humphrey_product": float(self.humphrey_products[f]),
                    "humphrey_passes": bool(self.humphrey_products[f] > self.humphrey_bar),
                    "significant_loadings": int(self.significant[f]),
                    "defining_sorts": int(self.defining[f]),
                }
                for f in range(self.factors)
            ],
            "humphrey_threshold": self.humphrey_bar,
            "significance_threshold": float(flagging.threshold(self.n_statements)),
            "criteria": [{"key": c.key, "name": c.name, "factors": c.count, "reason": c.reason} for c in self.criteria],
            "suggested_range": list(self.suggested_range),
            "suggested": self.suggested,
        }


def factor_evidence(
    data: np.ndarray,
    *,
    unrotated: np.ndarray,
    rotated: np.ndarray,
    flags: np.ndarray,
    eigenvalues: np.ndarray | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> FactorEvidence:
    """The evidence panel for statements x sorts ``data`` and a solution with K factors
    (its unrotated and rotated loadings and flags: a run's, or a trial one for the study).

    The suggested number is parallel analysis's (the criterion with the best record on
    simulated data), at least 1; the range runs from the smallest to the largest count.
    """
    x = np.asarray(data, dtype=np.float64)
    n, p = x.shape
    k = rotated.shape[1]
    if eigenvalues is None:
        eigenvalues = extract.eigenvalues(corr.factor(x, [str(i) for i in range(p)]))
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    pa = parallel_analysis(x, eigenvalues, draws=draws, seed=seed)
    ss = (np.asarray(unrotated) ** 2).sum(axis=0)
    cumulative = 100 * np.cumsum(ss) / p
    products, bar = humphrey(unrotated, n)
    significant = significant_loadings(rotated, n)
    defining = np.asarray(flags, dtype=bool).sum(axis=0)
    kaiser = int((eigenvalues > 1).sum())
    humphrey_count = leading_count(products > bar)
    two = int((significant >= 2).sum())
    threshold = float(flagging.threshold(n))
    criteria = (
        Criterion(
            "kaiser",
            "Kaiser-Guttman",
            kaiser,
            f"{kaiser} eigenvalue{'s' if kaiser != 1 else ''} of the correlation matrix exceed 1; "
            "with many sorts this rule keeps too many factors.",
        ),
        Criterion(
            "parallel",
            "Parallel analysis",
            pa.retained,
            f"the first {pa.retained} eigenvalue{'s' if pa.retained != 1 else ''} exceed the "
            f"{pa.percentile:g}th percentile of {pa.draws} sets of random sorts drawn from this grid.",
        ),
        Criterion(
            "humphrey",
            "Humphrey's rule",
            humphrey_count,
            f"the first {humphrey_count} of {k} unrotated factors have two largest loadings whose "
            f"product exceeds 2/√{n} = {bar:.3f}.",
        ),
        Criterion(
            "two_loadings",
            "Two significant loadings",
            two,
            f"{two} of {k} rotated factors have at least two sorts loading above 1.96/√{n} = {threshold:.3f}.",
        ),
    )
    # Humphrey's rule and the loadings rule cannot count beyond the k factors looked at; the
    # eigenvalue rules can, and the range says so (Kaiser-Guttman's excess is itself evidence).
    counts = [max(1, c.count) for c in criteria]
    low, high = min(counts), max(counts)
    suggested = int(np.clip(max(1, pa.retained), low, high))
    return FactorEvidence(
        n_statements=n,
        n_sorts=p,
        factors=k,
        eigenvalues=eigenvalues,
        cumulative_variance=cumulative,
        parallel=pa,
        humphrey_products=products,
        humphrey_bar=bar,
        significant=significant,
        defining=defining,
        criteria=criteria,
        suggested_range=(low, high),
        suggested=suggested,
    )


def evidence_for_result(
    data: np.ndarray, result: AnalysisResult, *, draws: int = DRAWS, seed: int = 0
) -> FactorEvidence:
    """The panel for a finished analysis (the run's own loadings and flags)."""
    k = result.unrotated_loadings.shape[1]
    return factor_evidence(
        data,
        unrotated=result.unrotated_loadings,
        rotated=result.loadings[:, :k],
        flags=result.flags[:, :k],
        eigenvalues=result.eigenvalues,
        draws=draws,
        seed=seed,
    )


def study_evidence(
    data: np.ndarray,
    statement_ids: Sequence[object],
    sort_ids: Sequence[object],
    *,
    factors: int,
    distribution: Sequence[int] | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> FactorEvidence:
    """The panel before any run: a trial PCA + varimax with ``factors`` factors (at most what
    the data allows)."""
    x = np.asarray(data)
    eigenvalues = extract.eigenvalues(corr.factor(x, [str(s) for s in sort_ids]))
    rank = int((eigenvalues > 1e-10 * max(float(eigenvalues[0]), 1.0)).sum())
    k = max(1, min(int(factors), rank, x.shape[1], x.shape[0] - 1))
    result = analyse(x, statement_ids, sort_ids, factors=k, distribution=distribution, include_correlations=False)
    return evidence_for_result(data, result, draws=draws, seed=seed)
