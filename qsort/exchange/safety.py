"""Files that leave qsort must be harmless in the program that opens them.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (OWASP "CSV injection"): a participant's comment
`=HYPERLINK("http://x","y")` would become a live link in a researcher's spreadsheet. Such text
gets a leading apostrophe, which every spreadsheet shows as text; numbers are left as numbers.
"""

from __future__ import annotations

import re
import unicodedata

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The control characters XML 1.0 (so XLSX) cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# Whitespace a spreadsheet may skip before it decides a cell is a formula.
LEADING_BLANKS = " \t\r\n"


def printable(text: str) -> str:
    """Without the control characters an XLSX file cannot hold (and no spreadsheet shows)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _could_run(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) or text.lstrip(LEADING_BLANKS).startswith(FORMULA_STARTS)


def neutralise(value: object) -> object:
    """The value to write in a spreadsheet cell: text that could run as a formula is quoted.

    Control characters are removed first: removed after, "\x01=HYPERLINK(...)" would become a
    live formula once the writer dropped the "\x01" (the order is the whole point).
    """
    if not isinstance(value, str):
        return value
    text = printable(value)
    return "'" + text if _could_run(text) else text


def restore(text: str) -> str:
    """Undo `neutralise` on text read back from one of our own files, so round trips are exact."""
    if text.startswith("'") and _could_run(text[1:]):
        return text[1:]
    return text


def safe_filename(stem: str, extension: str, *, max_length: int = 80) -> str:
    """An ASCII file name without path separators, quotes or control characters."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem).strip("-._")[:max_length] or "qsort"
    return f"{cleaned}.{extension.lstrip('.')}"
