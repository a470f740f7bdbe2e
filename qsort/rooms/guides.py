"""Material for the one-to-one interviews that follow the sorting: a guide per participant and a
schedule per factor of a run, as plain data that the printable pages and the DOCX files lay out.

Guides name participants by their label (code or neutral number), never by token; the factor
schedule's quotes carry no label at all.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from qsort.analysis.group import MIN_GROUP_SORTS, largest_differences
from qsort.rooms.models import InterviewPrompts
from qsort.runs.models import AnalysisRun
from qsort.studies.models import Participant, Sort, SortComment, Study, participant_label, sort_name
from qsort.studies.services import extreme_statements
from qsort.studies.validation import signed


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, **values: str) -> str:
    """A prompt with its placeholders filled; unknown or missing ones stay empty (never an error,
    the form already refused them)."""
    try:
        return string.Formatter().vformat(template, (), _Blank(values))
    except (ValueError, IndexError, KeyError):
        return template


@dataclass(frozen=True)
class GuideCard:
    number: int
    text: str
    value: int
    comment: str
    prompt: str
    reference: str = ""

    @property
    def value_label(self) -> str:
        return signed(self.value)


@dataclass(frozen=True)
class GridColumn:
    label: str
    cards: list[tuple[int, str]]


@dataclass(frozen=True)
class InterviewGuide:
    study: Study
    label: str
    question: str  # the condition of instruction this sort answered
    submitted_at: datetime
    entered_on_paper: bool
    columns: list[GridColumn]
    agree: list[GuideCard]
    disagree: list[GuideCard]
    differences: list[GuideCard]
    reference: str  # what the differences compare with, in words; "" when nothing to compare
    answers: list[dict[str, str]]

    def sections(self) -> list[tuple[str, list[GuideCard]]]:
        """The guide's card sections with their headings, as the page and the DOCX show them."""
        sections = [(_("Most agree"), self.agree), (_("Most disagree"), self.disagree)]
        if self.differences:
            heading = _("Where they differ most from %(reference)s") % {"reference": self.reference}
            sections.append((heading, self.differences))
        return sections


# (what the differences compare with, its position of each statement, the prompt's {reference}
# phrase with a %(position)s slot)
Reference = tuple[str, dict[int, float], str]


def _factor_reference(study: Study, names: set[str], numbers: list[int]) -> Reference | None:
    """The factor this sort defines in the latest finished run that holds it (`names`: the sort's
    name in a run over one condition, and over several)."""
    runs = AnalysisRun.objects.filter(study=study, status=AnalysisRun.Status.DONE).order_by("-finished_at", "-id")
    for run in runs.only("id", "result")[:20]:
        result = run.result or {}
        sorts = result.get("sorts") or []
        label = next((name for name in sorts if name in names), None)
        if label is None:
            continue
        flags = result.get("flags") or []
        arrays = result.get("factor_arrays") or []
        defined = [f for f, flagged in enumerate(flags[sorts.index(label)]) if flagged]
        if len(defined) != 1 or not arrays:
            return None
        factor = defined[0]
        by_number = {int(s): row[factor] for s, row in zip(result["statements"], arrays, strict=True)}
        reference = _("factor %(factor)s of analysis #%(run)s") % {"factor": factor + 1, "run": run.pk}
        phrase = _("factor %(factor)s puts it at %%(position)s") % {"factor": factor + 1}
        return reference, {n: float(by_number[n]) for n in numbers if by_number.get(n) is not None}, phrase
    return None


def _group_reference(participant: Participant, sort: Sort) -> Reference | None:
    """The mean placement of the participant's session, when it has enough finished sorts."""
    from qsort.rooms.services import session_matrix  # the room's loader, shared with the board

    seat = getattr(participant, "seat", None)
    if seat is None:
        return None
    statements, data = session_matrix(seat.session, sort.condition)
    if data.shape[1] < MIN_GROUP_SORTS:
        return None
    means = data.mean(axis=1)
    reference = _("the group mean of %(session)s") % {"session": seat.session.name}
    phrase = _("the group's average is %(position)s")
    return reference, {s.number: float(means[i]) for i, s in enumerate(statements)}, phrase


