"""The web side at scale: a run, its API detail and every run export at 1,000, 5,000 and 20,000
sorts of 60 statements, server side (Django test client), with bytes, query counts and the
request's peak Python memory.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/scale.py            # 1000 5000 20000
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/scale.py 1000 5000  # chosen sizes

Works in a throwaway database (bench_<name>), created and dropped here. Each size is a new
study (four viewpoints plus noise, inserted in bulk, two comments per sort), analysed by the
task's own code in this process (PCA, 3 factors, varimax). Times are the median of 3 requests
after one warm-up; the machine's load average is printed with them. The peak memory is
tracemalloc's, in one more request (Python objects and numpy arrays, not libpq's buffers).
Asserts nothing except that no answer is an error (targets from issue 15: exports and API
detail fast, no export ever 500, run exports load only what they write, queries flat).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("SECURE_HTTPS", "0")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from runs import LARGE_STATEMENTS, large_study  # noqa: E402  (benchmarks/runs.py: the same bulk-made study)

from qsort.exchange.services import RUN_FILES  # noqa: E402
from qsort.runs.models import AnalysisRun  # noqa: E402
from qsort.runs.services import load_sorts, scree_eigenvalues  # noqa: E402
from qsort.runs.tasks import run_analysis  # noqa: E402
from qsort.studies.models import Sort, SortComment, Study  # noqa: E402

SIZES = [1_000, 5_000, 20_000]
PARAMETERS = {"factors": 3, "extraction": "pca", "rotation": "varimax"}


def timed(client: Client, url: str) -> tuple[float, int, int, int, int]:
    """Median seconds of 3 after a warm-up, bytes, status, queries and peak memory of one request."""
    client.get(url)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        times.append(time.perf_counter() - started)
    counted = len(queries.captured_queries)  # before the next request resets the query log
    tracemalloc.start()
    client.get(url)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), len(response.content), response.status_code, counted, peak


def row(
    what: str,
    seconds: float,
    size: int | None = None,
    status: int | None = None,
    queries: int | None = None,
    peak: int | None = None,
) -> None:
    extra = "" if size is None else f"{size / 1024:>10,.0f} KB"
    extra += "" if status is None else f"  HTTP {status}"
    extra += "" if queries is None else f"  {queries:>2} queries"
    extra += "" if peak is None else f"  peak {peak / 2**20:>6,.1f} MB"
    print(f"  {what:<34} {seconds * 1000:>8.0f} ms{extra}", flush=True)


def comment_on(study: Study) -> None:
    """Two comments per sort, on statements 1 and 2 (the report writes each beside its value)."""
    statements = list(study.statements.filter(number__in=[1, 2]).values_list("id", flat=True))
    sorts = Sort.objects.filter(study=study).values_list("id", flat=True)
    comments = (SortComment(sort_id=s, statement_id=t, text="Why I put it there") for s in sorts for t in statements)
    SortComment.objects.bulk_create(comments, batch_size=10_000)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or SIZES
    settings.DATABASES["default"]["TEST"]["NAME"] = f"bench_{settings.DATABASES['default']['NAME']}"
    setup_test_environment()
    # A cache of this process only: a shared Redis would keep the scree of an earlier run's study
    # of the same id and size (a "cold" figure of 2 ms), and is not the benchmark's to clear.
    override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}).enable()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        owner = get_user_model().objects.create_user("bench")
        client = Client()
        client.force_login(owner)
        print(f"{LARGE_STATEMENTS} statements; PCA, 3 factors, varimax; load average {os.getloadavg()[0]:.2f}")
        for n in sizes:
            study = large_study(owner, n, slug=f"scale-{n}")
            comment_on(study)
            with connection.cursor() as cursor:
                # Planner statistics, as autovacuum keeps them for a study this size: without them
                # PostgreSQL plans the first queries over a million new rows blind.
                cursor.execute("ANALYZE")
            print(f"\n{n:,} sorts (load average {os.getloadavg()[0]:.2f})")
            started = time.perf_counter()
            load_sorts(study)
            row("load_sorts", time.perf_counter() - started)
            run = AnalysisRun.objects.create(study=study, parameters=PARAMETERS)
            started = time.perf_counter()
            run_analysis(run.pk)  # the task's body, in this process
            row("PCA run (task, in process)", time.perf_counter() - started)
            with connection.cursor() as cursor:
                cursor.execute("SELECT octet_length(result::text) FROM runs_analysisrun WHERE id = %s", [run.pk])
                stored = cursor.fetchone()[0]
            row("stored run result", 0, stored)
            started = time.perf_counter()
            scree_eigenvalues(study)
            row("scree eigenvalues (cache cold)", time.perf_counter() - started)
            row("GET /api/analyses/<id>/", *timed(client, f"/api/analyses/{run.pk}/"))
            if n <= 1000:
                row("  ?include=correlations", *timed(client, f"/api/analyses/{run.pk}/?include=correlations"))
            for name in RUN_FILES:
                row(name, *timed(client, f"/studies/{study.slug}/data/runs/{run.pk}/{name}"))
            row("sorts.csv (study export)", *timed(client, f"/studies/{study.slug}/data/sorts.csv"))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
