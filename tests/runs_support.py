"""Helpers shared by the analysis-run tests: a study with sorts, and running a run in-process."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker

from qsort.celery import app
from qsort.runs.models import AnalysisRun
from qsort.runs.tasks import run_analysis
from qsort.studies.services import submit_sort

# Two viewpoints on six statements (grid -1..+1, two cards each), and their mirror images.
VIEWPOINTS = [[1, 1, 0, 0, -1, -1], [-1, 0, 1, -1, 0, 1], [-1, -1, 0, 0, 1, 1]]


def add_sorts(study, n: int, *, codes: list[str] | None = None, seed: int = 7) -> None:
    """`n` completed sorts near three viewpoints, each nudged by swapping two cards."""
    rng = random.Random(seed)
    codes = codes or [f"S{i + 1:02d}" for i in range(n)]
    for i, participant in enumerate(study.invite(codes=codes[:n])):
        values = list(VIEWPOINTS[i % len(VIEWPOINTS)])
        a, b = rng.sample(range(len(values)), 2)
        values[a], values[b] = values[b], values[a]
        submit_sort(participant, list(enumerate(values, start=1)))


def execute(run: AnalysisRun) -> AnalysisRun:
    """Run the task's body here, as a worker would (a plain call, not eager mode)."""
    run_analysis(run.pk)
    run.refresh_from_db()
    return run


def purge_queue() -> None:
    """Drop messages queued by tests that ran without a worker (their runs are gone)."""
    assert not app.conf.task_always_eager, "the worker tests need CELERY_BROKER_URL: they prove the worker path"
    app.control.purge()


@contextmanager
def running_worker(*, purge: bool = True) -> Iterator[None]:
    """A real Celery worker on the test broker, in a thread, for django_db(transaction=True) tests."""
    if purge:
        purge_queue()
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING", shutdown_timeout=10):
        yield
