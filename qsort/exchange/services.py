"""Load a study's data once, feed the writers, log every download; preview and apply imports.

Sorts and PQMethod imports are all-or-nothing (statements go through qsort.exchange.statements
and the deck's own rules): a preview lists every problem (with line numbers) and nothing is
saved until the researcher confirms a preview without problems; applying re-checks everything
inside one transaction and stores sorts through `submit_sort`, so the one validator judges them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _

from qsort.analysis import AnalysisInputError, read_sorts_text
from qsort.exchange import easyhtmlq, pqmethod, tables, writers
from qsort.exchange.dataset import SortRecord, StudyData, file_sort_name, split_file_sort_name
from qsort.exchange.models import DownloadLog
from qsort.exchange.safety import restore, safe_filename
from qsort.runs.models import AnalysisRun, Part, load_result, result_parts
from qsort.runs.report import RUN_REPORT_FILES
from qsort.runs.services import RunRefused, correlations_of
from qsort.studies.models import (
    Answer,
    Participant,
    Sort,
    SortComment,
    SortValue,
    Statement,
    Study,
    participant_label,
)
from qsort.studies.services import SortAlreadySubmitted, submit_sort
from qsort.studies.validation import SortRules, validate_sort


class ImportFailed(Exception):
    """Something changed between the preview and the confirmation; nothing was saved."""


class ExportUnavailable(Exception):
    """The export exists but cannot be made now (e.g. the run has no result yet); says why."""


@dataclass(frozen=True)
class Export:
    filename: str
    content_type: str
    body: bytes

    def as_response(self) -> HttpResponse:
        """The file as a download, for the web pages and the API alike."""
        response = HttpResponse(self.body, content_type=self.content_type)
        response["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return response


# --- loading -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SortRow:
    """One completed sort as the exports and the API read it (labelled, never with its token)."""

    sort_id: int
    label: str  # the participant's
    condition: str  # the condition's label
    submitted_at: datetime
    entered_by_facilitator: bool
    values: dict[int, int]  # statement number -> grid value
    comments: dict[int, str]  # statement number -> comment
    answers: dict[int, str]  # question id -> answer


def sort_rows(
    sorts: QuerySet[Sort], *, every_value: bool = True, numbers: Mapping[int, int] | None = None
) -> list[SortRow]:
    """These sorts with their values, comments and answers, oldest first: four queries, whether
    `sorts` is a whole study (exports) or one page of the API. Without `every_value`, a row's
    values are only those its comments are about (all a report too large to hold sorts writes).
    `numbers` (statement id -> number) spares PostgreSQL joining the statements to a million
    values (a third of the values' query at 20,000 sorts); a page of the API goes without."""
    heads = list(
        sorts.order_by("submitted_at", "id").values_list(
            "id", "participant_id", "participant__code", "submitted_at", "entered_by_id", "condition__label"
        )
    )
    ids = sorts.values("id")
    chosen = SortValue.objects.filter(sort__in=ids)
    if not every_value:
        commented = SortComment.objects.filter(sort_id=OuterRef("sort_id"), statement_id=OuterRef("statement_id"))
        chosen = chosen.filter(Exists(commented))
    values: dict[int, dict[int, int]] = defaultdict(dict)
    if numbers is None:
        per_sort = chosen.per_sort("statement__number")
    else:
        per_sort = (
            (sort_id, [numbers[pk] for pk in pks], sort_values) for sort_id, pks, sort_values in chosen.per_sort()
        )
    for sort_id, statement_numbers, sort_values in per_sort:
        values[sort_id] = dict(zip(statement_numbers, sort_values, strict=True))
    comments: dict[int, dict[int, str]] = defaultdict(dict)
    for sort_id, number, text in SortComment.objects.filter(sort__in=ids).values_list(
        "sort_id", "statement__number", "text"
    ):
        comments[sort_id][number] = text
    answers: dict[int, dict[int, str]] = defaultdict(dict)
    for sort_id, question_id, text in Answer.objects.filter(sort__in=ids).values_list("sort_id", "question_id", "text"):
        answers[sort_id][question_id] = text
    return [
        SortRow(
            sort_id=sort_id,
            label=participant_label(code, participant_id),
            condition=condition,
            submitted_at=submitted_at,
            entered_by_facilitator=entered_by_id is not None,
            values=values[sort_id],
            comments=comments[sort_id],
            answers=answers[sort_id],
        )
        for sort_id, participant_id, code, submitted_at, entered_by_id, condition in heads
    ]


def load_study_data(study: Study, *, every_value: bool = True) -> StudyData:
    """Every statement, sort, comment and answer of the study in a constant number of queries;
    without `every_value`, each sort's values only where it has a comment (see StudyData)."""
    rows = list(study.statements.order_by("number").values_list("id", "number", "text"))
    statements = tuple((number, text) for _, number, text in rows)
    numbers = [number for number, _ in statements]
    questions = list(study.questions.order_by("position", "id").values_list("id", "text"))
    conditions = tuple(study.conditions.values_list("label", flat=True))
    records = tuple(
        SortRecord(
            label=file_sort_name(row.label, row.condition) if len(conditions) > 1 else row.label,
            submitted_at=row.submitted_at,
            values=tuple(row.values.get(number, 0) for number in numbers) if every_value else (),
            comments={number: (row.values.get(number, 0), text) for number, text in row.comments.items()},
            answers=tuple(row.answers.get(qid, "") for qid, _ in questions),
            participant=row.label,
            condition=row.condition,
        )
        for row in sort_rows(
            Sort.objects.filter(study=study),
            every_value=every_value,
            numbers={pk: number for pk, number, _ in rows},
        )
    )
    return StudyData(
        title=study.title,
        slug=study.slug,
        statements=statements,
        grid=study.grid(),
        questions=tuple(text for _, text in questions),
        sorts=records,
        conditions=conditions,
        every_value=every_value,
    )


# --- exports -----------------------------------------------------------------------------
def _dat(data: StudyData) -> bytes:
    try:
        return pqmethod.write_dat(data.title, data.grid, [(r.label, r.values) for r in data.sorts])
    except ValueError as error:
        raise ExportUnavailable(str(error)) from None


STUDY_FILES: dict[str, tuple[str, Callable[[StudyData], bytes]]] = {
    "sorts.csv": (writers.CSV_TYPE, lambda data: writers.csv_bytes(tables.sorts_table(data))),
    "statements.csv": (writers.CSV_TYPE, lambda data: writers.csv_bytes(tables.statements_table(data))),
    "study.dat": ("text/plain; charset=windows-1252", _dat),
    "study.sta": (
        "text/plain; charset=windows-1252",
        lambda data: pqmethod.write_sta([text for _, text in data.statements]),
    ),
    "results.json": (writers.JSON_TYPE, lambda data: writers.json_bytes(easyhtmlq.results(data))),
}


class RunSource:
    """What a run export may need, each part loaded when first asked for: an export of the
    factor arrays reads three keys of the result and the statement texts, not the whole study."""

    def __init__(self, run: AnalysisRun) -> None:
        self.run = run

    def part(self, *keys: str) -> dict[str, Any]:
        """Only these keys of the stored result (the database extracts them)."""
        return result_parts(self.run.pk, {key: Part(key) for key in keys})

    @cached_property
    def result(self) -> dict[str, Any]:
        return load_result(self.run.pk)  # export_run_file takes done runs only

    @cached_property
    def texts(self) -> dict[int, str]:
        return dict(Statement.objects.filter(study_id=self.run.study_id).order_by().values_list("number", "text"))

    def result_with_correlations(self, *, up_to: int | None = None) -> dict[str, Any]:
        """The result with its correlation matrix (stored by older runs, else computed), when it
        analysed at most `up_to` sorts."""
        result = self.result
        sorts = result.get("sorts")
        if "correlations" in result or sorts is None or (up_to is not None and len(sorts) > up_to):
            return result
        return {**result, "correlations": correlations_of(self.run.study, result)}


def _factor_arrays(source: RunSource) -> tables.Table:
    return tables.factor_arrays_table(source.part("parameters", "statements", "factor_arrays"), source.texts)


def _report(source: RunSource) -> bytes:
    """The full report; each sort's values are loaded only when its Sorts sheet holds them."""
    result = source.result_with_correlations(up_to=tables.REPORT_CORRELATIONS_MAX_SORTS)
    every_value = tables.report_holds_sorts(len(result["sorts"]), len(result["statements"]))
    return writers.xlsx_bytes(tables.report_tables(result, load_study_data(source.run.study, every_value=every_value)))


RUN_FILES: dict[str, tuple[str, Callable[[RunSource], bytes]]] = {
    "factor-arrays.csv": (writers.CSV_TYPE, lambda source: writers.csv_bytes(_factor_arrays(source))),
    "factor-arrays.xlsx": (
        writers.XLSX_TYPE,
        lambda source: writers.xlsx_bytes(
            [_factor_arrays(source), *tables.condition_tables(source.part("conditions"), source.texts)]
        ),
    ),
    "factor-arrays.json": (
        writers.JSON_TYPE,
        lambda source: writers.json_bytes(writers.records(_factor_arrays(source))),
    ),
    "result.json": (writers.JSON_TYPE, lambda source: writers.json_bytes(source.result_with_correlations())),
    "report.xlsx": (writers.XLSX_TYPE, _report),
}


#: Every file a run offers: the tables above, and the run room's bootstrap files and report.
RUN_FILE_NAMES: tuple[str, ...] = (*RUN_FILES, *RUN_REPORT_FILES)


def _download_name(slug: str, name: str) -> str:
    stem, extension = name.rsplit(".", 1)
    if extension in {"dat", "sta"}:
        # PQMethod is a DOS program: project files have 8-character names.
        return safe_filename(slug.replace("-", "")[:8].upper(), extension.upper())
    return safe_filename(f"{slug}-{stem}", extension)


def log_download(study: Study, user, name: str, *, run: AnalysisRun | None = None, via_api: bool = False) -> None:
    """Every read of study data or results by a person is recorded (the Data page lists them)."""
    DownloadLog.objects.create(study=study, run=run, user=user, file=name, via_api=via_api)


def export_study_file(study: Study, name: str, user, *, via_api: bool = False) -> Export:
    """Build a study export (raises KeyError for an unknown name) and log the download."""
    content_type, build = STUDY_FILES[name]
    body = build(load_study_data(study))
    log_download(study, user, name, via_api=via_api)
    return Export(_download_name(study.slug, name), content_type, body)


def export_run_file(run: AnalysisRun, name: str, user, *, via_api: bool = False) -> Export:
    """Build an export of a finished run (raises KeyError for an unknown name) and log the download.
    `run` may come with its result deferred: each export loads only what it writes (RunSource)."""
    if run.status != AnalysisRun.Status.DONE:  # a done run always has a result (a constraint says so)
        raise ExportUnavailable(_("This analysis has no result yet (it is %(status)s).") % {"status": run.status})
    if name in RUN_REPORT_FILES:
        content_type, build_from_run = RUN_REPORT_FILES[name]
        try:
            body = build_from_run(run)
        except RunRefused as refused:
            raise ExportUnavailable(str(refused)) from None
    else:
        content_type, build = RUN_FILES[name]
        body = build(RunSource(run))
    log_download(run.study, user, name, run=run, via_api=via_api)
    return Export(_download_name(f"{run.study.slug}-run{run.pk}", name), content_type, body)


# --- imports -----------------------------------------------------------------------------
@dataclass
class StudyImport:
    """A new study read from PQMethod files: what will be created, or why it cannot be."""

    title: str = ""
    statements: list[str] = field(default_factory=list)
    grid: dict[int, int] = field(default_factory=dict)
    forced: bool = True
    sorts: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def preview_pqmethod(sta: bytes, dat: bytes) -> StudyImport:
    plan = StudyImport()
    statements, sta_problems = pqmethod.read_sta(sta)
    plan.problems += [f".STA {problem}" for problem in sta_problems]
    plan.problems += [f".STA {problem}" for problem in Study.statement_problems(statements)]
    dat_file, dat_problems = pqmethod.read_dat(dat)
    plan.problems += [f".DAT {problem}" for problem in dat_problems]
    plan.statements = statements
    if dat_file is None:
        return plan
    plan.title = dat_file.title or _("Imported study")
    plan.grid = dict(dat_file.counts)
    plan.sorts = list(dat_file.sorts)
    if statements and len(statements) != dat_file.n_statements:
        plan.problems.append(
            _("The .STA file holds %(sta)d statements but the .DAT file has %(dat)d values per sort.")
            % {"sta": len(statements), "dat": dat_file.n_statements}
        )
        return plan
    expected = sorted(v for v, c in plan.grid.items() for _card in range(c))
    plan.forced = sum(plan.grid.values()) == dat_file.n_statements and all(
        sorted(values) == expected for _, values in plan.sorts
    )
    if not plan.forced:
        # Sorts collected on a free grid: keep every value they use inside the grid's range.
        plan.grid = {v: max(plan.grid.get(v, 0), *(values.count(v) for _, values in plan.sorts)) for v in plan.grid}
    rules = SortRules(frozenset(range(1, dat_file.n_statements + 1)), plan.grid, plan.forced)
    for line, (name, values) in enumerate(plan.sorts, start=3):
        _values, problems = validate_sort(rules, enumerate(values, start=1))
        plan.problems += [f".DAT line {line} ({name}): {problem}" for problem in problems]
    return plan


@transaction.atomic
def create_study_from_pqmethod(plan: StudyImport, owner, title: str = "") -> Study:
    """Create the study, its deck, grid and sorts; the sorts were collected elsewhere, so it is closed."""
    if plan.problems:
        raise ValueError("; ".join(plan.problems))
    title = title.strip() or plan.title
    # django-stubs checks create()'s keywords against fields; Django takes property setters too.
    study = Study.objects.create(  # type: ignore[misc]
        title=title,
        slug=Study.objects.unique_slug(title or "imported-study"),
        owner=owner,
        status=Study.Status.CLOSED,
        distribution=Study.Distribution.FORCED if plan.forced else Study.Distribution.FREE,
        condition_of_instruction=_("Imported from PQMethod files: add the condition of instruction in Settings."),
    )
    study.replace_deck(plan.statements)
    study.set_grid(plan.grid)
    participants = study.invite(codes=[name for name, _values in plan.sorts])
    for participant, (_name, values) in zip(participants, plan.sorts, strict=True):
        submit_sort(participant, enumerate(values, start=1), entered_by=owner)
    return study


@dataclass
class SortsImport:
    """Sorts from a statements x sorts CSV: per code, the values by statement number.

    In a study with several conditions each column is named "<code>_<condition>" (as qsort
    exports them) and `conditions` holds each sort's condition label."""

    sorts: list[tuple[str, dict[int, int]]] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    new_codes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(code for code, _ in self.sorts))


