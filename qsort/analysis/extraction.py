"""Factor extraction: principal components and Brown's centroid, as qmethod 1.8.4 does them.

Both work from the factored correlation ``R = Z.T @ Z`` (see ``correlation``).  Up to
``DENSE_LIMIT`` sorts the centroid uses the P x P matrix as qmethod does; above that the same
arithmetic runs on the factors so that nothing of size P x P is ever built:

- PCA (at every size): the eigenpairs of R come from the small M x M Gram matrix Z Z^T
  (O(M^2 P) instead of O(P^3)).
- Centroid: the residual after factors F is ``R - F F^T``; its column sums are
  ``Z^T (Z d) - F (F^T d)`` and any needed row ``z_j^T Z - f_j F^T``, computed a block of
  candidate rows at a time and kept for the rest of the factor's reflection loop.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from qsort.analysis.correlation import matrix

#: Above this many sorts the engine never forms the P x P correlation matrix.
DENSE_LIMIT = 2000

#: qmethod's convergence threshold for the centroid iteration (``qmethod(..., spc = 1e-5)``).
CENTROID_SPC = 1e-5


def _sign_columns(loadings: np.ndarray) -> np.ndarray:
    # psych::principal: sign(colSums), with 0 counted as positive.
    signs = np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)
    return loadings * signs


def eigen(z: np.ndarray, k: int = 0, *, dense: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of R = Z^T Z, largest first, and the first k eigenvectors (P x k).

    Returns the min(M, P) eigenvalues that can be non-zero (clipped at 0).  With fewer rows
    than sorts the M x M Gram matrix Z Z^T carries the same non-zero eigenvalues, and the
    eigenvectors of R are Z^T u / sqrt(lambda): O(M^2 P) work, nothing P x P.  ``dense=True``
    decomposes R itself (as psych does), for tests.
    """
    m, p = z.shape
    if m < p and not dense:
        values, small = linalg.eigh(z @ z.T)
        values, small = values[::-1], small[:, ::-1]
        values = np.clip(values, 0.0, None)
        vectors = (z.T @ small[:, :k]) / np.sqrt(np.where(values[:k] > 0, values[:k], 1.0))
    else:
        values, vectors = linalg.eigh(matrix(z))
        values, vectors = np.clip(values[::-1], 0.0, None), vectors[:, ::-1][:, :k]
    return values[: min(m, p)], vectors


def eigenvalues(z: np.ndarray, *, dense: bool = False) -> np.ndarray:
    """Eigenvalues of R, largest first (see ``eigen``)."""
    return eigen(z, 0, dense=dense)[0]


