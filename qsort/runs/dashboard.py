"""What the results pages show, laid out from a run's stored result (shared/analysis-json.md).

Plain Python over the JSON: no queries and no analysis judgements here. The engine's result
says which loadings are significant, each sort's status, which factors are mirrored, the
consensus at both levels and each distinguishing statement's mark; this module only arranges
them. Each page loads just the result fields it shows (``PAGE_FIELDS``), so a page of a
20,000-sort run never decodes the loadings of every sort.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils.formats import get_format
from django.utils.translation import ngettext

from qsort.analysis.flagging import CONFOUNDED, FLAGGED, NONSIGNIFICANT
from qsort.runs.report import METHODS_FIELDS

#: The sort statuses in the order the page lists and filters them.
SORT_STATUSES = (FLAGGED, CONFOUNDED, NONSIGNIFICANT)

_HEADER = ("factors",)
_STATEMENTS = ("statements", "statement_texts", "zscores", "factor_arrays", "statement_status")
#: The result fields each page reads (the rest stays in the database).
PAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "overview": (*_HEADER, "eigenvalues", "warnings", "sort_status", "evidence"),
    "factor": (*_HEADER, *_STATEMENTS, "distribution", "distinguishing"),
    "consensus": (*_HEADER, *_STATEMENTS, "consensus", "consensus_01"),
    "loadings": (*_HEADER, "flag_threshold", "sort_status"),
    "plot": (*_HEADER, "flag_threshold"),  # the loadings plot and rotation preview partials
    "stability": (*_HEADER, "statements", "statement_texts"),
    "report": tuple(dict.fromkeys((*_HEADER, *METHODS_FIELDS, "evidence"))),  # with the methods paragraph's
    "header": _HEADER,
    "conditions": (*_HEADER, "statements", "statement_texts", "conditions"),
}


def two_places(value: float | None) -> str:
    """A loading or z-score as the tables show it: two decimals with the language's separator
    (as `floatformat:2`, without "-0.00"). Formatted here: in the template, the number filters
    cost more than the rest of a table."""
    if value is None:
        return ""
    text = f"{value:.2f}"
    return ("0.00" if text == "-0.00" else text).replace(".", get_format("DECIMAL_SEPARATOR"))


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
    more_comments: int = 0  # comments left out of the page (the Data page lists them all)
    # "7 comments", "and 2 more (in the data download)": worded once, shown beside every row
    comments_label: str = ""
    more_label: str = ""


@dataclass(frozen=True)
class Cell:
    """One factor's view of a statement: z-score, array position and significance mark."""

    factor: int
    z: float | None
    array: int | None
    mark: str = ""

    @property
    def z_text(self) -> str:
        return two_places(self.z)


@dataclass(frozen=True)
class StatementRow:
    statement: Statement
    cells: list[Cell]
    consensus_05: bool = False  # on the consensus page: also consensus at p >= .05


@dataclass(frozen=True)
class Card:
    statement: Statement
    z: float

    @property
    def z_text(self) -> str:
        return two_places(self.z)


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
    se_factor_scores: float | None
    has_scores: bool
    mirrored: bool  # the engine's judgement: defined mainly by negative loaders


@dataclass(frozen=True)
class FactorDetail:
    factor: Factor
    composite: list[Column] = field(default_factory=list)
    distinguishing: list[StatementRow] = field(default_factory=list)
    crib: CribSheet | None = None


@dataclass(frozen=True)
class LoadingCell:
    factor: int
    loading: float
    flagged: bool
    significant: bool
    # Pre-formatted: the template's number filters cost more than the rest of the table.
    text: str
    key: str  # "sort index:factor", the value of the flag checkbox
    labelled_by: str  # ids of the row and column headers, which name the checkbox
    flag_freq: float | None = None  # share of bootstrap resamples that flagged it (latest bootstrap)


@dataclass(frozen=True)
class SortRow:
    index: int
    label: str
    cells: list[LoadingCell]
    status: str  # the engine's: flagged, confounded or nonsignificant
    dom_id: str


