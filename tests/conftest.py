"""Shared fixtures: personas (owner, collaborators, stranger), a small study, the demo study.

Tests talk to the real PostgreSQL and Redis (see `make test`); nothing here mocks them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# The Django test server runs in a thread; Playwright's sync API runs an event loop in ours.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql":
        raise pytest.UsageError(
            f"qsort's tests run against PostgreSQL: run `make test`, or set DATABASE_URL=postgres://... (got {engine})."
        )
    # Every test creates personas; the default PBKDF2 hasher would spend most of the suite's time on
    # their passwords. MD5 is for tests only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # WhiteNoise lists and stats every static file each time a middleware chain is built, and the
    # test Client builds one per instance: ~15 s of the suite. Looking a file up when it is asked
    # for (as in development) serves the same files with the same headers.
    settings.WHITENOISE_AUTOREFRESH = True
    # Under pytest-xdist each process has its own test database (pytest-django adds the suffix);
    # give each its own Celery queue too, so one process's worker never takes another's task.
    # (Worker processes a test starts are told the queue: QSORT_TEST_QUEUE, tests/slow_worker.py.)
    xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
    if xdist_worker:
        from qsort.celery import app

        app.conf.task_default_queue = f"qsort-tests-{xdist_worker}"


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    """The suite posts faster than any person: rate limits and sign-in lockouts are off, except in
    tests/test_security_limits.py, which switches them on to prove them."""
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="owner-pass-123")


@pytest.fixture
def facilitator(django_user_model):
    return django_user_model.objects.create_user("facil", password="facil-pass-123")


@pytest.fixture
def researcher(django_user_model):
    return django_user_model.objects.create_user("resea", password="resea-pass-123")


@pytest.fixture
def stranger(django_user_model):
    return django_user_model.objects.create_user("stranger", password="stranger-pass-123")


def make_study(owner, *, slug="tiny", n_statements=6, grid=None, status="open", **fields):
    """A study with numbered statements and a forced grid; opened unless status says otherwise."""
    from qsort.studies.models import Study

    study = Study.objects.create(
        title=fields.pop("title", "Tiny study"),
        slug=slug,
        owner=owner,
        condition_of_instruction=fields.pop("condition_of_instruction", "What matters most?"),
        consent_text=fields.pop("consent_text", "You agree to take part."),
        **fields,
    )
    study.add_statements(f"Statement number {i}" for i in range(1, n_statements + 1))
    study.set_grid(grid or {-1: 2, 0: 2, 1: 2})
    if status == "open":
        study.open()
    elif status == "closed":
        study.open()
        study.close()
    return study


@pytest.fixture
def study(owner, facilitator, researcher):
    """An open 6-statement study (-1..+1, capacities 2/2/2) with one collaborator of each role."""
    from qsort.studies.models import Collaborator

    study = make_study(owner)
    Collaborator.objects.create(study=study, user=facilitator, role="facilitator")
    Collaborator.objects.create(study=study, user=researcher, role="researcher")
    return study


# seed_demo prints a random password; tests give the demo facilitator this one to sign in.
DEMO_PASSWORD = "qsort-demo-2026"


@pytest.fixture
def sorted_study(study):
    """The `study` fixture with nine completed sorts near three viewpoints (see runs_support.add_sorts)."""
    from tests.runs_support import add_sorts

    add_sorts(study, 9)
    return study


def copy_out(cursor, query: str) -> bytes:
    """The rows of `query` in PostgreSQL's COPY text format."""
    with cursor.cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
        return b"".join(bytes(block) for block in copy)


class RowSnapshot:
    """The rows a piece of setup wrote, copied out of PostgreSQL so that later tests of this process
    get the very same rows back in milliseconds (`seed_demo` makes 40 sorts through the services in
    about a second, and about 90 tests start from the demo).

    Rows are told apart by the transaction that wrote them: every row written after `boundary`
    (the first transaction id not yet given out when the setup began) belongs to the setup. The
    primary keys come back as they were; PostgreSQL's sequences never go back, so no later row can
    take one of them.
    """

    def __init__(self, setup) -> None:
        from django.db import connection, transaction

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            boundary = cursor.fetchone()[0]
            with transaction.atomic():
                setup()
            self.tables: list[tuple[str, bytes]] = []
            for table in self._parents_first(connection, cursor):
                # Names from the database's own catalogue, a number it gave: nothing from outside.
                rows = copy_out(cursor, f'SELECT * FROM "{table}" WHERE xmin::text::bigint >= {boundary}')  # noqa: S608
                if rows:
                    self.tables.append((table, rows))

    @staticmethod
    def _parents_first(connection, cursor) -> list[str]:
        """Tables with the ones a foreign key names first: the triggers that check a row against
        the rows it names (a sort's participant, a sort value's statement) run at once."""
        parents = {
            table: {parent for _column, parent in connection.introspection.get_relations(cursor, table).values()}
            for table in connection.introspection.table_names(cursor)
        }
        order: list[str] = []

        def visit(table: str, path: tuple[str, ...] = ()) -> None:
            if table not in order and table not in path:
                for parent in sorted(parents.get(table, ())):
                    visit(parent, (*path, table))
                order.append(table)

        for table in sorted(parents):
            visit(table)
        return order

    def restore(self) -> None:
        """Write the rows again, in one transaction (foreign keys are checked at its end)."""
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            for table, rows in self.tables:
                with cursor.cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
                    copy.write(rows)


@pytest.fixture
def migrating_db(transactional_db):
    """For a test that migrates apps backwards and forwards. Dropping a table starts its identity
    sequence again at 1, and a RowSnapshot restored later in this process brings back rows with
    their old keys: the next new row would collide with one of them. Every sequence is put back at
    least where it was."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL")
        before = cursor.fetchall()
    yield
    with connection.cursor() as cursor:
        for sequence, last_value in before:
            cursor.execute(
                "SELECT setval(%s::regclass, GREATEST(%s, last_value)) FROM pg_sequences WHERE sequencename = %s",
                [f'"{sequence}"', last_value, sequence],
            )


_DEMO_SNAPSHOTS: dict[tuple[str, ...], RowSnapshot] = {}


def _seeded_demo(*args: str):
    """`seed_demo` (development only, so DEBUG is on for it); its facilitator signs in with DEMO_PASSWORD.

    The command runs for real once per test process and form (`args`); later tests get its rows
    back from a RowSnapshot."""
    from django.core.management import call_command
    from django.test import override_settings

    from qsort.studies.demo import DEMO_SLUG
    from qsort.studies.models import Study

    def seed() -> None:
        with override_settings(DEBUG=True):
            call_command("seed_demo", *args, stdout=open(os.devnull, "w"))  # noqa: SIM115
        owner = Study.objects.select_related("owner").get(slug=DEMO_SLUG).owner
        owner.set_password(DEMO_PASSWORD)
        owner.save(update_fields=["password"])

    if args in _DEMO_SNAPSHOTS:
        _DEMO_SNAPSHOTS[args].restore()
    else:
        _DEMO_SNAPSHOTS[args] = RowSnapshot(seed)
    return Study.objects.select_related("owner").get(slug=DEMO_SLUG)


@pytest.fixture
def demo_study(db):
    """The seeded demo study in its one-question form (38 statements, 40 completed sorts): what
    the single-condition tests were written against (`seed_demo --one-condition`)."""
    return _seeded_demo("--one-condition")


@pytest.fixture
def demo_two_conditions(db):
    """The seeded demo study as `seed_demo` makes it: Relapse and Recovery, 40 people sorting both."""
    return _seeded_demo()
