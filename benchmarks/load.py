"""Load and fault run: N participants through the real participant flow over HTTP, with faults.

A bounded asyncio client (aiohttp) drives each participant as the page does: open the link,
consent, pre-sort, sort (several autosaves, one of them repeated as a retry would), review and
submit, retrying what failed the way the page does (connection errors, 5xx, 429: back off and send
again). Meanwhile optional fault steps hit the stack. At the end it counts, in the database,
the sorts expected / stored / lost / duplicated, and prints 5xx counts, p50/p95 latency per
request kind, and for each analysis run of the study when it ended counted from the end of the
last fault (every run must end done or failed, with a message, within a minute of it).

    .venv/bin/python benchmarks/load.py --private --participants 500 --concurrency 50 \\
        --kill-web-worker --restart-postgres --kill-celery-worker --stop-redis

--private starts everything of its own in a temporary directory: a PostgreSQL cluster (initdb and
pg_ctl from --pg-bin, on --pg-port, default 5499; run as the postgres user when started as root),
a redis-server (on --redis-port, default 6399), gunicorn (--web-workers) on loopback and a Celery
worker with beat on those two; at the end it stops them and deletes the directory. The faults act
on these only: safe on a machine whose PostgreSQL (5432) and Redis (6379) others use. The
PostgreSQL and Redis faults need --private.

--serve starts gunicorn and the worker only, on the DATABASE_URL and CELERY_BROKER_URL given (the
kill faults need --serve or --private). With neither, --url names a running server (no faults).

Every participant comes from one loopback address, so the stacks started here raise the per-address
participant rate limit (RATE_LIMIT_PARTICIPANT) to what many addresses would get together.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_HTTPS", "0")

from qsort.studies.demo import GRID, STATEMENTS, synthetic_sorts  # noqa: E402 (numpy only, no Django)

# Django is set up in main(), once DATABASE_URL and CELERY_BROKER_URL name the services (--private
# starts them first); the functions that touch the database import the models when called.
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ATTEMPTS = 12  # a page keeps retrying; a participant keeps pressing "send" for about a minute
SEED_SORTS = 3


# --- the study and the participants -----------------------------------------------------------
def make_study(n: int) -> tuple[Any, list[Any]]:
    """A fresh demo-like study (38 statements, -4..+4) with automatic re-analysis on, a first
    run to repeat, and `n` invited participants. Seed sorts come in through the model."""
    from django.contrib.auth import get_user_model

    from qsort.runs.services import start_run
    from qsort.studies.models import Study
    from qsort.studies.services import submit_sort

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
def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PrivateServices:
    """A PostgreSQL cluster and a redis-server of this run's own, in `root`, on their own ports:
    the faults restart and stop these, never the machine's shared ones."""

    def __init__(self, root: Path, pg_bin: Path, pg_port: int, redis_port: int) -> None:
        self.root, self.pg_bin, self.pg_port, self.redis_port = root, pg_bin, pg_port, redis_port
        self.data = root / "pgdata"
        self.redis: subprocess.Popen | None = None
        self.database_url = f"postgres://postgres@127.0.0.1:{pg_port}/qsort_load"
        self.broker_url = f"redis://127.0.0.1:{redis_port}/0"

    def _pg_ctl(self, *command: str) -> None:
        options = f"-p {self.pg_port} -k {self.root} -c listen_addresses=127.0.0.1"
        pg_ctl = [str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "postgres.log")]
        subprocess.run(as_postgres([*pg_ctl, "-w", "-o", options, *command]), check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        for port in (self.pg_port, self.redis_port):
            if subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout.strip():
                raise SystemExit(f"port {port} is taken: choose another with --pg-port / --redis-port")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        initdb = [str(self.pg_bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        subprocess.run(as_postgres([*initdb, "--no-sync"]), check=True, stdout=subprocess.DEVNULL)
        self._pg_ctl("start")
        createdb = [str(self.pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres"]
        subprocess.run([*createdb, "qsort_load"], check=True)
        self.start_redis()

    def restart_postgres(self) -> None:
        """As a service manager restarts it: fast shutdown (every connection is cut), start again."""
        self._pg_ctl("-m", "fast", "restart")

    def start_redis(self) -> None:
        redis = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""]
        redis += ["--appendonly", "no", "--dir", str(self.root)]
        log = open(self.root / "redis.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.redis = subprocess.Popen(redis, stdout=log, stderr=log, start_new_session=True)
        ping = ["redis-cli", "-p", str(self.redis_port), "ping"]
        for _try in range(100):
            if subprocess.run(ping, capture_output=True, text=True).stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise SystemExit(f"the private redis-server did not start (see {self.root / 'redis.log'})")

    def kill_redis(self) -> None:
        """Redis dies (SIGKILL, nothing saved): queued messages and cache entries are gone."""
        self.redis.kill()
        self.redis.wait()

    def stop(self) -> None:
        if self.redis is not None and self.redis.poll() is None:
            self.kill_redis()
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class Stack:
    """gunicorn and a Celery worker (with beat) started here, so faults can kill them."""

    def __init__(self, port: int, web_workers: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="qsort-load-"))
        self.port, self.web_workers = port, web_workers
        self.env = {**os.environ, "DEBUG": "0", "SECURE_HTTPS": "0", "OPENBLAS_NUM_THREADS": "1"}
        self.env["RATE_LIMIT_PARTICIPANT"] = "100000/m"  # one loopback address stands for many
        # Production refuses to start without a real key and a mail backend that sends (none is sent).
        self.env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        self.env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        return subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True)

    def migrate(self) -> None:
        manage = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(manage, cwd=REPO, env=self.env, check=True)

    def start_web(self) -> None:
        bind = f"127.0.0.1:{self.port}"
        gunicorn = [sys.executable, "-m", "gunicorn", "qsort.wsgi:application", "--bind", bind]
        self.web = self._spawn("web", [*gunicorn, "--workers", str(self.web_workers), "--timeout", "60"])

    def start_worker(self) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "qsort", "worker", "-B", "-s", str(self.dir / "beat")]
        self.worker = self._spawn("worker", [*celery, "--concurrency", "1", "--loglevel", "INFO"])

    def restart_worker_if_gone(self) -> int | None:
        """What a restart policy does (compose: `restart: unless-stopped`): a worker that exited
        on its own is started again. Returns its exit code, None while it runs."""
        code = self.worker.poll()
        if code is not None:
            self.start_worker()
        return code

    def last_worker_crash(self) -> str:
        lines = (self.dir / "worker.log").read_text(errors="replace").splitlines()
        return next((line for line in reversed(lines) if "CRITICAL" in line), "")[:200]

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


def fresh(work: Callable[..., Any], *args: Any) -> Any:
    """`work(*args)` on a healthy connection: this script's own connections die with a PostgreSQL
    restart too, and outside a request nothing else checks them."""
    from django.db import close_old_connections

    close_old_connections()
    return work(*args)


async def db(work: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(fresh, work, *args)


def run_status(run_id: int) -> str:
    from qsort.runs.models import AnalysisRun

    return AnalysisRun.objects.values_list("status", flat=True).get(pk=run_id)


async def kill_celery_mid_run(stack: Stack, study: Any, log: list[str]) -> int | None:
    """Start an analysis, SIGKILL the worker while it runs, start a new worker (as a restart policy
    would). Returns the run."""
    from qsort.runs.services import start_run

    for _try in range(10):
        run = await db(start_run, study, study.owner, {"factors": 7, "extraction": "pca", "rotation": "varimax"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = await db(run_status, run.pk)
            if state == "running":
                stack.kill_worker()
                log.append(f"killed the Celery worker while run {run.pk} was running, started a new one")
                stack.start_worker()
                return run.pk
            if state in ("done", "failed"):
                break
            await asyncio.sleep(0.01)
    log.append("could not catch a run while running: the Celery worker was not killed")
    return None


async def faults(args, stack: Stack | None, services: PrivateServices | None, study, stats, total, log) -> dict:
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
            await asyncio.to_thread(services.restart_postgres)
            log.append(f"restarted the private PostgreSQL on port {services.pg_port} (fast shutdown, start)")
        elif fault == "stop-redis":
            services.kill_redis()
            await asyncio.sleep(args.redis_down_seconds)
            await asyncio.to_thread(services.start_redis)
            down = args.redis_down_seconds
            log.append(f"killed the private Redis on port {services.redis_port}, started it {down:g} s later")
        outcome["last_fault_end"] = time.time()
        log[-1] += f" [{time.monotonic() - started:.1f} s]"
    return outcome


# --- the run ------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main_async(args, services: PrivateServices | None) -> None:
    stack = None
    base = args.url
    if args.serve:
        stack = Stack(args.port, args.web_workers)
        if services is not None:
            stack.migrate()
        stack.start_web()
        stack.start_worker()
        base = f"http://127.0.0.1:{args.port}"
    try:
        await wait_until_up(base)
        study, people = await db(make_study, args.participants)
        stats, log = Stats(), []
        gate = asyncio.Semaphore(args.concurrency)

        async def one(index: int, token: str) -> None:
            async with gate:
                await participant_flow(base, token, index, stats, len(STATEMENTS))

        started = time.monotonic()
        restarts: list[tuple[float, int, str]] = []
        supervisor = asyncio.create_task(supervise(stack, restarts)) if stack else None
        fault_task = asyncio.create_task(faults(args, stack, services, study, stats, len(people), log))
        await asyncio.gather(*(one(i, p.token) for i, p in enumerate(people)))
        elapsed = time.monotonic() - started
        outcome = await fault_task
        outcome["load_end"] = time.time()
        await db(wait_for_analyses, study, args.analysis_timeout)
        if supervisor:
            supervisor.cancel()
        outcome["restarts"] = restarts
        await db(report, args, study, people, stats, log, elapsed, outcome)
        if not args.keep:
            await db(study.delete)
    finally:
        if stack is not None:
            stack.stop()
            print(f"server logs: {stack.dir}")


async def supervise(stack: Stack, restarts: list[tuple[float, int, str]]) -> None:
    """Start the Celery worker again whenever it exits on its own, as its restart policy would."""
    while True:
        code = stack.restart_worker_if_gone()
        if code is not None:
            restarts.append((time.time(), code, stack.last_worker_crash()))
        await asyncio.sleep(0.5)


def wait_for_analyses(study, timeout: float) -> None:
    """Until every run of the study has ended, done or failed (or the timeout)."""
    from qsort.runs.models import AnalysisRun

    deadline = time.monotonic() + timeout
    unfinished = AnalysisRun.objects.filter(study=study, status__in=["queued", "running"])
    while unfinished.exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def report(args, study, people, stats: Stats, log, elapsed, outcome) -> None:
    from django.db.models import Count

    from qsort.runs.models import AnalysisRun
    from qsort.studies.models import Sort

    # One condition: each participant has one sort of every statement once, or none.
    sorts = Sort.objects.filter(participant__in=[p.pk for p in people]).annotate(n=Count("values"))
    stored = sorts.values("participant").distinct().count()
    duplicated = sorts.count() - stored + sum(1 for n in sorts.values_list("n", flat=True) if n != len(STATEMENTS))
    expected = len(people)
    origin = outcome["last_fault_end"] or outcome["load_end"]
    since = "the end of the last fault" if outcome["last_fault_end"] else "the end of the load"
    print(f"\nqsort load run: {expected} participants, {args.concurrency} at a time, {elapsed:.1f} s")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for line in log:
        print(f"  fault: {line}")
    for when, code, crash in outcome["restarts"]:
        print(f"  the Celery worker exited by itself (code {code}) at {when - origin:+.1f} s from {since};")
        print(f"    started again, as its restart policy would. Its last critical line: {crash or '(none)'}")
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
    runs = list(AnalysisRun.objects.filter(study=study).order_by("pk").defer("result"))
    print(f"\nanalysis runs of the study: {dict(Counter(run.status for run in runs))}")
    print(f"each run, seconds from {since} (negative: before it):")
    print("  run    kind       status   tries  created    due    ended  message")
    for run in runs:
        kind = "automatic" if run.automatic else "killed" if run.pk == outcome["killed_run"] else "manual"
        ended = f"{run.finished_at.timestamp() - origin:+7.1f}" if run.finished_at else "    ---"
        print(
            f"  {run.pk:<6} {kind:<10} {run.status:<8} {run.attempts:>5}  {run.created_at.timestamp() - origin:+6.1f}"
            f" {run.queued_at.timestamp() - origin:+6.1f}  {ended}  {run.error or ''}"
        )
    still = sum(1 for run in runs if run.status in ("queued", "running"))
    if still:
        print(f"{still} runs still unfinished {args.analysis_timeout:g} s after the load ended")
        return
    ended = {run.pk: run.finished_at.timestamp() for run in runs}
    last = max(ended.values())
    print(f"every run ended done or failed, the last {last - origin:.1f} s after {since}")
    # The fault's own damage: runs it found unfinished. Runs queued later come from sorts that
    # arrived after it (the load goes on) and wait for the automatic re-analysis delay.
    hit = [run for run in runs if run.created_at.timestamp() <= origin < ended[run.pk]]
    if hit:
        slowest = max(ended[run.pk] for run in hit)
        print(f"runs unfinished at {since} ({', '.join(str(run.pk) for run in hit)}): the last ended", end=" ")
        print(f"{slowest - origin:.1f} s after it")
    later = [run for run in runs if run.created_at.timestamp() > origin]
    if later:
        longest = max(ended[run.pk] - run.created_at.timestamp() for run in later)
        print(f"runs queued after it ({', '.join(str(run.pk) for run in later)}): each ended at most", end=" ")
        print(f"{longest:.1f} s after it was queued")
    print(f"(the load ended {outcome['load_end'] - origin:+.1f} s from {since}; an automatic re-analysis")
    print(" waits for a burst of sorts and its per-study interval before it is due)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--private", action="store_true", help="start a private PostgreSQL, Redis and the stack")
    parser.add_argument("--pg-bin", type=Path, default=Path("/usr/lib/postgresql/15/bin"))
    parser.add_argument("--pg-port", type=int, default=5499)
    parser.add_argument("--redis-port", type=int, default=6399)
    parser.add_argument("--serve", action="store_true", help="start gunicorn and a Celery worker here")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running server (without --serve)")
    parser.add_argument("--kill-web-worker", action="store_true")
    parser.add_argument("--kill-celery-worker", action="store_true")
    parser.add_argument("--restart-postgres", action="store_true", help="the private one (--private)")
    parser.add_argument("--stop-redis", action="store_true", help="the private one (--private)")
    parser.add_argument("--redis-down-seconds", type=float, default=10)
    parser.add_argument("--analysis-timeout", type=float, default=240)
    parser.add_argument("--keep", action="store_true", help="keep the load study afterwards (not with --private)")
    args = parser.parse_args()
    args.serve = args.serve or args.private
    if (args.restart_postgres or args.stop_redis) and not args.private:
        parser.error("--restart-postgres and --stop-redis act on private services only: add --private")
    if (args.kill_web_worker or args.kill_celery_worker) and not args.serve:
        parser.error("--kill-web-worker and --kill-celery-worker need --serve or --private")
    services = None
    if args.private:
        root = Path(tempfile.mkdtemp(prefix="qsort-load-services-"))
        services = PrivateServices(root, args.pg_bin, args.pg_port, args.redis_port)
        os.environ["DATABASE_URL"], os.environ["CELERY_BROKER_URL"] = services.database_url, services.broker_url
    try:
        if services is not None:
            services.start()
        import django

        django.setup()
        asyncio.run(main_async(args, services))
    finally:
        if services is not None:
            services.stop()


if __name__ == "__main__":
    main()