def sort_rows(
    indices: list[int],
    labels: list[str],
    loadings: list[list[float]],
    flags: list[list[bool]],
    significant: list[list[bool]],
    statuses: list[str],
    flag_freq: dict[str, list[float | None]] | None = None,
) -> list[SortRow]:
    """The loadings table's rows for the sorts at `indices` (the other lists are their rows),
    with each sort's bootstrap flag frequencies when `flag_freq` (sort id -> per factor) has them."""
    flag_freq = flag_freq or {}
    rows = []
    for index, label, row, row_flags, row_significant, status in zip(
        indices, labels, loadings, flags, significant, statuses, strict=True
    ):
        frequencies = flag_freq.get(label, [])
        cells = [
            LoadingCell(
                factor=f + 1,
                loading=a,
                flagged=row_flags[f],
                significant=row_significant[f],
                text=two_places(a),
                key=f"{index}:{f + 1}",
                labelled_by=f"sort-{index} loading-head-{f + 1}",
                flag_freq=frequencies[f] if f < len(frequencies) else None,
            )
            for f, a in enumerate(row)
        ]
        rows.append(SortRow(index=index, label=label, cells=cells, status=status, dom_id=f"sort-{index}"))
    return rows


class Dashboard:
    """A run's result (or the part of it a page loaded), arranged for people.

    Build once per request; every property reads only the fields its page loaded."""

    def __init__(self, result: dict[str, Any], comments: dict[str, list[Comment]] | None = None) -> None:
        self.result = result
        self.k = len(result["factors"])
        self.comments = comments or {}
        self.comment_counts: dict[str, int] = {}  # all comments per statement, when more than shown

    @cached_property
    def statements(self) -> list[Statement]:
        texts = self.result.get("statement_texts") or self.result["statements"]
        statements = []
        for i, (sid, text) in enumerate(zip(self.result["statements"], texts, strict=True)):
            shown = tuple(self.comments.get(sid, ()))
            more = max(self.comment_counts.get(sid, 0) - len(shown), 0)
            total = len(shown) + more
            statements.append(
                Statement(
                    index=i,
                    id=sid,
                    text=text,
                    comments=shown,
                    more_comments=more,
                    comments_label=ngettext("%(n)s comment", "%(n)s comments", total) % {"n": total},
                    more_label=ngettext(
                        "and %(n)s more (in the data download)", "and %(n)s more (in the data download)", more
                    )
                    % {"n": more},
                )
            )
        return statements

    @cached_property
    def by_id(self) -> dict[str, Statement]:
        return {s.id: s for s in self.statements}

    def condition_tables(self, own_comments: dict[tuple[str, str, str], str]) -> ConditionTables | None:
        """The condition tables of a run over several conditions, else None."""
        block = self.result.get("conditions")
        return ConditionTables(block, self, own_comments) if block else None

    @property
    def threshold(self) -> float:
        """|loading| above which a loading is significant: the engine's threshold."""
        return self.result["flag_threshold"]

    @cached_property
    def _marks(self) -> list[list[str]]:
        return [status["marks"] for status in self.result["statement_status"]]

    def row(self, statement: Statement, *, marks_for: int | None = None, consensus_05: bool = False) -> StatementRow:
        """The statement across factors. With `marks_for`, only that factor's significance is
        marked and its cells come first (on a phone, the factor being read stays in view)."""
        zscores, arrays = self.result["zscores"][statement.index], self.result["factor_arrays"][statement.index]
        marks = self._marks[statement.index]
        cells = [
            Cell(
                factor=f + 1,
                z=zscores[f],
                array=arrays[f],
                mark=marks[f] if marks_for in (None, f + 1) else "",
            )
            for f in range(self.k)
        ]
        if marks_for is not None:
            cells.sort(key=lambda cell: cell.factor != marks_for)
        return StatementRow(statement=statement, cells=cells, consensus_05=consensus_05)

    @cached_property
    def factors(self) -> list[Factor]:
        return [
            Factor(
                number=f + 1,
                eigenvalue=c["eigenvalue"],
                explained_variance=c["explained_variance"],
                defining_sorts=c["defining_sorts"],
                composite_reliability=c["composite_reliability"],
                se_factor_scores=c["se_factor_scores"],
                has_scores=c["se_factor_scores"] is not None,
                mirrored=c["mirrored"],
            )
            for f, c in enumerate(self.result["factors"])
        ]

    def factor(self, number: int) -> FactorDetail:
        """One factor's page: its composite sort, distinguishing statements and crib sheet."""
        factor = self.factors[number - 1]
        if not factor.has_scores:
            return FactorDetail(factor=factor)
        return FactorDetail(
            factor=factor,
            composite=self._composite(number - 1),
            distinguishing=self._distinguishing(number),
            crib=self._crib(number - 1),
        )

    def _composite(self, f: int) -> list[Column]:
        """The factor array drawn as the grid: each column's statements, highest z-score on top."""
        arrays, zscores = self.result["factor_arrays"], self.result["zscores"]
        columns: dict[int, list[Card]] = {v: [] for v in self.result["distribution"]["values"]}
        for statement in self.statements:
            columns.setdefault(arrays[statement.index][f], []).append(
                Card(statement=statement, z=zscores[statement.index][f])
            )
        return [
            Column(value=value, cards=sorted(cards, key=lambda c: -c.z)) for value, cards in sorted(columns.items())
        ]

    def _distinguishing(self, number: int) -> list[StatementRow]:
        ids = self.result["distinguishing"].get(str(number), [])
        rows = [self.row(self.by_id[sid], marks_for=number) for sid in ids]
        return sorted(rows, key=lambda r: -(r.cells[0].z or 0))

    @cached_property
    def consensus(self) -> list[StatementRow]:
        """PQMethod's layout: every statement that no pair of factors separates at p < .01,
        those that are consensus at p >= .05 as well marked."""
        at_05 = set(self.result["consensus"])
        return [self.row(self.by_id[sid], consensus_05=sid in at_05) for sid in self.result["consensus_01"]]

    def _crib(self, f: int) -> CribSheet:
        """Watts & Stenner's crib sheet: the extremes, and what this factor ranks higher or
        lower than every other factor does (reading the factor arrays, no new statistic)."""
        arrays, zscores = self.result["factor_arrays"], self.result["zscores"]
        others = [g for g in range(self.k) if g != f and self.factors[g].has_scores]
        values = self.result["distribution"]["values"]
        top, bottom = max(values), min(values)
        sheet = CribSheet(top=[], higher=[], lower=[], bottom=[])
        for statement in sorted(self.statements, key=lambda s: -zscores[s.index][f]):
            own = arrays[statement.index][f]
            elsewhere = [arrays[statement.index][g] for g in others]
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
    def status_counts(self) -> dict[str, int]:
        counts = Counter(self.result["sort_status"])
        return {status: counts.get(status, 0) for status in SORT_STATUSES}


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


