"""Exchange figures: the full report XLSX for 2,000 sorts x 60 statements, and the API's list
endpoints at the server for a study with 5,000 participants.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/exchange.py

Runs in a throw-away test database (created and dropped here); prints figures, asserts nothing.
Targets (issue 7): report < 3 s; list endpoints < 100 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import django
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("SECURE_HTTPS", "0")
django.setup()
warnings.filterwarnings("ignore", message="No directory at")  # static files are served by finders here

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

N_STATEMENTS, N_SORTS, N_PARTICIPANTS = 60, 2_000, 5_000
GRID = {-5: 2, -4: 3, -3: 4, -2: 6, -1: 7, 0: 16, 1: 7, 2: 6, 3: 4, 4: 3, 5: 2}  # 60 cards


def timed(label: str, function, repeat: int = 1):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    shown = f"{statistics.median(times) * 1000:8.1f} ms" + (f" (median of {repeat})" if repeat > 1 else "")
    print(f"{label:<58}{shown}")
    return value


def synthetic_sorts(rng: np.random.Generator) -> np.ndarray:
    """statements x sorts, each sort a shuffle of the forced grid around one of 4 viewpoints."""
    grid_values = np.repeat(list(GRID), list(GRID.values()))
    views = rng.normal(size=(N_STATEMENTS, 4))
    data = np.empty((N_STATEMENTS, N_SORTS), dtype=np.int64)
    for j in range(N_SORTS):
        order = np.argsort(views[:, j % 4] + rng.normal(0, 1.0, N_STATEMENTS), kind="stable")
        data[order, j] = grid_values
    return data


def populate(data: np.ndarray):
    """A study with 5,000 participants, 2,000 of them with a sort, written in bulk."""
    from django.contrib.auth import get_user_model

    from qsort.studies.models import GridColumn, Participant, Sort, SortValue, Statement, Study

    owner = get_user_model().objects.create_user("bench")  # signed in with force_login
    study = Study.objects.create(title="Benchmark", slug="bench", owner=owner, condition_of_instruction="?")
    Statement.objects.bulk_create(
        Statement(study=study, number=n, position=n, text=f"Statement {n} about something") for n in range(1, 61)
    )
    GridColumn.objects.bulk_create(GridColumn(study=study, value=v, capacity=c) for v, c in GRID.items())
    participants = Participant.objects.bulk_create(
        Participant(study=study, code=f"P{i:05d}", stage="completed" if i < N_SORTS else "invited")
        for i in range(N_PARTICIPANTS)
    )
    sorts = Sort.objects.bulk_create(Sort(participant=p, study=study) for p in participants[:N_SORTS])
    statement_ids = list(study.statements.order_by("number").values_list("id", flat=True))
    SortValue.objects.bulk_create(
        (
            SortValue(sort=sort, statement_id=statement_ids[i], value=int(data[i, j]))
            for j, sort in enumerate(sorts)
            for i in range(N_STATEMENTS)
        ),
        batch_size=20_000,
    )
    return study, owner


def main() -> None:
    from qsort.analysis import analyse
    from qsort.exchange import services, tables, writers
    from qsort.runs.models import AnalysisRun

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"machine: {os.cpu_count()} cores; database {test_db}")
    try:
        rng = np.random.default_rng(7)
        data = synthetic_sorts(rng)
        study, owner = timed("populate 5,000 participants, 2,000 sorts x 60", lambda: populate(data))
        labels = [f"P{i:05d}" for i in range(N_SORTS)]
        result = timed(
            "engine: PCA, 4 factors, varimax (for the stored result)",
            lambda: analyse(data, [str(n) for n in range(1, 61)], labels, factors=4).to_json(),
        )
        run = AnalysisRun.objects.create(study=study, status="done", progress=100, parameters={}, result=result)

        study_data = timed("load the study's data (DB -> StudyData)", lambda: services.load_study_data(study))
        report = timed(
            "report.xlsx from StudyData + stored result (write only)",
            lambda: writers.xlsx_bytes(tables.report_tables(result, study_data)),
        )
        print(f"{'   report size':<58}{len(report) / 1e6:8.2f} MB")
        most = tables.REPORT_CORRELATIONS_MAX_SORTS
        part = tables.runs_sorts(study_data, {"sorts": labels[:most]})
        result_part = analyse(data[:, :most], [str(n) for n in range(1, 61)], labels[:most], factors=4).to_json()
        timed(
            f"report.xlsx, {most} sorts with their {most} x {most} correlations",
            lambda: writers.xlsx_bytes(tables.report_tables(result_part, part)),
        )
        timed(
            "report.xlsx end to end (export_run_file, incl. DB load)",
            lambda: services.export_run_file(run, "report.xlsx", owner),
        )
        timed("sorts.csv end to end", lambda: services.export_study_file(study, "sorts.csv", owner), repeat=3)

        client = Client()
        client.force_login(owner)
        for url in (
            "/api/studies/",
            "/api/studies/bench/participants/",
            "/api/studies/bench/participants/?page=50",
            "/api/studies/bench/sorts/",
            "/api/studies/bench/sorts/?page=20",
            "/api/studies/bench/statements/",
        ):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            timed(f"GET {url}", lambda url=url: client.get(url), repeat=15)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
