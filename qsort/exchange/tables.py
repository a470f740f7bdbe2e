"""Every table qsort exports, built once: the CSV, XLSX and JSON writers all render these.

Study tables read a `StudyData`; result tables read the stored analysis JSON
(shared/analysis-json.md), the one contract between the engine and its consumers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from qsort.exchange.dataset import SortRecord, StudyData
from qsort.studies.models import sort_name

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Table:
    title: str  # the sheet name in a workbook (Excel allows 31 characters)
    header: tuple[str, ...]
    rows: Sequence[Sequence[Cell]]
    note: str = ""  # said above the table when something is deliberately absent


def statement_number(statement_id: str) -> int | None:
    """Statement ids are "12", "sta_12", "S12"...: the trailing number is the statement number."""
    match = re.search(r"(\d+)$", str(statement_id))
    return int(match.group(1)) if match else None


# --- study tables ------------------------------------------------------------------------
def statements_table(data: StudyData) -> Table:
    return Table("Statements", ("number", "text"), [(number, text) for number, text in data.statements])


def sorts_table(data: StudyData) -> Table:
    """Statements as rows, sorts as columns: the layout the R package qmethod reads."""
    header = ("statement_id", *(record.label for record in data.sorts))
    rows = [(number, *(record.values[i] for record in data.sorts)) for i, number in enumerate(data.numbers)]
    return Table("Sorts", header, rows)


def _who(data: StudyData, record: SortRecord) -> tuple[str, ...]:
    """The participant, and with several conditions the condition, as leading cells."""
    return (record.participant or record.label, record.condition) if data.several_conditions else (record.label,)


def _who_header(data: StudyData) -> tuple[str, ...]:
    return ("participant", "condition") if data.several_conditions else ("participant",)


# Excel's limit: a worksheet has at most 16,384 columns (Excel refuses more).
WORKSHEET_MAX_COLUMNS = 16_384
# The report's raw sorts, at most: 2,000 sorts of 60 statements. A worksheet cell costs a few
# microseconds to write (writers.xlsx_bytes) and a sheet of 20,000 sorts is 1.2 million of
# them, several seconds of every download on a busy machine; sorts.csv holds them all.
REPORT_SORTS_MAX_CELLS = 120_000


def report_holds_sorts(sorts: int, statements: int) -> bool:
    """Whether the report's Sorts sheet holds the sorts (else it says where they are)."""
    return sorts < WORKSHEET_MAX_COLUMNS and sorts * statements <= REPORT_SORTS_MAX_CELLS


def report_sorts_table(data: StudyData) -> Table:
    """The report's Sorts sheet: qmethod's layout, or a note saying where the sorts are when
    there are more than a worksheet has columns or than a quick download holds."""
    sorts, statements = len(data.sorts), len(data.numbers)
    if data.every_value and report_holds_sorts(sorts, statements):
        return sorts_table(data)
    note = (
        f"{sorts:,} sorts of {statements} statements are left out of this workbook "
        "(too many for a worksheet to hold quickly): the study's sorts.csv has every one of them."
    )
    return Table("Sorts", ("statement_id",), [], note=note)


def comments_table(data: StudyData) -> Table:
    texts = data.texts
    rows: list[tuple[Cell, ...]] = [
        (*_who(data, record), number, texts[number], value, comment)
        for record in data.sorts
        for number, (value, comment) in sorted(record.comments.items())
        if number in texts
    ]
    return Table("Comments", (*_who_header(data), "statement", "text", "value", "comment"), rows)


def answers_table(data: StudyData) -> Table:
    rows = [(*_who(data, record), *record.answers) for record in data.sorts]
    return Table("Post-sort answers", (*_who_header(data), *data.questions), rows)


# --- result tables -----------------------------------------------------------------------
def _factor_names(result: Mapping[str, Any]) -> list[str]:
    return [f"F{k}" for k in range(1, int(result["parameters"]["factors"]) + 1)]


def _statement_cells(result: Mapping[str, Any], texts: Mapping[int, str]) -> list[tuple[Cell, str]]:
    cells: list[tuple[Cell, str]] = []
    for statement_id in result["statements"]:
        number = statement_number(statement_id)
        cells.append((number if number is not None else statement_id, texts.get(number or -1, "")))
    return cells


