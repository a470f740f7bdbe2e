"""Load and fault run: N participants through the real participant flow over HTTP, with faults.

A bounded asyncio client (aiohttp) drives each participant as the page does: open the link,
consent, pre-sort, sort (several autosaves, one of them repeated as a retry would), review and
submit, retrying what failed the way the page does (connection errors, 5xx, 429: back off and send
again). Meanwhile optional fault steps hit the stack. At the end it counts, in the database,
the sorts expected / stored / lost / duplicated, and prints 5xx counts and p50/p95 latency per
request kind, and how long the analyses took to finish after the last fault.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... \\
        .venv/bin/python benchmarks/load.py --serve --participants 200 --concurrency 20 \\
        --kill-web-worker --kill-celery-worker

--serve starts gunicorn (--web-workers) on loopback and a Celery worker with beat, both on the
DATABASE_URL and CELERY_BROKER_URL given, and stops them at the end; the kill faults need it.
Without --serve, --url names a running server and only the command faults apply. The PostgreSQL
and Redis faults run the commands given (defaults suit a Debian machine); they stop services
that others may share: use them on a dedicated machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_HTTPS", "0")

import aiohttp  # noqa: E402
import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count  # noqa: E402

from qsort.runs.models import AnalysisRun  # noqa: E402
from qsort.runs.services import start_run  # noqa: E402
from qsort.studies.demo import GRID, STATEMENTS, synthetic_sorts  # noqa: E402
from qsort.studies.models import Participant, SortValue, Study  # noqa: E402
from qsort.studies.services import submit_sort  # noqa: E402

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ATTEMPTS = 12  # a page keeps retrying; a participant keeps pressing "send" for about a minute
SEED_SORTS = 3


# --- the study and the participants -----------------------------------------------------------
def make_study(n: int) -> tuple[Study, list[Participant]]:
    """A fresh demo-like study (38 statements, -4..+4) with automatic re-analysis on, a first
    run to repeat, and `n` invited participants. Seed sorts come in through the model."""
    owner, _created = get_user_model().objects.get_or_create(username="load-owner")
    study = Study.objects.create(
        title="Load run",
        slug=f"load-{int(time.time())}",
        owner=owner,
        condition_of_instruction="What helps recovery?",
        consent_text="You agree to take part in a load test.",
    )
    study.add_statements(STATEMENTS)
    study.set_grid(GRID)
    study.open()
    seeds = study.invite(SEED_SORTS)
    for person, values in zip(seeds, synthetic_sorts(SEED_SORTS), strict=True):
        submit_sort(person, list(enumerate(values, start=1)))
    start_run(study, owner, {"factors": 3, "extraction": "pca", "rotation": "varimax"})
    Study.objects.filter(pk=study.pk).update(auto_reanalyse=True)
    return study, study.invite(n)


def sort_for(index: int) -> list[int]:
    return synthetic_sorts(1, seed=index)[0]


# --- one participant -------------------------------------------------------------------------
class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter[tuple[str, int]] = Counter()
        self.errors: Counter[str] = Counter()
        self.submitted = 0
        self.gave_up = 0

    def record(self, kind: str, status: int, seconds: float) -> None:
        self.latency[kind].append(seconds * 1000)
        self.status[(kind, status)] += 1


async def request(session, stats: Stats, kind: str, method: str, url: str, **kwargs) -> tuple[int, str]:
    """One request as the page makes it: retried after connection errors, 5xx and 429."""
    delay = 0.5
    for _attempt in range(ATTEMPTS):
        start = time.perf_counter()
        try:
            async with session.request(method, url, allow_redirects=False, **kwargs) as response:
                body = await response.text()
                stats.record(kind, response.status, time.perf_counter() - start)
                if response.status < 500 and response.status != 429:
                    return response.status, body
                wait = float(response.headers.get("Retry-After", delay))
        except (TimeoutError, aiohttp.ClientError) as error:
            stats.errors[f"{kind}: {type(error).__name__}"] += 1
            wait = delay
        await asyncio.sleep(min(wait, 5.0))
        delay = min(delay * 2, 5.0)
    return 0, ""


async def participant_flow(base: str, token: str, index: int, stats: Stats, statements: int) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar, timeout=timeout) as session:
        link = f"/p/{token}/"
        _status, page = await request(session, stats, "page", "GET", link)
        found = CSRF_FIELD.search(page)
        if not found:
            stats.gave_up += 1
            return
        csrf = found.group(1)
        form = {"csrfmiddlewaretoken": csrf}
        headers = {"X-CSRFToken": csrf, "Referer": base + link}
        await request(
            session, stats, "step", "POST", link + "consent/", data={**form, "choice": "agree"}, headers=headers
        )
        await request(session, stats, "step", "POST", link + "step/", data={**form, "to": "presort"}, headers=headers)
        values = sort_for(index)
        numbers = list(range(1, statements + 1))
        piles = ["disagree" if v < 0 else "agree" if v > 0 else "neutral" for v in values]
        state = {"version": 1, "presort": [[n, p] for n, p in zip(numbers, piles, strict=True)], "grid": {}}
        state |= {"comments": {}, "answers": {}}
        save = link + "save/"
        await request(session, stats, "autosave", "POST", save, json=state, headers=headers)
        await request(session, stats, "step", "POST", link + "step/", data={**form, "to": "sorting"}, headers=headers)
        grid: dict[str, list[int]] = defaultdict(list)
        for number, value in zip(numbers, values, strict=True):
            grid[str(value)].append(number)
        half = {key: cards[: len(cards) // 2] for key, cards in grid.items()}
        for version, placed in ((2, half), (3, dict(grid)), (3, dict(grid))):  # the last one: a retry
            await request(
                session,
                stats,
                "autosave",
                "POST",
                save,
                json={**state, "version": version, "grid": placed},
                headers=headers,
            )
        await request(session, stats, "step", "POST", link + "step/", data={**form, "to": "review"}, headers=headers)
        body = [("csrfmiddlewaretoken", csrf)] + [
            ("placement", f"{n}:{v}") for n, v in zip(numbers, values, strict=True)
        ]
        body += [(f"comment-{n}", "Because it is how I see it.") for n in grid["-4"] + grid["4"]]
        status, _page = await request(session, stats, "submit", "POST", link + "submit/", data=body, headers=headers)
        if status == 302:
            stats.submitted += 1
        else:
            stats.gave_up += 1


# --- the stack and the faults -----------------------------------------------------------------
class Stack:
    """gunicorn and a Celery worker (with beat) started here, so faults can kill them."""

    def __init__(self, port: int, web_workers: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="qsort-load-"))
        self.port, self.web_workers = port, web_workers
        self.env = {**os.environ, "DEBUG": "0", "SECURE_HTTPS": "0", "OPENBLAS_NUM_THREADS": "1"}
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        return subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True)

    def start_web(self) -> None:
        bind = f"127.0.0.1:{self.port}"
        gunicorn = [sys.executable, "-m", "gunicorn", "qsort.wsgi:application", "--bind", bind]
        self.web = self._spawn("web", [*gunicorn, "--workers", str(self.web_workers), "--timeout", "60"])

    def start_worker(self) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "qsort", "worker", "-B", "-s", str(self.dir / "beat")]
        self.worker = self._spawn("worker", [*celery, "--concurrency", "1", "--loglevel", "INFO"])

    def web_worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.web.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill_worker(self) -> None:
        """SIGKILL the whole Celery worker (main process, pool child, beat): nothing can clean up."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


