"""A study's data as plain values, loaded once and handed to every writer (no Django here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SortRecord:
    label: str  # the participant's code (or neutral number); never the token
    submitted_at: datetime
    values: tuple[int, ...]  # value of statements 1..N, in statement-number order
    comments: dict[int, str] = field(default_factory=dict)  # statement number -> comment
    answers: tuple[str, ...] = ()  # one per post-sort question, "" when unanswered


@dataclass(frozen=True)
class StudyData:
    title: str
    slug: str
    statements: tuple[tuple[int, str], ...]  # (number, text), by number
    grid: dict[int, int]  # value -> capacity, ascending
    questions: tuple[str, ...]
    sorts: tuple[SortRecord, ...]

    @property
    def numbers(self) -> list[int]:
        return [number for number, _ in self.statements]

    @property
    def texts(self) -> dict[int, str]:
        return dict(self.statements)