def factor_arrays_table(result: Mapping[str, Any], texts: Mapping[int, str]) -> Table:
    rows = [
        (*cells, *array) for cells, array in zip(_statement_cells(result, texts), result["factor_arrays"], strict=True)
    ]
    return Table("Factor arrays", ("statement", "text", *_factor_names(result)), rows)


def zscores_table(result: Mapping[str, Any], texts: Mapping[int, str]) -> Table:
    names = _factor_names(result)
    rows = [
        (*cells, *z, *array)
        for cells, z, array in zip(
            _statement_cells(result, texts), result["zscores"], result["factor_arrays"], strict=True
        )
    ]
    header = ("statement", "text", *(f"z {n}" for n in names), *(f"array {n}" for n in names))
    return Table("Z-scores and arrays", header, rows)


# The matrix grows with the square of the sorts: 300 make 90,000 cells, 1,000 a million (seconds
# of every download, and a sheet nobody reads). The JSON keeps it.
REPORT_CORRELATIONS_MAX_SORTS = 300


def correlations_table(result: Mapping[str, Any]) -> Table:
    sorts = result["sorts"]
    if len(sorts) > REPORT_CORRELATIONS_MAX_SORTS:
        note = (
            f"The {len(sorts):,} x {len(sorts):,} matrix is too large for a worksheet here: "
            "it is in the analysis result JSON (result.json, field 'correlations')."
        )
        return Table("Correlations", ("sort",), [], note=note)
    if result.get("correlations") is None:
        note = "Not stored for this run (more than 1,000 sorts, or a sort it analysed has been withdrawn since)."
        return Table("Correlations", ("sort",), [], note=note)
    rows = [(sort, *row) for sort, row in zip(sorts, result["correlations"], strict=True)]
    return Table("Correlations", ("sort", *sorts), rows)


def unrotated_loadings_table(result: Mapping[str, Any]) -> Table:
    rows = [(sort, *row) for sort, row in zip(result["sorts"], result["unrotated_loadings"], strict=True)]
    return Table("Unrotated loadings", ("sort", *_factor_names(result)), rows)


def rotated_loadings_table(result: Mapping[str, Any]) -> Table:
    names = _factor_names(result)
    rows = [
        (sort, *row, ", ".join(n for n, flag in zip(names, flags, strict=True) if flag))
        for sort, row, flags in zip(result["sorts"], result["loadings"], result["flags"], strict=True)
    ]
    return Table("Rotated loadings", ("sort", *names, "flagged on"), rows)


def factor_characteristics_table(result: Mapping[str, Any]) -> Table:
    fields = (
        "eigenvalue",
        "explained_variance",
        "defining_sorts",
        "average_reliability_coefficient",
        "composite_reliability",
        "se_factor_scores",
    )
    names = _factor_names(result)
    rows = [(name, *(factor.get(f) for f in fields)) for name, factor in zip(names, result["factors"], strict=True)]
    return Table("Factor characteristics", ("factor", *fields), rows)


def distinguishing_table(result: Mapping[str, Any], texts: Mapping[int, str]) -> Table:
    """Per statement: z-scores, which factors it distinguishes, consensus, and every pair's test."""
    names = _factor_names(result)
    pairs = sorted({tuple(d["factors"]) for d in result["differences"]})
    tests = {(str(d["statement"]), tuple(d["factors"])): d for d in result["differences"]}
    status = {str(s["statement"]): s for s in result["statement_status"]}
    header = [
        "statement",
        "text",
        *(f"z {n}" for n in names),
        "distinguishes",
        "consensus",
    ]
    for i, j in pairs:
        header += [f"F{i}-F{j} difference", f"F{i}-F{j} significance"]
    rows = []
    for statement_id, cells, z in zip(
        result["statements"], _statement_cells(result, texts), result["zscores"], strict=True
    ):
        state = status.get(str(statement_id), {})
        row: list[Cell] = [*cells, *z, ", ".join(f"F{f}" for f in state.get("distinguishes", ()))]
        row.append(bool(state.get("consensus", False)))
        for pair in pairs:
            test = tests.get((str(statement_id), pair), {})
            row += [test.get("difference"), test.get("significance", "")]
        rows.append(row)
    return Table("Distinguishing-consensus", tuple(header), rows)


def _factor_matrix_table(title: str, result: Mapping[str, Any], key: str) -> Table:
    names = _factor_names(result)
    rows = [(name, *row) for name, row in zip(names, result[key], strict=True)]
    return Table(title, ("factor", *names), rows)


