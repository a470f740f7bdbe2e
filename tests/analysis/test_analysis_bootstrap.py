"""The bootstrap against qmethod's qmboots on the same resamples, and its own invariants."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from analysis_helpers import REFERENCE, synthetic_sorts

from qsort.analysis import AnalysisInputError, analyse, read_sorts_csv
from qsort.analysis.bootstrap import (
    ORDER_ERROR,
    BootstrapCancelled,
    BootstrapResult,
    bootstrap,
    bootstrap_analysis,
    draw_resamples,
    intended_stability_index,
    stability_index,
)
from qsort.analysis.result import AnalysisResult

TOL = 1e-6
CASE = REFERENCE / "bootstrap" / "lipset_pca3_50.json"


def _lipset(extraction: str = "pca") -> tuple[Any, AnalysisResult]:
    table = read_sorts_csv(REFERENCE / "lipset" / "sorts.csv")
    return table, analyse(table.values, table.statement_ids, table.sort_ids, factors=3, extraction=extraction)


def _boot(table: Any, result: AnalysisResult, **options: Any) -> BootstrapResult:
    return bootstrap_analysis(table.values, result, **options)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return json.loads(CASE.read_text())


@pytest.fixture(scope="module")
def ours(reference: dict[str, Any]) -> dict[str, Any]:
    table, result = _lipset()
    out = _boot(table, result, resamples=np.array(reference["resamples"]) - 1).to_json()
    json.dumps(out, allow_nan=False)
    return out


def test_target_is_qmethods_own_run(reference: dict[str, Any]) -> None:
    _, result = _lipset()
    np.testing.assert_allclose(result.loadings, reference["original"]["loadings"], atol=TOL)
    assert result.flags.tolist() == reference["original"]["flagged"]
    assert result.factor_arrays.astype(int).tolist() == reference["original"]["zsc_n"]


def test_same_resamples_and_identical_logs(reference: dict[str, Any], ours: dict[str, Any]) -> None:
    assert ours["resamples"] == reference["resamples"]
    assert ours["order_log"] == reference["order_log"]
    assert ours["sign_log"] == reference["sign_log"]
    assert ours["error_steps"] == [i + 1 for i, line in enumerate(reference["order_log"]) if line == ORDER_ERROR]
    assert len(ours["error_steps"]) == 15  # the reference has error steps: their exclusion is tested


@pytest.mark.parametrize("field", ["n", "mean", "sd", "q025", "q25", "q75", "q975"])
def test_zscore_stats_match_qmboots(reference: dict[str, Any], ours: dict[str, Any], field: str) -> None:
    for f in range(3):
        assert ours["zscore_stats"][f]["statement"] == reference["zscore_stats"][f]["statement"]
        np.testing.assert_allclose(
            ours["zscore_stats"][f][field], reference["zscore_stats"][f][field], atol=TOL, rtol=0
        )


@pytest.mark.parametrize("field", ["n", "mean", "sd", "q025", "q975", "flag_freq"])
def test_loading_stats_match_qmboots(reference: dict[str, Any], ours: dict[str, Any], field: str) -> None:
    for f in range(3):
        assert ours["loading_stats"][f]["sort"] == reference["loading_stats"][f]["sort"]  # sorted by name
        np.testing.assert_allclose(
            ours["loading_stats"][f][field], reference["loading_stats"][f][field], atol=TOL, rtol=0
        )


def test_flag_counts_arrays_and_stability_index_exactly(reference: dict[str, Any], ours: dict[str, Any]) -> None:
    for f in range(3):
        mine = np.array(ours["loading_stats"][f]["flag_freq"]) * np.array(ours["loading_stats"][f]["n"])
        theirs = np.array(reference["loading_stats"][f]["flag_freq"]) * np.array(reference["loading_stats"][f]["n"])
        assert np.rint(mine).astype(int).tolist() == np.rint(theirs).astype(int).tolist()
    assert ours["bootstrapped_factor_scores"] == reference["bootstrapped_factor_scores"]
    np.testing.assert_allclose(ours["fsi"]["FSindex"], reference["fsi"]["FSindex"], atol=TOL)
    np.testing.assert_allclose(ours["fsi"]["NFSindex"], reference["fsi"]["NFSindex"], atol=TOL)


def test_json_layout_is_the_references_plus_seconds(reference: dict[str, Any], ours: dict[str, Any]) -> None:
    missing = set(reference) - set(ours) - {"qmethod_version"}
    assert not missing
    assert ours["seconds"] > 0
    assert set(ours["original"]) == set(reference["original"])
    assert ours["call"]["nsteps"] == 50 and ours["call"]["nfactors"] == 3


def test_stability_index_reproduces_qfsi_slip_and_offers_the_intended_one() -> None:
    original = np.array([[2.0, -1.0], [0.0, 1.0], [-2.0, 0.0]])
    boot = np.array([[2.0, 1.0], [-2.0, -1.0], [0.0, 0.0]])
    qscores = np.array([-2.0, 0.0, 2.0])
    fsi, nfsi = stability_index(original, boot, qscores)
    # factor 1 vs original[0, 0] = 2; factor 2 vs original[1, 0] = 0
    assert fsi.tolist() == [(0 + 4 + 2) / 3, (1 + 1 + 0) / 3]
    assert nfsi.tolist() == [fsi[0] / 8, fsi[1] / 8]
    intended, _ = intended_stability_index(original, boot, qscores)
    assert intended.tolist() == [(0 + 2 + 2) / 3, (2 + 2 + 0) / 3]


@pytest.mark.parametrize("extraction", ["pca", "centroid"])
def test_permuted_resamples_reproduce_the_run(extraction: str) -> None:
    """A resample that holds every sort once is the full data: each step must give back the
    run's own loadings, flags and z-scores (so SDs are 0 and the arrays are the original)."""
    table, result = _lipset(extraction)
    rng = np.random.default_rng(3)
    resamples = np.array([rng.permutation(9) for _ in range(6)] + [np.arange(9)])
    boot = _boot(table, result, resamples=resamples)
    assert not boot.error_steps.any()
    np.testing.assert_allclose(boot.loading_stats.mean, result.loadings, atol=1e-9)
    np.testing.assert_allclose(boot.loading_stats.sd, 0, atol=1e-9)
    np.testing.assert_allclose(boot.zscore_stats.mean, result.zscores, atol=1e-9)
    assert (boot.flag_freq == result.flags).all()
    # Arrays: qmboots orders tied z-scores by statement, the analysis averages their ranks, so
    # the two agree on every statement whose z-score is not tied.
    z = np.round(result.zscores, 9)
    untied = np.array([[(z[:, f] == z[s, f]).sum() == 1 for f in range(3)] for s in range(z.shape[0])])
    assert untied.sum() > 80
    assert (boot.arrays[untied] == result.factor_arrays[untied]).all()
    if untied.all():
        assert (boot.fsi_intended == 0).all() and not boot.unstable.any()