@dataclass(frozen=True)
class StableStatement:
    """One statement of one factor under the bootstrap (all numbers the bootstrap engine's)."""

    statement: Statement
    z: float | None  # the run's own z-score
    mean: float | None  # bootstrapped mean z-score and its 95 % interval
    low: float | None
    high: float | None
    array: int | None  # the run's own array position
    bootstrapped_array: int
    unstable: bool  # the engine's judgement: the bootstrapped array position differs


@dataclass(frozen=True)
class StabilityFactor:
    number: int
    fsi: float  # qmethod's FSindex, as its qfsi computes it (see the stability page's note)
    nfsi: float
    moved: float  # the mean |grid position change| of the statements (the engine's FSindex_intended)
    statements: list[StableStatement]  # by bootstrapped mean z-score, highest first

    @property
    def unstable_count(self) -> int:
        return sum(s.unstable for s in self.statements)


def stability(bootstrap: dict[str, Any], statements: list[Statement]) -> list[StabilityFactor]:
    """The bootstrap JSON (qsort/analysis/README.md, "Bootstrap JSON") arranged per factor."""
    by_id = {s.id: s for s in statements}
    original = bootstrap["original"]
    factors = []
    for f, stats in enumerate(bootstrap["zscore_stats"]):
        unstable = set(bootstrap["unstable_statements"][f])
        rows = [
            StableStatement(
                statement=by_id[sid],
                z=original["zsc"][s][f],
                mean=stats["mean"][s],
                low=stats["q025"][s],
                high=stats["q975"][s],
                array=original["zsc_n"][s][f],
                bootstrapped_array=bootstrap["bootstrapped_factor_scores"][f][s],
                unstable=sid in unstable,
            )
            for s, sid in enumerate(stats["statement"])
        ]
        rows.sort(key=lambda r: -(r.mean if r.mean is not None else -math.inf))
        fsi = bootstrap["fsi"]
        factors.append(StabilityFactor(f + 1, fsi["FSindex"][f], fsi["NFSindex"][f], fsi["FSindex_intended"][f], rows))
    return factors


def flag_frequencies(loading_stats: list[dict[str, Any]] | None) -> dict[str, list[float | None]]:
    """Sort id -> per factor, the share of the resamples holding the sort that flagged it (the
    bootstrap JSON's `loading_stats`)."""
    if not loading_stats:
        return {}
    out: dict[str, list[float | None]] = {}
    for stats in loading_stats:
        for sort, frequency in zip(stats["sort"], stats["flag_freq"], strict=True):
            out.setdefault(sort, []).append(frequency)
    return out
