"""Jobs without a broker (`make run`'s default): background threads of the web process.

A request only creates the queued row; a thread runs it afterwards, so a participant's submit
or a researcher's click never waits for the engine. Each kind of job (analysis runs,
bootstraps, evidence panels: one task each) has its own thread, one job at a time: a
1,000-step bootstrap or a study's parallel analysis never holds up the automatic re-analysis
of a new sort. A delay (the automatic re-analysis waits for a burst of sorts) is a timer that
hands the job over when due. Jobs lost with the process (a restart) stay queued; the sweep on
the next enqueue re-sends them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

_lanes: dict[str, ThreadPoolExecutor] = {}
_lanes_lock = threading.Lock()


def lane(task: Callable[[int], None]) -> ThreadPoolExecutor:
    """The one thread that runs this kind of job (made on its first job)."""
    name = task.__name__
    with _lanes_lock:
        if name not in _lanes:
            _lanes[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"qsort-{name}")
        return _lanes[name]


def _run(task: Callable[[int], None], job_id: int) -> None:
    close_old_connections()
    try:
        task(job_id)
    except Exception:
        logger.exception("Background job %s(%s) failed", task.__name__, job_id)
    finally:
        connection.close()


def submit(task: Callable[[int], None], job_id: int, *, delay: float = 0) -> None:
    """Call `task(job_id)` (a task's plain body, e.g. run_analysis) in its kind's background
    thread, after `delay` seconds. Any long job goes through here without a broker."""
    executor = lane(task)
    if delay > 0:
        timer = threading.Timer(delay, executor.submit, (_run, task, job_id))
        timer.daemon = True
        timer.start()
    else:
        executor.submit(_run, task, job_id)