def factor_correlations_table(result: Mapping[str, Any]) -> Table:
    return _factor_matrix_table("Factor correlations", result, "factor_correlations")


def se_differences_table(result: Mapping[str, Any]) -> Table:
    return _factor_matrix_table("SE of differences", result, "se_differences")


def parameters_table(result: Mapping[str, Any]) -> Table:
    parameters = result["parameters"]
    rows: list[tuple[Cell, Cell]] = [
        (key, value if isinstance(value, str | int | float | bool) else str(value)) for key, value in parameters.items()
    ]
    rows += [("sorts", len(result["sorts"])), ("statements", len(result["statements"]))]
    rows += [("warning", warning) for warning in result.get("warnings", ())]
    return Table("Parameters", ("parameter", "value"), rows)


def runs_sorts(data: StudyData, result: Mapping[str, Any]) -> StudyData:
    """The study's sorts that the run analysed, in the run's order (the deck may have grown since)."""
    if data.several_conditions:
        # A run names its sorts "P0007·Relapse" over several conditions, "P0007" over one.
        covered = result.get("run_conditions") or data.conditions
        by_label = {
            (sort_name(r.participant, r.condition) if len(covered) > 1 else r.participant): r
            for r in data.sorts
            if r.condition in covered
        }
    else:
        by_label = {record.label: record for record in data.sorts}
    chosen = tuple(by_label[label] for label in result["sorts"] if label in by_label)
    return replace(data, sorts=chosen or data.sorts)


# --- conditions of instruction (runs over several; analysis.conditions computed them) -------------
def condition_factor_table(result: Mapping[str, Any]) -> Table:
    block = result["conditions"]
    rows = [(f"Factor {f}", *counts) for f, counts in enumerate(block["factor_counts"], start=1)]
    return Table("Factor x condition", ("factor", *block["conditions"]), rows, note="Defining sorts per condition.")


def condition_shifts_table(result: Mapping[str, Any], texts: Mapping[int, str]) -> Table:
    rows = [
        (
            shift["conditions"][0],
            shift["conditions"][1],
            shift["statement"],
            texts.get(statement_number(shift["statement"]) or 0, ""),
            shift["pairs"],
            *shift["means"],
            shift["difference"],
            shift["effect"],
            shift["statistic"],
            shift["p"],
            shift["significance"],
        )
        for shift in result["conditions"]["shifts"]
    ]
    header = ("first", "second", "statement", "text", "pairs", "mean first", "mean second", "difference")
    return Table(
        "Condition shifts",
        (*header, "rank-biserial r", "Wilcoxon W", "p", "significance"),
        rows,
        note="Difference = second minus first; Wilcoxon signed-rank test, * p < .05, ** p < .01.",
    )


def condition_persons_table(result: Mapping[str, Any]) -> Table:
    rows = [
        (
            person["participant"],
            *person["conditions"],
            person["correlation"],
            " ".join(map(str, person["factors"][0])),
            " ".join(map(str, person["factors"][1])),
            "; ".join(f"{m['statement']}: {m['values'][0]:+d} to {m['values'][1]:+d}" for m in person["moved"]),
        )
        for person in result["conditions"]["persons"]
    ]
    header = ("participant", "first", "second", "correlation", "defines (first)", "defines (second)", "moved most")
    return Table("Within persons", header, rows)


def condition_tables(result: Mapping[str, Any], texts: Mapping[int, str]) -> list[Table]:
    if not result.get("conditions"):
        return []
    return [condition_factor_table(result), condition_shifts_table(result, texts), condition_persons_table(result)]


def report_tables(result: Mapping[str, Any], data: StudyData) -> list[Table]:
    """The sheets of the full report, in the order a KADE or PQMethod user reads them."""
    texts = data.texts
    analysed = runs_sorts(data, result)
    return [
        parameters_table(result),
        report_sorts_table(analysed),
        correlations_table(result),
        unrotated_loadings_table(result),
        rotated_loadings_table(result),
        factor_characteristics_table(result),
        zscores_table(result, texts),
        factor_arrays_table(result, texts),
        distinguishing_table(result, texts),
        factor_correlations_table(result),
        se_differences_table(result),
        comments_table(analysed),
        answers_table(analysed),
        *condition_tables(result, texts),
    ]
