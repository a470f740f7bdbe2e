"""Server render times of the workspace's two big lists: 200 studies, and a study with 5,000
participants. Prints figures (target: under 150 ms each at the server); query counts are asserted
in tests/test_workspace_*.py. Everything it creates is rolled back.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/workspace.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("SECURE_HTTPS", "0")  # the test client speaks plain http

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from qsort.studies.models import Participant, Statement, Study  # noqa: E402

RUNS = 15
STAGES = ["invited", "consented", "presort", "sorting", "review"]


class Rollback(Exception):
    pass


def populate(user) -> Study:
    studies = Study.objects.bulk_create(
        Study(title=f"Benchmark study {i}", slug=f"bench-{i}", owner=user, condition_of_instruction="What helps?")
        for i in range(200)
    )
    Statement.objects.bulk_create(
        Statement(study=s, number=n, text=f"Statement {n}", position=n) for s in studies for n in range(1, 39)
    )
    now = timezone.now()
    Participant.objects.bulk_create(
        Participant(study=s, stage=STAGES[i % 5], last_saved_at=now, consented_at=now if i % 5 else None)
        for s in studies
        for i in range(20)
    )
    big = studies[0]
    Participant.objects.bulk_create(
        Participant(study=big, code=f"P{i:05d}", stage=STAGES[i % 5], last_saved_at=now if i % 3 else None)
        for i in range(5000)
    )
    return big


def measure(client: Client, url: str) -> None:
    client.get(url)  # warm up: templates compiled, connection open
    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    print(
        f"{url:45s} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms   "
        f"{len(queries.captured_queries):2d} queries   {len(response.content) // 1024} KiB"
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    setup_test_environment()
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user("benchmark-facilitator")
            big = populate(user)
            client = Client()
            client.force_login(user)
            print(f"{RUNS} runs each, server-side (Django test client, no network); target < 150 ms")
            measure(client, "/studies/")
            measure(client, f"/studies/{big.slug}/participants/")
            measure(client, f"/studies/{big.slug}/participants/?page=50")
            measure(client, f"/studies/{big.slug}/participants/?stage=sorting")
            measure(client, f"/studies/{big.slug}/")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
