"""The participant's unfinished work: the draft they autosave, and the steps they move through.

A draft is checked on every save (so what is stored can always be drawn again) but it is not a
sort: only `qsort.studies.services.submit_sort` turns it into one, through the one validator.

Draft `state` (the JSON in SortDraft.state):
    version   whole number the page increases on every change; a save with a version not above
              the stored one is refused, so a late or out-of-order request never undoes newer work
    presort   [[statement number, "disagree" | "neutral" | "agree"], ...] in the order decided,
              so "undo" takes back the last decision (a list: PostgreSQL's jsonb reorders keys)
    grid      {"<column value>": [statement number, ...]} top to bottom within each column
    comments  {"<statement number>": text}
    answers   {"<question id>": text}
The step (consent, pre-sort, grid, review) lives on Participant.stage, not in the draft.
A participant has one draft per condition of instruction; the functions below work on the
condition they are sorting now (`Participant.current_condition`) unless told otherwise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qsort.security.parsing import storable, unstorable_message, whole_number
from qsort.studies.models import Answer, Condition, Participant, Sort, SortComment, SortDraft, Study
from qsort.studies.validation import SortRules, signed, validate_sort

PILES = ("disagree", "neutral", "agree")
Stage = Participant.Stage


class DraftRejected(ValueError):
    """A draft that cannot be stored; `messages` say why in plain words."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class StepRefused(ValueError):
    """The participant cannot go to that step yet; the message says what to do first."""


def empty_state() -> dict[str, Any]:
    return {"version": 0, "presort": [], "grid": {}, "comments": {}, "answers": {}}


@dataclass(frozen=True)
class DraftRules:
    """What a draft is checked against: the deck, the grid's capacities and the study's questions."""

    numbers: frozenset[int]
    grid: dict[int, int]
    question_ids: frozenset[int]

    @classmethod
    def for_study(cls, study: Study) -> DraftRules:
        return cls(
            numbers=frozenset(study.statements.values_list("number", flat=True)),
            grid=study.grid(),
            question_ids=frozenset(study.questions.values_list("pk", flat=True)),
        )


def _whole(raw: object) -> int | None:
    return whole_number(raw) if isinstance(raw, int) else None


def _key(raw: object) -> int | None:
    """JSON object keys are strings; accept "-4", "+2", "12"."""
    return whole_number(raw)


def _texts(raw: object, valid: frozenset[int], limit: int, problems: list[str]) -> dict[str, str]:
    """Comments (keyed by statement number) or answers (keyed by question id)."""
    if not isinstance(raw, dict):
        problems.append(_("The comments or answers are not in the expected form."))
        return {}
    cleaned: dict[str, str] = {}
    for raw_key, text in raw.items():
        key = _key(raw_key)
        if key not in valid or not isinstance(text, str):
            problems.append(_("A comment or answer belongs to nothing in this study."))
        elif len(text) > limit:
            problems.append(_("A comment or answer is longer than %(limit)s characters.") % {"limit": limit})
        elif not storable(text):
            problems.append(unstorable_message())
        elif text.strip():
            cleaned[str(key)] = text
    return cleaned


def clean_state(rules: DraftRules, payload: object) -> dict[str, Any]:
    """The draft as it will be stored, or DraftRejected listing every problem."""
    if not isinstance(payload, dict):
        raise DraftRejected([_("The saved work is not in the expected form.")])
    problems: list[str] = []
    version = _whole(payload.get("version"))
    if version is None or version < 1:
        problems.append(_("The saved work has no version number."))

    presort: list[list[Any]] = []
    decided: set[int] = set()
    raw_presort = payload.get("presort", [])
    for item in raw_presort if isinstance(raw_presort, list) else [None]:
        pair = item if isinstance(item, list) and len(item) == 2 else [None, None]
        number = _whole(pair[0])
        pile = pair[1] if number is not None else None
        if number not in rules.numbers or pile not in PILES:
            problems.append(_("A card of the first sort is not a statement of this study."))
        elif number in decided:
            problems.append(_("Statement %(number)s is in two piles.") % {"number": number})
        else:
            decided.add(number)
            presort.append([number, pile])

    grid: dict[str, list[int]] = {}
    placed: set[int] = set()
    raw_grid = payload.get("grid", {})
    for raw_value, raw_numbers in (raw_grid if isinstance(raw_grid, dict) else {None: None}).items():
        value = _key(raw_value)
        if value not in rules.grid or not isinstance(raw_numbers, list):
            problems.append(_("A column of the grid is not part of this study."))
            continue
        column: list[int] = []
        for raw_number in raw_numbers:
            number = _whole(raw_number)
            if number not in rules.numbers:
                problems.append(_("'%(number)s' is not a statement of this study.") % {"number": raw_number})
            elif number in placed:
                problems.append(_("Statement %(number)s is placed twice.") % {"number": number})
            else:
                placed.add(number)
                column.append(number)
        if len(column) > rules.grid[value]:
            problems.append(
                _("Column %(column)s is full (%(capacity)s of %(capacity)s).")
                % {"column": signed(value), "capacity": rules.grid[value]}
            )
        if column:
            grid[str(value)] = column

    comments = _texts(payload.get("comments", {}), rules.numbers, SortComment.MAX_LENGTH, problems)
    answers = _texts(payload.get("answers", {}), rules.question_ids, Answer.MAX_LENGTH, problems)
    if problems:
        raise DraftRejected(list(dict.fromkeys(problems)))
    return {"version": version, "presort": presort, "grid": grid, "comments": comments, "answers": answers}