def preview_sorts(study: Study, data: bytes) -> SortsImport:
    """Check every column of the CSV (read by the engine's reader) against the study."""
    plan = SortsImport()
    try:
        table = read_sorts_text(pqmethod.decode(data))
    except AnalysisInputError as error:
        plan.problems.append(str(error)[:1].upper() + str(error)[1:] + ".")
        return plan
    statement_ids, sort_ids, columns = table.statement_ids, table.sort_ids, table.values.T.tolist()
    numbers = [tables.statement_number(sid) for sid in statement_ids]
    study_numbers = set(study.statements.values_list("number", flat=True))
    for line, (sid, number) in enumerate(zip(statement_ids, numbers, strict=True), start=2):
        if number not in study_numbers:
            plan.problems.append(
                _("Line %(line)d: '%(id)s' is not a statement number of this study.") % {"line": line, "id": sid}
            )
    missing = sorted(study_numbers - set(numbers))
    if missing:
        plan.problems.append(
            _("The file has no row for statement(s) %(numbers)s.") % {"numbers": ", ".join(map(str, missing[:20]))}
        )
    if plan.problems:
        return plan
    labels = list(study.conditions.values_list("label", flat=True))
    several = len(labels) > 1
    by_key = {label.casefold(): label for label in labels}
    names = [restore(name.strip()) for name in sort_ids]
    pairs = [split_file_sort_name(name) if several else (name, labels[0]) for name in names]
    # (code, condition) pairs that already have a sort
    existing_codes = set(study.participants.filter(code__in=[c for c, _ in pairs]).values_list("code", flat=True))
    existing = set(
        Sort.objects.filter(study=study, participant__code__in=existing_codes).values_list(
            "participant__code", "condition__label"
        )
    )
    rules = SortRules.for_study(study)
    seen: set[tuple[str, str]] = set()
    for column, ((code, raw_condition), values) in enumerate(zip(pairs, columns, strict=True), start=2):
        where = _("Column %(column)d (%(code)s)") % {"column": column, "code": names[column - 2]}
        condition = by_key.get(raw_condition.casefold())
        if not code or len(code) > 40:
            plan.problems.append(_("%(where)s: a participant code has 1 to 40 characters.") % {"where": where})
            continue
        if condition is None:
            plan.problems.append(
                _("%(where)s: name the sort <participant>_<condition>, with a condition of this study (%(labels)s).")
                % {"where": where, "labels": ", ".join(labels)}
            )
            continue
        if (code, condition) in seen:
            plan.problems.append(_("%(where)s: the code is used by an earlier column.") % {"where": where})
            continue
        if (code, condition) in existing:
            plan.problems.append(_("%(where)s: this participant already has a sort.") % {"where": where})
            continue
        seen.add((code, condition))
        clean, problems = validate_sort(rules, zip(numbers, values, strict=True))
        plan.problems += [f"{where}: {problem}" for problem in problems]
        plan.sorts.append((code, clean))
        plan.conditions.append(condition)
        if code not in existing_codes and code not in plan.new_codes:
            plan.new_codes.append(code)
    return plan


@transaction.atomic
def apply_sorts(study: Study, plan: SortsImport, user) -> int:
    """Store every sort as typed in by `user` (paper sorts may arrive after a study closed)."""
    if plan.problems:
        raise ValueError("; ".join(plan.problems))
    try:
        study.invite(codes=plan.new_codes)
        participants = {p.code: p for p in Participant.objects.filter(study=study, code__in=plan.codes)}
        for (code, values), condition in zip(plan.sorts, plan.conditions, strict=True):
            submit_sort(participants[code], values.items(), condition=condition, entered_by=user)
    except (ValueError, SortAlreadySubmitted) as changed:  # codes or sorts added since the preview
        raise ImportFailed(str(changed)) from None
    return len(plan.sorts)
