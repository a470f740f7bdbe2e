"""Entering the participant flow: personal links, the open study link, consent and leaving, steps."""

from __future__ import annotations

import pytest
from django.test import Client

from qsort.participate import services
from qsort.studies.models import Participant, SortDraft
from tests.conftest import make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant(study):
    return study.invite(1)[0]


def page(client: Client, participant: Participant):
    return client.get(f"/p/{participant.token}/")


def test_a_new_participant_sees_the_consent_without_the_staff_header(client, participant):
    response = page(client, participant)
    html = response.content.decode()
    assert response.status_code == 200
    assert "You agree to take part." in html
    assert "I agree" in html
    assert "site-nav" not in html and "Sign out" not in html
    assert "htmx" not in html  # participant pages use their own small script only
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]


def test_an_unknown_token_gets_a_kind_404_page(client):
    response = client.get("/p/not-a-real-token/")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


@pytest.mark.parametrize(("status", "words"), [("draft", "has not started yet"), ("closed", "has finished")])
def test_a_study_that_is_not_open_shows_a_kind_message(client, owner, status, words):
    participant = make_study(owner, slug=f"s-{status}", status=status).invite(1)[0]
    response = page(client, participant)
    assert response.status_code == 200
    assert words in response.content.decode()
    assert "I agree" not in response.content.decode()


def test_leaving_before_consent_stores_nothing(client, participant):
    before = Participant.objects.values().get(pk=participant.pk)
    response = client.post(f"/p/{participant.token}/consent/", {"choice": "leave"})
    assert response.status_code == 200
    assert "Nothing about you was saved" in response.content.decode()
    assert Participant.objects.values().get(pk=participant.pk) == before
    assert not SortDraft.objects.exists()


def test_agreeing_records_consent_and_opens_the_instructions(client, participant):
    response = client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    assert response.status_code == 302 and response["Location"] == f"/p/{participant.token}/"
    participant.refresh_from_db()
    assert participant.stage == "consented" and participant.consented_at is not None
    assert participant.drafts.get().state["version"] == 0
    html = page(client, participant).content.decode()
    assert "What matters most?" in html and "How it works" in html and "Step 2 of 6" in html


def test_steps_move_forward_only_when_the_work_is_done(client, participant):
    client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    client.post(f"/p/{participant.token}/step/", {"to": "presort"})
    participant.refresh_from_db()
    assert participant.stage == "presort" and participant.started_at is not None

    response = client.post(f"/p/{participant.token}/step/", {"to": "sorting"}, follow=True)
    participant.refresh_from_db()
    assert participant.stage == "presort"
    assert "Please look at every card first: 6 still to go." in response.content.decode()

    draft = participant.drafts.get()
    draft.state = {"version": 3, "presort": [[n, "neutral"] for n in range(1, 7)], "grid": {}}
    draft.save()
    client.post(f"/p/{participant.token}/step/", {"to": "sorting"})
    response = client.post(f"/p/{participant.token}/step/", {"to": "review"}, follow=True)
    participant.refresh_from_db()
    assert participant.stage == "sorting"
    assert "6 still to place" in response.content.decode()

    draft.state["grid"] = {"-1": [1, 2], "0": [3, 4], "1": [5, 6]}
    draft.save()
    client.post(f"/p/{participant.token}/step/", {"to": "review"})
    participant.refresh_from_db()
    assert participant.stage == "review"
    assert 'name="placement" value="5:1"' in page(client, participant).content.decode()


def test_a_step_cannot_be_skipped(client, participant):
    client.post(f"/p/{participant.token}/consent/", {"choice": "agree"})
    client.post(f"/p/{participant.token}/step/", {"to": "review"})
    participant.refresh_from_db()
    assert participant.stage == "consented"


def test_the_open_link_creates_a_participant_only_on_agree_and_only_once(client, owner):
    study = make_study(owner, slug="open", open_link_enabled=True)
    response = client.get("/s/open/")
    assert response.status_code == 200 and "I agree" in response.content.decode()
    assert not study.participants.exists()

    client.post("/s/open/", {"choice": "leave"})
    assert not study.participants.exists()

    response = client.post("/s/open/", {"choice": "agree"})
    participant = study.participants.get()
    assert response["Location"] == f"/p/{participant.token}/"
    assert participant.stage == "consented" and participant.consented_at is not None

    # A second visit from the same browser offers to continue (or to start anew: shared devices);
    # the consent form sent twice does not start again.
    resume = client.get("/s/open/").content.decode()
    assert f'href="/p/{participant.token}/"' in resume and "Not you? Start a new sort" in resume
    assert client.post("/s/open/", {"choice": "agree"})["Location"] == f"/p/{participant.token}/"
    assert study.participants.count() == 1

    # Another browser is another participant.
    Client().post("/s/open/", {"choice": "agree"})
    assert study.participants.count() == 2


def test_the_open_link_is_a_404_unless_the_facilitator_enabled_it(client, study):
    response = client.get(f"/s/{study.slug}/")
    assert response.status_code == 404
    client.post(f"/s/{study.slug}/", {"choice": "agree"})
    assert study.participants.count() == 0


def test_the_open_link_of_a_closed_study_says_so_kindly(client, owner):
    study = make_study(owner, slug="shut", open_link_enabled=True, status="closed")
    response = client.post("/s/shut/", {"choice": "agree"})
    assert "has finished" in response.content.decode()
    assert not study.participants.exists()


def test_pages_speak_the_studys_language(client, owner):
    participant = make_study(owner, slug="de", language="de").invite(1)[0]
    response = page(client, participant)
    assert '<html lang="de">' in response.content.decode()


@pytest.mark.parametrize("stage", ["presort", "sorting", "review"])
def test_the_sorting_pages_use_a_fixed_handful_of_queries(client, demo_study, stage, django_assert_max_num_queries):
    participant = demo_study.invite(1)[0]
    numbers = list(range(1, 39))
    values = [value for value, capacity in demo_study.grid().items() for _ in range(capacity)]
    grid: dict[str, list[int]] = {}
    for number, value in zip(numbers, values, strict=True):
        grid.setdefault(str(value), []).append(number)
    services.consent(participant)
    services.save_draft(participant, {"version": 1, "presort": [[n, "agree"] for n in numbers], "grid": grid})
    Participant.objects.filter(pk=participant.pk).update(stage=stage)
    # two of them find the participant's current condition of instruction (and the review's
    # questions after it): more conditions add none
    with django_assert_max_num_queries(10):
        response = page(client, participant)
    html = response.content.decode()
    assert all(f'data-number="{n}"' in html for n in numbers)  # every card drawn


@pytest.mark.parametrize("stage", ["invited", "presort", "sorting", "review"])
def test_every_participant_page_loads_under_100_kb_of_script_and_style_and_nothing_inline(client, owner, stage):
    """Cheap phones on slow data: the page's own JS + CSS stay under 100 KB uncompressed. And with
    the coming Content-Security-Policy (default-src 'self'), no inline script, handler or style."""
    import re
    from pathlib import Path

    from django.contrib.staticfiles import finders

    participant = make_study(owner, slug="weight").invite(1)[0]
    Participant.objects.filter(pk=participant.pk).update(stage=stage)
    html = page(client, participant).content.decode()
    urls = re.findall(r'<script src="/static/([^"]+)"', html) + re.findall(
        r'rel="stylesheet" href="/static/([^"]+)"', html
    )
    assert "js/participate.js" in urls and "css/participate.css" in urls
    assert sum(Path(finders.find(url)).stat().st_size for url in urls) < 100 * 1024
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html) == []
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html)
