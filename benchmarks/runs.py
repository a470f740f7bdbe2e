"""Analysis runs, measured: click-to-results for the demo study with a real Celery worker, a
2,000-sort x 60-statement study analysed and rendered, and the dashboard's render time.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... .venv/bin/python benchmarks/runs.py

Works in a throwaway database (bench_<name>), created and dropped here. Prints figures; asserts
nothing (targets: demo < 2 s, 2,000 sorts < 5 s, dashboard < 200 ms).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("SECURE_HTTPS", "0")

import django

django.setup()

import numpy as np  # noqa: E402
from celery.contrib.testing.worker import start_worker  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from qsort.analysis import analyse  # noqa: E402
from qsort.celery import app  # noqa: E402
from qsort.runs.models import AnalysisRun  # noqa: E402
from qsort.runs.services import load_sorts  # noqa: E402
from qsort.studies.models import Participant, Sort, SortValue, Study  # noqa: E402

LARGE_SORTS, LARGE_STATEMENTS = 2000, 60
PARAMETERS = {"factors": 3, "extraction": "pca", "rotation": "varimax"}
POLL_SECONDS = 1.0  # the run page's hx-trigger="every 1s"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms"


def click_to_results(client: Client, study: Study) -> tuple[float, AnalysisRun]:
    """What the browser does: POST the form, follow to the run page, poll its progress partial
    until the partial that carries the dashboard comes back."""
    started = time.perf_counter()
    response = client.post(f"/studies/{study.slug}/results/", PARAMETERS)
    url = response["Location"]
    client.get(url)
    while True:
        time.sleep(POLL_SECONDS)  # htmx's `every 1s` fires a second after the page loads
        partial = client.get(url, headers={"HX-Request": "true", "HX-Target": "run-body"}).content
        if b'value="100"' in partial or b"message error" in partial:
            break
    return time.perf_counter() - started, AnalysisRun.objects.get(pk=int(url.rstrip("/").rsplit("/", 1)[1]))


def render_times(client: Client, url: str, repeat: int = 15) -> list[float]:
    client.get(url)  # warm the template cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    return times


def large_study(owner, n: int = LARGE_SORTS, slug: str = "large") -> Study:
    """`n` forced sorts of 60 statements from four viewpoints plus noise, inserted in bulk
    (benchmarks/scale.py makes its studies here too)."""
    rng = np.random.default_rng(2000 if n == LARGE_SORTS else n)
    study = Study.objects.create(
        title=f"Large {n}", slug=slug, owner=owner, condition_of_instruction="?", consent_text="I agree."
    )
    for i in range(LARGE_STATEMENTS):
        study.add_statement(f"Statement {i + 1} of the large benchmark study")
    grid = {-5: 2, -4: 3, -3: 4, -2: 6, -1: 8, 0: 14, 1: 8, 2: 6, 3: 4, 4: 3, 5: 2}
    study.set_grid(grid)
    study.open()
    values = np.repeat(list(grid), list(grid.values()))
    views = rng.normal(size=(LARGE_STATEMENTS, 4))
    participants = Participant.objects.bulk_create(
        Participant(study=study, code=f"L{i:05d}", stage="completed") for i in range(n)
    )
    condition = study.conditions.get()
    sorts = Sort.objects.bulk_create(Sort(participant=p, study=study, condition=condition) for p in participants)
    statement_ids = list(study.statements.order_by("number").values_list("id", flat=True))
    rows = []
    for i, sort in enumerate(sorts):
        order = np.argsort(views[:, i % 4] + rng.normal(0, 1.2, LARGE_STATEMENTS), kind="stable")
        placed = np.empty(LARGE_STATEMENTS, dtype=int)
        placed[order] = values
        rows.extend(
            SortValue(sort=sort, statement_id=s, value=int(v)) for s, v in zip(statement_ids, placed, strict=True)
        )
    SortValue.objects.bulk_create(rows, batch_size=10_000)
    return study


def main() -> None:
    if not settings.CELERY_BROKER_URL:
        sys.exit("Set CELERY_BROKER_URL: the benchmark measures the real worker path.")
    settings.DATABASES["default"]["TEST"]["NAME"] = f"bench_{settings.DATABASES['default']['NAME']}"
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        app.control.purge()
        with override_settings(DEBUG=True):  # seed_demo is for development only
            call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        demo = Study.objects.select_related("owner").get(slug="relapse-and-recovery")
        client = Client()
        client.force_login(demo.owner)
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            print("Demo study (40 sorts x 38 statements, 3 factors PCA + varimax), real worker on Redis")
            times = []
            for _ in range(2):
                elapsed, run = click_to_results(client, demo)
                times.append(elapsed)
            print(f"  click to results shown      {ms(min(times))} best, {ms(statistics.median(times))} median")
            print(f"  of which in the worker      {ms(run.duration.total_seconds())}")
            dashboard = render_times(client, f"/studies/{demo.slug}/results/{run.pk}/")
            results_page = render_times(client, f"/studies/{demo.slug}/results/")
            print(f"  dashboard render (server)   {ms(statistics.median(dashboard))} median of {len(dashboard)}")
            print(f"  results page (with scree)   {ms(statistics.median(results_page))} median of {len(results_page)}")

            large = large_study(demo.owner)
            print(f"\nLarge study ({LARGE_SORTS} sorts x {LARGE_STATEMENTS} statements, 3 factors PCA + varimax)")
            started = time.perf_counter()
            sorts = load_sorts(large)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            analyse(sorts.data, sorts.statement_ids, sorts.sort_ids, **PARAMETERS)
            engine = time.perf_counter() - started
            print(f"  load sorts from PostgreSQL  {ms(loaded)}")
            print(f"  engine alone                {ms(engine)}")
            elapsed, run = click_to_results(client, large)
            print(f"  click to results shown      {ms(elapsed)}  (run {run.status})")
            print(f"  of which in the worker      {ms(run.duration.total_seconds())}")
            dashboard = render_times(client, f"/studies/{large.slug}/results/{run.pk}/", repeat=5)
            print(f"  dashboard render (server)   {ms(statistics.median(dashboard))} median of {len(dashboard)}")
            results_page = render_times(client, f"/studies/{large.slug}/results/", repeat=5)
            print(f"  results page (with scree)   {ms(statistics.median(results_page))} median of {len(results_page)}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
