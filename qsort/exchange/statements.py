"""The one reader of statement lists, behind the deck page's and the Data page's imports: a paste
(one statement per line) or a CSV file (`text`, `number,text`, or a header naming a `text` column).
It only reads; `Study.preview_statements` judges the rows against the deck's rules."""

from __future__ import annotations

import csv
import io
import re

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from qsort.exchange.safety import restore
from qsort.exchange.uploads import UploadRefused, read_upload
from qsort.studies.models import Study

Row = tuple[int, int | None, str]  # (line in what was given, the number a CSV gave, text)
HEADER_WORDS = {"number", "no", "nr", "#", "id", "statement_id", "text", "statement", "statements"}


class BadImport(UploadRefused):
    """The input cannot be read at all; the message says what to do."""


def read_statements(*, text: str = "", upload: UploadedFile | None = None) -> list[Row]:
    """Rows from a CSV file when one is given, else from the pasted text."""
    rows = _rows_from_csv(read_upload(upload)) if upload is not None else _rows_from_paste(text)
    # Our own exports quote text that a spreadsheet would run as a formula; take the quote off again.
    rows = [(line, number, restore(cell)) for line, number, cell in rows]
    while rows and not rows[-1][2].strip():
        rows.pop()  # trailing blank lines are not rows anyone meant
    if len(rows) > Study.MAX_STATEMENTS:
        raise BadImport(
            _("At most %(max)d statements can be imported at once (%(n)d given).")
            % {"max": Study.MAX_STATEMENTS, "n": len(rows)}
        )
    return rows


def _rows_from_paste(text: str) -> list[Row]:
    return [(i, None, line.strip()) for i, line in enumerate(text.splitlines(), start=1)]


def _rows_from_csv(data: bytes) -> list[Row]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadImport(
            _("The file is not UTF-8 text. Save it from your spreadsheet as 'CSV UTF-8' and try again.")
        ) from None
    if "\x00" in content:
        raise BadImport(_("This does not look like a CSV file (it contains binary data)."))
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows: list[Row] = []
    text_column: int | None = None
    try:
        for i, cells in enumerate(csv.reader(io.StringIO(content), dialect), start=1):
            given = [cell.strip() for cell in cells]
            cells = list(given)
            while cells and not cells[-1]:
                cells.pop()  # spreadsheets pad rows with empty cells
            header = [cell.casefold() for cell in cells]
            if i == 1 and "text" in header and len(cells) > 2:
                text_column = header.index("text")  # a wider table: only its text column matters
                continue
            if i == 1 and cells and all(cell in HEADER_WORDS for cell in header):
                continue
            if text_column is not None:
                rows.append((i, None, cells[text_column] if text_column < len(cells) else ""))
            elif len(given) >= 2 and re.fullmatch(r"\d+", given[0]) and len(cells) <= 2:
                rows.append((i, int(given[0]), given[1]))  # "number,text", the text possibly empty
            elif len(cells) <= 1:
                rows.append((i, None, cells[0] if cells else ""))
            else:
                raise BadImport(
                    _(
                        "Row %(row)d has %(n)d cells. Each row must be 'number,text' or just 'text' "
                        "(put text that contains commas in quotes)."
                    )
                    % {"row": i, "n": len(cells)}
                )
    except csv.Error as error:
        raise BadImport(_("The CSV file cannot be read: %(error)s.") % {"error": error}) from None
    return rows
