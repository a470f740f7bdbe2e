"""Render `Table`s as CSV, XLSX or JSON; every text cell passes through `safety.neutralise`."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any

import orjson

from qsort.exchange.safety import neutralise, printable
from qsort.exchange.tables import Cell, Table

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPE = "application/json"


def _cell(value: Cell) -> Cell:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return neutralise(value)  # type: ignore[return-value]


def csv_bytes(table: Table) -> bytes:
    """UTF-8 without a byte-order mark: R's read.csv and our own reader take it as it is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in table.header])
    writer.writerows([_cell(c) for c in row] for row in table.rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook with one sheet per table; write-only mode streams rows (thousands of sorts)."""
    # Imported here: openpyxl takes a third of a second to import, and only downloads need it.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    def _xlsx_cell(sheet, value: Cell, font: Font | None = None) -> WriteOnlyCell:
        """Text is written as a string cell, never a formula, whatever it starts with (and it is
        neutralised too, for whoever saves the sheet as CSV)."""
        cell = WriteOnlyCell(sheet, value=_cell(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        return cell

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(title=printable(table.title)[:31])
        if table.note:
            sheet.append([_xlsx_cell(sheet, table.note)])
        sheet.append([_xlsx_cell(sheet, name, bold) for name in table.header])
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, c) for c in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def records(table: Table) -> list[dict[str, Any]]:
    """The table as JSON objects keyed by column name (no neutralising: JSON is not a spreadsheet)."""
    return [dict(zip(table.header, row, strict=True)) for row in table.rows]


def json_bytes(payload: Any) -> bytes:
    """UTF-8, indented for reading; orjson, because a result with its correlation matrix holds a
    million numbers (6 s with the standard encoder on a busy machine)."""
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
