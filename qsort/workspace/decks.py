"""Bulk import of statements: parse a paste or a CSV file into rows and say, before anything is
saved, which rows will be imported and why the others will not. No database: only Django's
gettext, for the messages people read."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_STATEMENT_LENGTH = 1000
MAX_IMPORT_ROWS = 500
HEADER_WORDS = {"number", "no", "nr", "#", "id", "text", "statement", "statements"}


class BadImport(ValueError):
    """The file cannot be read at all; the message says what to do."""


@dataclass(frozen=True)
class ImportRow:
    line: int  # 1-based line (paste) or row (CSV) in what the person gave us
    text: str
    number: int | None = None  # the number a CSV gave, used only for the order
    problem: str = ""  # empty when the row will be imported

    @property
    def importable(self) -> bool:
        return not self.problem


def normalised(text: str) -> str:
    """What counts as 'the same statement': case and spacing do not matter."""
    return " ".join(text.split()).casefold()


def rows_from_paste(text: str) -> list[tuple[int, int | None, str]]:
    return [(i, None, line.strip()) for i, line in enumerate(text.splitlines(), start=1)]


def rows_from_csv(data: bytes) -> list[tuple[int, int | None, str]]:
    """`number,text` or `text` rows (comma, semicolon or tab separated); a header row is skipped."""
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
    rows: list[tuple[int, int | None, str]] = []
    try:
        for i, cells in enumerate(csv.reader(io.StringIO(content), dialect), start=1):
            cells = [cell.strip() for cell in cells]
            while cells and not cells[-1]:
                cells.pop()  # spreadsheets pad rows with empty cells
            if i == 1 and cells and all(cell.casefold() in HEADER_WORDS for cell in cells):
                continue
            if len(cells) <= 1:
                rows.append((i, None, cells[0] if cells else ""))
            elif re.fullmatch(r"\d+", cells[0]) and len(cells) == 2:
                rows.append((i, int(cells[0]), cells[1]))
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


def preview_import(rows: Iterable[tuple[int, int | None, str]], existing: Iterable[str]) -> list[ImportRow]:
    """Judge every row against the deck and the rows before it; importable rows come first in
    the order they will get their numbers (by the CSV's numbers when it has them)."""
    rows = list(rows)
    if len(rows) > MAX_IMPORT_ROWS:
        raise BadImport(
            _("At most %(max)d statements can be imported at once (%(n)d given).")
            % {"max": MAX_IMPORT_ROWS, "n": len(rows)}
        )
    in_deck = {normalised(text) for text in existing}
    seen_texts: dict[str, int] = {}
    seen_numbers: dict[int, int] = {}
    judged: list[ImportRow] = []
    for line, number, text in rows:
        key = normalised(text)
        if not key:
            problem = _("Empty line: skipped.")
        elif len(text) > MAX_STATEMENT_LENGTH:
            problem = _("Longer than %(n)d characters: shorten it first.") % {"n": MAX_STATEMENT_LENGTH}
        elif key in in_deck:
            problem = _("Already in the deck: skipped.")
        elif key in seen_texts:
            problem = _("Duplicate of line %(line)d: skipped.") % {"line": seen_texts[key]}
        elif number is not None and number in seen_numbers:
            problem = _("Number %(number)d is also used on line %(line)d: skipped.") % {
                "number": number,
                "line": seen_numbers[number],
            }
        else:
            problem = ""
            seen_texts[key] = line
            if number is not None:
                seen_numbers[number] = line
        judged.append(ImportRow(line=line, text=" ".join(text.split()), number=number, problem=problem))
    importable = sorted(
        (row for row in judged if row.importable), key=lambda row: (row.number is None, row.number or 0, row.line)
    )
    return importable + [row for row in judged if not row.importable]