def pca_loadings(values: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Loadings = eigenvector x sqrt(eigenvalue), each column flipped to a sum >= 0
    (``psych::principal``, which qmethod calls)."""
    k = vectors.shape[1]
    return _sign_columns(vectors * np.sqrt(values[:k]))


def pca(z: np.ndarray, k: int, *, dense: bool = False) -> np.ndarray:
    """Unrotated principal-component loadings (P x k), in decreasing eigenvalue order."""
    return pca_loadings(*eigen(z, k, dense=dense))


class _Residual:
    """The residual correlation ``R - F F^T`` (unreflected), through R or through Z.

    On the factored path the residual is ``B^T S B`` with ``B = [Z; F^T]`` ((M + k) x P,
    C-contiguous float64, so BLAS streams it) and ``S = diag(1, ..., 1, -1, ..., -1)``: a block
    of its rows, or its product with a sign vector, is one matrix product over B.
    """

    def __init__(self, z: np.ndarray, dense: bool) -> None:
        self.z = np.ascontiguousarray(z, dtype=np.float64)
        self.r = matrix(self.z) if dense else None
        self.diag_r = np.ones(z.shape[1]) if dense else np.einsum("ij,ij->j", z, z)
        self.diag_res = self.diag_r
        self.f = np.zeros((z.shape[1], 0))
        self.b = self.z
        self.s = np.ones(z.shape[0])

    def add_factor(self, loadings: np.ndarray) -> None:
        self.f = np.column_stack([self.f, loadings])
        self.diag_res = self.diag_r - np.einsum("ij,ij->i", self.f, self.f)
        if self.r is None:
            self.b = np.vstack([self.z, self.f.T])
            self.s = np.concatenate([np.ones(self.z.shape[0]), -np.ones(self.f.shape[1])])

    def colsums(self, d: np.ndarray) -> np.ndarray:
        """Column sums of D (R - F F^T) D with the diagonal left out, for signs d."""
        if self.r is None:
            return d * ((self.s * (self.b @ d)) @ self.b) - self.diag_res
        return d * (self.r @ d - self.f @ (self.f.T @ d)) - self.diag_res

    def twice_rows(self, idx: np.ndarray, out: np.ndarray) -> None:
        """Write 2 x rows idx of the residual, diagonal entries set to 0, into out (len(idx) x P).

        Doubling is exact, so this is what the reflection loop adds and subtracts as is.
        """
        if self.r is not None:
            np.subtract(self.r[idx], self.f[idx] @ self.f.T, out=out)
            out *= 2.0
        else:
            np.matmul(self.b[:, idx].T * (2.0 * self.s), self.b, out=out)
        out[np.arange(idx.size), idx] = 0.0


#: How many residual rows the reflection loop fetches at a time (one matrix product).
ROWS_PER_FETCH = 32

#: Memory for the residual rows the reflection loop keeps (never fewer than two fetches).
ROW_CACHE_BYTES = 64 * 2**20


class _RowCache:
    """Residual rows for the reflection loop: fetched a block at a time, and kept.

    The residual does not change while variables are reflected (only the signs do), so a row
    fetched for a candidate that was not reflected then is still valid when its sum becomes
    the smallest later: keeping it, instead of refetching, saves most of the O(M P) products
    (about one row per reflection is then fetched).  A miss fetches the uncached rows with the
    most negative sums straight into a block of the cache (no copy); when every block is in
    use, the block whose smallest sum is the largest (rows already reflected) is replaced.
    """

    def __init__(self, p: int) -> None:
        self.block = min(ROWS_PER_FETCH, p)
        blocks = min(-(-p // self.block), max(2, ROW_CACHE_BYTES // (8 * p * self.block)))
        self.rows = np.empty((blocks, self.block, p))
        self.flat = self.rows.reshape(-1, p)
        self.owner = np.full((blocks, self.block), -1)
        self.slot = np.full(p, -1)
        self.res: _Residual | None = None
        self.filled = 0

    def reset(self, res: _Residual) -> None:
        """Forget every row: the residual has changed (memory is reused, not reallocated)."""
        self.res = res
        self.owner[:] = -1
        self.slot[:] = -1
        self.filled = 0

    def twice_row(self, j: int, c: np.ndarray) -> np.ndarray:
        """2 x row j of the residual; c (the current sums) chooses what else to fetch on a miss."""
        if self.slot[j] < 0:
            self._fetch(j, c)
        return self.flat[self.slot[j]]

    def _fetch(self, j: int, c: np.ndarray) -> None:
        uncached = self.slot < 0
        want = min(self.block, int(uncached.sum()))
        missing = np.where(uncached, c, np.inf)
        idx = np.argpartition(missing, want - 1)[:want]
        if j not in idx:  # a tie with j at the edge of the block
            idx[np.argmax(missing[idx])] = j
        if self.filled < len(self.rows):
            k = self.filled
            self.filled += 1
        else:
            held = self.owner >= 0
            k = int(np.argmax(np.where(held, c[self.owner], np.inf).min(axis=1)))
            self.slot[self.owner[k][held[k]]] = -1
        self.owner[k] = -1
        self.owner[k, :want] = idx
        self.res.twice_rows(idx, self.rows[k, :want])
        self.slot[idx] = k * self.block + np.arange(want)


def _reflect(res: _Residual, cache: _RowCache, first: bool) -> tuple[np.ndarray, np.ndarray]:
    """qmethod's 'maximise positive manifold' loop; returns the signs d and the column sums.

    While any column sum is <= 0, reflect the variable with the smallest sum (lowest index on
    ties).  On the first factor of a forced grid the exact sums are integers over a constant,
    so "0" arrives as +-1e-16: there a tolerance of 1e-12 P stands for zero (Q-METHOD.md (b),
    (c)); on later factors the sums are of the order of ``spc`` and the plain test is kept.

    Reflecting j changes every other sum by -2 d_i d_j M_ij, so the sums are updated with
    row j of the residual (from ``_RowCache``) instead of being recomputed (O(P) instead of
    O(M P)).  The loop keeps g = D c, the unreflected sums, and c = d * g: a reflection adds
    or subtracts the cached 2 M_j to g, one numpy pass with the same rounding as updating c
    (the factors +-1 and 2 are exact), then one pass makes c and one finds its minimum.
    These per-reflection passes stay numpy ufuncs, not BLAS calls: a threaded BLAS axpy on
    a busy machine waits on a descheduled thread at every one of ~P/2 reflections a factor
    (measured: 80 x 50,000 took 187 s instead of ~40 s).  The loop ends only after a
    recomputation from scratch confirms every sum is positive.
    """
    p = res.f.shape[0]
    tol = 1e-12 * p if first else 0.0
    d = np.ones(p)
    c = res.colsums(d)
    g = c.copy()
    cache.reset(res)
    while True:
        j = int(np.argmin(c))
        if c[j] > tol:
            c = res.colsums(d)
            if c.min() > tol:
                return d, c
            g = d * c
            continue
        if first:
            j = int(np.argmax(c <= c[j] + tol))
        step = cache.twice_row(j, c)
        if d[j] > 0:
            np.subtract(g, step, out=g)
        else:
            np.add(g, step, out=g)
        d[j] = -d[j]
        np.multiply(d, g, out=c)


def centroid(z: np.ndarray, k: int, *, spc: float = CENTROID_SPC, dense: bool | None = None) -> np.ndarray:
    """Unrotated centroid loadings (P x k), qmethod's ``centroid(cor, k, spc)``.

    Per factor, on the current residual with its diagonal set to 0: reflect variables until
    every column sum is positive; start with rmean = colsum/(P-1), t = rmean + colsum,
    f = t/sqrt(sum t); iterate f <- (colsum + f^2)/sqrt(sum(colsum + f^2)) until every
    |f^2_previous - f^2| < spc (the first test compares the start f^2 with rmean, so the loop
    can run zero times); un-reflect; subtract f f^T.  Factors are neither re-ordered nor
    re-signed.
    """
    p = z.shape[1]
    if dense is None:
        dense = p <= DENSE_LIMIT
    res = _Residual(z, dense)
    cache = _RowCache(p)
    for i in range(k):
        d, c = _reflect(res, cache, first=i == 0)
        rmean = c / (p - 1)
        t = rmean + c
        f = t / np.sqrt(t.sum())
        for _ in range(100_000):
            if np.all(np.abs(rmean - f * f) < spc):
                break
            rmean = f * f
            t = c + rmean
            f = t / np.sqrt(t.sum())
        res.add_factor(d * f)
    return res.f
