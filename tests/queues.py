"""Under pytest-xdist each test process has its own database (pytest-django adds the suffix) and
needs its own Celery queue too, so a worker started by one process never takes another's task.
Used by conftest.py and by worker processes that tests start (tests/slow_worker.py)."""

from __future__ import annotations

import os

from celery import Celery


def use_own_queue(app: Celery) -> None:
    xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
    if xdist_worker:
        app.conf.task_default_queue = f"qsort-tests-{xdist_worker}"
