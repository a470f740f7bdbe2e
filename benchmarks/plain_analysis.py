"""The yardstick for ``manage.py qanalysis``: the same analysis as a plain numpy script.

    python benchmarks/plain_analysis.py sorts.csv FACTORS out.json

No Django, no qsort, no scipy: read the CSV, Pearson correlations, PCA, varimax (R's loop),
qmethod's automatic flags, z-scores and factor arrays, then write the big fields of the
analysis JSON (correlations up to 1,000 sorts, unrotated and rotated loadings, flags,
z-scores, factor arrays) with the standard library's json, the way a plain script would.
benchmarks/cli.py times it next to qanalysis and checks that their loadings agree.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def main(csv: str, k: int, out: str) -> None:
    with open(csv, encoding="utf-8") as handle:
        sort_ids = handle.readline().strip().split(",")[1:]
        rows = [line.strip().split(",") for line in handle if line.strip()]
    statement_ids = [row[0] for row in rows]
    x = np.array([row[1:] for row in rows], dtype=np.float64)
    n, p = x.shape
    z = x - x.mean(axis=0)
    z /= np.sqrt((z * z).sum(axis=0))
    values, small = np.linalg.eigh(z @ z.T)
    values, small = np.clip(values[::-1], 0, None), small[:, ::-1]
    vectors = (z.T @ small[:, :k]) / np.sqrt(values[:k])
    unrotated = vectors * np.sqrt(values[:k])
    unrotated *= np.where(unrotated.sum(axis=0) < 0, -1.0, 1.0)

    sc = np.sqrt((unrotated**2).sum(axis=1))
    a = unrotated / sc[:, None]
    rot, d = np.eye(k), 0.0
    for _ in range(1000):
        y = a @ rot
        u, s, vt = np.linalg.svd(a.T @ (y**3 - y * ((y * y).sum(axis=0) / p)))
        rot = u @ vt
        d_past, d = d, s.sum()
        if d < d_past * (1 + 1e-5):
            break
    loadings = (a @ rot) * sc[:, None]
    loadings = loadings[:, np.argsort(-(loadings**2).sum(axis=0), kind="stable")]
    loadings *= np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)

    sq = loadings**2
    flags = (sq > sq.sum(axis=1, keepdims=True) - sq) & (np.abs(loadings) > 1.96 / np.sqrt(n))
    w = np.clip(np.where(flags, loadings, 0.0), -1 + 1e-12, 1 - 1e-12)
    totals = x @ (w / (1 - w**2))
    zscores = (totals - totals.mean(axis=0)) / totals.std(axis=0, ddof=1)
    grid = np.sort(x[:, 0])
    arrays = np.empty_like(zscores)
    for f in range(k):
        order = np.argsort(zscores[:, f], kind="stable")
        arrays[order, f] = grid

    def matrix(m: np.ndarray) -> list:
        return np.where(np.isnan(m), None, m).tolist()

    result = {
        "statements": statement_ids,
        "sorts": sort_ids,
        "correlations": (z.T @ z).tolist() if p <= 1000 else None,
        "eigenvalues": values[: min(n, p)].tolist(),
        "unrotated_loadings": unrotated.tolist(),
        "loadings": loadings.tolist(),
        "flags": flags.tolist(),
        "zscores": matrix(zscores),
        "factor_arrays": arrays.astype(int).tolist(),
    }
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(result, allow_nan=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