def test_centroid_steps_match_the_engine_on_each_resample() -> None:
    """Centroid has no qmboots reference: each kept step's loadings must equal the engine's
    own centroid + varimax of the resampled sorts, up to the order and sign qindtest chose."""
    table, result = _lipset("centroid")
    resamples = draw_resamples(9, 20, seed=11)
    boot = _boot(table, result, resamples=resamples)
    for step in np.flatnonzero(~boot.error_steps)[:5]:
        idx = resamples[step]
        alone = _boot(table, result, resamples=idx[None, :])
        ids = [f"{table.sort_ids[q]}#{i}" for i, q in enumerate(idx)]
        direct = analyse(table.values[:, idx], table.statement_ids, ids, factors=3, extraction="centroid")
        first = {q: i for i, q in reversed(list(enumerate(idx)))}
        for q, i in first.items():
            got = alone.loading_stats.mean[q]
            assert np.allclose(np.sort(np.abs(got)), np.sort(np.abs(direct.loadings[i])), atol=1e-9)
    kept = int((~boot.error_steps).sum())
    assert (boot.zscore_stats.n <= kept).all() and boot.zscore_stats.n.max() == kept


def test_seed_reproduces_and_resamples_balance() -> None:
    table, result = _lipset()
    a = _boot(table, result, steps=30, seed=5)
    b = _boot(table, result, steps=30, seed=5)
    assert a.parameters["seed"] == 5
    assert (a.resamples == b.resamples).all()
    np.testing.assert_array_equal(a.zscore_stats.mean, b.zscore_stats.mean)
    assert (np.bincount(a.resamples.ravel(), minlength=9) == 30).all()
    drawn = _boot(table, result, steps=3)
    assert isinstance(drawn.parameters["seed"], int)


def test_pool_gives_the_same_result_as_one_process() -> None:
    x = synthetic_sorts(30, 60, views=3, seed=2)
    ids = [f"s{i}" for i in range(60)]
    result = analyse(x, range(30), ids, factors=3)
    options = {
        "target": result.loadings,
        "original_flags": result.flags,
        "original_zscores": result.zscores,
        "original_arrays": result.factor_arrays,
        "steps": 60,
        "seed": 1,
    }
    one = bootstrap(x, range(30), ids, **options)
    two = bootstrap(x, range(30), ids, workers=2, **options)
    assert one.order_log == two.order_log
    np.testing.assert_allclose(one.zscore_stats.mean, two.zscore_stats.mean, atol=1e-12)


def test_progress_and_cancel() -> None:
    x = synthetic_sorts(30, 2000, views=3, seed=4)
    ids = [f"s{i}" for i in range(2000)]
    result = analyse(x, range(30), ids, factors=3)
    options = {
        "target": result.loadings,
        "original_flags": result.flags,
        "original_zscores": result.zscores,
        "original_arrays": result.factor_arrays,
        "steps": 60,
        "seed": 1,
    }
    seen: list[tuple[int, int]] = []
    bootstrap(x, range(30), ids, progress=lambda done, total: seen.append((done, total)), **options)
    assert len(seen) > 1 and seen[-1] == (60, 60) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    calls = iter([False, True])
    with pytest.raises(BootstrapCancelled):
        bootstrap(x, range(30), ids, cancelled=lambda: next(calls), **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": 0}, "steps"),
        ({"steps": None}, "steps"),
        ({"resamples": [[0, 1, 2]]}, "9 sort indices"),
        ({"resamples": [[0, 1, 2, 3, 4, 5, 6, 7, 9]]}, "between 1 and 9"),
        ({"resamples": [["a"] * 9]}, "resamples"),
        ({"steps": 3, "extraction": "ml"}, "extraction"),
    ],
)
def test_bad_options_are_refused_clearly(options: dict[str, Any], message: str) -> None:
    table, result = _lipset()
    merged = {"extraction": "pca", **options}
    with pytest.raises(AnalysisInputError, match=message):
        bootstrap(
            table.values,
            table.statement_ids,
            table.sort_ids,
            target=result.loadings,
            original_flags=result.flags,
            original_zscores=result.zscores,
            original_arrays=result.factor_arrays,
            **merged,
        )
