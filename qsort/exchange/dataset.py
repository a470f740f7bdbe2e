"""A study's data as plain values, loaded once and handed to every writer (no Django here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SortRecord:
    # The sort's name in files: the participant's code (or neutral number), never the token;
    # in a study with several conditions "<participant>_<condition>" (qmethod's and
    # easy-htmlq's one name per sort; PQMethod .DAT files carry it too, cut to 8 characters).
    label: str
    submitted_at: datetime
    values: tuple[int, ...]  # value of statements 1..N, in statement-number order (see StudyData)
    comments: dict[int, tuple[int, str]] = field(default_factory=dict)  # statement number -> (its value, comment)
    answers: tuple[str, ...] = ()  # one per post-sort question, "" when unanswered
    participant: str = ""
    condition: str = ""  # the condition's label


@dataclass(frozen=True)
class StudyData:
    title: str
    slug: str
    statements: tuple[tuple[int, str], ...]  # (number, text), by number
    grid: dict[int, int]  # value -> capacity, ascending
    questions: tuple[str, ...]
    sorts: tuple[SortRecord, ...]
    conditions: tuple[str, ...] = ()  # labels, in the study's order
    # False when the sorts' values were left in the database (each record's `values` is empty):
    # a report too large to hold the sorts writes only the value beside each comment.
    every_value: bool = True

    @property
    def several_conditions(self) -> bool:
        return len(self.conditions) > 1

    @property
    def numbers(self) -> list[int]:
        return [number for number, _ in self.statements]

    @property
    def texts(self) -> dict[int, str]:
        return dict(self.statements)


def file_sort_name(participant: str, condition: str) -> str:
    """A sort's name in exported files of a study with several conditions: P0007_Relapse.

    Condition labels never contain "_", so an importer splits at the last one."""
    return f"{participant}_{condition}"


def split_file_sort_name(name: str) -> tuple[str, str]:
    """(participant, condition) from "P0007_Relapse"; ("P0007", "") without a "_"."""
    participant, _sep, condition = name.rpartition("_")
    return (participant, condition) if participant else (name, "")
