"""Backups (issue 11, point 14): `make backup` then `make restore` into a dropped database brings
back every sort, value, comment, answer and analysis run, exactly. The restore goes into a
throw-away database of this test's own, never a shared one."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from qsort.runs.models import AnalysisRun
from qsort.studies.models import PostSortQuestion
from qsort.studies.services import submit_sort
from tests.runs_support import VIEWPOINTS, add_sorts, execute

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[1]
TABLES = [
    "studies_study",
    "studies_sort",
    "studies_sortvalue",
    "studies_sortcomment",
    "studies_answer",
    "runs_analysisrun",
]


def url_for(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{name}"


def make(target: str, database: str, backup: Path) -> None:
    env = {**os.environ, "DATABASE_URL": url_for(database)}
    subprocess.run(["make", "--no-print-directory", target, f"BACKUP={backup}"], cwd=REPO, env=env, check=True)


def rows(database: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url_for(database)) as db:
        return {
            table: db.execute(sql.SQL("SELECT * FROM {} ORDER BY id").format(sql.Identifier(table))).fetchall()
            for table in TABLES
        }


def drop(database: str) -> None:
    with psycopg.connect(url_for("postgres"), autocommit=True) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


@pytest.fixture
def throwaway():
    name = f"{connection.settings_dict['NAME']}_restore"
    assert name.startswith("test_")  # pytest-django's own database plus a suffix: never a shared one
    drop(name)
    yield name
    drop(name)


def test_a_backup_restored_into_a_dropped_database_holds_every_sort_comment_and_run(study, owner, throwaway, tmp_path):
    question = PostSortQuestion.objects.create(study=study, text="Anything else?", position=1)
    add_sorts(study, 6)
    submit_sort(
        study.invite(codes=["C01"])[0],
        list(enumerate(VIEWPOINTS[2], start=1)),
        comments={"1": "Family first — «always»", "6": "Not for me"},
        answers={str(question.pk): "Thank you"},
    )
    execute(
        AnalysisRun.objects.create(
            study=study, created_by=owner, parameters={"factors": 2, "extraction": "pca", "rotation": "varimax"}
        )
    )
    source = connection.settings_dict["NAME"]
    original = rows(source)
    assert [len(original[t]) for t in TABLES] == [1, 7, 42, 2, 1, 1]

    backup = tmp_path / "qsort.dump"
    make("backup", source, backup)
    assert backup.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # personal data: the owner's eyes only

    make("restore", throwaway, backup)  # the database does not exist: as after a lost disk
    assert rows(throwaway) == original
    with psycopg.connect(url_for(throwaway)) as db:
        result = db.execute("SELECT result FROM runs_analysisrun").fetchone()[0]
    assert result["sorts"][-1] == "C01" and len(result["loadings"]) == 7

    with psycopg.connect(url_for(throwaway), autocommit=True) as db:
        db.execute("DELETE FROM studies_sortcomment")  # a mistake after the backup
    make("restore", throwaway, backup)  # over an existing database: replaced, not doubled
    assert rows(throwaway) == original
