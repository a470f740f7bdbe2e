"""PQMethod project files: the `.DAT` sorts file and the `.STA` statements file.

Layout (shared/Q-METHOD.md; qmethod's export.pqmethod writes and import.pqmethod reads the same):
- line 1: `  0`, the number of sorts (`%3d`), the number of statements (`%3d`), a space, the title
  (at most 68 characters);
- line 2: the lowest and highest grid value (`%3d` each), then 20 counts (`%3d`) of cards for the
  values -6, -5, ..., +13;
- then one line per sort: its name left-justified in 10 columns, then each statement's value in
  2 columns (`-1`, ` 0`, ` 4`), so every line is exactly 10 + 2N wide. qmethod derives N from the
  width of the first sort line, so there are no trailing spaces, and it strips spaces out of names.

PQMethod is a DOS program: lines end with CR LF and text is Windows-1252. Readers accept LF too and
UTF-8 (tried first) as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PQ_VALUES = tuple(range(-6, 14))  # the 20 count columns of line 2
NAME_WIDTH = 10
MAX_NAME = 8  # PQMethod shows 8 characters of a sort's name
TITLE_WIDTH = 68
MAX_SORTS = 999  # the count fields are 3 characters wide
ENCODING = "cp1252"
EOL = "\r\n"


@dataclass(frozen=True)
class DatFile:
    title: str
    n_statements: int
    low: int
    high: int
    counts: dict[int, int]  # grid value -> cards, only low..high
    sorts: tuple[tuple[str, tuple[int, ...]], ...]  # (name, value of statements 1..N)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode(ENCODING, errors="replace")


def _encode(lines: Sequence[str]) -> bytes:
    return "".join(line + EOL for line in lines).encode(ENCODING, errors="replace")


def sort_names(labels: Sequence[str]) -> list[str]:
    """Names PQMethod and qmethod keep intact: at most 8 characters, no spaces, unique."""
    names: list[str] = []
    used: set[str] = set()
    for index, label in enumerate(labels, start=1):
        base = re.sub(r"[^A-Za-z0-9_.-]", "", label)[:MAX_NAME] or f"S{index}"
        name, suffix = base, 1
        while name in used:
            suffix += 1
            name = f"{base[: MAX_NAME - len(str(suffix))]}{suffix}"
        used.add(name)
        names.append(name)
    return names


def write_dat(title: str, grid: Mapping[int, int], sorts: Sequence[tuple[str, Sequence[int]]]) -> bytes:
    """The `.DAT` file of `sorts` ((label, values of statements 1..N)) on `grid` (value -> capacity)."""
    if len(sorts) > MAX_SORTS:
        raise ValueError(f"A PQMethod file holds at most {MAX_SORTS} sorts; this study has {len(sorts)}.")
    n_statements = len(sorts[0][1]) if sorts else sum(grid.values())
    one_line_title = " ".join(title.split())[:TITLE_WIDTH]
    lines = [f"  0{len(sorts):3d}{n_statements:3d} {one_line_title}"]
    lines.append(f"{min(grid):3d}{max(grid):3d}" + "".join(f"{grid.get(v, 0):3d}" for v in PQ_VALUES))
    for name, (_, values) in zip(sort_names([label for label, _ in sorts]), sorts, strict=True):
        lines.append(f"{name:<{NAME_WIDTH}}" + "".join(f"{v:2d}" for v in values))
    return _encode(lines)


def write_sta(statements: Sequence[str]) -> bytes:
    """The `.STA` file: one statement per line, in statement-number order."""
    return _encode([" ".join(text.split()) for text in statements])


def _int(field: str) -> int | None:
    text = field.strip()
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else None


def read_dat(data: bytes) -> tuple[DatFile | None, list[str]]:
    """Parse a `.DAT` file; returns (the file, []) or (None, every problem with its line number)."""
    lines = decode(data).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 2:
        return None, ["The .DAT file needs two header lines and one line per sort; it has fewer than two lines."]
    problems: list[str] = []
    n_sorts, n_statements = _int(lines[0][3:6]), _int(lines[0][6:9])
    if n_sorts is None or n_statements is None or n_statements < 2:
        problems.append(
            "Line 1: expected '  0', the number of sorts and the number of statements in columns of 3 "
            f"characters, then the title; found '{lines[0][:40]}'."
        )
    low, high = _int(lines[1][0:3]), _int(lines[1][3:6])
    fields = [_int(lines[1][i : i + 3]) for i in range(6, 6 + 3 * len(PQ_VALUES), 3)]
    known = [count for count in fields if count is not None]
    if low is None or high is None or len(known) < len(fields) or not (PQ_VALUES[0] <= low < high <= PQ_VALUES[-1]):
        problems.append(
            "Line 2: expected the lowest and highest grid value and 20 card counts (values -6 to +13), "
            "each in 3 characters."
        )
        counts: dict[int, int] = {}
    else:
        counts = {v: c for v, c in zip(PQ_VALUES, known, strict=True) if low <= v <= high}
    sorts: list[tuple[str, tuple[int, ...]]] = []
    names: set[str] = set()
    for number, line in enumerate(lines[2:], start=3):
        name = line[:NAME_WIDTH].strip()
        body = line[NAME_WIDTH:].rstrip()
        if not name:
            problems.append(f"Line {number}: the sort has no name in its first 10 characters.")
        elif name in names:
            problems.append(f"Line {number}: the name '{name}' is used by an earlier sort.")
        names.add(name)
        if n_statements and len(body) != 2 * n_statements:
            problems.append(
                f"Line {number}: expected {n_statements} values of 2 characters after the name, "
                f"found {len(body)} characters."
            )
            continue
        values = [_int(body[i : i + 2]) for i in range(0, len(body), 2)]
        bad = [str(i + 1) for i, v in enumerate(values) if v is None]
        if bad:
            problems.append(f"Line {number}: statement(s) {', '.join(bad[:10])} have no whole-number value.")
            continue
        sorts.append((name, tuple(v for v in values if v is not None)))
    if n_sorts is not None and not problems and n_sorts != len(sorts):
        problems.append(f"Line 1 announces {n_sorts} sorts but the file holds {len(sorts)}.")
    if problems:
        return None, problems
    title = lines[0][10:].strip()
    return DatFile(title, n_statements or 0, low or 0, high or 0, counts, tuple(sorts)), []


def read_sta(data: bytes) -> tuple[list[str], list[str]]:
    """Parse a `.STA` file: (statements in number order, problems with line numbers)."""
    lines = decode(data).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    problems = [f"Line {i}: the statement is empty." for i, line in enumerate(lines, start=1) if not line.strip()]
    if not lines:
        problems.append("The .STA file holds no statements.")
    return [line.strip() for line in lines], problems
