"""The one judgement of new statements, for every door that adds them: the deck page, the Data
page's import and the API. Pure (no queries): the deck's current texts come in, and each row
comes out with the reason it will not be added, if any. The limits are the models'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ImportRow:
    line: int  # 1-based line (paste) or row (CSV) in what the person gave us
    text: str
    number: int | None = None  # the number a CSV gave, used only for the order
    problem: str = ""  # empty when the row will be added

    @property
    def importable(self) -> bool:
        return not self.problem


def tidy(text: str) -> str:
    """How a statement is stored: runs of spaces, tabs and line breaks become one space."""
    return " ".join(text.split())


def normalised(text: str) -> str:
    """What counts as 'the same statement': case and spacing do not matter."""
    return tidy(text).casefold()


def judge(
    rows: Iterable[tuple[int, int | None, str]], existing: Iterable[str], *, max_length: int, max_statements: int
) -> list[ImportRow]:
    """Judge every (line, number, text) row against the deck and the rows before it; importable rows
    come first, in the order they will get their numbers (by a CSV's numbers when it has them).
    Called through `Study.judge_statements`, which passes the models' limits."""
    existing = list(existing)
    in_deck = {normalised(text) for text in existing}
    room = max_statements - len(existing)
    seen_texts: dict[str, int] = {}
    seen_numbers: dict[int, int] = {}
    judged: list[ImportRow] = []
    for line, number, text in rows:
        key = normalised(text)
        if not key:
            problem = _("Empty line.")
        elif len(tidy(text)) > max_length:
            problem = _("Longer than %(n)d characters: shorten it first.") % {"n": max_length}
        elif key in in_deck:
            problem = _("Already in the deck.")
        elif key in seen_texts:
            problem = _("Same as line %(line)d.") % {"line": seen_texts[key]}
        elif number is not None and number in seen_numbers:
            problem = _("Number %(number)d is also used on line %(line)d.") % {
                "number": number,
                "line": seen_numbers[number],
            }
        elif len(seen_texts) >= room:
            problem = _("A deck holds at most %(max)d statements.") % {"max": max_statements}
        else:
            problem = ""
            seen_texts[key] = line
            if number is not None:
                seen_numbers[number] = line
        judged.append(ImportRow(line=line, text=tidy(text), number=number, problem=problem))
    importable = sorted(
        (row for row in judged if row.importable), key=lambda row: (row.number is None, row.number or 0, row.line)
    )
    return importable + [row for row in judged if not row.importable]
