"""Exports of an analysis result, built from the stored analysis JSON the engine produces."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import openpyxl
import pytest

from qsort.analysis import analyse, read_sorts_text
from qsort.exchange import services
from qsort.runs.models import AnalysisRun

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]

REPORT_SHEETS = [
    "Parameters",
    "Sorts",
    "Correlations",
    "Unrotated loadings",
    "Rotated loadings",
    "Factor characteristics",
    "Z-scores and arrays",
    "Factor arrays",
    "Distinguishing-consensus",
    "Factor correlations",
    "SE of differences",
    "Comments",
    "Post-sort answers",
]


def analyse_study(study, factors: int = 3) -> dict:
    """The analysis straight from the database rows (statement numbers, participant codes)."""
    data = services.load_study_data(study)
    matrix = np.array([record.values for record in data.sorts], dtype=np.int64).T
    labels = [record.label for record in data.sorts]
    return analyse(matrix, [str(n) for n in data.numbers], labels, factors=factors).to_json()


def assert_same_result(a, b, path: str = "result") -> None:
    """Equal field by field: discrete parts exactly, floats to 1e-12 (BLAS may differ in the last
    bit with the memory layout of the same matrix)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same_result(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_result(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-12), path
    else:
        assert a == b, path


@pytest.fixture
def demo_run(demo_study):
    result = analyse_study(demo_study)
    return AnalysisRun.objects.create(
        study=demo_study, status="done", progress=100, parameters=result["parameters"], result=result
    )


def test_the_raw_csv_analysed_again_gives_the_same_result(demo_study, demo_run):
    export = services.export_study_file(demo_study, "sorts.csv", demo_study.owner)
    table = read_sorts_text(export.body.decode())
    again = analyse(table.values, table.statement_ids, table.sort_ids, factors=3).to_json()
    assert_same_result(again, demo_run.result)


def test_factor_arrays_csv_has_number_text_and_one_column_per_factor(demo_study, demo_run):
    export = services.export_run_file(demo_run, "factor-arrays.csv", demo_study.owner)
    assert export.filename == f"relapse-and-recovery-run{demo_run.pk}-factor-arrays.csv"
    rows = list(csv.reader(io.StringIO(export.body.decode())))
    assert rows[0] == ["statement", "text", "F1", "F2", "F3"]
    assert len(rows) == 1 + 38
    texts = dict(demo_study.statements.values_list("number", "text"))
    for row, array in zip(rows[1:], demo_run.result["factor_arrays"], strict=True):
        assert row[1] == texts[int(row[0])]
        assert [int(v) for v in row[2:]] == array


def test_factor_arrays_xlsx_and_json_hold_the_same_numbers(demo_study, demo_run):
    book = openpyxl.load_workbook(io.BytesIO(services.export_run_file(demo_run, "factor-arrays.xlsx", None).body))
    sheet = book["Factor arrays"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("statement", "text", "F1", "F2", "F3")
    assert [list(r[2:]) for r in rows[1:]] == demo_run.result["factor_arrays"]
    assert all(isinstance(r[0], int) for r in rows[1:])
    records = json.loads(services.export_run_file(demo_run, "factor-arrays.json", None).body)
    assert records[0] == {"statement": 1, "text": rows[1][1], "F1": rows[1][2], "F2": rows[1][3], "F3": rows[1][4]}
    assert json.loads(services.export_run_file(demo_run, "result.json", None).body) == demo_run.result


def test_the_full_report_has_every_sheet_a_pqmethod_user_expects(demo_study, demo_run):
    result = demo_run.result
    book = openpyxl.load_workbook(io.BytesIO(services.export_run_file(demo_run, "report.xlsx", None).body))
    assert book.sheetnames == REPORT_SHEETS
    sorts = list(book["Sorts"].iter_rows(values_only=True))
    assert sorts[0] == ("statement_id", *result["sorts"])
    assert len(sorts) == 39
    correlations = list(book["Correlations"].iter_rows(values_only=True))
    assert correlations[1][1:] == pytest.approx(result["correlations"][0])
    rotated = list(book["Rotated loadings"].iter_rows(values_only=True))
    assert rotated[0] == ("sort", "F1", "F2", "F3", "flagged on")
    for row, loadings, flags in zip(rotated[1:], result["loadings"], result["flags"], strict=True):
        assert list(row[1:4]) == pytest.approx(loadings)
        assert row[4] == ", ".join(f"F{k + 1}" for k, flag in enumerate(flags) if flag)
    characteristics = list(book["Factor characteristics"].iter_rows(values_only=True))
    assert characteristics[1][0] == "F1"
    assert characteristics[1][3] == result["factors"][0]["defining_sorts"]
    distinguishing = list(book["Distinguishing-consensus"].iter_rows(values_only=True))
    assert "F1-F2 significance" in distinguishing[0]
    consensus_column = distinguishing[0].index("consensus")
    consensus = [str(row[0]) for row in distinguishing[1:] if row[consensus_column]]
    assert consensus == result["consensus"]
    assert len(list(book["Comments"].iter_rows())) == 1  # the demo has no comments: header only


def test_a_large_run_without_stored_correlations_says_so(demo_study, demo_run):
    result = {**demo_run.result, "correlations": None}
    AnalysisRun.objects.filter(pk=demo_run.pk).update(result=result)
    demo_run.refresh_from_db()
    book = openpyxl.load_workbook(io.BytesIO(services.export_run_file(demo_run, "report.xlsx", None).body))
    assert next(book["Correlations"].iter_rows(values_only=True))[0].startswith("Not stored for this run")


def test_the_api_serves_the_run_files(client_for, demo_study, demo_run):
    from qsort.studies.models import Collaborator

    user = demo_study.owner
    response = client_for(user).get(f"/api/analyses/{demo_run.pk}/export/report.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames == REPORT_SHEETS
    response = client_for(user).get(f"/api/analyses/{demo_run.pk}/")
    assert response.json()["result"]["factor_arrays"] == demo_run.result["factor_arrays"]
    assert client_for(user).get(f"/api/analyses/{demo_run.pk}/export/nothing.txt").status_code == 404
    assert Collaborator.objects.count() == 0


def test_a_matrix_too_large_for_a_quick_worksheet_points_to_the_json(demo_study, demo_run, monkeypatch):
    from qsort.exchange import tables

    monkeypatch.setattr(tables, "REPORT_CORRELATIONS_MAX_SORTS", 39)
    book = openpyxl.load_workbook(io.BytesIO(services.export_run_file(demo_run, "report.xlsx", None).body))
    note = next(book["Correlations"].iter_rows(values_only=True))[0]
    assert note.startswith("The 40 x 40 matrix is too large") and "result.json" in note
