"""Workflows that span several models: submitting a sort (from any door) and its side effects."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.security.parsing import storable, unstorable_message, whole_number
from qsort.studies.models import (
    Answer,
    Condition,
    Participant,
    PostSortQuestion,
    Sort,
    SortComment,
    SortValue,
    Study,
)
from qsort.studies.signals import sort_completed
from qsort.studies.validation import SortInvalid, SortRules, check_sort, signed

logger = logging.getLogger(__name__)


class SortAlreadySubmitted(Exception):
    """The participant has completed a different sort; a completed sort is never overwritten."""

    def __init__(self) -> None:
        super().__init__("This participant has already completed a different sort; it cannot be replaced.")


def resolve_condition(study: Study, condition: Condition | str | None) -> Condition:
    """The condition a sort is made under: given, named by its label, or the study's only one.

    Raises SortInvalid with a message for people when it is missing or unknown."""
    if isinstance(condition, Condition):
        if condition.study_id != study.pk:
            raise SortInvalid([_("That condition belongs to another study.")])
        return condition
    conditions = list(study.conditions.all())
    if condition is None or not str(condition).strip():
        if len(conditions) == 1:
            return conditions[0]
        raise SortInvalid(
            [
                _("This study has several conditions: say which one the sort is for (%(labels)s).")
                % {"labels": ", ".join(c.label for c in conditions)}
            ]
        )
    wanted = str(condition).strip().casefold()
    found = next((c for c in conditions if c.label.casefold() == wanted), None)
    if found is None:
        raise SortInvalid(
            [
                _("'%(label)s' is not a condition of this study (%(labels)s).")
                % {"label": str(condition)[:40], "labels": ", ".join(c.label for c in conditions)}
            ]
        )
    return found


class StudyNotAcceptingSorts(Exception):
    def __init__(self, study: Study) -> None:
        if study.status == Study.Status.DRAFT:
            message = _("This study is not open yet: it does not accept sorts.")
        else:
            message = _("This study is closed: it no longer accepts sorts.")
        super().__init__(message)


def _clean_comments(study: Study, comments: Mapping[Any, Any], values: Mapping[int, int]) -> dict[int, str]:
    problems: list[str] = []
    cleaned: dict[int, str] = {}
    for raw_number, raw_text in comments.items():
        text = str(raw_text or "").strip()
        if not text:
            continue
        number = whole_number(raw_number)
        if number is None:
            problems.append(
                _("A comment is attached to '%(raw)s', which is not a statement number.") % {"raw": raw_number}
            )
            continue
        if not storable(text):
            problems.append(unstorable_message())
        elif number not in values:
            problems.append(
                _("A comment is attached to statement %(number)d, which is not part of this study.")
                % {"number": number}
            )
        elif len(text) > SortComment.MAX_LENGTH:
            problems.append(
                _("The comment on statement %(number)d is longer than %(limit)d characters.")
                % {"number": number, "limit": SortComment.MAX_LENGTH}
            )
        else:
            cleaned[number] = text
    if problems:
        raise SortInvalid(problems)
    return cleaned


def extreme_statements(study: Study, values: Mapping[int, int]) -> list[int]:
    """Statements placed in the two outermost columns: the ones participants are asked about."""
    grid = study.grid()
    if not grid:
        return []
    ends = {min(grid), max(grid)}
    return sorted(number for number, value in values.items() if value in ends)


def questions_for_sort(study: Study, participant: Participant) -> list[PostSortQuestion]:
    """The post-sort questions asked after this participant's next sort: every-condition ones
    always, once-per-participant ones only after their first sort."""
    questions = study.questions.all()
    if Sort.objects.filter(participant=participant).exists():
        questions = questions.filter(each_condition=True)
    return list(questions)


def _clean_answers(
    questions: list[PostSortQuestion], answers: Mapping[Any, Any], *, enforce_required: bool
) -> dict[int, str]:
    by_id = {q.pk: q for q in questions}
    problems: list[str] = []
    cleaned: dict[int, str] = {}
    for raw_id, raw_text in answers.items():
        text = str(raw_text or "").strip()
        number = whole_number(raw_id)
        question = by_id.get(number) if number is not None else None
        if question is None:
            problems.append(_("'%(raw)s' is not a question of this study.") % {"raw": raw_id})
            continue
        if not storable(text):
            problems.append(unstorable_message())
        elif len(text) > Answer.MAX_LENGTH:
            problems.append(
                _("The answer to '%(question)s' is longer than %(limit)d characters.")
                % {"question": question.text[:40], "limit": Answer.MAX_LENGTH}
            )
        elif text:
            cleaned[question.pk] = text
    if enforce_required:
        for question in by_id.values():
            if question.required and question.pk not in cleaned:
                problems.append(_("Please answer the question '%(question)s'.") % {"question": question.text})
    if problems:
        raise SortInvalid(problems)
    return cleaned


def submit_sort(
    participant: Participant,
    placements: Iterable[tuple[object, object]],
    *,
    condition: Condition | str | None = None,
    comments: Mapping[Any, Any] | None = None,
    answers: Mapping[Any, Any] | None = None,
    entered_by=None,
) -> tuple[Sort, bool]:
    """Validate and store a participant's completed sort under `condition`. Returns (sort, created).

    `condition` is a Condition, its label, or None for a study's only condition. Idempotent per
    (participant, condition): the same values submitted again return the stored sort (double
    clicks, refreshes, second tabs); different values raise SortAlreadySubmitted. The
    participant is completed once every condition has its sort; until then they go on to the
    next condition (stage "consented", its instructions).
    The participant row is locked so two concurrent submits cannot both create a sort.
    Consent is checked by the participant's doors (web, API) before they call this; it is never
    recorded here. A facilitator entering a paper sort (`entered_by`) may do so while the study
    is closed, and is not held to the participant-facing required comments and questions.
    """
    placements = list(placements)
    with transaction.atomic():
        participant = Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
        study = participant.study
        condition = resolve_condition(study, condition)
        rules = SortRules.for_study(study)
        values = check_sort(rules, placements)
        existing = Sort.objects.filter(participant=participant, condition=condition).first()
        if existing is not None:
            if existing.values_by_number() == values:
                return existing, False
            raise SortAlreadySubmitted()
        if entered_by is None and not study.accepts_sorts:
            raise StudyNotAcceptingSorts(study)
        if entered_by is None and participant.is_completed:
            # Stopped early (Study.allow_partial): the conditions not reached stay empty.
            raise SortAlreadySubmitted()

        clean_comments = _clean_comments(study, comments or {}, values)
        questions = questions_for_sort(study, participant)
        clean_answers = _clean_answers(questions, answers or {}, enforce_required=entered_by is None)
        if study.comments_required and entered_by is None:
            uncommented = [n for n in extreme_statements(study, values) if n not in clean_comments]
            if uncommented:
                raise SortInvalid(
                    [
                        _("Please say why you placed statement %(number)d at %(value)s.")
                        % {"number": n, "value": signed(values[n])}
                        for n in uncommented
                    ]
                )

        now = timezone.now()
        sort = Sort.objects.create(
            participant=participant, study=study, condition=condition, submitted_at=now, entered_by=entered_by
        )
        statement_ids = dict(study.statements.values_list("number", "id"))
        SortValue.objects.bulk_create(
            SortValue(sort=sort, statement_id=statement_ids[number], value=value) for number, value in values.items()
        )
        SortComment.objects.bulk_create(
            SortComment(sort=sort, statement_id=statement_ids[number], text=text)
            for number, text in clean_comments.items()
        )
        Answer.objects.bulk_create(
            Answer(sort=sort, question_id=question_id, text=text) for question_id, text in clean_answers.items()
        )
        if participant.is_completed:
            pass  # stopped early; a facilitator added a paper sort for a condition left out
        elif participant.conditions_left():
            participant.stage = Participant.Stage.CONSENTED  # the next condition's instructions
        else:
            participant.stage = Participant.Stage.COMPLETED
            participant.completed_at = now
        participant.last_saved_at = now
        # Consent is a participant's own act: never invented here (a paper sort keeps none).
        participant.started_at = participant.started_at or now
        participant.save(update_fields=["stage", "completed_at", "last_saved_at", "started_at"])
        Study.objects.filter(pk=study.pk).update(updated_at=now)
        transaction.on_commit(lambda: announce_sort_completed(study.pk))
    return sort, True


def announce_sort_completed(study_id: int) -> None:
    """Tell the rooms built on studies (re-analysis lives in `runs`) that a sort was completed.

    Never raises into the participant's request: a broker outage must not fail a submission.
    """
    for receiver, outcome in sort_completed.send_robust(sender=Sort, study_id=study_id):
        if isinstance(outcome, Exception):
            logger.error(
                "%s failed after a sort of study %s was completed",
                getattr(receiver, "__qualname__", receiver),
                study_id,
                exc_info=outcome,
            )
