"""How many factors to keep: the criteria Q researchers argue about, side by side.

No single rule decides (the qmethod maintainer refuses a default), so the panel shows each
criterion's count with its reason and a suggested *range*; the researcher chooses.

- Kaiser-Guttman: eigenvalues of the sorts' correlation matrix above 1.
- Q-specific parallel analysis: the eigenvalues of correlation matrices of random sorts drawn
  from the study's own grid (each random sort is a random permutation of an observed sort's
  values: for a forced grid that is the grid itself; for a free grid, each participant's own
  value distribution), ``draws`` times.  Two readings, both shown:
  - Horn's (with Glorfeld's 95th percentile): a factor is kept while the observed eigenvalue
    exceeds the 95th percentile of the random ones at the same position.  Every random
    eigenvalue comes from sorts with no viewpoint at all, so a later factor is held to a bar
    that ignores the variance the earlier factors already explain: when viewpoints correlate
    (two prototypes agree a little by chance, SD 1/√N over N statements) or one is held by few
    sorts, its eigenvalue sinks below that bar while the rest of the eigenvalues sit far below
    it ("shadowing").  On planted studies this lost the last viewpoint in 9-12 of 50.
  - Revised (Green et al. 2012, the suggestion): factor k is tested against random sorts that
    share the k-1 factors already kept.  Those k-1 factors are estimated by probabilistic PCA
    (Tipping & Bishop 1999: loadings from the leading eigenvectors, shrunk by the mean of the
    remaining eigenvalues, so they do not soak up noise as plain PCA loadings do); each random
    sort is drawn from that model (common part plus its own unique part) and laid out on the
    observed sort's own values, ``draws`` times; factor k is kept while its observed eigenvalue
    exceeds the 95th percentile of the random k-th eigenvalue.  Factor 1's test is Horn's.
- Humphrey's rule (Brown 1980): the cross-product of a factor's two largest absolute loadings
  exceeds twice the standard error 1/√N (N statements); counted on the unrotated factors, in order.
- Two or more significant loadings (|a| > 1.96/√N) per factor of the rotated solution.
- Also shown: cumulative explained variance and the defining sorts per factor.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from qsort.analysis import correlation as corr
from qsort.analysis import extraction as extract
from qsort.analysis import flagging
from qsort.analysis.bootstrap import Cancelled, Progress, one_blas_thread
from qsort.analysis.engine import analyse
from qsort.analysis.errors import JobCancelled
from qsort.analysis.result import AnalysisResult

#: Parallel analysis defaults: draws and the percentile the observed eigenvalue must beat.
DRAWS = 1000
PERCENTILE = 95.0
#: The revised test goes no further than this many factors (PQMethod's most).
MAX_RETAINED = 8

#: Random sorts per batch of draws (draws x sorts), to bound memory.
DRAW_CELLS = 200_000
#: Cards (draws x statements x sorts) laid out at once by the revised test's model draws.
MODEL_CELLS = 1_000_000


@dataclass(frozen=True)
class ParallelAnalysis:
    draws: int
    percentile: float
    seed: int
    mean: np.ndarray  # random eigenvalues' mean per position (Horn)
    threshold: np.ndarray  # their percentile per position (Horn)
    horn_retained: int  # leading observed eigenvalues above Horn's threshold
    revised_threshold: np.ndarray  # factor k's bar given the k-1 before it, for k = 1..retained+1
    retained: int  # the revised count: the suggestion


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


def _model_eigenvalues(
    values: np.ndarray, loadings: np.ndarray, unique: np.ndarray, draws: int, seed: np.random.SeedSequence
) -> np.ndarray:
    """The (k+1)-th eigenvalue of ``draws`` correlation matrices of random sorts that share k
    factors: each sort's latent order is common part (``loadings``, P x k) plus its own part
    (``unique``), and the sort takes its observed values (``values``: N x P, each column the
    sort's standardised values in ascending order) in that order."""
    rng = np.random.default_rng(seed)
    n, p = values.shape
    k = loadings.shape[1]
    out = np.empty(draws)
    chunk = max(1, MODEL_CELLS // (n * p))  # draws at once: one argsort, one stacked eigvalsh
    with one_blas_thread():
        for start in range(0, draws, chunk):
            b = min(chunk, draws - start)
            latent = rng.standard_normal((b, n, p), dtype=np.float32) * unique
            latent += rng.standard_normal((b, n, k), dtype=np.float32) @ loadings.T
            sorts = np.empty_like(latent)
            np.put_along_axis(sorts, np.argsort(latent, axis=1), np.broadcast_to(values, latent.shape), axis=1)
            gram = sorts @ sorts.transpose(0, 2, 1) if n <= p else sorts.transpose(0, 2, 1) @ sorts
            out[start : start + b] = np.linalg.eigvalsh(gram)[:, -1 - k]
    return out


def parallel_analysis(
    data: np.ndarray,
    observed: np.ndarray | None = None,
    *,
    draws: int = DRAWS,
    percentile: float = PERCENTILE,
    seed: int = 0,
    workers: int = 1,
    max_retained: int = MAX_RETAINED,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ParallelAnalysis:
    """Q-specific parallel analysis on statements x sorts ``data`` (see the module docstring):
    Horn's thresholds at every position, then the revised test factor by factor.

    Pearson correlations; every random sort keeps its observed sort's values, so a forced
    grid stays forced.  Eigenvalues come from the statements' Gram matrix (N x N), never
    from the sorts x sorts matrix.  ``progress(done, most)`` is called after each batch of
    draws, ``cancelled()`` before each (raise JobCancelled to stop); ``workers`` > 1 spreads
    the batches over a process pool.
    """
    x = np.asarray(data, dtype=np.float64)
    n, p = x.shape
    centred = x - x.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    norms = np.where(norms > 0, norms, 1.0)
    standard = centred / norms  # (N, P): its Gram matrix P x P is the correlation matrix
    _, singular, vt = np.linalg.svd(standard, full_matrices=False)
    if observed is None:
        observed = singular**2
    observed = np.asarray(observed, dtype=np.float64)
    columns = np.ascontiguousarray(standard.T, dtype=np.float32)  # (P, N)
    size = max(1, min(DRAW_CELLS // p, -(-draws // 8)))  # at least 8 batches to share out
    batches = [min(size, draws - start) for start in range(0, draws, size)]
    rank = min(n - 1, p)  # non-zero eigenvalues of a correlation matrix of N statements
    most_factors = max(0, min(max_retained, rank))
    most = len(batches) * max(1, most_factors)  # Horn's draws, then one test per further factor
    done = 0
    # One seed per batch of each test (spawned from the seed): the draws do not depend on workers.
    seeds = np.random.SeedSequence(seed).spawn(max(1, most_factors))

    def run(function: Callable[..., np.ndarray], jobs: list[tuple[Any, ...]]) -> list[np.ndarray]:
        """The batches of one test, in order, in the pool if there is one."""
        nonlocal done
        futures = [pool.submit(function, *args) for args in jobs] if pool else []
        out = []
        for i, args in enumerate(jobs):
            if cancelled and cancelled():
                raise JobCancelled
            out.append(futures[i].result() if pool else function(*args))
            done += 1
            if progress:
                progress(done, most)
        return out

    pool: ProcessPoolExecutor | None = None
    if workers > 1 and len(batches) > 1:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        horn_seeds = seeds[0].spawn(len(batches))
        random = np.concatenate(
            run(_random_eigenvalues, [(columns, b, s) for b, s in zip(batches, horn_seeds, strict=True)])
        )[:, : min(n, p)]
        threshold = np.percentile(random, percentile, axis=0)
        m = min(len(observed), threshold.size)
        horn = leading_count(observed[:m] > threshold[:m])
        # The revised test: factor 1's bar is Horn's; factor k+1's comes from sorts sharing k factors.
        bars = [float(threshold[0])]
        values = np.ascontiguousarray(np.sort(standard, axis=0), dtype=np.float32)
        retained = int(observed[0] > bars[0]) if most_factors else 0
        while 0 < retained < most_factors:
            noise = float((singular[retained:rank] ** 2).mean())  # probabilistic PCA's noise variance
            loadings = vt[:retained].T * np.sqrt(np.maximum(singular[:retained] ** 2 - noise, 0.0))
            unique = np.sqrt(np.clip(1.0 - (loadings**2).sum(axis=1), 1e-3, 1.0))
            jobs = [
                (values, loadings.astype(np.float32), unique.astype(np.float32), b, s)
                for b, s in zip(batches, seeds[retained].spawn(len(batches)), strict=True)
            ]
            bars.append(float(np.percentile(np.concatenate(run(_model_eigenvalues, jobs)), percentile)))
            if observed[retained] <= bars[-1]:
                break
            retained += 1
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    return ParallelAnalysis(
        draws=draws,
        percentile=percentile,
        seed=seed,
        mean=random.mean(axis=0),
        threshold=threshold,
        horn_retained=horn,
        revised_threshold=np.array(bars),
        retained=retained,
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
                "horn_retained": pa.horn_retained,
                "revised_threshold": [float(v) for v in pa.revised_threshold],
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
    **parallel: Any,
) -> FactorEvidence:
    """The evidence panel for statements x sorts ``data`` and a solution with K factors
    (its unrotated and rotated loadings and flags: a run's, or a trial one for the study).

    The suggested number is parallel analysis's (the revised test: the best record on
    planted studies), at least 1; the range runs from the smallest to the largest count.
    ``parallel`` goes to parallel_analysis (workers, max_retained, progress, cancelled).
    """
    x = np.asarray(data, dtype=np.float64)
    n, p = x.shape
    k = rotated.shape[1]
    if eigenvalues is None:
        eigenvalues = extract.eigenvalues(corr.factor(x, [str(i) for i in range(p)]))
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    pa = parallel_analysis(x, eigenvalues, draws=draws, seed=seed, **parallel)
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
            f"factor by factor, the first {pa.retained} eigenvalue{'s' if pa.retained != 1 else ''} exceed the "
            f"{pa.percentile:g}th percentile of {pa.draws} sets of random sorts drawn from this grid that share "
            "the factors before them (revised parallel analysis).",
        ),
        Criterion(
            "parallel_horn",
            "Parallel analysis (Horn)",
            pa.horn_retained,
            f"the first {pa.horn_retained} eigenvalue{'s' if pa.horn_retained != 1 else ''} exceed the "
            f"{pa.percentile:g}th percentile of {pa.draws} sets of random sorts with no viewpoint in common; "
            "a later factor can fall below this bar when viewpoints correlate or few sorts hold one.",
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
    data: np.ndarray, result: AnalysisResult, *, draws: int = DRAWS, seed: int = 0, **parallel: Any
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
        **parallel,
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
    **parallel: Any,
) -> FactorEvidence:
    """The panel before any run: a trial PCA + varimax with ``factors`` factors (at most what
    the data allows)."""
    x = np.asarray(data)
    eigenvalues = extract.eigenvalues(corr.factor(x, [str(s) for s in sort_ids]))
    rank = int((eigenvalues > 1e-10 * max(float(eigenvalues[0]), 1.0)).sum())
    k = max(1, min(int(factors), rank, x.shape[1], x.shape[0] - 1))
    result = analyse(x, statement_ids, sort_ids, factors=k, distribution=distribution, include_correlations=False)
    return evidence_for_result(data, result, draws=draws, seed=seed, **parallel)
