"""Analyses without a broker (`make run`'s default): one background thread of the web process.

A request only creates the queued run; this thread runs it afterwards, one analysis at a time,
so a participant's submit or a researcher's click never waits for the engine. A delay (the
automatic re-analysis waits for a burst of sorts) is a timer that hands the run over when due.
Runs lost with the process (a restart) stay queued; the sweep on the next enqueue re-sends them.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qsort-analysis")


def _run(run_id: int) -> None:
    from qsort.runs.tasks import run_analysis  # the task module imports the services that import this

    close_old_connections()
    try:
        run_analysis(run_id)
    except Exception:
        logger.exception("Analysis run %s failed in the background thread", run_id)
    finally:
        connection.close()


def submit(run_id: int, *, delay: float = 0) -> None:
    """Run the analysis in the background thread, after `delay` seconds."""
    if delay > 0:
        timer = threading.Timer(delay, _executor.submit, (_run, run_id))
        timer.daemon = True
        timer.start()
    else:
        _executor.submit(_run, run_id)
