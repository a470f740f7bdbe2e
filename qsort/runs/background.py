"""Analyses without a broker (`make run`'s default): one background thread of the web process.

A request only creates the queued run; this thread runs it afterwards, one analysis at a time,
so a participant's submit or a researcher's click never waits for the engine. A delay (the
automatic re-analysis waits for a burst of sorts) is a timer that hands the run over when due.
Runs lost with the process (a restart) stay queued; the sweep on the next enqueue re-sends them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qsort-analysis")


def _run(task: Callable[[int], None], run_id: int) -> None:
    close_old_connections()
    try:
        task(run_id)
    except Exception:
        logger.exception("Background job %s(%s) failed", task.__name__, run_id)
    finally:
        connection.close()


def submit(task: Callable[[int], None], run_id: int, *, delay: float = 0) -> None:
    """Call `task(run_id)` (a task's plain body, e.g. run_analysis) in the background thread,
    after `delay` seconds. Any long job (analysis, bootstrap) goes through here without a broker."""
    if delay > 0:
        timer = threading.Timer(delay, _executor.submit, (_run, task, run_id))
        timer.daemon = True
        timer.start()
    else:
        _executor.submit(_run, task, run_id)
