"""The engine against qmethod 1.8.4's own output (shared/reference), field by field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analysis_helpers import REFERENCE, reference_files

from qsort.analysis import analyse, read_sorts_csv
from qsort.analysis import distribution as dist

TOL = 1e-6


def _run(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    ref = json.loads(path.read_text())
    meta = ref["meta"]
    table = read_sorts_csv(path.parent / "sorts.csv")
    given = path.parent / "distribution.csv"
    result = analyse(
        table.values,
        table.statement_ids,
        table.sort_ids,
        factors=meta["nfactors"],
        extraction=meta["extraction"].lower(),
        rotation=meta["rotation"],
        distribution=dist.parse(given.read_text()) if given.exists() else None,
    )
    out = result.to_json()
    json.dumps(out, allow_nan=False)  # plain JSON, no NaN
    return ref, out


def _close(ours: Any, theirs: Any) -> None:
    """Element-wise comparison where null must match null."""
    a = np.array(ours, dtype=object)
    b = np.array(theirs, dtype=object)
    assert a.shape == b.shape
    assert ((a == None) == (b == None)).all()  # noqa: E711
    mask = b != None  # noqa: E711
    np.testing.assert_allclose(a[mask].astype(float), b[mask].astype(float), atol=TOL, rtol=0)


CASES = reference_files()


def test_every_reference_file_is_found() -> None:
    assert (REFERENCE / "lipset" / "sorts.csv").exists()
    assert len(CASES) >= 14


@pytest.fixture(scope="module", params=CASES, ids=lambda p: str(p.relative_to(REFERENCE)))
def case(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    return _run(request.param)


def test_ids_and_distribution(case: tuple[dict, dict]) -> None:
    ref, out = case
    assert out["statements"] == ref["statement_ids"]
    assert out["sorts"] == ref["qsort_ids"]
    assert out["parameters"]["forced"] is ref["meta"]["forced"]
    grid = np.repeat(out["distribution"]["values"], out["distribution"]["counts"])
    assert grid.tolist() == ref["meta"]["qscores"]


def test_correlations_and_eigenvalues(case: tuple[dict, dict]) -> None:
    ref, out = case
    _close(out["correlations"], ref["cor"]["data"])
    _close(out["eigenvalues"], ref["cor_eigenvalues"])


def test_loadings(case: tuple[dict, dict]) -> None:
    ref, out = case
    _close(out["unrotated_loadings"], ref["loa_unrotated"]["data"])
    _close(out["unrotated_ss_loadings"], (np.array(ref["loa_unrotated"]["data"]) ** 2).sum(0))
    _close(out["loadings"], ref["loa"]["data"])


def test_flags(case: tuple[dict, dict]) -> None:
    ref, out = case
    assert out["flags"] == ref["flagged"]["data"]


def test_zscores_and_arrays(case: tuple[dict, dict]) -> None:
    ref, out = case
    _close(out["zscores"], ref["zsc"]["data"])
    assert out["factor_arrays"] == ref["zsc_n"]["data"]


def test_characteristics(case: tuple[dict, dict]) -> None:
    ref, out = case
    table = ref["f_char"]["characteristics"]
    rows = [dict(zip(table["col_names"], row, strict=True)) for row in table["data"]]
    assert len(out["factors"]) == len(rows)
    for ours, theirs in zip(out["factors"], rows, strict=True):
        assert ours["defining_sorts"] == theirs["nload"]
        _close(
            [
                ours["eigenvalue"],
                ours["explained_variance"],
                ours["composite_reliability"],
                ours["average_reliability_coefficient"],
                ours["se_factor_scores"],
            ],
            [
                theirs["eigenvals"],
                theirs["expl_var"],
                theirs["reliability"],
                theirs["av_rel_coef"],
                theirs["se_fscores"],
            ],
        )
    _close(out["factor_correlations"], ref["f_char"]["cor_zsc"]["data"])
    _close(out["se_differences"], ref["f_char"]["sd_dif"]["data"])


def test_differences_and_codes(case: tuple[dict, dict]) -> None:
    ref, out = case
    qdc = ref["qdc"]
    names = qdc["col_names"]
    expected = {}
    for pair in (c for c in names if re.fullmatch(r"f\d+_f\d+", c)):
        i, j = (int(v) for v in re.findall(r"\d+", pair))
        for sid, row in zip(ref["statement_ids"], qdc["data"], strict=True):
            expected[(sid, i, j)] = (row[names.index(pair)], row[names.index("sig_" + pair)])
    ours = {(d["statement"], *d["factors"]): (d["difference"], d["significance"]) for d in out["differences"]}
    assert ours.keys() == expected.keys()
    for key, (difference, code) in expected.items():
        assert ours[key][1] == code, key
        assert abs(ours[key][0] - difference) < TOL, key


def _label(label: str, flagged: list[int]) -> tuple[list[int], bool]:
    """qmethod's dist.and.cons label as (distinguished factors, consensus)."""
    if label == "Consensus":
        return [], True
    if label in ("Distinguishing", "Distinguishes all"):
        return flagged, False
    return [int(f) for f in re.findall(r"f(\d+)", label)], False


def test_distinguishing_and_consensus(case: tuple[dict, dict]) -> None:
    ref, out = case
    flagged = [f + 1 for f, row in enumerate(np.array(ref["zsc"]["data"], dtype=object).T) if row[0] is not None]
    names = ref["qdc"]["col_names"]
    labels = [row[names.index("dist.and.cons")] for row in ref["qdc"]["data"]]
    distinguishing: dict[str, list[str]] = {str(f): [] for f in range(1, len(out["factors"]) + 1)}
    consensus = []
    pairs = [c for c in names if re.fullmatch(r"f\d+_f\d+", c)]
    order = ["", "*", "**", "***", "6*"]
    for sid, label, row, status in zip(
        ref["statement_ids"], labels, ref["qdc"]["data"], out["statement_status"], strict=True
    ):
        factors, is_consensus = _label(label, flagged)
        assert status["statement"] == sid
        assert status["distinguishes"] == factors
        assert status["consensus"] == is_consensus
        codes = {pair: row[names.index("sig_" + pair)] for pair in pairs}
        # PQMethod's consensus at .01: no pair's code is ** or stronger.
        assert status["consensus_01"] == all(code in ("", "*") for code in codes.values())
        # The mark of a distinguishing statement is the weakest of qmethod's codes over its factor's pairs.
        for f, mark in enumerate(status["marks"], start=1):
            own = [code for pair, code in codes.items() if f"f{f}" in pair.split("_")]
            expected = min(own, key=order.index) if f in factors else ""
            assert mark == expected, (sid, f)
        for f in factors:
            distinguishing[str(f)].append(sid)
        if is_consensus:
            consensus.append(sid)
    assert out["distinguishing"] == distinguishing
    assert out["consensus"] == consensus
    assert set(out["consensus"]) <= set(out["consensus_01"])


def test_warnings_match_qmethods(case: tuple[dict, dict]) -> None:
    ref, out = case
    theirs = " ".join(ref["meta"]["warnings"])
    ours = " ".join(out["warnings"])
    assert ("negative loadings" in theirs) == ("negative loading count inverted" in ours)
    assert ("no flagged Q-sorts" in theirs) == ("has no defining sort" in ours)
