"""Factor extraction: principal components and Brown's centroid, as qmethod 1.8.4 does them.

Both work from the factored correlation ``R = Z.T @ Z`` (see ``correlation``).  Up to
``DENSE_LIMIT`` sorts the centroid uses the P x P matrix as qmethod does; above that the same
arithmetic runs on the factors so that nothing of size P x P is ever built:

- PCA (at every size): the eigenpairs of R come from the small M x M Gram matrix Z Z^T
  (O(M^2 P) instead of O(P^3)).
- Centroid: the residual after factors F is ``R - F F^T``; its column sums are
  ``Z^T (Z d) - F (F^T d)`` and any needed row ``z_j^T Z - f_j F^T``, computed a block of
  candidate rows at a time and kept for the rest of the factor's reflection loop.  Above
  ``ACTIVE_MIN`` sorts the loop reflects among the variables with the smallest sums only,
  with a bound that proves the order stays qmethod's (``_reflect``).
"""

from __future__ import annotations

import numpy as np

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
    from scipy import linalg  # here, not at the top: its import costs more than most analyses

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
    """The residual correlation ``M = R - F F^T`` (unreflected), through R or through Z.

    On the factored path ``M = B^T S B`` with ``B = [Z; F^T]`` ((M + k) x P, C-contiguous
    float64, so BLAS streams it) and ``S = diag(1, ..., 1, -1, ..., -1)``: a block of rows,
    or the product with a sign vector, is one matrix product over B.  B is also kept
    transposed (``bt``, P x (M + k)): gathering the columns of a subset is then a copy of
    contiguous rows (35x faster than from B at 50,000 sorts), and the column-sum products
    are faster on B (2x).
    """

    def __init__(self, z: np.ndarray, dense: bool) -> None:
        self.z = np.ascontiguousarray(z, dtype=np.float64)
        self.r: np.ndarray | None = matrix(self.z) if dense else None
        self.diag_r: np.ndarray = np.ones(z.shape[1]) if dense else np.einsum("ij,ij->j", z, z)
        self.diag_res = self.diag_r
        self.f = np.zeros((z.shape[1], 0))
        self.b = self.z
        # The dense path never reads bt: an empty array there keeps its type plain.
        self.bt: np.ndarray = np.empty((0, 0)) if dense else np.ascontiguousarray(self.z.T)
        self.s = np.ones(z.shape[0])

    def add_factor(self, loadings: np.ndarray) -> None:
        self.f = np.column_stack([self.f, loadings])
        self.diag_res = self.diag_r - np.einsum("ij,ij->i", self.f, self.f)
        if self.r is None:
            self.b = np.vstack([self.z, self.f.T])
            self.bt = np.ascontiguousarray(self.b.T)
            self.s = np.concatenate([np.ones(self.z.shape[0]), -np.ones(self.f.shape[1])])

    def colsums(self, d: np.ndarray) -> np.ndarray:
        """Column sums of D M D with the diagonal left out, for signs d."""
        sums: np.ndarray
        if self.r is None:
            sums = d * ((self.s * (self.b @ d)) @ self.b) - self.diag_res
        else:
            sums = d * (self.r @ d - self.f @ (self.f.T @ d)) - self.diag_res
        return sums


class _Block:
    """The residual restricted to the variables a (sorted): what one reflection run needs.

    Dense residuals are only ever used whole (their rows cost nothing to fetch).  On the
    factored path ``bt`` holds the columns b_i of B as rows: its transpose is the block's B.
    """

    bt: np.ndarray  # factored path only
    s2: np.ndarray

    def __init__(self, res: _Residual, a: np.ndarray) -> None:
        self.res = res
        self.a = a
        if res.r is None:
            self.bt = res.bt if a.size == res.diag_res.size else res.bt[a]
            self.s2 = 2.0 * res.s

    def twice_rows(self, idx: np.ndarray, out: np.ndarray) -> None:
        """Write 2 x rows idx of the block, diagonal entries set to 0, into out (len(idx) x |a|).

        Doubling is exact, so this is what the reflection loop adds and subtracts as is.
        """
        res = self.res
        if res.r is not None:
            np.subtract(res.r[idx], res.f[idx] @ res.f.T, out=out)
            out *= 2.0
        else:
            np.matmul(self.bt[idx] * self.s2, self.bt.T, out=out)
        out[np.arange(idx.size), idx] = 0.0


