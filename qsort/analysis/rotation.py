"""Rotations of a loading matrix: varimax (R's loop), a judgmental pair rotation, reflection."""

from __future__ import annotations

import numpy as np

#: R's ``stats::varimax`` defaults.
VARIMAX_EPS = 1e-5
VARIMAX_MAX_ITER = 1000


def varimax(loadings: np.ndarray, *, full: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Varimax with Kaiser normalisation; returns (rotated loadings, rotation matrix).

    Default: exactly R's ``stats::varimax(x, normalize = TRUE, eps = 1e-5)`` — at most 1000
    rounds of z = xT, B = x^T (z^3 - z diag(colSums(z^2))/P), T = U V^T from svd(B), stopping
    at the first round whose criterion d = sum(singular values) grew by less than a factor
    (1 + eps).  That early stop is what qmethod reports, so it is the default.
    ``full=True`` keeps going until d stops growing at machine precision (up to 20,000
    rounds): a true varimax optimum, which can differ from qmethod by ~1e-2 in loadings.
    """
    x = np.asarray(loadings, dtype=np.float64)
    p, k = x.shape
    if k < 2:
        return x.copy(), np.eye(k)
    sc = np.sqrt(np.einsum("ij,ij->i", x, x))
    sc = np.where(sc > 0, sc, 1.0)  # a sort with no common variance stays at 0
    x = x / sc[:, None]
    eps, max_iter = (1e-14, 20_000) if full else (VARIMAX_EPS, VARIMAX_MAX_ITER)
    rot = np.eye(k)
    d = 0.0
    for _ in range(max_iter):
        z = x @ rot
        b = x.T @ (z**3 - z * (np.einsum("ij,ij->j", z, z) / p))
        u, s, vt = np.linalg.svd(b)
        rot = u @ vt
        d_past, d = d, float(s.sum())
        if d < d_past * (1 + eps):
            break
    return (x @ rot) * sc[:, None], rot


def rotate_pair(loadings: np.ndarray, first: int, second: int, degrees: float) -> np.ndarray:
    """Rotate factors ``first`` and ``second`` (0-based columns) by ``degrees``.

    The pair's axes turn counter-clockwise by the angle in the plane (first, second):
    a_first' = a_first cos t + a_second sin t, a_second' = -a_first sin t + a_second cos t,
    so a sort lying at angle phi from the first axis ends at phi - t.  Rotating by t then
    -t is the identity; communalities are unchanged.
    """
    out = np.array(loadings, dtype=np.float64, copy=True)
    t = np.deg2rad(degrees)
    a, b = out[:, first].copy(), out[:, second].copy()
    out[:, first] = a * np.cos(t) + b * np.sin(t)
    out[:, second] = -a * np.sin(t) + b * np.cos(t)
    return out


def reflect(loadings: np.ndarray, factor: int) -> np.ndarray:
    """Multiply factor ``factor`` (0-based column) by -1."""
    out = np.array(loadings, dtype=np.float64, copy=True)
    out[:, factor] *= -1.0
    return out


def order_and_sign(loadings: np.ndarray) -> np.ndarray:
    """psych::principal's convention after rotation: decreasing sum of squares, positive sums."""
    ss = np.einsum("ij,ij->j", loadings, loadings)
    out = loadings[:, np.argsort(-ss, kind="stable")]
    return out * np.where(out.sum(axis=0) < 0, -1.0, 1.0)
