"""Render `Table`s as CSV, XLSX or JSON; every text cell passes through `safety.neutralise`."""

from __future__ import annotations

import csv
import io
import itertools
import math
import zipfile
from collections.abc import Iterator, Sequence
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


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Two cell formats: 0 plain, 1 bold (the header row).
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _column_letters(n: int) -> list[str]:
    """A, B, ..., Z, AA, ... for the first n columns."""
    letters = []
    for index in range(1, n + 1):
        name = ""
        while index:
            index, rest = divmod(index - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _sheet_xml(table: Table) -> Iterator[str]:
    """The worksheet XML, a row at a time. Text is an inline string cell, never a formula,
    whatever it starts with (and neutralised too, for whoever saves the sheet as CSV);
    numbers are numbers, booleans booleans, None and non-finite numbers empty."""
    rows: list[tuple[Sequence[Cell], str]] = [([table.note], "")] if table.note else []
    rows.append((table.header, ' s="1"'))
    width = max([len(table.header), 1, *(len(row) for row in table.rows)])
    letters = _column_letters(width)
    yield f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>'
    for number, (row, style) in enumerate(itertools.chain(rows, ((row, "") for row in table.rows)), start=1):
        cells = []
        for letter, value in zip(letters, row, strict=False):
            value = _cell(value)
            if value is None:
                continue
            where = f'r="{letter}{number}"{style}'
            if isinstance(value, str):
                space = ' xml:space="preserve"' if value != value.strip() else ""
                cells.append(f'<c {where} t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>')
            elif isinstance(value, bool):
                cells.append(f'<c {where} t="b"><v>{int(value)}</v></c>')
            else:
                cells.append(f"<c {where}><v>{value!r}</v></c>")
        yield f'<row r="{number}">{"".join(cells)}</row>'
    yield "</sheetData></worksheet>"


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook (Office Open XML) with one sheet per table, written here a row at a time:
    openpyxl, even in write-only mode, spends 10-40 microseconds on every cell, and a report
    of 20,000 sorts has half a million of them (a minute on a busy machine)."""
    titles = [printable(table.title)[:31] for table in tables]
    sheets = "".join(
        f'<sheet name="{_xml_text(title)}" sheetId="{i}" r:id="rId{i}"/>' for i, title in enumerate(titles, 1)
    )
    relations = (
        "".join(
            f'<Relationship Id="rId{i}" Type="{_RELATIONS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(tables) + 1)
        )
        + f'<Relationship Id="rId{len(tables) + 1}" Type="{_RELATIONS}/styles" Target="styles.xml"/>'
    )
    worksheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{worksheet}"/>'
        for i in range(1, len(tables) + 1)
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{types}</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
            f'<Relationship Id="rId1" Type="{_RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONS}"><sheets>{sheets}</sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">{relations}</Relationships>',
        )
        archive.writestr("xl/styles.xml", _STYLES)
        for i, table in enumerate(tables, 1):
            with archive.open(f"xl/worksheets/sheet{i}.xml", "w") as sheet:
                for chunk in _sheet_xml(table):
                    sheet.write(chunk.encode("utf-8", "replace"))
    return out.getvalue()


def records(table: Table) -> list[dict[str, Any]]:
    """The table as JSON objects keyed by column name (no neutralising: JSON is not a spreadsheet)."""
    return [dict(zip(table.header, row, strict=True)) for row in table.rows]


def json_bytes(payload: Any) -> bytes:
    """UTF-8, indented for reading; orjson, because a result with its correlation matrix holds a
    million numbers (6 s with the standard encoder on a busy machine)."""
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
