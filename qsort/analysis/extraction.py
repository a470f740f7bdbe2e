"""Factor extraction: principal components and Brown's centroid, as qmethod 1.8.4 does them.

Both work from the factored correlation ``R = Z.T @ Z`` (see ``correlation``).  Up to
``DENSE_LIMIT`` sorts the centroid uses the P x P matrix as qmethod does; above that the same
arithmetic runs on the factors so that nothing of size P x P is ever built:

- PCA (at every size): the eigenpairs of R come from the small M x M Gram matrix Z Z^T
  (O(M^2 P) instead of O(P^3)).
- Centroid: the residual after factors F is ``R - F F^T``; its column sums are
  ``Z^T (Z d) - F (F^T d)`` and any needed row ``z_j^T Z - f_j F^T``, computed a block of
  candidate rows at a time.
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
    """The residual correlation ``R - F F^T`` (unreflected), through R or through Z."""

    def __init__(self, z: np.ndarray, dense: bool) -> None:
        self.z = z
        self.r = matrix(z) if dense else None
        self.diag_r = np.ones(z.shape[1]) if dense else np.einsum("ij,ij->j", z, z)
        self.z_norm = float(np.sqrt(self.diag_r.max()))
        self.f = np.zeros((z.shape[1], 0))

    def add_factor(self, loadings: np.ndarray) -> None:
        self.f = np.column_stack([self.f, loadings])

    def colsums(self, d: np.ndarray) -> np.ndarray:
        """Column sums of D (R - F F^T) D with the diagonal left out, for signs d."""
        rd = self.r @ d if self.r is not None else (self.z @ d) @ self.z
        rd -= self.f @ (self.f.T @ d)
        return d * rd - (self.diag_r - np.einsum("ij,ij->i", self.f, self.f))

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """Rows idx of the residual (len(idx) x P), diagonal entries set to 0."""
        out = self.r[idx] if self.r is not None else self.z[:, idx].T @ self.z
        out -= self.f[idx] @ self.f.T
        out[np.arange(idx.size), idx] = 0.0
        return out


#: How many residual rows the reflection loop fetches at a time (one GEMM).
ROWS_PER_FETCH = 32


def _reflect(res: _Residual, first: bool) -> tuple[np.ndarray, np.ndarray]:
    """qmethod's 'maximise positive manifold' loop; returns the signs d and the column sums.

    While any column sum is <= 0, reflect the variable with the smallest sum (lowest index on
    ties).  On the first factor of a forced grid the exact sums are integers over a constant,
    so "0" arrives as +-1e-16: there a tolerance of 1e-12 P stands for zero (Q-METHOD.md (b),
    (c)); on later factors the sums are of the order of ``spc`` and the plain test is kept.

    Reflecting j changes every other sum by -2 d_i d_j M_ij, so the sums are updated with
    row j of the residual instead of being recomputed (O(P) instead of O(P^2)); rows are
    fetched ``ROWS_PER_FETCH`` at a time, for the most negative sums, in one matrix product
    (O(M P) per row on the factored path).  The loop ends only after a recomputation from
    scratch confirms every sum is positive.
    """
    p = res.f.shape[0]
    tol = 1e-12 * p if first else 0.0
    d = np.ones(p)
    c = res.colsums(d)
    slot = np.full(p, -1)
    rows = np.zeros((0, p))
    while True:
        low = c.min()
        if low > tol:
            c = res.colsums(d)
            if c.min() > tol:
                return d, c
            continue
        j = int(np.flatnonzero(c <= low + tol)[0]) if first else int(np.argmin(c))
        if slot[j] < 0:
            want = min(ROWS_PER_FETCH, p)
            idx = np.argpartition(c, want - 1)[:want] if want < p else np.arange(p)
            idx = np.union1d(idx, [j])
            slot[:] = -1
            slot[idx] = np.arange(idx.size)
            rows = res.rows(idx)
        c -= (2.0 * d[j]) * d * rows[slot[j]]
        c[j] = -c[j]
        d[j] = -d[j]


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
    for i in range(k):
        d, c = _reflect(res, first=i == 0)
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