def save_draft(participant: Participant, state: dict[str, Any], condition: Condition | None = None) -> bool:
    """Store a clean draft unless a newer one is already stored; False when it was stale.

    True for a repeat of the stored draft, so a retried request is not taken for a conflict.

    One conditional UPDATE decides, so two tabs or a slow request racing a fast one can never
    replace newer work with older work.
    """
    condition = condition or participant.current_condition()
    if condition is None:
        return False  # every condition is sorted: nothing left to draft
    now = timezone.now()
    newer = SortDraft.objects.filter(participant=participant, condition=condition, state__version__lt=state["version"])
    with transaction.atomic():  # one commit (one disk flush) for both rows
        if not newer.update(state=state, updated_at=now):
            try:
                with transaction.atomic():
                    SortDraft.objects.create(participant=participant, condition=condition, state=state)
            except IntegrityError:
                # A draft exists and holds this version or a newer one. The same draft again is
                # a retry whose first answer was lost on the way: it is saved, say so.
                return SortDraft.objects.filter(participant=participant, condition=condition, state=state).exists()
        Participant.objects.filter(pk=participant.pk).update(last_saved_at=now)
    return True


def draft_state(participant: Participant, condition: Condition | None = None) -> dict[str, Any]:
    condition = condition or participant.current_condition()
    draft = SortDraft.objects.filter(participant=participant, condition=condition).only("state").first()
    if draft:
        return {**empty_state(), **draft.state}
    return starting_state(participant)


def starting_state(participant: Participant) -> dict[str, Any]:
    """Where a condition's sort starts: empty, or (when the study says so) from the participant's
    previous sort, every card pre-sorted by its sign and placed where it was."""
    previous = Sort.objects.filter(participant=participant).order_by("-submitted_at", "-id").first()
    if previous is None or participant.study.later_sorts_start != Study.SecondSortStart.PREVIOUS:
        return empty_state()
    values = previous.values_by_number()
    grid: dict[str, list[int]] = {}
    for number, value in sorted(values.items()):
        grid.setdefault(str(value), []).append(number)
    presort = [[n, "disagree" if v < 0 else "agree" if v > 0 else "neutral"] for n, v in sorted(values.items())]
    return {**empty_state(), "presort": presort, "grid": grid}


def deck_order(participant: Participant, numbers: list[int]) -> list[int]:
    """The order the pre-sort shows the cards: shuffled against order effects, but the same for a
    participant every time (seeded by their token), so a resumed pre-sort does not reshuffle."""
    order = sorted(numbers)
    random.Random(participant.token).shuffle(order)
    return order


def placements(state: dict[str, Any]) -> list[tuple[int, int]]:
    return [(number, int(value)) for value, numbers in state["grid"].items() for number in numbers]


# --- steps ------------------------------------------------------------------------------------
def consent(participant: Participant) -> None:
    """'I agree': the first moment anything about the participant is stored."""
    if participant.stage != Stage.INVITED:
        return
    participant.stage = Stage.CONSENTED
    participant.consented_at = participant.last_saved_at = timezone.now()
    participant.save(update_fields=["stage", "consented_at", "last_saved_at"])
    SortDraft.objects.get_or_create(
        participant=participant, condition=participant.current_condition(), defaults={"state": empty_state()}
    )


class OpenLinkFull(Exception):
    """The open link has reached the study's cap: no one else can join through it."""


def join_open_study(study: Study) -> Participant:
    """A participant arriving by the open study link, created only once they agree, and only
    while the study's cap allows (the study row is locked, so a burst cannot overshoot it)."""
    with transaction.atomic():
        locked = Study.objects.select_for_update().get(pk=study.pk)
        if locked.open_link_joined() >= locked.open_link_cap:
            raise OpenLinkFull()
        participant = Participant.objects.create(study=study, via_open_link=True)
        consent(participant)
    return participant


# Which step may follow which: forward one step, or from the review back to the grid. After a
# sort with conditions left, the participant is back at "consented" (the next question).
NEXT_STEPS: dict[str, frozenset[str]] = {
    Stage.CONSENTED: frozenset({Stage.PRESORT}),
    Stage.PRESORT: frozenset({Stage.SORTING}),
    Stage.SORTING: frozenset({Stage.REVIEW}),
    Stage.REVIEW: frozenset({Stage.SORTING}),
}


def go_to(participant: Participant, stage: str) -> None:
    """Move the participant to `stage`, or StepRefused saying what is left to do first."""
    if participant.stage == stage:
        return  # a second tab or a double click: already there
    if stage not in NEXT_STEPS.get(participant.stage, frozenset()):
        raise StepRefused(_("That step is not available now."))
    state = draft_state(participant)
    study = participant.study
    if stage == Stage.SORTING and participant.stage == Stage.PRESORT:
        left = study.statements.count() - len(state["presort"])
        if left > 0:
            raise StepRefused(_("Please look at every card first: %(left)s still to go.") % {"left": left})
    if stage == Stage.REVIEW:
        _values, problems = validate_sort(SortRules.for_study(study), placements(state))
        if problems:
            left = study.statements.count() - len(placements(state))
            raise StepRefused(
                _("Please place every card in the grid first: %(left)s still to place.") % {"left": left}
                if left
                else " ".join(problems)
            )
    fields = ["stage"]
    participant.stage = stage
    if stage == Stage.PRESORT and participant.started_at is None:
        participant.started_at = timezone.now()
        fields.append("started_at")
    participant.save(update_fields=fields)
