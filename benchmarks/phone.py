"""Tap -> page updated on a slow phone: the grid step of the demo study in headless Chromium on an
emulated 360 x 740 touch phone with the CPU 4x slower (Chrome DevTools CPU throttling), and the
weight of the JavaScript and CSS the participant pages load.

Each placement is timed in the page (taps 0.8 s apart, as a person reads the next card), from the
finger touching a place on the scale to the grid's DOM holding the card (performance.now(), so the
figure is the page's own work, not Playwright's).
Runs Django's live server in-process against the PostgreSQL in DATABASE_URL; uses one fresh
participant of the demo study and deletes it afterwards.

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/phone.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_HTTPS", "0")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside the ORM

import django

django.setup()

from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.participate import page_weight  # noqa: E402
from qsort.participate import services  # noqa: E402
from qsort.studies.demo import DEMO_SLUG, GRID  # noqa: E402
from qsort.studies.models import Study  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.phone import phone_context, timed_tap  # noqa: E402

BUDGET_MS = 100
READ_MS = 800  # between taps, as a person reading the next card (and the last save has gone out)
PLAN = [value for value, capacity in GRID.items() for _ in range(capacity)]


def at_the_grid(study: Study):
    participant = study.invite(1)[0]
    services.consent(participant)
    numbers = sorted(study.statements.values_list("number", flat=True))
    services.save_draft(
        participant,
        {"version": 1, "presort": [[n, ("disagree", "neutral", "agree")[n % 3]] for n in numbers], "grid": {}},
    )
    services.go_to(participant, "presort")
    services.go_to(participant, "sorting")
    return participant


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    study = Study.objects.get(slug=DEMO_SLUG)
    server = LiveServerThread("localhost", StaticFilesHandler, connections_override={}, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://localhost:{server.port}"
    print(f"qsort grid step on '{study.title}' ({len(PLAN)} cards), phone 360 x 740, CPU 4x slower")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    timings: list[float] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for round_ in range(rounds):
                participant = at_the_grid(study)
                try:
                    context, page = phone_context(browser, base, "360")
                    page.goto(f"/p/{participant.token}/")
                    page.wait_for_selector("[data-qsort][data-ready]")
                    these = [timed_tap(page, page.locator(f"[data-place='{value}']"), READ_MS) for value in PLAN]
                    if round_ == 0:
                        weight = page_weight(page.content())
                    page.wait_for_function("document.getElementById('save-status').textContent === 'Saved'")
                    context.close()
                finally:
                    participant.delete()
                print(
                    f"  round {round_ + 1}: median {statistics.median(these):5.1f} ms   max {max(these):6.1f} ms"
                    f"   (first tap {these[0]:.1f} ms)"
                )
                timings += these
            browser.close()
    finally:
        server.terminate()
    median = statistics.median(timings)
    p90 = statistics.quantiles(timings, n=10)[-1]
    verdict = "ok" if median < BUDGET_MS else "OVER BUDGET"
    print(
        f"\ntap -> grid updated, {len(timings)} placements: median {median:.1f} ms   p90 {p90:.1f} ms"
        f"   max {max(timings):.1f} ms   (budget {BUDGET_MS} ms: {verdict})"
    )
    raw, packed, urls = weight
    verdict = "ok" if raw < 100 * 1024 else "OVER BUDGET"
    files = ", ".join(Path(u).name for u in urls)
    print(
        f"grid page JS + CSS: {raw / 1024:.1f} KB raw, {packed / 1024:.1f} KB gzip ({files}) (budget 100 KB: {verdict})"
    )


if __name__ == "__main__":
    main()
