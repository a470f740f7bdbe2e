"""The run dashboard at scale: every page and htmx partial of a finished run of 1,000, 5,000 and
20,000 sorts (60 statements, 4 factors, PCA + varimax), server side: median time, bytes, queries.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/dashboard.py [--sizes 1000 5000 20000] [--repeat 7]

Works in a throwaway database (bench_<name>), created and dropped here. Each study gets its
participants, sorts and two comments per sort (the factor pages show comments), and a run
whose result is what the analysis task stores (the engine's JSON plus the statement texts).
The sort values themselves are not inserted: no page of a finished run reads them.
Targets (issue 15): every page and partial under 300 ms and 300 KB at every size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("SECURE_HTTPS", "0")
os.environ.setdefault("DEBUG", "0")

import django

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from qsort.analysis import analyse  # noqa: E402
from qsort.runs.models import AnalysisRun  # noqa: E402
from qsort.studies.models import Participant, Sort, SortComment, Study  # noqa: E402

STATEMENTS, FACTORS = 60, 4
GRID = {-5: 2, -4: 3, -3: 4, -2: 6, -1: 8, 0: 14, 1: 8, 2: 6, 3: 4, 4: 3, 5: 2}
TARGET_MS, TARGET_KB = 300, 300


def synthetic_sorts(n_sorts: int, seed: int) -> np.ndarray:
    """Forced sorts near four viewpoints plus noise (statements x sorts)."""
    rng = np.random.default_rng(seed)
    values = np.repeat(list(GRID), list(GRID.values()))
    views = rng.normal(size=(STATEMENTS, 4))
    data = np.empty((STATEMENTS, n_sorts), dtype=int)
    for q in range(n_sorts):
        order = np.argsort(views[:, q % 4] + rng.normal(0, 1.2, STATEMENTS), kind="stable")
        data[order, q] = values
    return data


def make_run(owner: User, n_sorts: int) -> AnalysisRun:
    study = Study.objects.create(
        title=f"{n_sorts} sorts",
        slug=f"s{n_sorts}",
        owner=owner,
        condition_of_instruction="What helps?",
        consent_text="You agree to take part.",
    )
    for i in range(STATEMENTS):
        study.add_statement(f"Statement {i + 1} of the dashboard benchmark, about as long as a real card")
    study.set_grid(GRID)
    study.open()
    participants = Participant.objects.bulk_create(
        (Participant(study=study, code=f"P{i:05d}", stage="completed") for i in range(n_sorts)), batch_size=5000
    )
    now, condition = timezone.now(), study.conditions.first()
    sorts = Sort.objects.bulk_create(
        (Sort(participant=p, study=study, condition=condition, submitted_at=now) for p in participants),
        batch_size=5000,
    )
    statements = list(study.statements.order_by("number"))
    SortComment.objects.bulk_create(
        (
            SortComment(sort=sort, statement=statements[(i + k) % STATEMENTS], text=f"Comment {k} of sort {i}")
            for i, sort in enumerate(sorts)
            for k in (0, 7)
        ),
        batch_size=5000,
    )
    data = synthetic_sorts(n_sorts, n_sorts)
    labels = [p.label for p in participants]
    # As the analysis task stores it: no correlation matrix (computed where it is shown).
    statement_ids = [str(s.number) for s in statements]
    result = analyse(data, statement_ids, labels, factors=FACTORS, include_correlations=False).to_json()
    result["statement_texts"] = [s.text for s in statements]
    parameters = {"factors": FACTORS, "extraction": "pca", "rotation": "varimax"}
    return AnalysisRun.objects.create(
        study=study, created_by=owner, parameters=parameters, status="done", progress=100, result=result
    )


def measure(client: Client, url: str, repeat: int, **headers) -> tuple[float, int, int, float]:
    """Median seconds, bytes, queries and the database's share (seconds) of GET url (after one
    warm-up request)."""
    client.get(url, headers=headers)
    times, in_database = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append(time.perf_counter() - started)
        in_database.append(sum(float(q["time"]) for q in queries.captured_queries))
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(response.content), len(queries), statistics.median(in_database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", metavar="PAGE", help="print cProfile's top functions for this page's name")
    options = parser.parse_args()
    settings.DATABASES["default"]["TEST"]["NAME"] = f"bench_{settings.DATABASES['default']['NAME']}"
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        owner = User.objects.create_user("bench")
        client = Client()
        client.force_login(owner)
        htmx = {"HX-Request": "true"}
        head = f"{'page or partial':34} {'sorts':>6} {'median ms':>10} {'of it SQL':>10} {'KB':>6} {'queries':>8}"
        print(head + "  target")
        for n_sorts in options.sizes:
            started = time.perf_counter()
            run = make_run(owner, n_sorts)
            stored = len(str(run.result)) // 1024
            print(f"-- {n_sorts} sorts (set up in {time.perf_counter() - started:.1f} s, result ~{stored} KB)")
            base = f"/studies/{run.study.slug}/results/{run.pk}/"
            pages = [
                ("overview", base, {}),
                ("overview: run-body partial", base, {**htmx, "HX-Target": "run-body"}),
                ("factor 1", base + "factors/1/", {}),
                ("loadings and flags", base + "loadings/", {}),
                ("loadings, last page", base + f"loadings/?page={max(1, -(-n_sorts // 100))}", {}),
                ("loadings, confounded", base + "loadings/?status=confounded", {}),
                ("partial: loadings table page 2", base + "loadings/?page=2", {**htmx, "HX-Target": "loadings"}),
                ("partial: loadings plot 2 x 3", base + "loadings/?x=2&y=3", {**htmx, "HX-Target": "loadings-plot"}),
                (
                    "partial: rotation preview",
                    base + "loadings/?first=1&second=2&angle=20",
                    {**htmx, "HX-Target": "rotation-preview"},
                ),
                ("consensus", base + "consensus/", {}),
                ("stability", base + "stability/", {}),
                ("report", base + "report/", {}),
            ]
            for name, url, headers in pages:
                if name == options.profile:
                    import cProfile
                    import pstats

                    with cProfile.Profile() as profile:
                        client.get(url, headers=headers)
                    pstats.Stats(profile).sort_stats("tottime").print_stats(20)
                seconds, size, queries, sql = measure(client, url, options.repeat, **headers)
                ok = seconds * 1000 < TARGET_MS and size / 1024 < TARGET_KB
                print(
                    f"{name:34} {n_sorts:>6} {seconds * 1000:>10.0f} {sql * 1000:>10.0f} {size / 1024:>6.0f} "
                    f"{queries:>8}  {'ok' if ok else 'MISSED'}"
                )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
