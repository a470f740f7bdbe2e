"""``manage.py qanalysis``: the CSV in, the reference numbers out (no database needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from analysis_helpers import REFERENCE
from django.core.management import CommandError, call_command

from qsort.runs.management.commands.qanalysis import Command

LIPSET = REFERENCE / "lipset"
NONFORCED = REFERENCE / "synthetic" / "c10_nonforced_2v"


def _qanalysis(tmp_path, csv, *args: str) -> dict:
    out = tmp_path / "out.json"
    call_command("qanalysis", str(csv), *args, "--output", str(out))
    return json.loads(out.read_text())


@pytest.mark.parametrize("extraction", ["pca", "centroid"])
def test_it_reproduces_qmethod_on_lipset(tmp_path, extraction) -> None:
    ref = json.loads((LIPSET / f"qmethod_{extraction}_varimax_3.json").read_text())
    out = _qanalysis(tmp_path, LIPSET / "sorts.csv", "--factors", "3", "--extraction", extraction)
    assert out["parameters"]["extraction"] == extraction and out["parameters"]["forced"] is True
    assert out["sorts"] == ref["qsort_ids"] and out["statements"] == ref["statement_ids"]
    np.testing.assert_allclose(out["loadings"], ref["loa"]["data"], atol=1e-6)
    np.testing.assert_allclose(out["zscores"], ref["zsc"]["data"], atol=1e-6)
    assert out["flags"] == ref["flagged"]["data"]
    assert out["factor_arrays"] == ref["zsc_n"]["data"]
    np.testing.assert_allclose(out["correlations"], ref["cor"]["data"], atol=1e-6)


def test_the_non_forced_case_needs_the_distribution(tmp_path) -> None:
    with pytest.raises(CommandError, match="--distribution"):
        _qanalysis(tmp_path, NONFORCED / "sorts.csv", "--factors", "2")
    ref = json.loads((NONFORCED / "qmethod_pca_varimax_2.json").read_text())
    values = ",".join(line for line in (NONFORCED / "distribution.csv").read_text().split()[1:])
    out = _qanalysis(tmp_path, NONFORCED / "sorts.csv", "--factors", "2", f"--distribution={values}")
    assert out["parameters"]["forced"] is False
    assert out["factor_arrays"] == ref["zsc_n"]["data"]
    np.testing.assert_allclose(out["zscores"], ref["zsc"]["data"], atol=1e-6)
    # the distribution file itself is accepted too
    again = _qanalysis(
        tmp_path, NONFORCED / "sorts.csv", "--factors", "2", "--distribution", str(NONFORCED / "distribution.csv")
    )
    assert again["factor_arrays"] == out["factor_arrays"]


def test_manual_flags_replace_a_sorts_automatic_ones(tmp_path) -> None:
    out = _qanalysis(tmp_path, LIPSET / "sorts.csv", "--factors", "3", "--flag", "FR9:1", "--unflag", "JP5:1")
    fr9, jp5 = out["sorts"].index("FR9"), out["sorts"].index("JP5")
    assert out["flags"][fr9] == [True, False, False]
    assert out["flags"][jp5] == [False, False, False]
    assert ["FR9", 1, True] in out["parameters"]["flag_overrides"]


def test_it_writes_to_stdout_without_output(capsys) -> None:
    call_command("qanalysis", str(LIPSET / "sorts.csv"), "--factors", "2", "--correlation", "spearman")
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["correlation"] == "spearman" and len(out["factors"]) == 2


@pytest.mark.parametrize(
    "content, args, words",
    [
        ("", ["--factors", "2"], "empty"),
        ("statement_id,a,b\ns1,1,2\ns2,1\n", ["--factors", "1"], "line 3"),
        ("statement_id,a,b\ns1,1,2\ns2,2,1\ns3,3,3\n", ["--factors", "5"], "at most 2"),
        ("statement_id,a,b\ns1,1,2\ns2,2,1\ns3,3,3\n", ["--factors", "1", "--flag", "zz:1"], "no sort 'zz'"),
        ("statement_id,a,b\ns1,1,2\ns2,2,1\ns3,3,3\n", ["--factors", "1", "--flag", "a"], "SORT:FACTOR"),
        ("statement_id,a,b\ns1,1,2\ns2,2,1\ns3,3,3\n", ["--factors", "1", "--flag", "a:\u00b2"], "SORT:FACTOR"),
    ],
)
def test_bad_input_is_a_command_error_with_the_engines_message(tmp_path, content, args, words) -> None:
    csv = tmp_path / "sorts.csv"
    csv.write_text(content)
    with pytest.raises(CommandError, match=words):
        _qanalysis(tmp_path, csv, *args)
    with pytest.raises(CommandError, match="no such file"):
        _qanalysis(tmp_path, tmp_path / "missing.csv", "--factors", "2")


def test_the_command_line_starts_light(tmp_path) -> None:
    """No scipy.stats (a second to import) for the engine; no system checks for qanalysis; and
    `manage.py check` loads neither scipy nor openpyxl (every URL module is imported there)."""
    assert Command.requires_system_checks == []
    code = (
        "import sys, django; django.setup(); import qsort.analysis; from django.urls import resolve; resolve('/'); "
        "print(sorted(m for m in ('scipy', 'scipy.stats', 'openpyxl') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "qsort.settings"}
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert loaded.stdout.strip() == "[]"


def test_manage_py_runs_qanalysis_without_starting_django(tmp_path) -> None:
    """The whole process as scripts start it: no Django, no Celery, no scipy.stats imported; the
    same JSON as the management command; bad input exits 1 with the reason, nothing on stdout."""
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    out = tmp_path / "out.json"
    command = [
        sys.executable,
        "-X",
        "importtime",
        str(manage),
        "qanalysis",
        str(LIPSET / "sorts.csv"),
        "--factors",
        "3",
    ]
    done = subprocess.run([*command, "--output", str(out)], capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert not {"django", "celery", "scipy.stats"} & imported
    assert "wrote " in done.stderr and "9 sorts, 3 factors" in done.stderr
    assert json.loads(out.read_text()) == _qanalysis(tmp_path, LIPSET / "sorts.csv", "--factors", "3")

    bad = subprocess.run(
        [sys.executable, str(manage), "qanalysis", str(LIPSET / "sorts.csv"), "--factors", "30"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("CommandError: 30 factors asked for")


def test_the_engine_and_the_runs_offer_the_same_extractions_and_rotations() -> None:
    from qsort.analysis.engine import EXTRACTIONS, ROTATIONS
    from qsort.runs.models import AnalysisRun

    assert tuple(AnalysisRun.Extraction.values) == EXTRACTIONS
    assert tuple(AnalysisRun.Rotation.values) == ROTATIONS
