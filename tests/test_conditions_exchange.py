"""Exports and imports of a study with several conditions: every raw-sort file names the
condition, and an export imported into a new study gives the same sorts per (participant, condition)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from qsort.exchange import services
from qsort.runs.services import start_run
from qsort.studies.models import Condition
from tests.conftest import make_study
from tests.runs_support import execute
from tests.test_conditions_api import both_conditions

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(study):
    Condition.objects.create(study=study, position=2, label="Recovery", question="What helps recovery?")
    both_conditions(study, people=3)
    return study


def by_pair(study) -> dict[tuple[str, str], dict[int, int]]:
    return {(s.participant.code, s.condition.label): s.values_by_number() for s in study.sorts.all()}


def test_the_qmethod_csv_and_easy_htmlq_json_name_sorts_participant_underscore_condition(two, owner):
    header = next(csv.reader(io.StringIO(services.export_study_file(two, "sorts.csv", owner).body.decode())))
    assert header == ["statement_id", "S01_Q1", "S01_Recovery", "S02_Q1", "S02_Recovery", "S03_Q1", "S03_Recovery"]
    records = json.loads(services.export_study_file(two, "results.json", owner).body)
    assert sorted(records) == sorted(header[1:])
    assert records["S02_Recovery"]["sort"] == "|".join(str(-v) for v in (-1, 0, 1, -1, 0, 1))
    dat = services.export_study_file(two, "study.dat", owner).body.decode("cp1252").splitlines()
    assert dat[2].startswith("S01_Q1") and dat[3].startswith("S01_Reco")  # PQMethod keeps 8 characters


def test_a_single_condition_study_exports_exactly_as_before(study, owner):
    from tests.runs_support import add_sorts

    add_sorts(study, 2)
    header = next(csv.reader(io.StringIO(services.export_study_file(study, "sorts.csv", owner).body.decode())))
    assert header == ["statement_id", "S01", "S02"]


def test_export_then_import_into_a_new_study_gives_the_same_sorts_per_participant_and_condition(two, owner):
    exported = services.export_study_file(two, "sorts.csv", owner).body
    fresh = make_study(owner, slug="fresh")
    Condition.objects.create(study=fresh, position=2, label="Recovery", question="What helps recovery?")
    plan = services.preview_sorts(fresh, exported)
    assert plan.problems == [] and plan.new_codes == ["S01", "S02", "S03"]
    assert services.apply_sorts(fresh, plan, owner) == 6
    assert by_pair(fresh) == by_pair(two)
    # the same file again: every (participant, condition) already has its sort
    again = services.preview_sorts(fresh, exported)
    assert len(again.problems) == 6 and "already has a sort" in again.problems[0]


def test_an_import_names_a_missing_or_unknown_condition(two, owner):
    fresh = make_study(owner, slug="fresh")
    Condition.objects.create(study=fresh, position=2, label="Recovery", question="What helps recovery?")
    rows = ["statement_id,S01,S02_Elsewhere"] + [f"{n},{v},{v}" for n, v in enumerate([-1, -1, 0, 0, 1, 1], 1)]
    plan = services.preview_sorts(fresh, "\n".join(rows).encode())
    assert len(plan.problems) == 2
    assert all("name the sort <participant>_<condition>" in p and "Q1, Recovery" in p for p in plan.problems)


def test_the_report_carries_the_condition_tables(two, owner):
    run = execute(start_run(two, owner, {"factors": 2, "extraction": "pca", "rotation": "varimax"}))
    assert run.parameters["conditions"] == ["Q1", "Recovery"]
    book = load_workbook(io.BytesIO(services.export_run_file(run, "report.xlsx", owner).body))
    assert {"Factor x condition", "Condition shifts", "Within persons"} <= set(book.sheetnames)
    sorts_sheet = [cell.value for cell in next(book["Sorts"].iter_rows(max_row=1))]
    assert sorts_sheet[:3] == ["statement_id", "S01_Q1", "S01_Recovery"]
    arrays = load_workbook(io.BytesIO(services.export_run_file(run, "factor-arrays.xlsx", owner).body))
    assert "Condition shifts" in arrays.sheetnames
