"""Bootstrap of a run, exactly as qmethod 1.8.4's ``qmboots(..., indet="qindtest", fsi=TRUE)``.

The rules (shared/Q-METHOD.md, "Bootstrap"): the target is the run's own loadings; the
resamples repeat the sort indices ``steps`` times, shuffled and cut into ``steps`` pieces; each
step re-extracts (PCA as ``psych::principal(rotate="none")`` or qmethod's centroid), rotates
with R's varimax and *no* re-order or re-sign, aligns order and sign to the target with
``qindtest``, flags automatically and scores.  Steps whose alignment picks one step factor for
two target factors are logged as order-swap errors and left out of every summary.

Speed comes from doing each stage for a whole batch of steps at once: the sorts are
standardised once (R = ZᵀZ); a step's correlation matrix is R's rows and columns of its
resample, or (when there are more sorts than statements) the statements' Gram matrix
Z diag(counts) Zᵀ, which has the same non-zero eigenvalues; eigendecompositions, varimax
rounds, alignment, flags and z-scores are stacked numpy operations over the batch.  Batches
can go to a process pool (``workers``); only the centroid loops over steps.
"""

from __future__ import annotations

import multiprocessing
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from qsort.analysis import correlation as corr
from qsort.analysis import extraction as extract
from qsort.analysis import flagging
from qsort.analysis.errors import AnalysisInputError, JobCancelled
from qsort.analysis.result import AnalysisResult
from qsort.analysis.rotation import VARIMAX_EPS, VARIMAX_MAX_ITER

#: qmethod's log lines (``qindtest``), kept verbatim so logs compare with qmboots'.
ORDER_OK = "OK: No ORDER swap issues"
ORDER_ERROR = (
    "ERROR in ORDER swap: at least one factor in the resample is best match for two or more factors in the target"
)
SIGN_OK = "OK: No SIGN swap issues"

#: Sort slots (steps x sorts) per batch: large enough for numpy to pay off, small enough to
#: report progress often and to keep a batch's (steps, sorts, factors) arrays small.
BATCH_CELLS = 50_000

#: Refuse what cannot finish in reasonable memory and time.
MAX_STEPS = 10_000

Progress = Callable[[int, int], None]  # (steps done, steps in all)
Cancelled = Callable[[], bool]


class BootstrapCancelled(JobCancelled):
    """The caller's ``cancelled()`` said stop; nothing is returned."""


def draw_resamples(n_sorts: int, steps: int, seed: int) -> np.ndarray:
    """qmboots' scheme: 0..P-1 repeated ``steps`` times, shuffled, cut into rows of P.

    Every sort appears exactly ``steps`` times over all steps.  numpy's generator, not R's,
    so a seed reproduces our resamples, not qmboots' (give those explicitly to compare).
    """
    rng = np.random.default_rng(seed)
    return rng.permutation(np.tile(np.arange(n_sorts), steps)).reshape(steps, n_sorts)


_blas: list[ThreadpoolController] = []


def one_blas_thread() -> Any:
    """Small stacked eigenproblems run far slower with BLAS threads fighting for busy cores
    (50 eigh of 60 x 60 under load: 6.6 s with 2 threads, 0.065 s with 1): parallelism comes
    from processes instead.  The controller is found once per process (finding it takes ~0.1 s)."""
    if not _blas:
        _blas.append(ThreadpoolController())
    return _blas[0].limit(limits=1)


# --- one batch of steps -------------------------------------------------------------------
def _cor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlations between the columns of a and of b, per batch: (S, K, K)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = a / np.sqrt(np.einsum("spk,spk->sk", a, a))[:, None, :]
        b = b / np.sqrt(np.einsum("spk,spk->sk", b, b))[:, None, :]
    out: np.ndarray = np.einsum("spi,spj->sij", a, b)
    return out


