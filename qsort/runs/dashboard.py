"""What the results dashboard shows, read from a run's stored result (shared/analysis-json.md).

Plain Python over the JSON: no queries here, so the view decides what it loads and the page
renders the same for any past run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils.formats import get_format

# Significance marks of analysis-json.md `differences`, weakest first.
MARK_ORDER = ["", "*", "**", "***", "6*"]


@dataclass(frozen=True)
class Comment:
    label: str
    text: str


@dataclass(frozen=True)
class Statement:
    index: int
    id: str
    text: str
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True)
class Cell:
    """One factor's view of a statement: z-score, array position and significance mark."""

    factor: int
    z: float | None
    array: int | None
    mark: str = ""


@dataclass(frozen=True)
class StatementRow:
    statement: Statement
    cells: list[Cell]


@dataclass(frozen=True)
class Card:
    statement: Statement
    z: float


@dataclass(frozen=True)
class Column:
    value: int
    cards: list[Card]


@dataclass(frozen=True)
class CribSheet:
    top: list[StatementRow]
    higher: list[StatementRow]
    lower: list[StatementRow]
    bottom: list[StatementRow]


@dataclass(frozen=True)
class Factor:
    number: int
    eigenvalue: float
    explained_variance: float
    defining_sorts: int
    composite_reliability: float
    se_factor_scores: float
    has_scores: bool
    # Defined mainly by negative loaders (the engine's test): its array mirrors their viewpoint.
    # Centroid factors are neither re-ordered nor re-signed, so this happens (Q-METHOD.md, step 3).
    mirrored: bool
    composite: list[Column] = field(default_factory=list)
    distinguishing: list[StatementRow] = field(default_factory=list)
    crib: CribSheet | None = None


@dataclass(frozen=True)
class LoadingCell:
    factor: int
    loading: float
    flagged: bool
    significant: bool
    # Pre-formatted: the loadings table has a cell per sort and factor (6,000 at 2,000 sorts),
    # and the template's number filters cost more than the rest of the page together.
    text: str
    key: str  # "sort index:factor", the value of the flag checkbox
    labelled_by: str  # ids of the row and column headers, which name the checkbox


@dataclass(frozen=True)
class SortRow:
    index: int
    label: str
    cells: list[LoadingCell]
    status: str  # "flagged", "confounded", "non_significant" or "not_flagged"
    dom_id: str


