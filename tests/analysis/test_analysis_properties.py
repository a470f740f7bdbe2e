"""Properties the engine must keep whatever the data (hypothesis)."""

from __future__ import annotations

import numpy as np
from analysis_helpers import synthetic_sorts
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qsort.analysis import analyse, scores
from qsort.analysis import rotation as rotate

studies = st.tuples(
    st.integers(min_value=12, max_value=40),  # statements
    st.integers(min_value=5, max_value=25),  # sorts
    st.integers(min_value=0, max_value=10_000),  # seed
)


def _run(x: np.ndarray, sorts: list[str], **options: object):
    n = x.shape[0]
    return analyse(x, [f"s{i}" for i in range(n)], sorts, factors=2, **options)


@settings(max_examples=40, deadline=None)
@given(studies, st.randoms(use_true_random=False))
def test_reordering_sorts_permutes_loadings_and_keeps_scores(study, random) -> None:
    n, p, seed = study
    x = synthetic_sorts(n, p, seed=seed)
    assume((x.std(axis=0) > 0).all())
    sorts = [f"q{i}" for i in range(p)]
    order = list(range(p))
    random.shuffle(order)
    base = _run(x, sorts)
    moved = _run(x[:, order], [sorts[i] for i in order])
    # A factor whose loadings sum to zero has no sign to keep (the column-sum rule meets rounding:
    # hypothesis found 12 statements x 5 sorts, seed 193): there, compare up to the sign.
    undecided = np.abs(base.loadings.sum(axis=0)) < 1e-9
    sign = np.where(undecided, np.sign((moved.loadings * base.loadings[order]).sum(axis=0)), 1.0)
    np.testing.assert_allclose(moved.loadings * sign, base.loadings[order], atol=1e-9)
    assert (moved.flags == base.flags[order]).all()
    np.testing.assert_allclose(moved.zscores * sign, base.zscores, atol=1e-9, equal_nan=True)
    for f in range(base.n_factors):
        column = base.zscores[:, f]
        if np.isnan(column).any() or undecided[f]:
            continue
        gaps = np.diff(np.sort(column))
        if (gaps > 1e-9).all() or (gaps == 0).all():  # no ties that rounding could split
            np.testing.assert_array_equal(moved.factor_arrays[:, f], base.factor_arrays[:, f])


@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=60, unique=True),
    st.integers(0, 10_000),
)
def test_tie_free_zscores_fill_the_grid_exactly(values, seed) -> None:
    z = np.array(values)[:, None]
    rng = np.random.default_rng(seed)
    grid = np.sort(rng.integers(-4, 5, z.shape[0]))
    arrays = scores.factor_arrays(z, grid)
    assert sorted(arrays[:, 0].astype(int).tolist()) == grid.tolist()
    # and the order follows the z-scores
    assert (np.diff(arrays[np.argsort(z[:, 0]), 0]) >= 0).all()


@settings(max_examples=30, deadline=None)
@given(studies)
def test_analysed_arrays_fill_the_grid_when_zscores_are_tie_free(study) -> None:
    n, p, seed = study
    x = synthetic_sorts(n, p, seed=seed)
    result = _run(x, [f"q{i}" for i in range(p)])
    for f in range(result.n_factors):
        z = result.zscores[:, f]
        if np.isnan(z).any() or len(np.unique(z)) < n:
            continue
        assert np.sort(result.factor_arrays[:, f]).tolist() == np.sort(x[:, 0]).tolist()


loading_matrices = st.integers(0, 10_000).map(lambda seed: np.random.default_rng(seed).uniform(-0.9, 0.9, size=(12, 3)))


@given(loading_matrices, st.integers(0, 2))
def test_reflecting_a_factor_twice_is_the_identity(loadings, factor) -> None:
    twice = rotate.reflect(rotate.reflect(loadings, factor), factor)
    np.testing.assert_array_equal(twice, loadings)
    once = rotate.reflect(loadings, factor)
    np.testing.assert_array_equal(once[:, factor], -loadings[:, factor])


@given(loading_matrices, st.floats(-360, 360, allow_nan=False), st.sampled_from([(0, 1), (2, 0)]))
def test_rotating_a_pair_by_theta_then_minus_theta_is_the_identity(loadings, theta, pair) -> None:
    there = rotate.rotate_pair(loadings, *pair, theta)
    back = rotate.rotate_pair(there, *pair, -theta)
    np.testing.assert_allclose(back, loadings, atol=1e-12)
    # communalities are unchanged by a rotation
    np.testing.assert_allclose((there**2).sum(1), (loadings**2).sum(1), atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(studies, st.floats(-90, 90, allow_nan=False))
def test_the_engine_options_undo_themselves(study, theta) -> None:
    n, p, seed = study
    x = synthetic_sorts(n, p, seed=seed)
    sorts = [f"q{i}" for i in range(p)]
    base = _run(x, sorts)
    undone = _run(x, sorts, pair_rotations=[(1, 2, theta), (1, 2, -theta)], reflections=[2, 2])
    np.testing.assert_allclose(undone.loadings, base.loadings, atol=1e-12)
