"""Read the sorts CSV: ``statement_id,<sort id>,...`` then one row of integers per statement.

The layout of ``reference/lipset/sorts.csv`` (qmethod's: statements as rows, sorts as
columns).  Pure Python and numpy; errors name the row, statement or sort at fault.
"""

from __future__ import annotations

import csv
import io as _io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from qsort.analysis.errors import AnalysisInputError

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


@dataclass(frozen=True)
class SortsTable:
    statement_ids: list[str]
    sort_ids: list[str]
    values: np.ndarray  # statements x sorts, int64


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return [i for i in ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]


def read_sorts_csv(source: str | Path | TextIO) -> SortsTable:
    """Parse the sorts CSV from a path or an open text stream."""
    if isinstance(source, (str, Path)):
        with open(source, newline="", encoding="utf-8-sig") as handle:
            return read_sorts_csv(handle)
    rows = [row for row in csv.reader(source) if any(cell.strip() for cell in row)]
    if not rows:
        raise AnalysisInputError("the sorts file is empty")
    header = [cell.strip() for cell in rows[0]]
    sort_ids = header[1:]
    if not sort_ids:
        raise AnalysisInputError("the header names no sorts (expected statement_id,<sort id>,...)")
    if any(not s for s in sort_ids):
        raise AnalysisInputError(f"sort column {sort_ids.index('') + 2} of the header has no name")
    if dup := _duplicates(sort_ids):
        raise AnalysisInputError(f"sort id {dup[0]!r} appears more than once in the header")
    body = rows[1:]
    if not body:
        raise AnalysisInputError("the sorts file has a header but no statements")
    width = len(header)
    for line, row in enumerate(body, start=2):
        if len(row) != width:
            raise AnalysisInputError(
                f"line {line} (statement {row[0].strip()!r}) has {len(row) - 1} values, "
                f"the header names {width - 1} sorts"
            )
    statement_ids = [row[0].strip() for row in body]
    if any(not s for s in statement_ids):
        raise AnalysisInputError(f"line {statement_ids.index('') + 2} has no statement id")
    if dup := _duplicates(statement_ids):
        raise AnalysisInputError(f"statement id {dup[0]!r} appears more than once")
    cells = np.array([row[1:] for row in body], dtype=str)
    try:
        values = cells.astype(np.int64)
    except ValueError:
        for (s, q), cell in np.ndenumerate(cells):
            if not _INTEGER.fullmatch(cell):
                what = "is missing" if not cell.strip() else f"is {cell.strip()!r}, not an integer"
                raise AnalysisInputError(
                    f"sort {sort_ids[q]!r}, statement {statement_ids[s]!r}: the value {what}"
                ) from None
        raise
    return SortsTable(statement_ids, sort_ids, values)


def read_sorts_text(text: str) -> SortsTable:
    """Parse the sorts CSV held in a string (uploads, tests)."""
    return read_sorts_csv(_io.StringIO(text))
