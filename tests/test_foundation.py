"""Migrations, the demo seed, the invite command and production settings."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from qsort.studies import demo
from qsort.studies.models import Participant, Sort, Statement, Study
from qsort.studies.validation import SortRules, validate_sort
from tests.conftest import REPO


def test_migrations_apply_from_scratch_and_none_are_missing(migrating_db):
    call_command("migrate", "runs", "zero", verbosity=0)
    call_command("migrate", "studies", "zero", verbosity=0)
    call_command("migrate", verbosity=0)
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_twice_creates_no_duplicates(demo_study, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "already there" in out.getvalue()
    assert f"username: {demo.DEMO_USERNAME}" in out.getvalue()
    assert Study.objects.filter(slug=demo.DEMO_SLUG).count() == 1
    assert Statement.objects.filter(study=demo_study).count() == len(demo.STATEMENTS)
    assert 36 <= len(demo.STATEMENTS) <= 42
    assert Sort.objects.filter(study=demo_study).count() == demo.DEMO_SORTS
    assert demo_study.questions.count() == 3


@pytest.mark.django_db
def test_the_demo_snapshot_writes_back_exactly_the_rows_seed_demo_wrote(settings):
    """The fixtures' RowSnapshot (tests/conftest.py) stands in for seed_demo in most tests."""
    from django.db import connection, transaction

    from tests.conftest import RowSnapshot, copy_out

    def seed() -> None:
        settings.DEBUG = True
        call_command("seed_demo", stdout=io.StringIO())

    def rows(table: str) -> list[bytes]:
        with connection.cursor() as cursor:
            return sorted(copy_out(cursor, f'SELECT * FROM "{table}"').splitlines())  # noqa: S608

    with transaction.atomic():
        snapshot = RowSnapshot(seed)
        written = {table: rows(table) for table, _rows in snapshot.tables}
        transaction.set_rollback(True)
    assert not Study.objects.exists()
    snapshot.restore()
    assert {table: rows(table) for table, _rows in snapshot.tables} == written
    assert {"studies_sort", "studies_sortvalue", "studies_statement", "studies_participant"} <= set(written)
    assert len(written["studies_sort"]) == 2 * demo.DEMO_SORTS  # both conditions


@pytest.mark.django_db
def test_every_demo_sort_passes_the_validator(demo_study):
    rules = SortRules.for_study(demo_study)
    for sort in demo_study.sorts.all():
        assert validate_sort(rules, sort.values_by_number().items())[1] == []


def test_demo_sorts_hold_three_distinct_viewpoints():
    import numpy as np

    data = np.array(demo.synthetic_sorts()).T
    eigenvalues = np.linalg.eigvalsh(np.corrcoef(data.T))[::-1]
    assert eigenvalues[2] > 2 * eigenvalues[3]


@pytest.mark.django_db
def test_invite_prints_one_personal_link_per_line(demo_study):
    out = io.StringIO()
    call_command("invite", demo_study.slug, "--count", "3", stdout=out)
    lines = out.getvalue().split()
    assert len(lines) == 3
    tokens = {line.rstrip("/").rsplit("/", 1)[-1] for line in lines}
    assert Participant.objects.filter(token__in=tokens, study=demo_study).count() == 3


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env={**clean, **env}, capture_output=True, text=True
    )


def test_check_deploy_is_clean_with_production_values():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECURE_HTTPS="1",
        SECRET_KEY="a-production-secret-of-enough-length-and-variety-0123456789-xyz",
        ALLOWED_HOSTS="qsort.example.org",
        SITE_URL="https://qsort.example.org",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_env_the_site_uses_sqlite_and_runs_tasks_in_process():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.SITE_URL)"
    )
    result = run_manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "http://127.0.0.1:8000"]


def test_env_urls_select_postgresql_and_the_broker():
    code = "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/qsort",
        CELERY_BROKER_URL="redis://x:1/0",
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


def test_a_bad_boolean_fails_loudly():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_ensure_database_creates_a_missing_postgresql_database_once():
    import psycopg

    name = f"qsort_ensure_database_check_{os.getpid()}"  # unique: suites may run side by side
    admin = psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {name}")
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}"}
    try:
        for expected in (f"Created the PostgreSQL database {name}.", ""):
            result = subprocess.run(
                [sys.executable, "scripts/ensure_database.py"], cwd=REPO, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == expected
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


def test_collectstatic_writes_gzip_copies_for_whitenoise_to_serve(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--noinput", verbosity=0)
    for name in ("js/participate.js", "css/qsort.css", "vendor/sortable-1.15.7.min.js"):
        original, packed = tmp_path / name, tmp_path / f"{name}.gz"
        assert packed.exists(), name
        assert packed.stat().st_size < original.stat().st_size / 2