async def wait_until_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(base + "/accounts/login/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit(f"no server answered on {base} within {timeout} s")


def run_status(run_id: int) -> str:
    return AnalysisRun.objects.values_list("status", flat=True).get(pk=run_id)


async def kill_celery_mid_run(stack: Stack, study: Study, log: list[str]) -> tuple[int, float] | None:
    """Start an analysis, SIGKILL the worker while it runs, start a new worker (as a restart policy
    would). Returns the run and when (wall clock) the worker was killed."""
    owner = study.owner
    for _try in range(10):
        run = await asyncio.to_thread(
            start_run, study, owner, {"factors": 7, "extraction": "pca", "rotation": "varimax"}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = await asyncio.to_thread(run_status, run.pk)
            if state == "running":
                stack.kill_worker()
                killed = time.time()
                log.append(f"killed the Celery worker while run {run.pk} was running")
                stack.start_worker()
                return run.pk, killed
            if state in ("done", "failed"):
                break
            await asyncio.sleep(0.01)
    log.append("could not catch a run while running: the Celery worker was not killed")
    return None


async def faults(args, stack: Stack | None, study: Study, stats: Stats, total: int, log: list[str]) -> dict:
    """Each fault fires when that share of the participants has submitted."""
    plan = []
    if args.kill_web_worker:
        plan.append((0.25, "kill-web-worker"))
    if args.restart_postgres:
        plan.append((0.4, "restart-postgres"))
    if args.kill_celery_worker:
        plan.append((0.5, "kill-celery-worker"))
    if args.stop_redis:
        plan.append((0.65, "stop-redis"))
    outcome: dict = {"last_fault_end": None, "killed_run": None}
    for share, fault in plan:
        while stats.submitted + stats.gave_up < share * total:
            await asyncio.sleep(0.05)
        started = time.monotonic()
        if fault == "kill-web-worker":
            pid = stack.web_worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            log.append(f"killed gunicorn worker {pid} (gunicorn starts a new one)")
        elif fault == "kill-celery-worker":
            outcome["killed_run"] = await kill_celery_mid_run(stack, study, log)
        elif fault == "restart-postgres":
            await asyncio.to_thread(subprocess.run, shlex.split(args.postgres_restart_cmd), check=True)
            log.append(f"restarted PostgreSQL ({args.postgres_restart_cmd})")
        elif fault == "stop-redis":
            await asyncio.to_thread(subprocess.run, shlex.split(args.redis_stop_cmd), check=True)
            await asyncio.sleep(args.redis_down_seconds)
            await asyncio.to_thread(subprocess.run, shlex.split(args.redis_start_cmd), check=True)
            log.append(f"stopped Redis for {args.redis_down_seconds} s")
        outcome["last_fault_end"] = time.monotonic()
        log[-1] += f" [{outcome['last_fault_end'] - started:.1f} s]"
    return outcome


# --- the run ------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main_async(args) -> None:
    stack = None
    base = args.url
    if args.serve:
        stack = Stack(args.port, args.web_workers)
        stack.start_web()
        stack.start_worker()
        base = f"http://127.0.0.1:{args.port}"
    elif args.kill_web_worker or args.kill_celery_worker:
        raise SystemExit("--kill-web-worker and --kill-celery-worker need --serve")
    try:
        await wait_until_up(base)
        study, people = await asyncio.to_thread(make_study, args.participants)
        statements = len(STATEMENTS)
        stats, log = Stats(), []
        gate = asyncio.Semaphore(args.concurrency)

        async def one(index: int, token: str) -> None:
            async with gate:
                await participant_flow(base, token, index, stats, statements)

        started = time.monotonic()
        fault_task = asyncio.create_task(faults(args, stack, study, stats, len(people), log))
        await asyncio.gather(*(one(i, p.token) for i, p in enumerate(people)))
        elapsed = time.monotonic() - started
        outcome = await fault_task
        outcome["load_end"] = time.monotonic()
        analyses = await asyncio.to_thread(wait_for_analyses, study, args.analysis_timeout)
        await asyncio.to_thread(report, args, study, people, stats, log, elapsed, outcome, analyses)
        if not args.keep:
            await asyncio.to_thread(study.delete)
    finally:
        if stack is not None:
            stack.stop()
            print(f"server logs: {stack.dir}")


def wait_for_analyses(study: Study, timeout: float) -> dict:
    """Every run of the study ends done or failed: when, and how."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # A pending automatic run is due up to the minimum interval later: that is waiting, not stuck.
        unfinished = AnalysisRun.objects.filter(study=study, status__in=["queued", "running"])
        if not unfinished.exists():
            break
        time.sleep(0.5)
    return {
        "finished_at": time.monotonic(),
        "states": dict(Counter(AnalysisRun.objects.filter(study=study).values_list("status", flat=True))),
        "errors": list(AnalysisRun.objects.filter(study=study, status="failed").values_list("error", flat=True)),
    }


def report(args, study, people, stats: Stats, log, elapsed, outcome, analyses) -> None:
    ids = [p.pk for p in people]
    stored = Participant.objects.filter(pk__in=ids, sort__isnull=False).count()
    per_sort = SortValue.objects.filter(sort__participant__in=ids).values("sort").annotate(n=Count("id"))
    duplicated = sum(1 for row in per_sort if row["n"] != len(STATEMENTS))
    expected = len(people)
    print(f"\nqsort load run: {expected} participants, {args.concurrency} at a time, {elapsed:.1f} s")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for line in log:
        print(f"  fault: {line}")
    print(f"\nsorts expected {expected}   stored {stored}   lost {expected - stored}   duplicated {duplicated}")
    print(f"participants who gave up after {ATTEMPTS} tries: {stats.gave_up}")
    fives = {kind: n for (kind, status), n in stats.status.items() if status >= 500}
    print(f"5xx responses: {sum(fives.values())} {dict(Counter(fives)) if fives else ''}")
    statuses = Counter(status for (_kind, status) in stats.status.elements())
    print(f"all responses by status: {dict(sorted(statuses.items()))}")
    if stats.errors:
        print(f"connection errors (retried): {dict(stats.errors)}")
    print("\nlatency per request (ms):")
    for kind, values in sorted(stats.latency.items()):
        print(
            f"  {kind:<9} n={len(values):<5} p50 {statistics.median(values):7.1f}   p95 {percentile(values, 0.95):7.1f}"
            f"   max {max(values):7.1f}"
        )
    print(f"\nanalysis runs of the study: {analyses['states']}")
    for error in analyses["errors"]:
        print(f"  failed: {error}")
    if outcome.get("killed_run"):
        run_id, killed = outcome["killed_run"]
        run = AnalysisRun.objects.get(pk=run_id)
        took = run.finished_at.timestamp() - killed if run.finished_at else None
        recovered = f"{took:.1f} s after the kill" if took is not None else "not finished"
        print(f"run {run_id} (worker killed mid-run): {run.status}, attempts {run.attempts}, {recovered}")
    ended = analyses["finished_at"]
    print(f"all analyses ended {ended - outcome['load_end']:.1f} s after the last participant submitted", end="")
    print(" (an automatic re-analysis waits for the burst and its per-study interval)")
    if outcome.get("last_fault_end"):
        print(f"all analyses ended {analyses['finished_at'] - outcome['last_fault_end']:.1f} s after the last fault")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--serve", action="store_true", help="start gunicorn and a Celery worker here")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running server (without --serve)")
    parser.add_argument("--kill-web-worker", action="store_true")
    parser.add_argument("--kill-celery-worker", action="store_true")
    parser.add_argument("--restart-postgres", action="store_true", help="DEDICATED MACHINE ONLY")
    parser.add_argument("--postgres-restart-cmd", default="pg_ctlcluster 15 main restart")
    parser.add_argument("--stop-redis", action="store_true", help="DEDICATED MACHINE ONLY")
    parser.add_argument("--redis-stop-cmd", default="redis-cli shutdown nosave")
    parser.add_argument("--redis-start-cmd", default="redis-server --daemonize yes")
    parser.add_argument("--redis-down-seconds", type=float, default=10)
    parser.add_argument("--analysis-timeout", type=float, default=240)
    parser.add_argument("--keep", action="store_true", help="keep the load study afterwards")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
