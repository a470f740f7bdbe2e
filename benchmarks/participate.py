"""Server time of the participant pages, the autosave and the submit, and the participant page weight.

Runs in-process through Django's test Client against the PostgreSQL in DATABASE_URL with DEBUG off
(the production settings path; no network in between, so the figures are the server's own time).
Seeds the demo study if needed, uses one fresh participant and deletes it afterwards.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/participate.py
"""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_HTTPS", "0")  # plain http in-process; HTTPS is the proxy's job

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from qsort.participate import services  # noqa: E402
from qsort.studies.demo import DEMO_SLUG, GRID  # noqa: E402
from qsort.studies.models import Participant, Study  # noqa: E402

ROUNDS = 60
WARMUP = 5


def timed(call, rounds: int = ROUNDS) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds per call. On a shared, busy machine the wall
    time waits for a CPU; the CPU time (Django's own work, without PostgreSQL's) does not."""
    for _ in range(WARMUP):
        call()
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def report(name: str, times: tuple[list[float], list[float]], budget_ms: float) -> None:
    wall, cpu = times
    median = statistics.median(wall)
    p90 = statistics.quantiles(wall, n=10)[-1]
    verdict = "ok" if median < budget_ms else "OVER BUDGET"
    print(
        f"  {name:<28} median {median:6.2f} ms   p90 {p90:6.2f} ms   Django CPU {statistics.median(cpu):5.2f} ms"
        f"   (budget {budget_ms:.0f} ms: {verdict})"
    )


def full_state(study: Study, version: int) -> dict:
    numbers = sorted(study.statements.values_list("number", flat=True))
    values = [value for value, capacity in GRID.items() for _ in range(capacity)]
    grid: dict[str, list[int]] = {}
    for number, value in zip(numbers, values, strict=True):
        grid.setdefault(str(value), []).append(number)
    return {
        "version": version,
        "presort": [[n, ("disagree", "neutral", "agree")[n % 3]] for n in numbers],
        "grid": grid,
        "comments": {str(n): "Because it is how I see my own recovery." for n in grid["-4"] + grid["4"]},
        "answers": {},
    }


SUBMIT_ROUNDS = 15


def report_submit(study: Study, client: Client, *, auto: bool) -> None:
    """Submit time with automatic re-analysis on and a finished run to repeat (the path where a
    new sort used to run a whole analysis inside the participant's request when no broker is
    set), and with it off: the floor, what storing the sort itself costs."""
    from qsort.runs.models import AnalysisRun
    from qsort.runs.services import start_run

    broker = settings.CELERY_BROKER_URL or "none (make run's default)"
    state = "on" if auto else "off"
    print(f"\nServer time per submit (POST /p/<token>/submit/, automatic re-analysis {state}, broker: {broker}):")
    runs_before = set(AnalysisRun.objects.filter(study=study).values_list("pk", flat=True))
    auto_before = study.auto_reanalyse
    Study.objects.filter(pk=study.pk).update(auto_reanalyse=auto)
    if not runs_before:
        start_run(study, None, {"factors": 3, "extraction": "pca", "rotation": "varimax"})
    people = study.invite(SUBMIT_ROUNDS + WARMUP)
    state = full_state(study, 1)
    body = {"placement": [f"{n}:{v}" for v, numbers in state["grid"].items() for n in numbers]}
    body |= {f"comment-{n}": text for n, text in state["comments"].items()}
    remaining = iter(people)

    def submit() -> None:
        person = next(remaining)
        Participant.objects.filter(pk=person.pk).update(stage="review")
        response = client.post(f"/p/{person.token}/submit/", body)
        assert response.status_code == 302, response.status_code

    try:
        report("submit (38 cards)", timed(submit, SUBMIT_ROUNDS), 30)
    finally:
        Participant.objects.filter(pk__in=[p.pk for p in people]).delete()
        AnalysisRun.objects.filter(study=study).exclude(pk__in=runs_before).delete()
        Study.objects.filter(pk=study.pk).update(auto_reanalyse=auto_before)


def page_weight(html: str) -> tuple[int, int, list[str]]:
    urls = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    raw = packed = 0
    for url in urls:
        data = Path(finders.find(url.removeprefix(settings.STATIC_URL))).read_bytes()
        raw += len(data)
        packed += len(gzip.compress(data, compresslevel=9))
    return raw, packed, urls


def main() -> None:
    with override_settings(DEBUG=True):  # seed_demo is for development only
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    study = Study.objects.get(slug=DEMO_SLUG)
    participant = study.invite(1)[0]
    client = Client(HTTP_HOST="localhost")
    url = f"/p/{participant.token}/"
    weights = {}
    try:
        print(
            f"qsort participant flow on '{study.title}' ({study.statements.count()} statements), "
            f"PostgreSQL, DEBUG={settings.DEBUG}, {ROUNDS} requests each after {WARMUP} warm-up"
        )
        cores = os.cpu_count()
        print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f} (figures grow when it exceeds {cores})\n")
        print("Server time per page (GET /p/<token>/ at each step):")
        half = full_state(study, 1)
        half["grid"] = {k: v[: len(v) // 2] for k, v in half["grid"].items()}
        steps = [
            ("consent", "invited", None),
            ("instructions", "consented", None),
            ("pre-sort", "presort", {**half, "presort": half["presort"][:19]}),
            ("grid (half placed)", "sorting", half),
            ("review", "review", full_state(study, 2)),
        ]
        for name, stage, state in steps:
            Participant.objects.filter(pk=participant.pk).update(stage=stage)
            if state is not None:
                participant.refresh_from_db()
                services.save_draft(participant, {**state, "version": state["version"] + len(weights) * 10})
            response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
            weights[name] = page_weight(response.content.decode())
            report(name, timed(lambda: client.get(url)), 50)

        print("\nServer time per autosave (POST /p/<token>/save/, the whole draft, 38 cards placed):")
        Participant.objects.filter(pk=participant.pk).update(stage="sorting")
        client.get(url)  # sets the CSRF cookie, as the page does
        csrf = client.cookies["csrftoken"].value
        version = [1000]

        def autosave() -> None:
            version[0] += 1
            body = json.dumps(full_state(study, version[0]))
            response = client.post(url + "save/", body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
            assert response.status_code == 200, response.content

        size = len(json.dumps(full_state(study, 1)))
        report(f"autosave ({size / 1024:.1f} KB body)", timed(autosave), 30)

        report_submit(study, client, auto=True)
        report_submit(study, client, auto=False)

        print("\nPage weight (JS + CSS each page loads; gzip -9, as WhiteNoise's compressed storage serves it):")
        for name, (raw, packed, urls) in weights.items():
            files = ", ".join(Path(u).name for u in urls)
            print(f"  {name:<20} raw {raw / 1024:6.1f} KB   gzip {packed / 1024:5.1f} KB   ({files})")
        heaviest = max(raw for raw, _packed, _urls in weights.values())
        verdict = "ok" if heaviest < 100 * 1024 else "OVER BUDGET"
        print(f"  heaviest page: {heaviest / 1024:.1f} KB raw (budget 100 KB: {verdict})")
    finally:
        participant.delete()


if __name__ == "__main__":
    main()
