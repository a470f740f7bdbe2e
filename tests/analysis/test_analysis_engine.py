"""The engine's paths and options beyond qmethod's defaults."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from analysis_helpers import REFERENCE, synthetic_sorts
from scipy import stats

from qsort.analysis import analyse, read_sorts_csv
from qsort.analysis import correlation as corr
from qsort.analysis import extraction as extract
from qsort.analysis import rotation as rotate


@pytest.fixture(scope="module")
def lipset():
    return read_sorts_csv(REFERENCE / "lipset" / "sorts.csv")


@pytest.fixture(scope="module")
def bipolar():
    return read_sorts_csv(REFERENCE / "synthetic" / "c04_bipolar_3v" / "sorts.csv")


def _run(table, **options):
    options.setdefault("factors", 3)
    return analyse(table.values, table.statement_ids, table.sort_ids, **options)


@pytest.mark.parametrize("n, p, k", [(40, 300, 4), (50, 800, 3)])
def test_the_dense_and_factored_paths_agree(n, p, k) -> None:
    z = corr.factor(synthetic_sorts(n, p, views=4, seed=p), [str(i) for i in range(p)])
    np.testing.assert_allclose(extract.centroid(z, k, dense=True), extract.centroid(z, k, dense=False), atol=1e-10)
    np.testing.assert_allclose(extract.pca(z, k, dense=True), extract.pca(z, k), atol=1e-10)
    np.testing.assert_allclose(extract.eigenvalues(z, dense=True), extract.eigenvalues(z), atol=1e-10)


def test_the_centroid_is_unchanged_when_its_row_cache_must_drop_rows(monkeypatch) -> None:
    # two blocks of 8 rows: rows are dropped and fetched again many times in every factor
    z = corr.factor(synthetic_sorts(40, 600, views=4, seed=6), [str(i) for i in range(600)])
    expected = extract.centroid(z, 4, dense=True)
    monkeypatch.setattr(extract, "ROWS_PER_FETCH", 8)
    monkeypatch.setattr(extract, "ROW_CACHE_BYTES", 2 * 8 * 8 * 600)
    np.testing.assert_allclose(extract.centroid(z, 4, dense=True), expected, atol=1e-12)
    np.testing.assert_allclose(extract.centroid(z, 4, dense=False), expected, atol=1e-10)


def _centroid_and_reflections(monkeypatch, z, k, *, dense):
    """The loadings and every variable reflected, in order (all factors)."""
    order: list[int] = []
    original = extract._RowCache.twice_row

    def record(cache, j, c):
        order.append(int(cache.source.a[j]))
        return original(cache, j, c)

    with monkeypatch.context() as patch:
        patch.setattr(extract._RowCache, "twice_row", record)
        return extract.centroid(z, k, dense=dense), order


def test_the_centroid_reflects_in_the_same_order_among_the_smallest_sums_only(monkeypatch) -> None:
    # 50 of 800 variables at a time: the bound on the others is tested and the set renewed often
    z = corr.factor(synthetic_sorts(40, 800, views=4, seed=8), [str(i) for i in range(800)])
    expected, order = _centroid_and_reflections(monkeypatch, z, 4, dense=True)
    monkeypatch.setattr(extract, "ACTIVE_MIN", 50)
    monkeypatch.setattr(extract, "ACTIVE_SHARE", 10**6)
    loadings, reflected = _centroid_and_reflections(monkeypatch, z, 4, dense=False)
    assert reflected == order
    np.testing.assert_allclose(loadings, expected, atol=1e-10)


def test_the_centroid_widens_its_set_when_more_sums_tie_than_it_holds(monkeypatch) -> None:
    # every sort ten times: groups of ten equal sums, more than the 4 variables of the set
    x = np.tile(synthetic_sorts(30, 60, views=3, seed=2), (1, 10))
    z = corr.factor(x, [str(i) for i in range(600)])
    expected = extract.centroid(z, 3, dense=True)
    monkeypatch.setattr(extract, "ACTIVE_MIN", 4)
    monkeypatch.setattr(extract, "ACTIVE_SHARE", 10**6)
    np.testing.assert_allclose(extract.centroid(z, 3, dense=False), expected, atol=1e-10)


def test_spearman_and_kendall_match_scipy(lipset) -> None:
    x = lipset.values
    rho = corr.matrix(corr.factor(x, lipset.sort_ids, "spearman"))
    np.testing.assert_allclose(rho, stats.spearmanr(x).statistic, atol=1e-12)
    tau = corr.matrix(corr.factor(x, lipset.sort_ids, "kendall"))
    for i in range(x.shape[1]):
        for j in range(x.shape[1]):
            expected = stats.kendalltau(x[:, i], x[:, j], variant="b").statistic
            assert abs(tau[i, j] - expected) < 1e-12
    result = _run(lipset, correlation="kendall")
    assert result.to_json()["parameters"]["correlation"] == "kendall"


def test_fully_converged_varimax_differs_from_rs_early_stop_but_keeps_communalities(
    lipset,
) -> None:
    early = _run(lipset)
    full = _run(lipset, varimax_full=True)
    np.testing.assert_allclose((full.loadings**2).sum(1), (early.loadings**2).sum(1), atol=1e-12)

    # the criterion of the converged solution is at least as high
    def criterion(a):
        h = np.sqrt((a**2).sum(1, keepdims=True))
        return ((a / h) ** 4).sum() - ((a / h) ** 2).sum(0).__pow__(2).sum() / a.shape[0]

    assert criterion(full.loadings) >= criterion(early.loadings) - 1e-12
    assert full.to_json()["parameters"]["varimax_full"] is True


def test_rotation_none_reports_the_unrotated_loadings(lipset) -> None:
    for extraction in ("pca", "centroid"):
        result = _run(lipset, extraction=extraction, rotation="none")
        np.testing.assert_array_equal(result.loadings, result.unrotated_loadings)


def test_varimax_with_one_factor_changes_nothing() -> None:
    a = np.array([[0.5], [-0.2], [0.7]])
    np.testing.assert_array_equal(rotate.varimax(a)[0], a)


def test_flag_overrides_replace_the_automatic_flags(lipset) -> None:
    auto = _run(lipset)
    fr9 = lipset.sort_ids.index("FR9")
    assert auto.flags[fr9, 2]
    manual = _run(lipset, flag_overrides=[("FR9", 3, False), ("US1", 1, True)])
    assert not manual.flags[fr9, 2]
    assert manual.flags[0, 0] and manual.flags[0, 1]
    out = manual.to_json()
    assert out["parameters"]["flag_overrides"] == [["FR9", 3, False], ["US1", 1, True]]
    assert "FR9" in out["confounded"] + out["nonsignificant"]
    assert any("more than one factor" in w for w in out["warnings"])
    assert out["factors"][2]["defining_sorts"] == 2


def test_the_stricter_flag_level_raises_the_threshold(lipset) -> None:
    strict = _run(lipset, flag_level=0.01)
    assert strict.flag_threshold == pytest.approx(2.576 / np.sqrt(33))
    assert strict.flags.sum() <= _run(lipset).flags.sum()
    assert (np.abs(strict.loadings[strict.flags]) > strict.flag_threshold).all()


def test_split_bipolar_makes_the_negative_pole_its_own_factor(lipset) -> None:
    result = _run(lipset, split_bipolar=1)
    jp5 = lipset.sort_ids.index("JP5")
    assert result.n_factors == 4
    np.testing.assert_array_equal(result.loadings[:, 3], -result.loadings[:, 0])
    assert result.flags[:, 3].tolist() == [s == "JP5" for s in lipset.sort_ids]
    assert not result.flags[jp5, 0]
    out = result.to_json()
    assert len(out["factors"]) == 4 and out["factors"][3]["defining_sorts"] == 1
    assert out["parameters"]["split_bipolar"] == 1
    # the negative pole's array is that sort's own viewpoint, weighted positively
    assert np.corrcoef(result.zscores[:, 3], lipset.values[:, jp5])[0, 1] > 0.99


def test_centroid_factor_dominated_by_negative_loaders_is_reported(lipset) -> None:
    result = _run(lipset, extraction="centroid")
    assert any("Factor 1 is defined mainly by negative loadings" in w for w in result.warnings)
    reflected = _run(lipset, extraction="centroid", reflections=[1])
    np.testing.assert_allclose(reflected.zscores[:, 0], -result.zscores[:, 0], atol=1e-12)
    assert not any("Factor 1 is defined mainly" in w for w in reflected.warnings)


def test_progress_reports_every_stage_in_order(lipset) -> None:
    seen = []
    _run(lipset, progress=lambda stage, percent: seen.append((stage, percent)))
    stages = [s for s, _ in seen]
    assert stages[:6] == [
        "correlating",
        "extracting",
        "rotating",
        "flagging",
        "scoring",
        "distinguishing",
    ]
    assert [p for _, p in seen] == sorted(p for _, p in seen) and seen[-1][1] == 100


def test_correlations_are_left_out_above_a_thousand_sorts_unless_asked() -> None:
    x = synthetic_sorts(20, 1001, seed=3)
    ids = [f"s{i}" for i in range(20)]
    sorts = [f"q{i}" for i in range(1001)]
    assert analyse(x, ids, sorts, factors=2).to_json()["correlations"] is None
    asked = analyse(x, ids, sorts, factors=2, include_correlations=True)
    assert len(asked.to_json()["correlations"]) == 1001
    small = analyse(x[:, :50], ids, sorts[:50], factors=2, include_correlations=False)
    assert small.to_json()["correlations"] is None


def test_the_json_is_plain_and_complete(lipset) -> None:
    out = _run(lipset, flag_overrides=[("US1", 2, False), ("US2", 2, False), ("US8", 2, False)])
    text = json.dumps(out.to_json(), allow_nan=False)
    data = json.loads(text)
    for key in (
        "parameters",
        "statements",
        "sorts",
        "distribution",
        "correlations",
        "eigenvalues",
        "unrotated_ss_loadings",
        "unrotated_loadings",
        "loadings",
        "flags",
        "zscores",
        "factor_arrays",
        "factors",
        "factor_correlations",
        "se_differences",
        "differences",
        "statement_status",
        "distinguishing",
        "consensus",
        "warnings",
    ):
        assert key in data
    # factor 2 lost its flags: nulls for it, and it is left out of the comparisons
    assert all(row[1] is None for row in data["zscores"])
    assert all(row[1] is None for row in data["factor_arrays"])
    assert data["factor_correlations"][1] == [None, 1.0, None]
    assert all(2 not in d["factors"] for d in data["differences"])
    assert data["factors"][1]["se_factor_scores"] is None


def test_a_sort_with_one_significant_loading_and_no_flag_is_confounded() -> None:
    from qsort.analysis import flagging

    # 33 statements: threshold 1.96/sqrt(33) = 0.341. Row 0 is flagged; row 1 has one significant
    # loading (0.40) that holds no majority of its common variance (0.16 < 0.1089 + 0.0625);
    # row 2 has two; row 3 none.
    loadings = np.array([[0.70, 0.10, 0.05], [0.40, 0.33, 0.25], [0.42, 0.45, 0.2], [0.2, -0.3, 0.1]])
    flags = flagging.automatic(loadings, 33)
    significant = flagging.significant(loadings, 33)
    assert flags.sum(axis=1).tolist() == [1, 0, 0, 0]
    assert significant.sum(axis=1).tolist() == [1, 1, 2, 0]
    status = flagging.sort_status(flags, significant).tolist()
    assert status == ["flagged", "confounded", "confounded", "nonsignificant"]


def test_the_result_reports_status_mirrored_factors_and_marks(lipset) -> None:
    out = _run(lipset, flag_overrides=[("FR9", 3, False)]).to_json()
    fr9 = out["sorts"].index("FR9")
    assert out["sort_status"][fr9] in ("confounded", "nonsignificant")
    for sort, flags, significant, status in zip(
        out["sorts"], out["flags"], out["significant"], out["sort_status"], strict=True
    ):
        expected = "flagged" if any(flags) else "confounded" if any(significant) else "nonsignificant"
        assert status == expected, sort
        assert (sort in out["confounded"]) == (status == "confounded")
        assert (sort in out["nonsignificant"]) == (status == "nonsignificant")
    assert out["significant"] == (np.abs(out["loadings"]) > out["flag_threshold"]).tolist()
    assert [f["mirrored"] for f in out["factors"]] == [False] * 3  # PCA factors are re-signed positive
    reflected = _run(lipset, reflections=[1]).to_json()
    assert [f["mirrored"] for f in reflected["factors"]] == [True, False, False]
    assert any("Factor 1 is defined mainly by negative loadings" in w for w in reflected["warnings"])


def test_old_stored_results_get_the_same_judgements(lipset) -> None:
    from qsort.analysis.result import add_judgements

    for options in ({}, {"extraction": "centroid", "reflections": [2]}, {"flag_level": 0.01}):
        new = _run(lipset, **options).to_json()
        old = {k: v for k, v in new.items() if k not in ("significant", "sort_status", "flag_threshold")}
        old["factors"] = [{k: v for k, v in f.items() if k != "mirrored"} for f in new["factors"]]
        old["statement_status"] = [
            {k: s[k] for k in ("statement", "distinguishes", "consensus")} for s in new["statement_status"]
        ]
        assert add_judgements(old) == new


def test_average_ranks_match_scipy_rankdata_with_ties() -> None:
    from qsort.analysis.ranks import average_ranks

    rng = np.random.default_rng(7)
    for _ in range(50):
        grid = rng.integers(-4, 5, size=(int(rng.integers(1, 40)), int(rng.integers(1, 6)))).astype(float)
        np.testing.assert_array_equal(average_ranks(grid), stats.rankdata(grid, method="average", axis=0))
    vector = np.array([0.3, -1.0, 0.3, 2.0, 0.3, -1.0])
    np.testing.assert_array_equal(average_ranks(vector), [4.0, 1.5, 4.0, 6.0, 4.0, 1.5])


def test_to_json_keeps_full_precision_nulls_and_plain_types() -> None:
    table = read_sorts_csv(REFERENCE / "lipset" / "sorts.csv")
    result = analyse(table.values, table.statement_ids, table.sort_ids, factors=3)
    out = result.to_json()
    assert out["loadings"] == [[float(v) for v in row] for row in result.loadings]  # bit for bit
    assert out["correlations"][1][2] == float(result.correlations[1, 2])
    assert all(type(v) is bool for row in out["flags"] for v in row)
    assert all(type(v) is int for row in out["factor_arrays"] for v in row)
    assert all(type(v) is float for v in out["eigenvalues"])


def test_a_factor_without_defining_sorts_is_null_in_json() -> None:
    table = read_sorts_csv(REFERENCE / "lipset" / "sorts.csv")
    result = analyse(
        table.values,
        table.statement_ids,
        table.sort_ids,
        factors=2,
        flag_overrides=[(s, 2, False) for s in table.sort_ids],
    )
    out = result.to_json()
    assert all(row[1] is None and type(row[0]) is float for row in out["zscores"])
    assert all(row[1] is None and type(row[0]) is int for row in out["factor_arrays"])
    json.dumps(out, allow_nan=False)


def test_the_centroid_ends_where_two_zero_sums_would_take_turns_for_ever() -> None:
    """qmethod's loop never ends here: sorts 3 and 1 have zero sums and reflecting one zeroes the
    other. Each zero is reflected once per factor (as qmethod reflects it), then counts as positive."""
    viewpoints = [[1, 1, 0, 0, -1, -1], [-1, 0, 1, -1, 0, 1], [-1, -1, 0, 0, 1, 1]]
    swaps = [(2, 1), (3, 0), (0, 4), (0, 2), (4, 0), (4, 1), (0, 5), (3, 5)]
    sorts = []
    for i, (a, b) in enumerate(swaps):
        values = list(viewpoints[i % 3])
        values[a], values[b] = values[b], values[a]
        sorts.append(values)
    sorts.append(viewpoints[1])
    z = corr.factor(np.array(sorts, dtype=float).T, [str(i) for i in range(9)])
    finished: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: finished.append(extract.centroid(z, 2)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert finished, "the centroid's reflection loop did not end"
    loadings = finished[0]
    # The first factor's sums are those of the unreflected matrix except where reflected: every
    # loading is finite and the residual after two factors is what R - F F^T gives.
    assert np.isfinite(loadings).all()
    np.testing.assert_allclose(loadings, extract.centroid(z, 2, dense=False), atol=1e-10)
