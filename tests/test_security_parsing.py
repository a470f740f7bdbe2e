"""Every malformed input from issue 11 answers 400 (or the page again) with a clear message, never 500."""

from __future__ import annotations

import html
import json

import pytest
from rest_framework.test import APIClient

from qsort.participate import services as participate
from qsort.runs.services import start_run
from qsort.security.parsing import InputRejected, load_json, whole_number
from qsort.studies.models import Participant, Sort, SortDraft
from tests.runs_support import add_sorts, execute

DEEP = "[" * 20_000 + "]" * 20_000  # far past Python's recursion limit, under the 64 KB autosave cap
HUGE = "1" * 5000
GOOD_VALUES = {"1": -1, "2": -1, "3": 0, "4": 0, "5": 1, "6": 1}


def short(value: object) -> str | None:
    """Test ids that stay readable when the input is 40,000 brackets long."""
    return ascii(value)[:30] if isinstance(value, str | bytes | dict) else None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), ("-4", -4), ("+2", 2), (" 3 ", 3), (7, 7), (2.0, 2), ("²", None), ("\u0661\u0662", None),
     (HUGE, None), ("9" * 10, None), (10**12, None), (True, None), ("1e3", None), ("", None), (None, None),
     ("0x10", None), ("1_000", None), ("3\n", None)],
    ids=short,
)  # fmt: skip
def test_whole_numbers_are_ascii_digits_within_bounds(raw, expected):
    assert whole_number(raw) == expected


def test_bounds_are_the_callers():
    assert whole_number("5", low=1, high=4) is None
    assert whole_number("4", low=1, high=4) == 4


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (DEEP, "nested too deeply"),
        ("[" * 21 + "]" * 21, "nested too deeply"),
        ('{"a": "\\u0000"}', "cannot be stored"),
        ('{"\\ud800": 1}', "cannot be stored"),
        ('["x\\udfffy"]', "cannot be stored"),
        ("[NaN]", "not a number"),
        ("[Infinity]", "not a number"),
        (HUGE, "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("{", "not valid JSON"),
    ],
    ids=short,
)
def test_json_is_read_with_limits(body, message):
    with pytest.raises(InputRejected, match=message):
        load_json(body)


def test_twenty_levels_of_json_are_fine():
    assert load_json("[" * 20 + "]" * 20) is not None


# --- the participant's pages --------------------------------------------------------------
@pytest.fixture
def reviewing(study):
    participant = study.invite(1)[0]
    participate.consent(participant)
    Participant.objects.filter(pk=participant.pk).update(stage="review")
    return participant


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"placement": ["²:1"]}, "'²' is not a statement number."),
        ({"placement": ["1:²"]}, "has the value '²'"),
        ({"placement": [f"{HUGE}:1"]}, "is not a statement number."),
        ({"placement": [f"1:{HUGE}"]}, "which is not a whole number"),
        ({"placement": [f"{n}:{v}" for n, v in GOOD_VALUES.items()], "comment-1": "a\x00b"}, "cannot be stored"),
        ({"placement": [f"{n}:{v}" for n, v in GOOD_VALUES.items()], "comment-²": "x"}, "not a statement number"),
    ],
    ids=short,
)
def test_malformed_submits_get_the_review_again_with_a_message(client, reviewing, form, message):
    response = client.post(f"/p/{reviewing.token}/submit/", form)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Sort.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (DEEP, "nested too deeply"),
        ('{"version": 2, "comments": {"1": "a\\u0000b"}}', "cannot be stored"),
        ('{"version": 2, "comments": {"1": "\\ud800"}}', "cannot be stored"),
        ('{"version": 2, "grid": {"\\u00b2": [1]}}', "not part of this study"),
        ('{"version": 2, "grid": {"1": [' + HUGE + "]}}", "not valid JSON"),
        ('{"version": 2, "grid": {"1": [99999999999]}}', "is not a statement of this study"),
        ('{"version": ' + "9" * 30 + "}", "no version number"),
        ('{"version": NaN}', "not a number"),
    ],
    ids=short,
)
def test_malformed_autosaves_get_400_with_a_message(client, reviewing, body, message):
    response = client.post(f"/p/{reviewing.token}/save/", body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert SortDraft.objects.get(participant=reviewing).state["version"] == 0


# --- the API ------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ('{"values": {"\\u00b2": 1}}', "values", "'²' is not a statement number."),
        ('{"values": {"' + HUGE + '": 1}}', "values", "is not a statement number"),
        ('{"values": {"1": ' + HUGE + "}}", "detail", "not valid JSON"),
        ('{"values": ' + DEEP + "}", "detail", "nested too deeply"),
        (json.dumps({"values": GOOD_VALUES, "comments": {"1": "a\x00b"}}), "detail", "cannot be stored"),
        ('{"values": {"1": -1}, "comments": {"1": "\\ud800"}}', "detail", "cannot be stored"),
        ('{"values": {"1": NaN}}', "detail", "not a number"),
    ],
    ids=short,
)
def test_malformed_api_submits_get_400_with_a_message(reviewing, body, field, message):
    response = APIClient().post(f"/api/participate/{reviewing.token}/sort/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert message in json.dumps(response.json()[field], ensure_ascii=False)
    assert not Sort.objects.exists()


@pytest.mark.django_db
def test_a_deeply_nested_staff_api_body_gets_400(client_for, owner, study):
    response = client_for(owner).patch(f"/api/studies/{study.slug}/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


# --- staff pages with numbers in their forms ----------------------------------------------
@pytest.mark.django_db
def test_the_grid_editor_paper_sort_and_flag_pages_refuse_odd_digits_without_failing(client, owner, study):
    add_sorts(study, 4)
    run = execute(start_run(study, owner, {"factors": 2, "extraction": "pca", "rotation": "varimax"}))
    client.force_login(owner)
    base = f"/studies/{study.slug}/"
    picture = client.post(base + "grid/", {"part": "picture", "half_range": "1", "cap_0": "²", "cap_1": HUGE})
    assert picture.status_code == 200
    assert client.post(base + "grid/", {"part": "picture", "half_range": "²"}).status_code < 500
    assert client.post(base + "grid/", {"half_range": "\u0661", "cap_0": "²"}).status_code in {200, 302, 400}
    paper = client.post(base + "paper-sort/", {"participant": "²", "mode": "values", "s_1": "²", "code": "X"})
    assert paper.status_code in {200, 400, 422}
    assert "not a whole number" in paper.content.decode()
    for flag in ("²:1", "1:²", f"{HUGE}:1", "1:" + HUGE):
        response = client.post(base + f"results/{run.pk}/flags/", {"flag": flag})
        assert response.status_code == 302
    assert client.post(base + f"results/{run.pk}/reflect/", {"factor": "²"}).status_code == 302
    assert client.get(base + f"results/{run.pk}/?x=²&y={HUGE}").status_code == 200


pytest_plugins = ["tests.api_support"]
