"""The web side at scale: no correlation matrix stored in runs, exports that load only what they
write, sorts loaded straight into numpy, and query counts that do not grow with the sorts."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import numpy as np
import openpyxl
import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qsort.analysis import analyse
from qsort.exchange import services, tables, writers
from qsort.exchange.dataset import SortRecord, StudyData
from qsort.exchange.models import DownloadLog
from qsort.runs.models import AnalysisRun
from qsort.runs.services import correlations_of, load_sorts, start_run
from qsort.studies.models import Sort, SortComment, SortValue, SortValueQuerySet
from tests.runs_support import add_sorts, execute

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]

PCA = {"factors": 2, "extraction": "pca", "rotation": "varimax"}


@pytest.fixture
def new_run(study):
    """A run made by the task as it works now (correlations not stored)."""
    add_sorts(study, 9)
    return execute(start_run(study, study.owner, PCA))


def engine_result(study) -> dict:
    sorts = load_sorts(study)
    return analyse(sorts.data, sorts.statement_ids, sorts.sort_ids, factors=2).to_json()


def test_a_run_does_not_store_the_correlation_matrix_and_exports_compute_it(new_run):
    assert new_run.status == "done", new_run.error
    assert "correlations" not in new_run.result
    expected = engine_result(new_run.study)["correlations"]
    assert correlations_of(new_run.study, new_run.result) == expected
    exported = json.loads(services.export_run_file(new_run, "result.json", None).body)
    assert exported["correlations"] == expected
    book = openpyxl.load_workbook(io.BytesIO(services.export_run_file(new_run, "report.xlsx", None).body))
    rows = list(book["Correlations"].iter_rows(values_only=True))
    assert rows[0] == ("sort", *new_run.result["sorts"])
    np.testing.assert_allclose([row[1:] for row in rows[1:]], expected, atol=1e-12)


def test_the_api_detail_leaves_the_matrix_out_unless_asked(client_for, new_run):
    client = client_for(new_run.study.owner)
    detail = client.get(f"/api/analyses/{new_run.pk}/")
    assert detail.status_code == 200
    assert "correlations" not in detail.json()["result"]
    assert detail.json()["result"]["loadings"] == new_run.result["loadings"]
    assert detail.content == orjson.dumps(detail.json())  # compact: no spaces, no indentation
    full = client.get(f"/api/analyses/{new_run.pk}/?include=correlations").json()["result"]
    assert full["correlations"] == engine_result(new_run.study)["correlations"]
    refused = client.get(f"/api/analyses/{new_run.pk}/?include=correlations,everything")
    assert refused.status_code == 400
    assert "everything" in refused.json()["include"][0] and "correlations" in refused.json()["include"][0]


def test_an_old_run_that_stored_its_matrix_keeps_working(client_for, new_run):
    stored = [[1.0 if i == j else 0.25 for j in range(9)] for i in range(9)]  # recognisably its own
    AnalysisRun.objects.filter(pk=new_run.pk).update(result={**new_run.result, "correlations": stored})
    client = client_for(new_run.study.owner)
    assert "correlations" not in client.get(f"/api/analyses/{new_run.pk}/").json()["result"]
    asked = client.get(f"/api/analyses/{new_run.pk}/?include=correlations").json()["result"]
    assert asked["correlations"] == stored
    assert json.loads(services.export_run_file(new_run, "result.json", None).body)["correlations"] == stored
    book = openpyxl.load_workbook(io.BytesIO(services.export_run_file(new_run, "report.xlsx", None).body))
    assert list(book["Correlations"].iter_rows(values_only=True))[1][2] == 0.25


def test_a_withdrawn_sort_means_no_matrix_rather_than_a_wrong_one(new_run):
    result = {**new_run.result, "sorts": [*new_run.result["sorts"][:-1], "GONE"]}
    assert correlations_of(new_run.study, result) is None


def test_the_factor_arrays_load_neither_the_sorts_nor_the_whole_result(new_run):
    with CaptureQueriesContext(connection) as queries:
        export = services.export_run_file(new_run, "factor-arrays.csv", None)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "sortvalue" not in sql and "studies_sort" not in sql
    # three keys of the result, the study (the file name), statement texts, the download log
    assert len(queries.captured_queries) == 4
    rows = list(csv.reader(io.StringIO(export.body.decode())))
    assert [[int(v) for v in row[2:]] for row in rows[1:]] == new_run.result["factor_arrays"]


@pytest.mark.parametrize("file", sorted(services.RUN_FILES))
def test_each_run_export_costs_the_same_queries_at_any_size(client, study, file):
    """Query counts do not grow with the sorts (no N+1), through the web view as users get it."""
    add_sorts(study, 4)
    small = execute(start_run(study, study.owner, PCA))
    client.force_login(study.owner)
    url = f"/studies/{study.slug}/data/runs/{{run}}/{file}"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url.format(run=small.pk)).status_code == 200
    add_sorts(study, 12, codes=[f"T{i:02d}" for i in range(12)], seed=3)
    large = execute(start_run(study, study.owner, PCA))
    with CaptureQueriesContext(connection) as many:
        assert client.get(url.format(run=large.pk)).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_api_detail_costs_the_same_queries_at_any_size(client_for, study, django_assert_num_queries):
    add_sorts(study, 4)
    small = execute(start_run(study, study.owner, PCA))
    add_sorts(study, 12, codes=[f"T{i:02d}" for i in range(12)], seed=3)
    large = execute(start_run(study, study.owner, PCA))
    client = client_for(study.owner)
    client.get(f"/api/analyses/{small.pk}/")  # token and session set-up out of the count
    with CaptureQueriesContext(connection) as few:
        client.get(f"/api/analyses/{small.pk}/")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/api/analyses/{large.pk}/")
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not any("sortvalue" in q["sql"] for q in many.captured_queries)


def test_load_sorts_is_three_queries_and_keeps_submission_order(study, django_assert_num_queries):
    add_sorts(study, 7)
    with django_assert_num_queries(3):
        sorts = load_sorts(study)
    data = services.load_study_data(study)  # the exports' loader: the same values, the same order
    assert sorts.sort_ids == [record.label for record in data.sorts]
    np.testing.assert_array_equal(sorts.data, np.array([record.values for record in data.sorts]).T)
    assert sorts.statement_ids == [str(n) for n in data.numbers]


def _study_data(n_sorts: int, n_statements: int) -> StudyData:
    records = tuple(
        SortRecord(label=f"P{i:05d}", submitted_at=datetime(2026, 1, 1), values=(0,) * n_statements)
        for i in range(n_sorts)
    )
    statements = tuple((k + 1, f"s{k + 1}") for k in range(n_statements))
    return StudyData("Big", "big", statements, {0: n_statements}, (), records)


@pytest.mark.parametrize(
    "sorts, statements, kept",
    [
        (2_000, 60, True),  # exactly the cell budget
        (2_001, 60, False),  # one sort more: left out, said so
        (tables.WORKSHEET_MAX_COLUMNS - 1, 2, True),  # the widest sheet a workbook takes
        (tables.WORKSHEET_MAX_COLUMNS, 2, False),  # openpyxl would refuse it: a 500 before
    ],
)
def test_the_reports_sorts_sheet_is_left_out_with_a_note_when_too_large(sorts, statements, kept) -> None:
    sheet = tables.report_sorts_table(_study_data(sorts, statements))
    if kept:
        assert len(sheet.header) == sorts + 1 and len(sheet.rows) == statements and not sheet.note
    else:
        assert sheet.rows == [] and f"{sorts:,} sorts" in sheet.note and "sorts.csv" in sheet.note
        workbook = openpyxl.load_workbook(io.BytesIO(writers.xlsx_bytes([sheet])))
        assert next(workbook["Sorts"].iter_rows(values_only=True))[0] == sheet.note


def _count_loaded_values(monkeypatch) -> list[int]:
    """How many sort values each later load takes from the database (one entry per sort)."""
    loaded: list[int] = []
    per_sort = SortValueQuerySet.per_sort

    def counting(self, by: str = "statement_id"):
        for row in per_sort(self, by):
            loaded.append(len(row[2]))
            yield row

    monkeypatch.setattr(SortValueQuerySet, "per_sort", counting)
    return loaded


def _comment(study, code: str, number: int, text: str) -> int:
    """A comment on statement `number` of the sort of `code`; returns the value it was placed at."""
    sort = Sort.objects.get(study=study, participant__code=code)
    statement = study.statements.get(number=number)
    SortComment.objects.create(sort=sort, statement=statement, text=text)
    return SortValue.objects.get(sort=sort, statement=statement).value


def test_a_report_too_large_for_its_sorts_loads_only_the_values_beside_its_comments(new_run, monkeypatch):
    study = new_run.study
    placed = {("S02", 1): _comment(study, "S02", 1, "Family first"), ("S07", 6): _comment(study, "S07", 6, "Not me")}
    monkeypatch.setattr(tables, "REPORT_SORTS_MAX_CELLS", 9 * 6 - 1)  # 9 sorts of 6: one cell too many
    monkeypatch.setattr(tables, "REPORT_CORRELATIONS_MAX_SORTS", 8)  # nor its matrix (computed from the sorts)
    loaded = _count_loaded_values(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        body = services.export_run_file(new_run, "report.xlsx", None).body
    assert sum(loaded) == 2  # of 54 values: the two commented ones
    book = openpyxl.load_workbook(io.BytesIO(body))
    note = next(book["Sorts"].iter_rows(values_only=True))[0]
    assert note.startswith("9 sorts of 6 statements are left out") and "sorts.csv" in note
    comments = list(book["Comments"].iter_rows(values_only=True))
    texts = dict(study.statements.values_list("number", "text"))
    assert comments == [
        ("participant", "statement", "text", "value", "comment"),
        ("S02", 1, texts[1], placed["S02", 1], "Family first"),
        ("S07", 6, texts[6], placed["S07", 6], "Not me"),
    ]
    assert [row[0] for row in book["Post-sort answers"].iter_rows(values_only=True)][1:] == new_run.result["sorts"]
    add_sorts(study, 12, codes=[f"T{i:02d}" for i in range(12)], seed=3)
    larger = execute(start_run(study, study.owner, PCA))
    larger.study = study  # as new_run's, already loaded
    with CaptureQueriesContext(connection) as more:
        services.export_run_file(larger, "report.xlsx", None)
    assert len(more.captured_queries) == len(queries.captured_queries)  # none per sort


def test_a_report_that_holds_its_sorts_writes_the_values_load_sorts_gives(new_run, monkeypatch):
    _comment(new_run.study, "S03", 2, "Hard one")
    loaded = _count_loaded_values(monkeypatch)
    book = openpyxl.load_workbook(io.BytesIO(services.export_run_file(new_run, "report.xlsx", None).body))
    # One array per sort (ArrayAgg): the Sorts sheet's, then the correlations' (9 sorts of 6)
    assert loaded == [6] * 18
    sorts = load_sorts(new_run.study)
    rows = list(book["Sorts"].iter_rows(values_only=True))
    assert rows[0] == ("statement_id", *sorts.sort_ids)
    assert [list(row[1:]) for row in rows[1:]] == sorts.data.tolist()
    comment = list(book["Comments"].iter_rows(values_only=True))[1]
    assert comment[0] == "S03" and comment[3] == sorts.data[1, sorts.sort_ids.index("S03")]


DETAIL_FIELDS = [
    "id",
    "study",
    "status",
    "progress",
    "stage",
    "stale",
    "parameters",
    "error",
    "created_at",
    "started_at",
    "finished_at",
    "result",
]


def test_the_api_detail_keeps_its_fields_and_hands_over_the_stored_result(client_for, new_run):
    body = client_for(new_run.study.owner).get(f"/api/analyses/{new_run.pk}/").json()
    assert list(body) == DETAIL_FIELDS
    assert body["id"] == new_run.pk and body["study"] == new_run.study.slug and body["status"] == "done"
    assert body["parameters"] == new_run.parameters and body["stale"] is False
    assert body["result"] == new_run.result


def test_a_facilitator_gets_the_detail_without_the_result_never_loaded(client_for, new_run, facilitator):
    client = client_for(facilitator)
    client.get(f"/api/analyses/{new_run.pk}/")  # token and session set-up out of the capture
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/api/analyses/{new_run.pk}/").json()
    assert list(body) == DETAIL_FIELDS and body["result"] is None and body["status"] == "done"
    assert not any(re.search(r"\bresult\b", q["sql"]) for q in queries)
    assert not DownloadLog.objects.filter(run=new_run).exists()


def test_the_api_list_of_runs_never_loads_a_result(client_for, new_run):
    client = client_for(new_run.study.owner)
    url = f"/api/studies/{new_run.study.slug}/analyses/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(url).json()["results"]
    assert [run["id"] for run in listed] == [new_run.pk] and listed[0]["result"] is None
    assert not any(re.search(r"\bresult\b", q["sql"]) for q in queries)


def test_a_result_is_decoded_with_the_cycle_collector_paused_and_left_as_found(new_run, monkeypatch):
    """A large result is hundreds of thousands of lists: making them set off full collections
    (half of the API detail's time at 20,000 sorts)."""
    import gc

    from qsort.runs import models

    seen: list[bool] = []
    loads = models.json.loads
    monkeypatch.setattr(models.json, "loads", lambda text: seen.append(gc.isenabled()) or loads(text))
    assert models.load_result(new_run.pk) == new_run.result
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        models.load_result(new_run.pk)
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()


def test_load_sorts_without_postgresql_arrays_gives_the_same_matrix(study, monkeypatch):
    """`make run` uses SQLite: the portable path (one row per value) must agree with ArrayAgg."""
    add_sorts(study, 7)
    with_arrays = load_sorts(study)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    portable = load_sorts(study)
    np.testing.assert_array_equal(portable.data, with_arrays.data)
    assert portable.sort_ids == with_arrays.sort_ids


@pytest.mark.parametrize("entry", ["from qsort.wsgi import application", "import django; django.setup()"])
def test_a_web_process_uses_one_blas_thread(entry):
    """gunicorn loads qsort.wsgi; runserver (`make run`) and the worker load the settings first."""
    import os
    import subprocess
    import sys

    code = (
        f"{entry}; import numpy, threadpoolctl; print(max(i['num_threads'] for i in threadpoolctl.threadpool_info()))"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["DJANGO_SETTINGS_MODULE"] = "qsort.settings"
    # The production entry point refuses to start without a real key and a real mail backend.
    env["SECRET_KEY"] = "a-test-secret-of-enough-length-and-variety-0123456789-abcdefghij"
    env["EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "1"


def test_the_api_list_of_runs_costs_the_same_queries_for_one_run_or_three(client_for, study):
    add_sorts(study, 5)
    execute(start_run(study, study.owner, PCA))
    client = client_for(study.owner)
    url = f"/api/studies/{study.slug}/analyses/"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(url).json()["results"]) == 1
    for _ in range(2):
        execute(start_run(study, study.owner, PCA))
    with CaptureQueriesContext(connection) as three:
        listed = client.get(url).json()["results"]
    # The list never carries results (they are read, and logged, one run at a time).
    assert len(listed) == 3 and all(run["result"] is None and run["status"] == "done" for run in listed)
    assert len(three.captured_queries) == len(one.captured_queries)


def test_the_scree_lives_in_djangos_cache_so_every_process_shares_it(study):
    """CACHES decides where (Redis when configured): a second process finds it there too."""
    from django.core.cache import cache

    from qsort.runs.services import scree_eigenvalues

    add_sorts(study, 6)
    cache.clear()
    first = scree_eigenvalues(study)
    assert len(first) >= 2
    with CaptureQueriesContext(connection) as queries:
        assert scree_eigenvalues(study) == first
    assert not any("sortvalue" in q["sql"] for q in queries.captured_queries)
    cache.clear()  # what another process without this entry sees: it computes again
    with CaptureQueriesContext(connection) as queries:
        assert scree_eigenvalues(study) == first
    assert any("sortvalue" in q["sql"] for q in queries.captured_queries)
