"""One owner for each sort's status: the engine says flagged / confounded / not significant, and
the API and every page of the dashboard say the same, for the reference data and for a sort with
one significant loading and no flag (which an earlier dashboard called "not flagged")."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from qsort.runs.models import AnalysisRun
from qsort.studies.services import submit_sort
from tests.conftest import make_study
from tests.runs_support import execute

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]
LIPSET = Path("/work/shared/reference/lipset/sorts.csv")
PCA3 = {"factors": 3, "extraction": "pca", "rotation": "varimax"}
LABELS = {"flagged": "flagged", "confounded": "confounded", "nonsignificant": "not significant"}


@pytest.fixture
def lipset_study(owner):
    rows = list(csv.reader(LIPSET.open()))
    sorts = {name: [int(row[c]) for row in rows[1:]] for c, name in enumerate(rows[0]) if c}
    first = next(iter(sorts.values()))
    study = make_study(owner, slug="lipset", n_statements=len(first), grid=dict(sorted(Counter(first).items())))
    for participant in study.invite(codes=list(sorts)):
        submit_sort(participant, list(enumerate(sorts[participant.code], start=1)))
    return study


def page_statuses(client, run: AnalysisRun) -> dict[str, str]:
    """Each sort's status as the loadings table shows it, over all of its pages."""
    html = client.get(f"/studies/{run.study.slug}/results/{run.pk}/loadings/").content.decode()
    rows = re.findall(
        r'<tr class="sort-(\w+)">\s*<th scope="row" id="sort-\d+">([^<]+)</th>.*?<td>(.*?)</td>\s*</tr>', html, re.S
    )
    out = {}
    for css, label, cell in rows:
        text = re.sub(r"<[^>]+>", "", cell).strip()
        assert LABELS[css] == text  # the row's class and its words say the same
        out[label] = css
    return out


def test_the_api_and_the_dashboard_agree_on_every_sort_of_the_reference_data(client, client_for, owner, lipset_study):
    run = execute(AnalysisRun.objects.create(study=lipset_study, created_by=owner, parameters={**PCA3}))
    api = client_for(owner).get(f"/api/analyses/{run.pk}/").json()["result"]
    client.force_login(owner)
    shown = page_statuses(client, run)
    assert shown == dict(zip(api["sorts"], api["sort_status"], strict=True))
    assert set(api["confounded"]) == {s for s, status in shown.items() if status == "confounded"}
    assert set(api["nonsignificant"]) == {s for s, status in shown.items() if status == "nonsignificant"}
    overview = client.get(f"/studies/{lipset_study.slug}/results/{run.pk}/").content.decode()
    counts = Counter(api["sort_status"])
    assert f"{counts['flagged']} sorts flagged" in overview
    assert f"{counts['confounded']} confounded" in overview


def test_a_sort_with_one_significant_loading_and_no_flag_is_confounded_everywhere(
    client, client_for, owner, lipset_study
):
    first = execute(AnalysisRun.objects.create(study=lipset_study, created_by=owner, parameters={**PCA3}))
    result = first.result
    # a flagged sort with exactly one significant loading: take its flag away by hand
    candidates = [
        (q, row.index(True))
        for q, (row, significant) in enumerate(zip(result["flags"], result["significant"], strict=True))
        if any(row) and sum(significant) == 1
    ]
    assert candidates, "the reference data has a sort with one significant loading"
    q, f = candidates[0]
    label = result["sorts"][q]
    run = execute(
        AnalysisRun.objects.create(
            study=lipset_study, created_by=owner, parameters={**PCA3, "flag_overrides": [[label, f + 1, False]]}
        )
    )
    api = client_for(owner).get(f"/api/analyses/{run.pk}/").json()["result"]
    assert sum(api["significant"][q]) == 1 and not any(api["flags"][q])
    assert api["sort_status"][q] == "confounded" and label in api["confounded"]
    client.force_login(owner)
    assert page_statuses(client, run)[label] == "confounded"
    confounded = client.get(f"/studies/{lipset_study.slug}/results/{run.pk}/loadings/", {"status": "confounded"})
    assert f">{label}</th>" in confounded.content.decode()