#: How many residual rows the reflection loop fetches at a time (one matrix product).
ROWS_PER_FETCH = 32

#: Memory for the residual rows the reflection loop keeps (never fewer than two fetches).
ROW_CACHE_BYTES = 64 * 2**20


class _RowCache:
    """Rows of a ``_Block`` for the reflection loop: fetched a block at a time, and kept.

    The residual does not change while variables are reflected (only the signs do), so a row
    fetched for a candidate that was not reflected then is still valid when its sum becomes
    the smallest later: keeping it, instead of refetching, saves most of the O(M P) products
    (about one row per reflection is then fetched).  A miss fetches the uncached rows with the
    most negative sums straight into a block of the cache (no copy); when every block is in
    use, the block whose smallest sum is the largest (rows already reflected) is replaced.
    The memory is kept from one ``reset`` to the next of the same width.
    """

    def __init__(self) -> None:
        self.width = -1

    def reset(self, block: _Block, width: int) -> None:
        """Forget every row and serve those of block (width variables)."""
        if width != self.width:
            self.width = width
            self.block = min(ROWS_PER_FETCH, width)
            blocks = min(-(-width // self.block), max(2, ROW_CACHE_BYTES // (8 * width * self.block)))
            self.rows = np.empty((blocks, self.block, width))
            self.flat = self.rows.reshape(-1, width)
            self.owner = np.empty((blocks, self.block), dtype=np.intp)
            self.slot = np.empty(width, dtype=np.intp)
        self.source = block
        self.owner[:] = -1
        self.slot[:] = -1
        self.filled = 0

    def twice_row(self, j: int, c: np.ndarray) -> np.ndarray:
        """2 x row j; c (the current sums) chooses what else to fetch on a miss."""
        if self.slot[j] < 0:
            self._fetch(j, c)
        row: np.ndarray = self.flat[self.slot[j]]
        return row

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
        self.source.twice_rows(idx, self.rows[k, :want])
        self.slot[idx] = k * self.block + np.arange(want)


#: On the factored path the reflection loop works on the variables with the smallest sums
#: only: the ACTIVE_MIN smallest, or one in ACTIVE_SHARE if that is more.
ACTIVE_MIN = 2000
ACTIVE_SHARE = 10


def _reflect(res: _Residual, cache: _RowCache, first: bool) -> tuple[np.ndarray, np.ndarray]:
    """qmethod's 'maximise positive manifold' loop; returns the signs d and the column sums.

    While any column sum is <= 0, reflect the variable with the smallest sum (lowest index on
    ties).  On the first factor of a forced grid the exact sums are integers over a constant,
    so "0" arrives as +-1e-16: there a tolerance of 1e-12 P stands for zero (Q-METHOD.md (b),
    (c)); on later factors the sums are of the order of ``spc`` and the plain test is kept.

    Each reflection needs a row of the residual (O(M P) on the factored path), so at large P
    the loop runs on the n variables with the smallest sums (``_reflect_block``, rows of
    length n) for as long as it can prove that none of the others can have become the
    smallest; then every sum is recomputed from scratch (O(M P)) and the n smallest are
    chosen again.  The sequence of reflections is qmethod's exactly.  The loop ends only
    after a recomputation confirms every sum is positive.

    One departure, where qmethod never ends: reflecting a variable whose sum is zero leaves it
    zero, so two zero sums can take turns for ever (a sort uncorrelated with the rest in sum;
    seen on 6 statements and 9 sorts).  A variable whose sum is zero (within the tolerance) is
    reflected at most once per factor; after that its zero counts as positive.  Every other
    reflection raises the total of the sums, so the loop always ends.
    """
    p = res.diag_res.size
    tol = 1e-12 * p if first else 0.0
    n = p if res.r is not None else min(p, max(ACTIVE_MIN, p // ACTIVE_SHARE))
    d = np.ones(p)
    c = res.colsums(d)
    spent = np.zeros(p, dtype=bool)  # variables already reflected at a zero sum
    norms = np.sqrt(np.einsum("ij,ij->i", res.bt, res.bt)) if n < p else np.empty(0)
    while _candidates(c, spent, tol).min() <= tol:
        if n < p:
            a = np.sort(np.argpartition(c, n - 1)[:n])
            rest = np.ones(p, dtype=bool)
            rest[a] = False
            floor = c[rest].min()
            reach = 2.0 * norms[rest].max()
        else:
            a, floor, reach = np.arange(p), np.inf, 0.0
        block = _Block(res, a)
        cache.reset(block, n)
        signs, spent_a = d[a], spent[a]
        if not _reflect_block(block, cache, c[a], signs, spent_a, floor, reach, tol, first):
            n = min(p, 2 * n)  # more than n sums within rounding of the smallest: widen
        d[a], spent[a] = signs, spent_a
        c = res.colsums(d)
    return d, c


def _candidates(c: np.ndarray, spent: np.ndarray, tol: float) -> np.ndarray:
    """The sums the loop may reflect: c, with the zeros of variables already reflected at zero
    taken out (as +inf).  Zero reflections are rare, so this is usually c itself."""
    if not spent.any():
        return c
    out: np.ndarray = np.where(spent & (np.abs(c) <= tol), np.inf, c)
    return out


def _reflect_block(
    block: _Block,
    cache: _RowCache,
    c: np.ndarray,
    d: np.ndarray,
    spent: np.ndarray,
    floor: float,
    reach: float,
    tol: float,
    first: bool,
) -> int:
    """Reflect within a block while its smallest sum is provably the smallest of all.

    c, d and spent (the block's sums, signs and zero reflections) are updated in place;
    returns how many reflections
    were made.  Every sum outside the block was >= floor when the block was chosen and those
    variables are not reflected here, so after reflections j with signs d_j each has moved
    by 2 |b_i^T S w| <= reach |w|, w = sum d_j b_j (Cauchy-Schwarz, reach = 2 max |b_i|
    outside): while floor - reach |w| stays above the block's smallest sum (plus the
    tolerance, and 1e-10 n for rounding) the next reflection is the same as on all P.

    Reflecting j changes every other sum by -2 d_i d_j M_ij, so the sums are updated with
    row j (from the cache) instead of being recomputed.  The loop keeps g = D c, the
    unreflected sums, and c = d * g: a reflection adds or subtracts the cached 2 M_j to g,
    one numpy pass with the same rounding as updating c (the factors +-1 and 2 are exact),
    then one pass makes c and one finds its minimum.  These passes stay numpy ufuncs, not
    BLAS calls: OpenBLAS threads an axpy above 10,000 elements, and on a busy machine such a
    call waits on a descheduled thread, erratically up to 4x slower (analysis README).
    """
    g = d * c
    bounded = reach > 0
    w = np.zeros(block.bt.shape[1] if bounded else 0)
    slack = tol + 1e-10 * c.size
    flips = 0
    any_spent = bool(spent.any())
    while True:
        candidates = _candidates(c, spent, tol) if any_spent else c
        j = int(np.argmin(candidates))
        low = candidates[j]
        if low > tol or (bounded and floor - reach * np.sqrt(w @ w) <= low + slack):
            return flips
        if first:
            j = int(np.argmax(candidates <= low + tol))
        if abs(c[j]) <= tol:
            spent[j] = any_spent = True
        step = cache.twice_row(j, c)
        if d[j] > 0:
            np.subtract(g, step, out=g)
            if bounded:
                np.add(w, block.bt[j], out=w)
        else:
            np.add(g, step, out=g)
            if bounded:
                np.subtract(w, block.bt[j], out=w)
        d[j] = -d[j]
        np.multiply(d, g, out=c)
        flips += 1


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
    cache = _RowCache()
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