class Dashboard:
    """A run's result, arranged for people. Build once per request; properties are cached."""

    def __init__(self, result: dict[str, Any], comments: dict[str, list[Comment]] | None = None) -> None:
        self.result = result
        self.k = len(result["factors"])
        comments = comments or {}
        texts = result.get("statement_texts") or result["statements"]
        self.statements = [
            Statement(index=i, id=sid, text=text, comments=tuple(comments.get(sid, ())))
            for i, (sid, text) in enumerate(zip(result["statements"], texts, strict=True))
        ]
        self.by_id = {s.id: s for s in self.statements}
        self.zscores = result["zscores"]
        self.arrays = result["factor_arrays"]
        self.scored = [self.zscores[0][f] is not None if self.zscores else False for f in range(self.k)]

    def condition_tables(self, own_comments: dict[tuple[str, str, str], str]) -> ConditionTables | None:
        """The condition tables of a run over several conditions, else None."""
        block = self.result.get("conditions")
        return ConditionTables(block, self, own_comments) if block else None

    @property
    def threshold(self) -> float:
        """|loading| above which a loading is significant: the engine's, else 1.96/sqrt(N) (p < .05)."""
        return self.result.get("flag_threshold") or 1.96 / math.sqrt(len(self.statements))

    @cached_property
    def _marks(self) -> dict[tuple[str, int], str]:
        """(statement, factor) -> the weakest significance of that factor against every other."""
        weakest: dict[tuple[str, int], str] = {}
        for difference in self.result["differences"]:
            for factor in difference["factors"]:
                key = (difference["statement"], factor)
                mark = difference["significance"]
                if key not in weakest or MARK_ORDER.index(mark) < MARK_ORDER.index(weakest[key]):
                    weakest[key] = mark
        return weakest

    def row(self, statement: Statement, *, marks_for: int | None = None) -> StatementRow:
        """The statement across factors. With `marks_for`, only that factor's significance is
        marked and its cells come first (on a phone, the factor being read stays in view)."""
        cells = []
        for f in range(self.k):
            scored = self.scored[f]
            mark = self._marks.get((statement.id, f + 1), "") if marks_for in (None, f + 1) else ""
            cells.append(
                Cell(
                    factor=f + 1,
                    z=self.zscores[statement.index][f] if scored else None,
                    array=self.arrays[statement.index][f] if scored else None,
                    mark=mark,
                )
            )
        if marks_for is not None:
            cells.sort(key=lambda cell: cell.factor != marks_for)
        return StatementRow(statement=statement, cells=cells)

    @cached_property
    def factors(self) -> list[Factor]:
        factors = []
        loadings, all_flags = self.result["loadings"], self.result["flags"]
        for f, characteristics in enumerate(self.result["factors"]):
            number = f + 1
            has_scores = self.scored[f]
            factors.append(
                Factor(
                    number=number,
                    eigenvalue=characteristics["eigenvalue"],
                    explained_variance=characteristics["explained_variance"],
                    defining_sorts=characteristics["defining_sorts"],
                    composite_reliability=characteristics["composite_reliability"],
                    se_factor_scores=characteristics["se_factor_scores"],
                    has_scores=has_scores,
                    mirrored=has_scores
                    and sum(row[f] for row, flags in zip(loadings, all_flags, strict=True) if flags[f]) < 0,
                    composite=self._composite(f) if has_scores else [],
                    distinguishing=self._distinguishing(number),
                    crib=self._crib(f) if has_scores else None,
                )
            )
        return factors

    def _composite(self, f: int) -> list[Column]:
        """The factor array drawn as the grid: each column's statements, highest z-score on top."""
        columns: dict[int, list[Card]] = {v: [] for v in self.result["distribution"]["values"]}
        for statement in self.statements:
            value = self.arrays[statement.index][f]
            columns.setdefault(value, []).append(Card(statement=statement, z=self.zscores[statement.index][f]))
        return [
            Column(value=value, cards=sorted(cards, key=lambda c: -c.z)) for value, cards in sorted(columns.items())
        ]

    def _distinguishing(self, number: int) -> list[StatementRow]:
        ids = self.result["distinguishing"].get(str(number), [])
        rows = [self.row(self.by_id[sid], marks_for=number) for sid in ids]
        return sorted(rows, key=lambda r: -(r.cells[number - 1].z or 0))

    @cached_property
    def consensus(self) -> list[StatementRow]:
        return [self.row(self.by_id[sid]) for sid in self.result["consensus"]]

    @cached_property
    def consensus_01(self) -> list[StatementRow]:
        """Statements no pair of factors separates at p < .01 (but some pair does at .05):
        PQMethod reports consensus at both levels."""
        strong = {d["statement"] for d in self.result["differences"] if d["significance"] not in ("", "*")}
        compared = {d["statement"] for d in self.result["differences"]}
        at_05 = set(self.result["consensus"])
        return [self.row(s) for s in self.statements if s.id in compared - strong - at_05]

    def _crib(self, f: int) -> CribSheet:
        """Watts & Stenner's crib sheet: the extremes, and what this factor ranks higher or
        lower than every other factor does."""
        others = [g for g in range(self.k) if g != f and self.scored[g]]
        values = self.result["distribution"]["values"]
        top, bottom = max(values), min(values)
        sheet = CribSheet(top=[], higher=[], lower=[], bottom=[])
        by_z = sorted(self.statements, key=lambda s: -self.zscores[s.index][f])
        for statement in by_z:
            own = self.arrays[statement.index][f]
            elsewhere = [self.arrays[statement.index][g] for g in others]
            row = self.row(statement, marks_for=f + 1)
            if own == top:
                sheet.top.append(row)
            elif own == bottom:
                sheet.bottom.append(row)
            elif elsewhere and own > max(elsewhere):
                sheet.higher.append(row)
            elif elsewhere and own < min(elsewhere):
                sheet.lower.append(row)
        return sheet

    @cached_property
    def sorts(self) -> list[SortRow]:
        rows = []
        threshold = self.threshold
        separator = get_format("DECIMAL_SEPARATOR")
        for index, (label, loadings, flags) in enumerate(
            zip(self.result["sorts"], self.result["loadings"], self.result["flags"], strict=True)
        ):
            cells = [
                LoadingCell(
                    factor=f + 1,
                    loading=a,
                    flagged=flags[f],
                    significant=abs(a) > threshold,
                    text=f"{a:.2f}".replace(".", separator),
                    key=f"{index}:{f + 1}",
                    labelled_by=f"sort-{index} loading-head-{f + 1}",
                )
                for f, a in enumerate(loadings)
            ]
            significant = sum(c.significant for c in cells)
            if any(flags):
                status = "flagged"
            elif significant >= 2:
                status = "confounded"
            elif significant == 0:
                status = "non_significant"
            else:
                status = "not_flagged"
            rows.append(SortRow(index=index, label=label, cells=cells, status=status, dom_id=f"sort-{index}"))
        return rows

    def status_counts(self) -> dict[str, int]:
        counts = {"flagged": 0, "confounded": 0, "non_significant": 0, "not_flagged": 0}
        for row in self.sorts:
            counts[row.status] += 1
        return counts


