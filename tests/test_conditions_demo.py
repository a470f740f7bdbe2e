"""The demo's two conditions: seed_demo makes the seed's design, and a run over both conditions
finds what the generator planted (demo.PLANTED_SHIFTS, demo.SWITCHED_VIEW)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.test import override_settings

from qsort.runs.services import start_run
from qsort.studies import demo
from tests.runs_support import execute

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_both_seed_questions_conditions_sorted_by_everyone(demo_two_conditions):
    study = demo_two_conditions
    assert [(c.label, c.question) for c in study.conditions.all()] == demo.CONDITIONS
    assert "relapse from Class A drugs" in demo.CONDITIONS[0][1]
    assert [(c.label, n) for c, n in study.condition_progress()] == [("Relapse", 40), ("Recovery", 40)]
    assert study.participant_counts()["completed"] == 40
    out = io.StringIO()
    with override_settings(DEBUG=True):  # seed_demo is for development only
        call_command("seed_demo", stdout=out)
    assert "already there" in out.getvalue() and study.sorts.count() == 80


def test_a_run_over_both_conditions_finds_the_planted_shifts(demo_two_conditions):
    parameters = {"factors": 3, "extraction": "pca", "rotation": "varimax", "conditions": ["Relapse", "Recovery"]}
    run = execute(start_run(demo_two_conditions, None, parameters))
    assert run.status == "done", run.error
    assert run.result["sorts"][:2] == ["D01·Relapse", "D02·Relapse"]
    tables = run.result["conditions"]

    # across participants: the planted statements are the ten that moved most, each in the
    # planted direction, each significant at .01
    top = tables["shifts"][: len(demo.PLANTED_SHIFTS)]
    assert {int(s["statement"]) for s in top} == set(demo.PLANTED_SHIFTS)
    for shift in top:
        planted = demo.PLANTED_SHIFTS[int(shift["statement"])]
        assert np.sign(shift["difference"]) == np.sign(planted) == np.sign(shift["effect"])
        assert shift["significance"] == "**" and shift["pairs"] == 40

    # within each person: those whose viewpoint was switched agree less with themselves
    correlations = {p["participant"]: p["correlation"] for p in tables["persons"]}
    switched = [correlations[f"D{i + 1:02d}"] for i in range(demo.DEMO_SORTS) if demo.switches_view(i)]
    stayed = [correlations[f"D{i + 1:02d}"] for i in range(demo.DEMO_SORTS) if not demo.switches_view(i)]
    assert np.mean(switched) < np.mean(stayed) - 0.2
    for person in tables["persons"]:
        assert len(person["moved"]) == 5
        changes = [abs(b - a) for a, b in (m["values"] for m in person["moved"])]
        assert changes == sorted(changes, reverse=True) and changes[-1] > 0

    # factor x condition: each condition's defining sorts are counted where they come from
    counts = np.array(tables["factor_counts"])
    flags = np.array(run.result["flags"])
    assert counts.shape == (3, 2)
    assert counts[:, 0].tolist() == flags[:40].sum(axis=0).tolist()
    assert counts[:, 1].tolist() == flags[40:].sum(axis=0).tolist()
