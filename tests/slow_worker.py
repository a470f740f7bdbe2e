"""A real Celery worker process (for tests that kill one): `python tests/slow_worker.py NAME`.

SLOW_ANALYSIS_SECONDS makes each analysis and bootstrap wait that long before the engine starts, so a test
can kill the worker while a run is surely in progress; the result is still the engine's own.
Extra arguments go to `celery worker` (e.g. -B to run the recovery sweep's beat).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")

import django

django.setup()

import qsort.runs.tasks as tasks  # noqa: E402
from qsort.celery import app  # noqa: E402


def slowed(engine):
    def slow(*args, **kwargs):
        time.sleep(float(os.environ.get("SLOW_ANALYSIS_SECONDS", "0")))
        return engine(*args, **kwargs)

    return slow


tasks.analyse = slowed(tasks.analyse)
tasks.bootstrap = slowed(tasks.bootstrap)
# The test process's own queue (under pytest-xdist each test process has one, see conftest).
app.conf.task_default_queue = os.environ.get("QSORT_TEST_QUEUE", app.conf.task_default_queue)
name, *extra = sys.argv[1:]
app.worker_main(
    ["worker", "--pool=solo", "--loglevel=WARNING", "--without-mingle", "--without-gossip", "-n", name, *extra]
)
