"""Number-of-factors evidence: hand-computed rules and parallel analysis on planted studies."""

from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_helpers import REFERENCE

from qsort.analysis import analyse, read_sorts_csv
from qsort.analysis.evidence import (
    evidence_for_result,
    humphrey,
    leading_count,
    parallel_analysis,
    significant_loadings,
    study_evidence,
)

GRID = np.repeat(np.arange(-4, 5), [2, 3, 5, 6, 8, 6, 5, 3, 2])  # 40 cards


def planted(k: int, sorts: int, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
    """Forced sorts around k independent viewpoints plus noise."""
    n = GRID.size
    views = rng.normal(size=(n, k))
    x = np.empty((n, sorts), dtype=int)
    for j in range(sorts):
        latent = views[:, j % k] + noise * rng.normal(size=n)
        x[np.argsort(latent, kind="stable"), j] = GRID
    return x


def test_humphreys_rule_by_hand() -> None:
    loadings = np.array([[0.6, 0.5], [-0.7, 0.2], [0.1, -0.3], [0.2, 0.1]])
    product, bar = humphrey(loadings, 25)
    assert product.tolist() == pytest.approx([0.7 * 0.6, 0.5 * 0.3])
    assert bar == pytest.approx(0.4)  # 2 x 1/sqrt(25)
    assert (product > bar).tolist() == [True, False]


def test_two_significant_loadings_by_hand() -> None:
    # 1.96/sqrt(16) = 0.49: strictly above counts, the sign does not matter
    loadings = np.array([[0.5, 0.49], [-0.6, 0.2], [0.1, 0.7], [0.49, -0.1]])
    assert significant_loadings(loadings, 16).tolist() == [2, 1]


def test_leading_count() -> None:
    assert leading_count(np.array([True, True, False, True])) == 2
    assert leading_count(np.array([True, True])) == 2
    assert leading_count(np.array([False])) == 0


def test_parallel_analysis_keeps_forced_grid_and_is_seeded() -> None:
    rng = np.random.default_rng(1)
    x = planted(3, 30, rng)
    a = parallel_analysis(x, draws=100, seed=4)
    b = parallel_analysis(x, draws=100, seed=4)
    np.testing.assert_array_equal(a.threshold, b.threshold)
    assert (np.diff(a.mean) <= 1e-12).all()  # eigenvalues largest first
    assert a.threshold[0] > 1 and a.retained == 3


def test_parallel_analysis_suggests_the_planted_number() -> None:
    """50 generated studies with 2-5 planted viewpoints: the planted number in >= 90 %."""
    rng = np.random.default_rng(20261130)
    hits = 0
    for i in range(50):
        k = 2 + i % 4
        x = planted(k, int(rng.integers(20, 60)), rng)
        evidence = study_evidence(x, range(x.shape[0]), range(x.shape[1]), factors=8, seed=i)
        hits += evidence.parallel.retained == k
    assert hits >= 45


def test_free_grid_draws_from_each_sorts_own_values() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(-3, 4, size=(20, 15))
    x[:, 0] = 0
    x[0, 0] = 1  # one sort with almost no spread still has variance
    pa = parallel_analysis(x, draws=50)
    assert pa.threshold.shape == (15,) and np.isfinite(pa.threshold).all()


def test_panel_for_lipset_run() -> None:
    table = read_sorts_csv(REFERENCE / "lipset" / "sorts.csv")
    result = analyse(table.values, table.statement_ids, table.sort_ids, factors=3)
    evidence = evidence_for_result(table.values, result, draws=200)
    out = evidence.to_json()
    json.dumps(out, allow_nan=False)
    keys = [c["key"] for c in out["criteria"]]
    assert keys == ["kaiser", "parallel", "humphrey", "two_loadings"]
    assert out["criteria"][0]["factors"] == int((result.eigenvalues > 1).sum())
    assert [f["defining_sorts"] for f in out["per_factor"]] == result.flags.sum(axis=0).tolist()
    low, high = out["suggested_range"]
    counts = [max(1, c["factors"]) for c in out["criteria"]]
    assert (low, high) == (min(counts), max(counts))
    assert low <= out["suggested"] == max(1, out["parallel_analysis"]["retained"]) <= high
    np.testing.assert_allclose(
        [f["cumulative_variance"] for f in out["per_factor"]],
        100 * np.cumsum(result.eigenvalues[:3]) / 9,
    )
    assert all(c["reason"] for c in out["criteria"])


def test_study_evidence_caps_factors_at_what_the_data_allow() -> None:
    rng = np.random.default_rng(5)
    x = planted(2, 4, rng)
    evidence = study_evidence(x, range(x.shape[0]), range(4), factors=8, draws=50)
    assert evidence.factors == 4  # four sorts allow four factors, not the eight asked for
    assert evidence.to_json()["per_factor"][-1]["factor"] == 4
