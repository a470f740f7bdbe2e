"""`studies` announces a completed sort; `runs` (and anyone else) subscribes, arrows point down."""

from __future__ import annotations

import logging
import pathlib

import pytest

from qsort.studies.services import submit_sort
from qsort.studies.signals import sort_completed

pytestmark = pytest.mark.django_db

PLACEMENTS = [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)]


@pytest.fixture
def heard():
    calls: list[dict] = []

    def listener(sender, **kwargs):
        calls.append(kwargs)

    sort_completed.connect(listener)
    yield calls
    sort_completed.disconnect(listener)


def test_a_completed_sort_is_announced_once_after_commit(study, heard, django_capture_on_commit_callbacks):
    participant = study.invite(codes=["A"])[0]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit_sort(participant, PLACEMENTS)
    assert heard == []  # not before the sort is committed
    for callback in callbacks:
        callback()
    assert [call["study_id"] for call in heard] == [study.pk]
    with django_capture_on_commit_callbacks(execute=True):
        submit_sort(participant, PLACEMENTS)  # the same sort again: nothing new to announce
    assert len(heard) == 1


def test_a_failing_subscriber_neither_fails_the_submission_nor_goes_unlogged(
    study, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, **kwargs):
        raise RuntimeError("subscriber exploded")

    sort_completed.connect(broken)
    try:
        participant = study.invite(codes=["B"])[0]
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            sort, created = submit_sort(participant, PLACEMENTS)
    finally:
        sort_completed.disconnect(broken)
    assert created and sort.pk
    assert "subscriber exploded" in caplog.text


def test_studies_never_imports_the_rooms_built_on_it():
    package = pathlib.Path(__file__).resolve().parent.parent / "qsort" / "studies"
    for source in package.rglob("*.py"):
        text = source.read_text()
        for higher in ("qsort.runs", "qsort.workspace", "qsort.exchange", "qsort.api", "qsort.participate"):
            assert higher not in text, f"{source.name} imports {higher}"