def interview_guide(participant: Participant, sort: Sort) -> InterviewGuide:
    study = participant.study
    prompts = InterviewPrompts.for_study(study)
    statements = {s.number: s.text for s in study.statements.order_by("number").only("number", "text")}
    values = dict(sort.values.values_list("statement__number", "value"))
    comments = dict(sort.comments.values_list("statement__number", "text"))
    numbers = sorted(values)

    def card(number: int, template: str, reference: str = "", phrase: str = "") -> GuideCard:
        fields = {
            "statement": statements[number],
            "value": signed(values[number]),
            "comment": comments.get(number, ""),
            "reference": phrase,
        }
        comment = comments.get(number, "")
        return GuideCard(number, statements[number], values[number], comment, fill(template, **fields), reference)

    extremes = extreme_statements(study, values)
    agree = [
        card(n, prompts.agree if n in comments else prompts.agree_no_comment)
        for n in sorted((n for n in extremes if values[n] > 0), key=lambda n: (-values[n], n))
    ]
    disagree = [
        card(n, prompts.disagree if n in comments else prompts.disagree_no_comment)
        for n in sorted((n for n in extremes if values[n] < 0), key=lambda n: (values[n], n))
    ]

    names = {participant.label, sort_name(participant.label, sort.condition.label)}
    found = _factor_reference(study, names, numbers) or _group_reference(participant, sort)
    differences: list[GuideCard] = []
    reference_name = ""
    if found:
        reference_name, reference_values, phrasing = found
        compared = [n for n in numbers if n in reference_values]
        own = np.array([values[n] for n in compared], dtype=float)
        theirs = np.array([reference_values[n] for n in compared], dtype=float)
        for i in largest_differences(own, theirs):
            shown = reference_values[compared[i]]
            label = signed(int(shown)) if float(shown).is_integer() else f"{shown:+.2f}"
            differences.append(card(compared[i], prompts.difference, label, phrasing % {"position": label}))

    answers = [
        {"question": q, "answer": a, "prompt": fill(prompts.answer, question=q, answer=a)}
        for q, a in sort.answers.order_by("question__position", "question_id").values_list("question__text", "text")
    ]
    columns = [
        GridColumn(signed(value), [(n, statements[n]) for n in numbers if values[n] == value])
        for value in sorted(study.grid(), reverse=True)
    ]
    return InterviewGuide(
        study=study,
        label=participant.label,
        question=sort.condition.question,
        submitted_at=sort.submitted_at,
        entered_on_paper=sort.entered_by_id is not None,
        columns=columns,
        agree=agree,
        disagree=disagree,
        differences=differences,
        reference=reference_name,
        answers=answers,
    )


@dataclass(frozen=True)
class ScheduleStatement:
    number: int
    text: str
    value: int | None
    zscore: float | None

    @property
    def value_label(self) -> str:
        return signed(self.value) if self.value is not None else ""


@dataclass(frozen=True)
class FactorSchedule:
    run: AnalysisRun
    factor: int  # 1-based
    defining_sorts: int
    characterising_agree: list[ScheduleStatement]
    characterising_disagree: list[ScheduleStatement]
    distinguishing: list[ScheduleStatement]
    consensus: list[ScheduleStatement]
    quotes: list[dict[str, Any]]  # {"statement": ScheduleStatement, "comment": str}, no names

    def sections(self) -> list[tuple[str, list[ScheduleStatement]]]:
        return [
            (_("Characterising statements: most agree"), self.characterising_agree),
            (_("Characterising statements: most disagree"), self.characterising_disagree),
            (_("Distinguishing statements"), self.distinguishing),
            (_("Consensus statements"), self.consensus),
        ]


class NoSuchFactor(LookupError):
    pass


def factor_schedule(run: AnalysisRun, factor: int) -> FactorSchedule:
    """A factor's interview material from what the engine stored for the run (nothing recomputed):
    the cards at its two outer columns on each side, its distinguishing statements, the consensus
    statements, and the comments of the sorts that define it, without names."""
    result = run.result or {}
    factors = len(result.get("factors") or [])
    if not 1 <= factor <= factors:
        raise NoSuchFactor(factor)
    column = factor - 1
    texts = dict(run.study.statements.values_list("number", "text"))
    numbers = [int(s) for s in result["statements"]]
    value_of = {n: row[column] for n, row in zip(numbers, result.get("factor_arrays") or [], strict=False)}
    z_of = {n: row[column] for n, row in zip(numbers, result.get("zscores") or [], strict=False)}

    def statement(number: int) -> ScheduleStatement:
        return ScheduleStatement(number, texts.get(number, ""), value_of.get(number), z_of.get(number))

    # The factor's own two outer columns at each end (+4/+3 and -4/-3 on a -4..+4 grid).
    placed = sorted({v for v in value_of.values() if v is not None})
    top, bottom = {v for v in placed[-2:] if v > 0}, {v for v in placed[:2] if v < 0}
    agree = sorted(
        (statement(n) for n in numbers if value_of.get(n) in top), key=lambda s: (-(s.value or 0), -(s.zscore or 0))
    )
    disagree = sorted(
        (statement(n) for n in numbers if value_of.get(n) in bottom), key=lambda s: (s.value or 0, s.zscore or 0)
    )
    distinguishing = [statement(int(s)) for s in (result.get("distinguishing") or {}).get(str(factor), [])]
    consensus = [statement(int(s)) for s in result.get("consensus") or []]

    sorts = result.get("sorts") or []
    flags = result.get("flags") or []
    defining = {label for label, row in zip(sorts, flags, strict=True) if row[column]}
    sorts_of_study = Sort.objects.filter(study=run.study).values_list(
        "pk", "participant_id", "participant__code", "condition__label"
    )
    # A run over several conditions names its sorts "P0007·Relapse" (runs.services.sort_name).
    defining_pks = [
        pk
        for pk, participant, code, condition in sorts_of_study
        if {participant_label(code, participant), sort_name(participant_label(code, participant), condition)} & defining
    ]
    rows = SortComment.objects.filter(sort__in=defining_pks).values_list("statement__number", "text")
    quotes = [
        {"statement": statement(number), "comment": text} for number, text in sorted(rows, key=lambda r: (r[0], r[1]))
    ]
    return FactorSchedule(
        run=run,
        factor=factor,
        defining_sorts=len(defining),
        characterising_agree=agree,
        characterising_disagree=disagree,
        distinguishing=distinguishing,
        consensus=consensus,
        quotes=quotes,
    )