def _pca(z: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Unrotated PCA loadings (S, P, k) of each resample, psych::principal's signs."""
    m, p = z.shape[0], idx.shape[1]
    if p <= m:
        zs = z[:, idx].transpose(1, 2, 0)  # (S, P, M)
        r = zs @ zs.transpose(0, 2, 1)
        r[:, np.arange(p), np.arange(p)] = 1.0
        values, vectors = np.linalg.eigh(r)
        values = np.clip(values[:, ::-1][:, :k], 0.0, None)
        loadings = vectors[:, :, ::-1][:, :, :k] * np.sqrt(values)[:, None, :]
    else:
        counts = np.zeros((idx.shape[0], z.shape[1]))
        np.add.at(counts, (np.arange(idx.shape[0])[:, None], idx), 1.0)
        gram = (z[None, :, :] * counts[:, None, :]) @ z.T  # (S, M, M) = Z diag(counts) Zᵀ
        _, small = np.linalg.eigh(gram)
        small = np.ascontiguousarray(small[:, :, ::-1][:, :, :k])  # (S, M, k)
        # Loadings = eigenvector of R x sqrt(eigenvalue) = Z_sᵀ u.
        loadings = z.T[idx] @ small
    signs = np.where(loadings.sum(axis=1) < 0, -1.0, 1.0)
    signed: np.ndarray = loadings * signs[:, None, :]
    return signed


def _centroid(z: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """qmethod's centroid per resample: an iterative, branching algorithm, so one step at a time."""
    return np.stack([extract.centroid(z[:, row], k, dense=True) for row in idx])


def _varimax(x: np.ndarray) -> np.ndarray:
    """R's ``stats::varimax`` (normalize=TRUE, eps=1e-5) on every matrix of the batch at once.

    Each matrix stops at its own first round whose criterion grew by less than (1 + eps),
    exactly as the single-matrix loop in ``rotation.varimax``; stopped ones are frozen.
    """
    s, p, k = x.shape
    if k < 2:
        return x.copy()
    sc = np.sqrt(np.einsum("spk,spk->sp", x, x))
    sc = np.where(sc > 0, sc, 1.0)
    xn = x / sc[:, :, None]
    xt = xn.transpose(0, 2, 1)
    rot = np.broadcast_to(np.eye(k), (s, k, k)).copy()
    d = np.zeros(s)
    active = np.arange(s)
    for _ in range(VARIMAX_MAX_ITER):
        xa = xn[active]
        z = xa @ rot[active]
        b = xt[active] @ (z**3 - z * ((z * z).sum(axis=1) / p)[:, None, :])
        u, sv, vt = np.linalg.svd(b)
        rot[active] = u @ vt
        d_past, d_new = d[active], sv.sum(axis=1)
        d[active] = d_new
        active = active[~(d_new < d_past * (1 + VARIMAX_EPS))]
        if active.size == 0:
            break
    return (xn @ rot) * sc[:, :, None]


def _qindtest(loadings: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """qmethod's order and sign correction of each step against its target.

    Returns (aligned loadings, order log, sign log, order-swap error mask).
    """
    s, _, k = loadings.shape
    c = np.abs(_cor(loadings, target))  # rows: step factors, columns: target factors
    diag = np.einsum("sii->si", c)
    off = c.copy()
    off[:, np.arange(k), np.arange(k)] = -np.inf
    needs = (off > diag[:, None, :]).any(axis=(1, 2))
    picks = np.argmax(c, axis=1)  # per target factor, the first best step factor
    reordered = np.take_along_axis(loadings, picks[:, None, :], axis=2)
    twice = np.abs(_cor(reordered, reordered))
    twice[:, np.arange(k), np.arange(k)] = 0.0
    error = needs & (twice.max(axis=(1, 2)) > 0.999)
    moved = needs & ~error
    out = np.where(moved[:, None, None], reordered, loadings)
    flips = np.einsum("sii->si", _cor(out, target)) < 0
    out = out * np.where(flips, -1.0, 1.0)[:, None, :]
    order_log = [
        ORDER_ERROR
        if error[i]
        else ("OK - Factors reordered: " + "".join(f" {j + 1}" for j in picks[i]))
        if moved[i]
        else ORDER_OK
        for i in range(s)
    ]
    sign_log = [
        "OK: SIGN swap in factors " + ", ".join(str(f + 1) for f in np.flatnonzero(flips[i]))
        if flips[i].any()
        else SIGN_OK
        for i in range(s)
    ]
    return out, order_log, sign_log, error


@dataclass(frozen=True)
class _Job:
    """What every batch needs; picklable for the process pool."""

    x: np.ndarray  # statements x sorts, float
    z: np.ndarray  # standardised sorts (R = zᵀz)
    target: np.ndarray  # sorts x K
    extraction: str
    rotation: str


@dataclass(frozen=True)
class _Batch:
    zscores: np.ndarray  # (S, N, K), NaN for a factor with no flag in that step
    loadings: np.ndarray  # (S, P_original, K), NaN where the sort is not in the resample
    flags: np.ndarray  # (S, P_original, K) float 0/1, NaN where not in the resample
    order_log: list[str]
    sign_log: list[str]
    error: np.ndarray  # (S,) bool


def _run_batch(job: _Job, idx: np.ndarray) -> _Batch:
    n, p = job.x.shape
    k = job.target.shape[1]
    s = idx.shape[0]
    loadings = _pca(job.z, idx, k) if job.extraction == "pca" else _centroid(job.z, idx, k)
    if job.rotation == "varimax":
        loadings = _varimax(loadings)
    loadings, order_log, sign_log, error = _qindtest(loadings, job.target[idx])
    flags = flagging.automatic(loadings, n)
    # z-scores: totals = X_s w = X (w summed per original sort), so duplicates count twice.
    w = np.where(flags, loadings, 0.0)
    w = np.clip(w, -1 + 1e-12, 1 - 1e-12)
    w = w / (1.0 - w**2)
    per_sort = np.zeros((s, p, k))
    np.add.at(per_sort, (np.arange(s)[:, None], idx), w)
    totals = job.x @ per_sort  # (S, N, K)
    sd = totals.std(axis=1, ddof=1)
    ok = flags.any(axis=1) & (sd > 1e-12 * (np.abs(totals).max(axis=1) + 1e-300))
    with np.errstate(invalid="ignore", divide="ignore"):
        zscores = (totals - totals.mean(axis=1, keepdims=True)) / sd[:, None, :]
    zscores = np.where(ok[:, None, :], zscores, np.nan)
    # Each original sort keeps its first occurrence's loading and flag (R matches by name).
    kept_loadings = np.full((s, p, k), np.nan)
    kept_flags = np.full((s, p, k), np.nan)
    order = np.argsort(idx, axis=1, kind="stable")
    ordered = np.take_along_axis(idx, order, axis=1)
    first = np.ones(idx.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    step, column = np.nonzero(first)
    sort, position = ordered[step, column], order[step, column]
    kept_loadings[step, sort] = loadings[step, position]
    kept_flags[step, sort] = flags[step, position]
    return _Batch(zscores, kept_loadings, kept_flags, order_log, sign_log, error)


# --- the result ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    """Summary statistics over the kept steps, one column per factor."""

    n: np.ndarray  # (rows, K) int
    mean: np.ndarray
    sd: np.ndarray
    q025: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    q975: np.ndarray


def _stats(values: np.ndarray) -> Stats:
    """Stats over axis 0 of (steps, rows, K), NaN = absent; sd with n - 1, R's type-7 quantiles."""
    present = ~np.isnan(values)
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(values, axis=0)
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = np.where(present, values - mean, 0.0)
        sd = np.where(n > 1, np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1)), np.nan)
    quantiles = _nanquantiles(values, (0.025, 0.25, 0.75, 0.975))
    return Stats(n, mean, sd, *quantiles)


def _nanquantiles(values: np.ndarray, probs: Sequence[float]) -> list[np.ndarray]:
    """Type-7 quantiles ignoring NaN, vectorised: NaN sorts last, so each cell's n values lead."""
    ordered = np.sort(values, axis=0)
    n = (~np.isnan(values)).sum(axis=0)
    out = []
    for prob in probs:
        h = (np.maximum(n, 1) - 1) * prob
        lo = np.floor(h).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        a = np.take_along_axis(ordered, lo[None], axis=0)[0]
        b = np.take_along_axis(ordered, hi[None], axis=0)[0]
        out.append(np.where(n > 0, a + (h - lo) * (b - a), np.nan))
    return out


def bootstrapped_arrays(mean_z: np.ndarray, qscores: np.ndarray) -> np.ndarray:
    """qmboots: statements ordered by mean z (ascending, ties in statement order; NaN last)
    receive qscores in that order."""
    out = np.empty(mean_z.shape)
    for f in range(mean_z.shape[1]):
        out[np.argsort(mean_z[:, f], kind="stable"), f] = qscores
    return out


def stability_index(original: np.ndarray, boot: np.ndarray, qscores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """qmethod 1.8.4's ``qfsi`` as it computes it: factor f compared with one number, the
    original array value of statement f on factor 1 (a single-subscript slip in qfsi).
    Returns (FSI, NFSI); NFSI = FSI / (2 sum |qscores|)."""
    n, k = boot.shape
    fsi = np.array([np.abs(original[f, 0] - boot[:, f]).sum() / n for f in range(k)])
    return fsi, fsi / (2 * np.abs(qscores).sum())


def intended_stability_index(
    original: np.ndarray, boot: np.ndarray, qscores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The index qfsi means to compute: mean |original array - bootstrapped array| per factor."""
    fsi = np.abs(original - boot).mean(axis=0)
    return fsi, fsi / (2 * np.abs(qscores).sum())


def _matrix(m: np.ndarray) -> list[list[float | None]]:
    return [[None if np.isnan(v) else float(v) for v in row] for row in m]


def _column(v: np.ndarray, as_int: bool = False) -> list[Any]:
    return [None if np.isnan(x) else (int(x) if as_int else float(x)) for x in np.asarray(v, dtype=float)]


@dataclass(frozen=True)
class BootstrapResult:
    """A finished bootstrap.  Arrays per factor are columns (rows = statements or sorts, in the
    data's order); ``to_json`` gives qmboots' layout (shared/reference/bootstrap/README.md)."""

    parameters: dict[str, Any]
    statement_ids: tuple[str, ...]
    sort_ids: tuple[str, ...]
    resamples: np.ndarray  # (steps, P) 0-based sort indices
    order_log: tuple[str, ...]
    sign_log: tuple[str, ...]
    error_steps: np.ndarray  # (steps,) bool: order-swap errors, left out of the summaries
    zscore_stats: Stats  # rows = statements
    loading_stats: Stats  # rows = sorts
    flag_freq: np.ndarray  # (P, K)
    arrays: np.ndarray  # (N, K) bootstrapped factor arrays
    qscores: np.ndarray  # the grid values the arrays use, in qmboots' order
    original_loadings: np.ndarray
    original_flags: np.ndarray
    original_zscores: np.ndarray
    original_arrays: np.ndarray
    fsi: np.ndarray
    nfsi: np.ndarray
    fsi_intended: np.ndarray
    nfsi_intended: np.ndarray
    seconds: float
    unstable: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))  # (N, K)

    @property
    def n_factors(self) -> int:
        return int(self.arrays.shape[1])

    @property
    def kept_steps(self) -> int:
        return int((~self.error_steps).sum())

    def to_json(self) -> dict[str, Any]:
        """qmboots' field names (reference README) plus ``seconds`` and our own additions."""
        k = self.n_factors
        by_name = sorted(range(len(self.sort_ids)), key=lambda q: self.sort_ids[q].encode())
        zs, ls = self.zscore_stats, self.loading_stats
        return {
            "call": dict(self.parameters),
            "software": "qsort",
            "seconds": self.seconds,
            "sorts": list(self.sort_ids),
            "statements": list(self.statement_ids),
            "resamples": (self.resamples + 1).tolist(),
            "order_log": list(self.order_log),
            "sign_log": list(self.sign_log),
            "error_steps": [int(i) + 1 for i in np.flatnonzero(self.error_steps)],
            "zscore_stats": [
                {
                    "statement": list(self.statement_ids),
                    "n": [int(v) for v in zs.n[:, f]],
                    **{name: _column(getattr(zs, name)[:, f]) for name in ("mean", "sd", "q025", "q25", "q75", "q975")},
                }
                for f in range(k)
            ],
            "bootstrapped_factor_scores": [[int(v) for v in self.arrays[:, f]] for f in range(k)],
            "loading_stats": [
                {
                    "sort": [self.sort_ids[q] for q in by_name],
                    "n": [int(ls.n[q, f]) for q in by_name],
                    **{name: _column(getattr(ls, name)[by_name, f]) for name in ("mean", "sd", "q025", "q975")},
                    "flag_freq": _column(self.flag_freq[by_name, f]),
                }
                for f in range(k)
            ],
            "fsi": {
                "FSindex": [float(v) for v in self.fsi],
                "NFSindex": [float(v) for v in self.nfsi],
                "FSindex_intended": [float(v) for v in self.fsi_intended],
                "NFSindex_intended": [float(v) for v in self.nfsi_intended],
            },
            "unstable_statements": [
                [self.statement_ids[s] for s in np.flatnonzero(self.unstable[:, f])] for f in range(k)
            ],
            "original": {
                "loadings": _matrix(self.original_loadings),
                "flagged": [[bool(v) for v in row] for row in self.original_flags],
                "zsc": _matrix(self.original_zscores),
                "zsc_n": [[None if np.isnan(v) else int(v) for v in row] for row in self.original_arrays],
            },
        }


def _qscores(x: np.ndarray, distribution: Sequence[int] | np.ndarray | None, sort_distribution: bool) -> np.ndarray:
    """qmboots' board: the first sort's values sorted (forced), else the distribution as given."""
    ordered = np.sort(x, axis=0)
    if (ordered == ordered[:, :1]).all():
        return ordered[:, 0].astype(np.float64)
    if distribution is None:
        raise AnalysisInputError("the sorts do not share one distribution: give the distribution for the arrays")
    board = np.asarray(distribution, dtype=np.float64)
    if board.size != x.shape[0]:
        raise AnalysisInputError(f"the distribution has {board.size} values for {x.shape[0]} statements")
    return np.sort(board) if sort_distribution else board


def bootstrap(
    data: np.ndarray,
    statement_ids: Sequence[object],
    sort_ids: Sequence[object],
    *,
    target: np.ndarray,
    original_flags: np.ndarray,
    original_zscores: np.ndarray,
    original_arrays: np.ndarray,
    extraction: str = "pca",
    rotation: str = "varimax",
    correlation: str = "pearson",
    steps: int | None = None,
    seed: int | None = None,
    resamples: Sequence[Sequence[int]] | np.ndarray | None = None,
    distribution: Sequence[int] | np.ndarray | None = None,
    sort_distribution: bool = False,
    workers: int = 1,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> BootstrapResult:
    """Bootstrap a run whose rotated loadings are ``target`` (sorts x K), as qmboots does.

    Give ``resamples`` (one list of 0-based sort indices per step, each of length P) to
    repeat a bootstrap exactly (e.g. qmboots' own, minus 1), or ``steps`` and an optional
    ``seed`` (a random one is drawn and recorded when absent).  ``distribution``: the grid
    of a non-forced study, in qmboots' given order unless ``sort_distribution``.
    ``workers`` > 1 spreads batches over a process pool.  ``progress(done, total)`` is called
    after each batch, ``cancelled()`` before each (raise BootstrapCancelled to stop).
    """
    started = time.perf_counter()
    x = np.asarray(data, dtype=np.float64)
    _n, p = x.shape
    statements = tuple(str(s) for s in statement_ids)
    sorts = tuple(str(s) for s in sort_ids)
    k = np.asarray(target).shape[1]
    if extraction not in ("pca", "centroid"):
        raise AnalysisInputError(f"extraction {extraction!r} is not one of pca, centroid")
    if rotation not in ("varimax", "none"):
        raise AnalysisInputError(f"rotation {rotation!r} is not one of varimax, none")
    if np.asarray(target).shape[0] != p:
        raise AnalysisInputError(f"the target has {np.asarray(target).shape[0]} rows for {p} sorts")
    if resamples is not None:
        try:
            idx = np.asarray(resamples, dtype=np.int64)
        except (TypeError, ValueError):
            raise AnalysisInputError("resamples must be lists of sort indices of equal length") from None
        if idx.ndim != 2 or idx.shape[1] != p or idx.shape[0] < 1:
            raise AnalysisInputError(f"each resample must list {p} sort indices (one per sort)")
        if idx.min() < 0 or idx.max() >= p:
            raise AnalysisInputError(f"resample indices must lie between 1 and {p}")
        seed = None
    else:
        if steps is None or isinstance(steps, bool) or not 1 <= int(steps) <= MAX_STEPS:
            raise AnalysisInputError(f"steps must be between 1 and {MAX_STEPS}")
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        idx = draw_resamples(p, int(steps), seed)
    if idx.shape[0] > MAX_STEPS:
        raise AnalysisInputError(f"at most {MAX_STEPS} steps")
    qscores = _qscores(x, distribution, sort_distribution)
    job = _Job(x, corr.factor(x, list(sorts), correlation), np.asarray(target, dtype=np.float64), extraction, rotation)

    total = idx.shape[0]
    size = max(1, BATCH_CELLS // p)
    if workers > 1:
        size = min(size, -(-total // workers))  # at least one batch per worker
    chunks = [idx[i : i + size] for i in range(0, total, size)]
    batches: list[_Batch] = []
    done = 0

    def collect(batch: _Batch) -> None:
        nonlocal done
        batches.append(batch)
        done += len(batch.order_log)
        if progress:
            progress(done, total)

    if workers > 1 and len(chunks) > 1:
        # Spawned, not forked: the caller may be a threaded worker, and fork copies locks.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=one_blas_thread) as pool:
            pending = [pool.submit(_run_batch, job, chunk) for chunk in chunks]
            for future in pending:
                if cancelled and cancelled():
                    for other in pending:
                        other.cancel()
                    raise BootstrapCancelled
                collect(future.result())
    else:
        with one_blas_thread():
            for chunk in chunks:
                if cancelled and cancelled():
                    raise BootstrapCancelled
                collect(_run_batch(job, chunk))

    error = np.concatenate([b.error for b in batches])
    keep = ~error
    zsc = np.concatenate([b.zscores for b in batches])[keep]
    loa = np.concatenate([b.loadings for b in batches])[keep]
    flg = np.concatenate([b.flags for b in batches])[keep]
    zstats = _stats(zsc)
    lstats = _stats(loa)
    with np.errstate(invalid="ignore", divide="ignore"):
        flag_freq = np.nansum(flg, axis=0) / lstats.n
    arrays = bootstrapped_arrays(zstats.mean, qscores)
    original = np.asarray(original_arrays, dtype=np.float64)
    fsi, nfsi = stability_index(original, arrays, qscores)
    fsi2, nfsi2 = intended_stability_index(original, arrays, qscores)
    # A statement's array position is unstable when the bootstrap puts it in another column.
    unstable = (original != arrays) & ~np.isnan(original)
    parameters = {
        "nfactors": int(k),
        "nsteps": int(total),
        "seed": seed,
        "extraction": extraction,
        "rotation": rotation,
        "correlation": correlation,
        "load": "auto",
        "indet": "qindtest",
        "fsi": True,
    }
    return BootstrapResult(
        parameters=parameters,
        statement_ids=statements,
        sort_ids=sorts,
        resamples=idx,
        order_log=tuple(line for b in batches for line in b.order_log),
        sign_log=tuple(line for b in batches for line in b.sign_log),
        error_steps=error,
        zscore_stats=zstats,
        loading_stats=lstats,
        flag_freq=flag_freq,
        arrays=arrays,
        qscores=qscores,
        original_loadings=np.asarray(target, dtype=np.float64),
        original_flags=np.asarray(original_flags, dtype=bool),
        original_zscores=np.asarray(original_zscores, dtype=np.float64),
        original_arrays=original,
        fsi=fsi,
        nfsi=nfsi,
        fsi_intended=fsi2,
        nfsi_intended=nfsi2,
        seconds=time.perf_counter() - started,
        unstable=unstable,
    )


def bootstrap_analysis(data: np.ndarray, result: AnalysisResult, **options: Any) -> BootstrapResult:
    """Bootstrap a finished analysis: its loadings are the target, its options the steps'.

    With ``split_bipolar`` the extra factor is left out: a step extracts the run's K factors.
    """
    k = result.unrotated_loadings.shape[1]
    parameters = result.parameters
    return bootstrap(
        data,
        result.statement_ids,
        result.sort_ids,
        target=result.loadings[:, :k],
        original_flags=result.flags[:, :k],
        original_zscores=result.zscores[:, :k],
        original_arrays=result.factor_arrays[:, :k],
        extraction=parameters["extraction"],
        rotation=parameters["rotation"],
        correlation=parameters["correlation"],
        **options,
    )
