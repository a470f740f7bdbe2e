"""Fuzzing every participant and staff form field: whatever is typed or sent, no answer is a 500.

Staff forms are found by reading the pages themselves (every <form method="post"> and its field
names), so a new form is fuzzed without being listed here. Each test prints how many requests
it sent. FUZZ_EXAMPLES sets the examples per form (default 12).
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from qsort.participate import services as participate
from qsort.runs.services import start_run
from tests.runs_support import add_sorts, execute

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The inputs that broke the server before (issue 11), and their relatives.
NASTY = [
    "²:1", "²", "1" * 5000, "9" * 20, "\u0661\u0662", "-0", "+", "1:1", "-4:2", " 3 ", "3:²", "NaN", "1e5", "0x1F",
    "\x00", "a\x00b", "=1+1", "<script>alert(1)</script>", "", " ", "-", "1:", ":1", "1:2:3", "+4", "99",
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
    st.from_regex(r"[+-]?[0-9²³\u0661]{0,12}(:[+-]?[0-9²]{0,4})?", fullmatch=True),
)
JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from([*NASTY, "\ud800", "x\udfffy"]),
)
JSON = st.recursive(
    JSON_SCALAR,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)

sent = {"requests": 0}


def check(response) -> None:
    sent["requests"] += 1
    assert response.status_code < 500, (response.status_code, response.content[:500])


def report(capsys, what: str) -> None:
    with capsys.disabled():
        print(f"\n[fuzz] {what}: {sent['requests']} requests, none answered 5xx")
    sent["requests"] = 0


# --- reading forms from pages -------------------------------------------------------------
class Forms(HTMLParser):
    """Every POST form on a page: (action, [field names]) with hidden values kept as sent."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str], dict[str, str]]] = []
        self._open: tuple[str, list[str], dict[str, str]] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self._open = (attributes.get("action") or "", [], {})
        elif self._open is not None and tag in {"input", "select", "textarea", "button"}:
            name = attributes.get("name")
            if not name or name == "csrfmiddlewaretoken" or attributes.get("type") == "file":
                return
            self._open[1].append(name)
            if attributes.get("type") == "hidden" or tag == "button":
                self._open[2][name] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._open is not None:
            self.forms.append(self._open)
            self._open = None


def post_forms(client, pages: list[str]) -> list[tuple[str, tuple[str, ...], dict[str, str]]]:
    found = {}
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        parser = Forms()
        parser.feed(response.content.decode())
        for action, names, fixed in parser.forms:
            action = action or page
            if any(word in action for word in ("delete", "withdraw", "logout")):
                continue  # fuzzing these would only remove what the other forms need
            found[(action, tuple(sorted(set(names))))] = fixed
    return [(action, names, fixed) for (action, names), fixed in found.items()]


@pytest.fixture
def analysed(study, owner):
    add_sorts(study, 6)
    run = execute(start_run(study, owner, {"factors": 2, "extraction": "pca", "rotation": "varimax"}))
    question = study.questions.create(text="Why?", position=0)
    return study, run, question


def test_no_staff_form_field_makes_the_server_fail(client, owner, analysed, capsys):
    study, run, question = analysed
    client.force_login(owner)
    base = f"/studies/{study.slug}/"
    statement = study.statements.first()
    pages = [
        "/studies/",
        "/studies/new/",
        "/studies/import/",
        base,
        base + "settings/",
        base + "deck/",
        base + "grid/",
        base + "participants/",
        base + "paper-sort/",
        base + "team/",
        base + "results/",
        base + f"results/{run.pk}/",
        base + "data/",
        base + f"questions/{question.pk}/edit/",
        base + f"deck/{statement.pk}/edit/",
    ]
    forms = post_forms(client, pages)
    assert len(forms) >= 15, forms

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        for action, names, fixed in forms:
            body = {
                name: data.draw(st.lists(TEXT, min_size=0, max_size=3))
                if name not in fixed or data.draw(st.booleans())
                else fixed[name]
                for name in names
            }
            check(client.post(action, body))
            check(client.post(action, body, HTTP_HX_REQUEST="true"))

    fuzz()
    report(capsys, f"{len(forms)} staff forms")


def test_no_participant_field_makes_the_server_fail(client, study, capsys):
    study.open_link_enabled = True
    study.save(update_fields=["open_link_enabled"])
    question = study.questions.create(text="Why?", position=0)
    api = APIClient()

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        participant = study.invite(1)[0]
        token = participant.token
        check(client.post(f"/p/{token}/consent/", {"choice": data.draw(st.sampled_from(["agree", *NASTY]))}))
        participate.consent(participant)
        check(client.post(f"/p/{token}/step/", {"to": data.draw(TEXT)}))
        check(client.post(f"/p/{token}/step/", {"to": "presort"}))
        check(
            client.post(
                f"/p/{token}/save/",
                json.dumps(data.draw(JSON)),
                content_type="application/json",
            )
        )
        check(client.post(f"/p/{token}/save/", data.draw(st.binary(max_size=200)), content_type="application/json"))
        state = {
            "version": data.draw(st.one_of(st.integers(), TEXT)),
            "presort": data.draw(st.lists(st.lists(JSON_SCALAR, max_size=3), max_size=3)),
            "grid": data.draw(st.dictionaries(TEXT, st.lists(JSON_SCALAR, max_size=3), max_size=3)),
            "comments": data.draw(st.dictionaries(TEXT, JSON_SCALAR, max_size=3)),
            "answers": {str(question.pk): data.draw(JSON_SCALAR)},
        }
        check(client.post(f"/p/{token}/save/", json.dumps(state), content_type="application/json"))
        form = {
            "placement": data.draw(st.lists(TEXT, max_size=8)),
            f"comment-{data.draw(TEXT)}": data.draw(TEXT),
            "comment-1": data.draw(TEXT),
            f"answer-{question.pk}": data.draw(TEXT),
            f"answer-{data.draw(TEXT)}": data.draw(TEXT),
        }
        check(client.post(f"/p/{token}/submit/", form))
        check(client.post(f"/s/{study.slug}/", {"choice": data.draw(st.sampled_from(["agree", "new", *NASTY]))}))
        body = {
            "values": data.draw(st.one_of(JSON, st.dictionaries(TEXT, JSON_SCALAR, max_size=8))),
            "comments": data.draw(st.one_of(JSON, st.dictionaries(TEXT, JSON_SCALAR, max_size=3))),
            "answers": data.draw(st.one_of(JSON, st.dictionaries(TEXT, JSON_SCALAR, max_size=3))),
        }
        check(api.post(f"/api/participate/{token}/sort/", json.dumps(body), content_type="application/json"))
        check(api.post(f"/api/participate/{token}/sort/", json.dumps(data.draw(JSON)), content_type="application/json"))
        check(
            api.post(f"/api/participate/{token}/consent/", json.dumps(data.draw(JSON)), content_type="application/json")
        )

    fuzz()
    report(capsys, "participant pages and API")
