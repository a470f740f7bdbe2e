"""What the room screen and the interview guides show, loaded in a few queries and handed to the
pure group rules in `qsort.analysis.group`.

Nothing here ever returns a participant token; the room only knows seat numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count
from django.utils.translation import gettext as _

from qsort.analysis.group import MIN_GROUP_SORTS, GroupSummary, GroupTooSmall, defining_counts, group_summary
from qsort.participate.services import placements
from qsort.rooms.models import Session
from qsort.runs.models import AnalysisRun
from qsort.security.parsing import storable
from qsort.studies.models import (
    Condition,
    Participant,
    Sort,
    SortComment,
    SortDraft,
    SortValue,
    Statement,
    participant_label,
    sort_name,
)
from qsort.studies.validation import signed

__all__ = ["MIN_GROUP_SORTS", "GroupTooSmall", "SeatProgress", "SessionBoard", "seat_progress", "session_board"]


@dataclass(frozen=True)
class SeatProgress:
    number: int
    stage: str
    stage_label: str
    placed: int
    total: int
    sorted: int = 0  # completed sorts (one per condition of instruction)

    @property
    def done(self) -> bool:
        return self.stage == Participant.Stage.COMPLETED

    @property
    def percent(self) -> int:
        if self.done:
            return 100
        return round(100 * self.placed / self.total) if self.total else 0


def seat_progress(session: Session) -> list[SeatProgress]:
    """Each seat's step and, while sorting, how many cards are placed (in the condition it is on
    now: its latest draft): four queries."""
    total = session.study.statements.count()
    seats = list(session.members.select_related("participant").only("number", "participant__stage"))
    drafts = dict(
        SortDraft.objects.filter(participant__seat__session=session)
        .order_by("updated_at", "id")
        .values_list("participant_id", "state")
    )
    sorted_counts = dict(session.members.annotate(n=Count("participant__sorts")).values_list("participant_id", "n"))
    labels = dict(Participant.Stage.choices)
    progress = []
    for seat in seats:
        stage = seat.participant.stage
        state = drafts.get(seat.participant_id) or {}
        if stage == Participant.Stage.PRESORT:
            placed = len(state.get("presort", []))
        elif stage in (Participant.Stage.SORTING, Participant.Stage.REVIEW):
            placed = len(placements({"grid": state.get("grid", {})}))
        else:
            placed = total if stage == Participant.Stage.COMPLETED else 0
        done = sorted_counts.get(seat.participant_id, 0)
        progress.append(SeatProgress(seat.number, stage, str(labels[stage]), min(placed, total), total, done))
    return progress


@dataclass(frozen=True)
class BoardCard:
    number: int
    text: str
    mean: float
    spread: float
    counts: list[int]
    polarised: bool
    n_sorts: int

    @property
    def heat(self) -> list[tuple[int, int]]:
        """Each column's count with a shade 0..4 for the heat map (the share of the group)."""
        return [(n, -(-4 * n // self.n_sorts)) for n in self.counts]


@dataclass(frozen=True)
class SessionBoard:
    """The discussion board: the engine's group summary laid out with statement texts."""

    condition: Condition
    summary: GroupSummary
    cards: list[BoardCard]
    agree_most: list[BoardCard]
    reject_most: list[BoardCard]
    split: list[BoardCard]
    columns: list[str]
    comments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def heat_halves(self) -> list[list[BoardCard]]:
        """The deck in two halves, side by side on a wide screen, so 40 cards fit a projector."""
        middle = (len(self.cards) + 1) // 2
        return [self.cards[:middle], self.cards[middle:]] if len(self.cards) > 12 else [self.cards]

    def as_json(self) -> dict[str, Any]:
        def card(c: BoardCard) -> dict[str, Any]:
            return {
                "number": c.number,
                "text": c.text,
                "mean": round(c.mean, 4),
                "spread": round(c.spread, 4),
                "polarised": c.polarised,
                "counts": dict(zip(self.columns, c.counts, strict=True)),
            }

        return {
            "condition": self.condition.label,
            "sorts": self.summary.n_sorts,
            "columns": self.columns,
            "agree_most": [card(c) for c in self.agree_most],
            "reject_most": [card(c) for c in self.reject_most],
            "split": [card(c) for c in self.split],
            "heat_map": [card(c) for c in self.cards],
            "comments": self.comments,
        }


def board_condition(session: Session, label: str | None = None) -> Condition | None:
    """The condition a board shows (a group picture never mixes the answers to two questions):
    the study's first when no label is given, None for a label the study does not have."""
    conditions = session.study.conditions.all()
    if not label:
        return conditions.first()
    return conditions.filter(label=label).first() if storable(label) else None


def session_matrix(session: Session, condition: Condition) -> tuple[list[Statement], np.ndarray]:
    """The session's completed sorts under one condition as a statements x sorts matrix (deck
    order), two queries."""
    statements = list(session.study.statements.order_by("number").only("id", "number", "text"))
    row_of = {s.pk: i for i, s in enumerate(statements)}
    rows = SortValue.objects.filter(sort__participant__seat__session=session, sort__condition=condition).values_list(
        "sort_id", "statement_id", "value"
    )
    column_of: dict[int, int] = {}
    cells: list[tuple[int, int, int]] = []
    for sort_id, statement_id, value in rows.order_by("sort_id"):
        column = column_of.setdefault(sort_id, len(column_of))
        cells.append((row_of[statement_id], column, value))
    data = np.zeros((len(statements), len(column_of)), dtype=np.int64)
    for row, column, value in cells:
        data[row, column] = value
    return statements, data


def session_board(session: Session, condition: Condition) -> SessionBoard:
    """The group's picture under one condition; GroupTooSmall below three completed sorts under
    it (never a single person's)."""
    statements, data = session_matrix(session, condition)
    summary = group_summary(data, list(session.study.grid()))
    cards = [
        BoardCard(
            number=s.number,
            text=s.text,
            mean=float(summary.means[i]),
            spread=float(summary.spreads[i]),
            counts=[int(n) for n in summary.counts[i]],
            polarised=bool(summary.polarised[i]),
            n_sorts=summary.n_sorts,
        )
        for i, s in enumerate(statements)
    ]
    comments: list[dict[str, Any]] = []
    if session.study.room_shows_comments:
        # Anonymous: grouped by card and in text order, so nothing links comments to a seat.
        rows = SortComment.objects.filter(
            sort__participant__seat__session=session, sort__condition=condition
        ).values_list("statement__number", "statement__text", "text")
        comments = [
            {"number": number, "statement": text, "comment": comment}
            for number, text, comment in sorted(rows, key=lambda r: (r[0], r[2]))
        ]
    return SessionBoard(
        condition=condition,
        summary=summary,
        cards=cards,
        agree_most=[cards[i] for i in summary.agree_most],
        reject_most=[cards[i] for i in summary.reject_most],
        split=[cards[i] for i in summary.split],
        columns=[signed(c) for c in summary.columns],
        comments=comments,
    )


def completed_under(session: Session, condition: Condition) -> int:
    """How many of the session's people have finished a sort under this condition."""
    return session.members.filter(participant__sorts__condition=condition).count()


def board_refusal(completed: int) -> str:
    return _(
        "The discussion board appears once at least %(k)s people have finished their sort "
        "(so nobody's own sort can be read off it). Finished so far: %(n)s."
    ) % {"k": MIN_GROUP_SORTS, "n": completed}


@dataclass(frozen=True)
class FactorSessions:
    """How a run's defining sorts fall into the study's sessions (factor x session counts)."""

    sessions: list[str]
    sorts: list[int]  # the run's sorts from each session
    rows: list[tuple[int, list[int]]]  # (factor number, defining sorts from each session)
    outside: int  # the run's sorts that belong to no session


def factor_sessions(run: AnalysisRun) -> FactorSessions:
    """Lay the engine's flags out by session: nothing is recomputed, only counted by group."""
    result = run.result or {}
    names = list(result.get("sorts") or [])
    sessions = list(run.study.sessions.order_by("created_at", "id").values_list("pk", "name"))
    rows = Sort.objects.filter(study=run.study).values_list(
        "participant_id", "participant__code", "condition__label", "participant__seat__session_id"
    )
    session_of: dict[str, int | None] = {}
    for participant, code, condition, session in rows:
        label = participant_label(code, participant)
        session_of[label] = session_of[sort_name(label, condition)] = session
    order = [str(pk) for pk, _name in sessions]
    groups = [str(session_of.get(name)) for name in names]
    counts = defining_counts(result.get("flags") or np.zeros((len(names), 0)), groups, order)
    return FactorSessions(
        sessions=[name for _pk, name in sessions],
        sorts=[groups.count(pk) for pk in order],
        rows=[(f + 1, [int(n) for n in counts[f]]) for f in range(counts.shape[0])],
        outside=sum(group not in order for group in groups),
    )