# --- conditions of instruction (runs over several; computed by qsort.analysis.conditions) --------
@dataclass(frozen=True)
class MovedStatement:
    statement: Statement
    first: int
    second: int
    comments: tuple[str, ...]  # the participant's own comments on it, under either condition


@dataclass(frozen=True)
class PersonRow:
    participant: str
    first: str
    second: str
    correlation: float | None
    factors_first: list[int]
    factors_second: list[int]
    moved: list[MovedStatement]


@dataclass(frozen=True)
class ShiftRow:
    statement: Statement
    first: str
    second: str
    pairs: int
    means: list[float]
    difference: float
    p: float | None
    effect: float | None
    significance: str


class ConditionTables:
    """The stored `conditions` block of a run, arranged for the page (no arithmetic here).

    `own_comments` maps (participant, condition, statement id) to the comment that person wrote
    on that statement in that condition's sort."""

    SHIFTS_SHOWN = 15

    def __init__(
        self, block: dict[str, Any], dashboard: Dashboard, own_comments: dict[tuple[str, str, str], str]
    ) -> None:
        self.conditions: list[str] = block["conditions"]
        self.factor_rows = [(f + 1, counts) for f, counts in enumerate(block["factor_counts"])]
        by_id = dashboard.by_id
        self.persons = [
            PersonRow(
                participant=p["participant"],
                first=p["conditions"][0],
                second=p["conditions"][1],
                correlation=p["correlation"],
                factors_first=p["factors"][0],
                factors_second=p["factors"][1],
                moved=[
                    MovedStatement(
                        statement=by_id[m["statement"]],
                        first=m["values"][0],
                        second=m["values"][1],
                        comments=tuple(
                            text
                            for condition in p["conditions"]
                            if (text := own_comments.get((p["participant"], condition, m["statement"])))
                        ),
                    )
                    for m in p["moved"]
                ],
            )
            for p in block["persons"]
        ]
        shifts = [
            ShiftRow(
                statement=by_id[s["statement"]],
                first=s["conditions"][0],
                second=s["conditions"][1],
                pairs=s["pairs"],
                means=s["means"],
                difference=s["difference"],
                p=s["p"],
                effect=s["effect"],
                significance=s["significance"],
            )
            for s in block["shifts"]
        ]
        pairs = list(dict.fromkeys((s.first, s.second) for s in shifts))
        self.shift_groups = [
            (first, second, [s for s in shifts if (s.first, s.second) == (first, second)][: self.SHIFTS_SHOWN])
            for first, second in pairs
        ]
