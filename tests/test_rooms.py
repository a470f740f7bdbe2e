"""Focus-group sessions: creating them, joining through their own link (only while open and up to
their seats), the room screen and its discussion board (never below three sorts), the API, and the
interview guides and factor schedules."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from docx import Document

from qsort.analysis.group import group_summary
from qsort.rooms import services
from qsort.rooms.models import InterviewPrompts, Seat, Session
from qsort.runs.models import AnalysisRun
from qsort.studies.models import Participant, SortComment
from qsort.studies.services import submit_sort
from tests.api_support import token_client
from tests.runs_support import add_sorts, execute

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# Four sorts of the `study` fixture's six statements (grid -1..+1, two cards each).
FOUR_SORTS = [
    {1: 1, 2: 1, 3: 0, 4: 0, 5: -1, 6: -1},
    {1: 1, 2: 0, 3: 1, 4: -1, 5: 0, 6: -1},
    {1: 1, 2: -1, 3: 0, 4: 1, 5: 0, 6: -1},
    {1: 0, 2: 1, 3: -1, 4: 0, 5: 1, 6: -1},
]


@pytest.fixture
def session(study, facilitator):
    return Session.objects.create(study=study, name="Focus group 2, Tuesday 14:00", seats=4, created_by=facilitator)


def join(client, session) -> Participant:
    response = client.post(f"/j/{session.join_token}/", {"choice": "agree"})
    assert response.status_code == 302, response.content.decode()[:300]
    token = response["Location"].strip("/").rsplit("/", 1)[-1]
    return Participant.objects.get(token=token)


def sorted_in(session, sorts, **first_extras) -> list[Participant]:
    """Complete sorts through personal links of the session; the first one may carry comments
    and answers."""
    participants = session.invite(len(sorts))
    for i, (participant, values) in enumerate(zip(participants, sorts, strict=True)):
        submit_sort(participant, values.items(), **(first_extras if i == 0 else {}))
    return participants


# --- creating sessions -------------------------------------------------------------------------
def test_a_facilitator_creates_a_session_and_lands_on_its_page(client, study, facilitator):
    client.force_login(facilitator)
    response = client.post(
        "/studies/tiny/sessions/",
        {"name": "Focus group 1", "place": "Room 4", "starts_at": "2026-12-01T14:00", "seats": 6},
    )
    session = Session.objects.get()
    assert response["Location"] == f"/studies/tiny/sessions/{session.pk}/"
    assert (session.name, session.place, session.seats, session.study, session.created_by) == (
        "Focus group 1",
        "Room 4",
        6,
        study,
        facilitator,
    )
    page = client.get(response["Location"]).content.decode()
    assert session.join_url in page and f"/studies/tiny/sessions/{session.pk}/qr.svg" in page


@pytest.mark.parametrize(("seats", "message"), [(0, "greater than or equal to 1"), (61, "less than or equal to 60")])
def test_it_refuses_a_session_with_impossible_seats_and_stores_nothing(client, study, facilitator, seats, message):
    client.force_login(facilitator)
    response = client.post("/studies/tiny/sessions/", {"name": "Too many", "seats": seats})
    assert response.status_code == 400 and message in response.content.decode()
    assert not Session.objects.exists()


def test_researchers_see_sessions_but_cannot_create_or_run_them_and_strangers_see_nothing(
    client, study, session, researcher, stranger
):
    client.force_login(researcher)
    assert "Focus group 2" in client.get("/studies/tiny/sessions/").content.decode()
    assert client.post("/studies/tiny/sessions/", {"name": "x", "seats": 3}).status_code == 403
    for url in ("", "room/", "qr.svg"):
        assert client.get(f"/studies/tiny/sessions/{session.pk}/{url}").status_code == 403
    client.force_login(stranger)
    for url in ("/studies/tiny/sessions/", f"/studies/tiny/sessions/{session.pk}/room/"):
        assert client.get(url).status_code == 404


def test_a_session_of_another_study_is_not_found_through_this_one(client, owner, facilitator, session):
    from tests.conftest import make_study

    other = make_study(owner, slug="other")
    client.force_login(owner)
    assert client.get(f"/studies/{other.slug}/sessions/{session.pk}/room/").status_code == 404


# --- joining -----------------------------------------------------------------------------------
def test_joining_asks_for_consent_then_gives_the_next_seat_and_a_personal_link(client, session):
    page = client.get(f"/j/{session.join_token}/")
    assert page.status_code == 200 and "I agree" in page.content.decode()
    assert not Participant.objects.exists(), "nothing is stored before 'I agree'"
    first = join(client, session)
    second = join(client.__class__(), session)
    assert [first.seat.number, second.seat.number] == [1, 2]
    assert first.consented_at is not None and first.stage == Participant.Stage.CONSENTED
    again = client.get(f"/j/{session.join_token}/")
    assert again["Location"] == f"/p/{first.token}/", "the same browser goes back to its own sort"
    submit_sort(first, FOUR_SORTS[0].items())
    assert client.get(f"/j/{session.join_token}/").status_code == 200, "a finished sort is not reopened"


def test_the_join_code_can_be_typed_in_lower_case(client, session):
    assert client.get(f"/j/{session.join_token.lower()}/").status_code == 200


def test_a_full_session_refuses_the_next_person_and_creates_nobody(client, session):
    for _ in range(session.seats):
        join(client.__class__(), session)
    response = client.post(f"/j/{session.join_token}/", {"choice": "agree"})
    assert response.status_code == 409 and "Every seat of this session is taken" in response.content.decode()
    assert client.get(f"/j/{session.join_token}/").status_code == 409
    assert Participant.objects.count() == Seat.objects.count() == session.seats


def test_closing_the_session_closes_the_door(client, facilitator, session):
    staff = client.__class__()
    staff.force_login(facilitator)
    staff.post(f"/studies/tiny/sessions/{session.pk}/status/", {"status": "closed"})
    response = client.post(f"/j/{session.join_token}/", {"choice": "agree"})
    assert response.status_code == 200 and "This session is closed" in response.content.decode()
    assert not Participant.objects.exists()


def test_leaving_at_consent_stores_nothing_and_unknown_codes_are_not_found(client, session):
    left = client.post(f"/j/{session.join_token}/", {"choice": "leave"}).content.decode()
    assert f'href="/j/{session.join_token}/"' in left and "Go back to the start" in left
    assert not Participant.objects.exists()
    assert client.get("/j/NOSUCHCODE/").status_code == 404


def test_personal_links_from_a_session_belong_to_it_and_respect_its_seats(client, facilitator, session):
    client.force_login(facilitator)
    client.post(f"/studies/tiny/sessions/{session.pk}/invite/", {"count": 3})
    page = client.get(f"/studies/tiny/sessions/{session.pk}/").content.decode()
    seated = list(Participant.objects.filter(seat__session=session).order_by("seat__number"))
    assert [p.seat.number for p in seated] == [1, 2, 3]
    assert all(p.link in page for p in seated)
    response = client.post(f"/studies/tiny/sessions/{session.pk}/invite/", {"count": 2}, follow=True)
    assert "Not enough free seats" in response.content.decode()
    assert Participant.objects.count() == 3


# --- the room screen ---------------------------------------------------------------------------
def test_the_room_screen_shows_the_question_join_link_and_each_seat_by_number_only(client, facilitator, session):
    people = [join(client.__class__(), session) for _ in range(3)]
    from qsort.participate import services as flow

    flow.go_to(people[1], Participant.Stage.PRESORT)
    flow.save_draft(people[1], {**flow.empty_state(), "version": 1, "presort": [[1, "agree"], [2, "neutral"]]})
    submit_sort(people[2], FOUR_SORTS[0].items())
    client.force_login(facilitator)
    page = client.get(f"/studies/tiny/sessions/{session.pk}/room/").content.decode()
    assert session.study.condition_of_instruction in page
    assert session.join_prefix in page and session.join_token in page
    assert "Seat 1" in page and "Seat 3" in page and "1 of 3 finished" in page
    assert "2 of 6" in page, "seat 2 has looked at 2 of the 6 cards"
    for person in people:
        assert person.token not in page
    partial = client.get(f"/studies/tiny/sessions/{session.pk}/room/", **HTMX).content.decode()
    assert partial.strip().startswith('<div id="live"') and "<html" not in partial


def test_the_board_is_refused_below_three_sorts_and_shows_no_statement_then(client, facilitator, session, study):
    sorted_in(session, FOUR_SORTS[:2])
    client.force_login(facilitator)
    client.post(f"/studies/tiny/sessions/{session.pk}/room/screen/", {"screen": "board"})
    page = client.get(f"/studies/tiny/sessions/{session.pk}/room/").content.decode()
    assert "at least 3 people have finished" in page
    for statement in study.statements.all():
        assert statement.text not in page


def test_the_board_shows_what_the_group_agrees_on_and_is_split_on_as_computed_by_hand(
    client, facilitator, session, study
):
    sorted_in(session, FOUR_SORTS)
    client.force_login(facilitator)
    client.post(f"/studies/tiny/sessions/{session.pk}/room/screen/", {"screen": "board"})
    page = client.get(f"/studies/tiny/sessions/{session.pk}/room/").content.decode()
    # By hand: means 0.75, 0.25, 0, 0, 0, -1. Agree most: 1, then 2; reject most: 6 alone.
    texts = dict(study.statements.values_list("number", "text"))
    agree = page.split('id="agree-heading"')[1].split("</section>")[0]
    assert agree.index(texts[1]) < agree.index(texts[2]) and texts[3] not in agree
    reject = page.split('id="reject-heading"')[1].split("</section>")[0]
    assert texts[6] in reject and texts[5] not in reject
    split = page.split('id="split-heading"')[1].split("</section>")[0]
    # Statements 3 and 4 were placed at both +1 and -1 (polarised on a -1..+1 grid); 6 never splits.
    assert texts[3] in split and texts[4] in split and texts[6] not in split
    assert "picture from 4 finished sorts." in page


def test_comments_appear_on_the_board_only_when_the_study_allows_and_without_seats(client, facilitator, session, study):
    sorted_in(session, FOUR_SORTS[:3], comments={1: "My family keeps me going"})
    client.force_login(facilitator)
    client.post(f"/studies/tiny/sessions/{session.pk}/room/screen/", {"screen": "board"})
    assert "My family keeps me going" not in client.get(f"/studies/tiny/sessions/{session.pk}/room/").content.decode()
    study.room_shows_comments = True
    study.save(update_fields=["room_shows_comments"])
    page = client.get(f"/studies/tiny/sessions/{session.pk}/room/").content.decode()
    comments = page.split('id="comments-heading"')[1]
    assert "My family keeps me going" in comments and "Seat" not in comments.split("</section>")[0]


# --- the API -----------------------------------------------------------------------------------
def test_the_api_lists_and_creates_sessions_and_hides_the_join_link_from_researchers(
    study, session, facilitator, researcher, stranger
):
    created = token_client(facilitator).post(
        "/api/studies/tiny/sessions/", {"name": "Group 3", "seats": 5}, format="json"
    )
    assert created.status_code == 201 and created.json()["join_url"].startswith("http://127.0.0.1:8000/j/")
    listed = token_client(researcher).get("/api/studies/tiny/sessions/").json()
    assert [s["name"] for s in listed] == ["Group 3", "Focus group 2, Tuesday 14:00"]
    assert all(s["join_url"] is None for s in listed)
    assert token_client(researcher).post("/api/studies/tiny/sessions/", {"name": "x", "seats": 2}).status_code == 403
    assert token_client(stranger).get("/api/studies/tiny/sessions/").status_code == 404
    bad = token_client(facilitator).post("/api/studies/tiny/sessions/", {"name": "", "seats": 99}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"name", "seats"}


def test_the_summary_needs_three_sorts_and_then_matches_the_engine(session, study, researcher, stranger):
    people = sorted_in(session, FOUR_SORTS[:2])
    too_small = token_client(researcher).get(f"/api/sessions/{session.pk}/summary/")
    assert too_small.status_code == 409 and "at least 3" in too_small.json()["detail"]
    submit_sort(session.invite(1)[0], FOUR_SORTS[2].items())
    body = token_client(researcher).get(f"/api/sessions/{session.pk}/summary/").json()
    expected = group_summary(np.array([[s[n] for s in FOUR_SORTS[:3]] for n in range(1, 7)]), [-1, 0, 1])
    assert body["sorts"] == 3 and body["columns"] == ["-1", "0", "+1"]
    assert [c["number"] for c in body["agree_most"]] == [i + 1 for i in expected.agree_most]
    assert [c["number"] for c in body["split"]] == [i + 1 for i in expected.split]
    assert sum(body["heat_map"][0]["counts"].values()) == 3
    assert not any(p.token in json.dumps(body) for p in people)
    assert token_client(stranger).get(f"/api/sessions/{session.pk}/summary/").status_code == 404


def test_the_schema_documents_the_session_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/studies/{slug}/sessions/" in schema["paths"]
    assert "/api/sessions/{session_id}/summary/" in schema["paths"]


# --- interview guides --------------------------------------------------------------------------
def test_a_participants_guide_holds_their_sort_extremes_comments_answers_and_prompts(
    client, study, session, researcher
):
    question = study.questions.create(text="What helped you most?", position=1)
    person = sorted_in(
        session,
        FOUR_SORTS[:3],
        comments={1: "My family keeps me going", 5: "Not for me"},
        answers={question.pk: "The group"},
    )[0]
    client.force_login(researcher)
    page = client.get(f"/studies/tiny/participants/{person.pk}/guide/").content.decode()
    texts = dict(study.statements.values_list("number", "text"))
    assert person.label in page and person.token not in page
    assert f"You placed &#x27;{texts[1]}&#x27; at +1 and wrote &#x27;My family keeps me going&#x27;" in page
    assert f"You placed &#x27;{texts[2]}&#x27; at +1. What made it" in page
    assert "while the group&#x27;s average is" in page
    assert "You answered &#x27;What helped you most?&#x27; with &#x27;The group&#x27;" in page
    assert "the group mean of Focus group 2" in page, "with no run, differences are from the session's mean"

    document = Document(io.BytesIO(client.get(f"/studies/tiny/participants/{person.pk}/guide.docx").content))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    for number in (1, 2, 5, 6):
        assert texts[number] in text
    assert "My family keeps me going" in text and "The group" in text and person.token not in text


def test_guide_prompts_follow_the_studys_wording_and_refuse_unknown_placeholders(client, study, facilitator):
    client.force_login(facilitator)
    bad = client.post("/studies/tiny/interview-prompts/", {**InterviewPrompts.DEFAULTS, "agree": "Hi {name}"})
    assert bad.status_code == 400 and "Unknown placeholder {name}" in bad.content.decode()
    client.post(
        "/studies/tiny/interview-prompts/", {**InterviewPrompts.DEFAULTS, "agree_no_comment": "Why {statement}?"}
    )
    participant = study.invite(1)[0]
    submit_sort(participant, FOUR_SORTS[0].items())
    texts = dict(study.statements.values_list("number", "text"))
    page = client.get(f"/studies/tiny/participants/{participant.pk}/guide/").content.decode()
    assert f"Why {texts[1]}?" in page


def test_a_guide_needs_a_completed_sort_and_strangers_get_nothing(client, study, stranger, facilitator):
    waiting = study.invite(1)[0]
    client.force_login(facilitator)
    assert client.get(f"/studies/tiny/participants/{waiting.pk}/guide/").status_code == 404
    submit_sort(waiting, FOUR_SORTS[0].items())
    client.force_login(stranger)
    assert client.get(f"/studies/tiny/participants/{waiting.pk}/guide/").status_code == 404
    assert client.get(f"/studies/tiny/participants/{waiting.pk}/guide.docx").status_code == 404


# --- factor schedules --------------------------------------------------------------------------
@pytest.fixture
def analysed(study, owner):
    add_sorts(study, 9)
    run = AnalysisRun.objects.create(
        study=study, created_by=owner, parameters={"factors": 2, "extraction": "pca", "rotation": "varimax"}
    )
    return execute(run)


def test_a_factor_schedule_quotes_only_the_sorts_that_define_the_factor(client, study, analysed, researcher):
    result = analysed.result
    defining = {label for label, row in zip(result["sorts"], result["flags"], strict=True) if row[0]}
    others = set(result["sorts"]) - defining
    assert defining and others
    for participant in study.participants.all():
        sort = participant.sorts.get()
        SortComment.objects.create(
            sort=sort, statement=study.statements.get(number=1), text=f"Said by {participant.label}"
        )
    client.force_login(researcher)
    page = client.get(f"/studies/tiny/results/{analysed.pk}/factors/1/schedule/").content.decode()
    for label in defining:
        assert f"Said by {label}" in page
    for label in others:
        assert f"Said by {label}" not in page
    document = Document(io.BytesIO(client.get(f"/studies/tiny/results/{analysed.pk}/factors/1/schedule.docx").content))
    quoted = "\n".join(p.text for p in document.paragraphs)
    assert {label for label in result["sorts"] if f"Said by {label}" in quoted} == defining


def test_a_schedule_lists_the_factors_outer_columns_distinguishing_and_consensus_from_the_run(
    client, study, analysed, researcher, facilitator
):
    result = analysed.result
    texts = dict(study.statements.values_list("number", "text"))
    client.force_login(researcher)
    page = client.get(f"/studies/tiny/results/{analysed.pk}/factors/2/schedule/").content.decode()
    agree = page.split("Characterising statements: most agree")[1].split("</section>")[0]
    for statement, row in zip(result["statements"], result["factor_arrays"], strict=True):
        assert (texts[int(statement)] in agree) is (row[1] == 1)
    assert client.get(f"/studies/tiny/results/{analysed.pk}/factors/3/schedule/").status_code == 404
    client.force_login(facilitator)
    assert client.get(f"/studies/tiny/results/{analysed.pk}/factors/2/schedule/").status_code == 200
    assert client.get(f"/studies/tiny/results/{analysed.pk}/factors/2/schedule.docx").status_code == 403


def test_a_german_study_turns_late_joiners_away_in_german(client, study, session):
    study.language = "de"
    study.save(update_fields=["language"])
    session.set_status(Session.Status.CLOSED)
    closed = client.get(f"/j/{session.join_token}/").content.decode()
    assert "Diese Sitzung ist geschlossen." in closed and 'lang="de"' in closed
    session.set_status(Session.Status.OPEN)
    session.seats = 1
    session.save(update_fields=["seats"])
    join(client.__class__(), session)
    assert "Alle Plätze dieser Sitzung sind vergeben." in client.get(f"/j/{session.join_token}/").content.decode()


def test_with_two_questions_the_board_shows_one_question_at_a_time(client, facilitator, session, study):
    study.add_condition("Recovery", "What helps sustain recovery?")
    first_question, recovery = study.conditions.order_by("position")
    people = session.invite(3)
    for person, values in zip(people, FOUR_SORTS[:3], strict=True):
        submit_sort(person, values.items(), condition=first_question)
    for person, values in zip(people[:2], FOUR_SORTS[1:3], strict=True):
        submit_sort(person, values.items(), condition=recovery)
    client.force_login(facilitator)
    client.post(f"/studies/tiny/sessions/{session.pk}/room/screen/", {"screen": "board"})
    first = client.get(f"/studies/tiny/sessions/{session.pk}/room/").content.decode()
    assert "picture from 3 finished sorts" in first and "What matters most?" in first
    second = client.get(f"/studies/tiny/sessions/{session.pk}/room/?condition=Recovery").content.decode()
    assert "What helps sustain recovery?" in second and "picture from" not in second
    assert "Finished so far: 2." in second, "two sorts under the second question: no board yet"
    summary = token_client(facilitator).get(f"/api/sessions/{session.pk}/summary/?condition=Recovery")
    assert summary.status_code == 409
    assert token_client(facilitator).get(f"/api/sessions/{session.pk}/summary/").json()["condition"] != "Recovery"


def test_a_runs_defining_sorts_are_counted_by_session_from_the_runs_own_flags(client, study, analysed, researcher):
    one = Session.objects.create(study=study, name="Group one", seats=10)
    two = Session.objects.create(study=study, name="Group two", seats=10)
    people = list(study.participants.order_by("pk"))
    for person in people[:4]:
        one.add_paper_participant(person)
    for person in people[4:7]:
        two.add_paper_participant(person)
    result = analysed.result
    session_of = {p.label: (one.pk if p in people[:4] else two.pk if p in people[4:7] else None) for p in people}
    client.force_login(researcher)
    page = client.get(f"/studies/tiny/results/{analysed.pk}/sessions/").content.decode()
    table = services.factor_sessions(analysed)
    assert table.sessions == ["Group one", "Group two"] and table.sorts == [4, 3] and table.outside == 2
    for factor, counts in table.rows:
        flagged = [label for label, row in zip(result["sorts"], result["flags"], strict=True) if row[factor - 1]]
        assert counts == [sum(session_of[label] == s.pk for label in flagged) for s in (one, two)]
    assert "Group one" in page and "2 sorts of this analysis belong to no session." in page
    assert (
        f"/studies/tiny/results/{analysed.pk}/sessions/"
        in client.get(f"/studies/tiny/results/{analysed.pk}/factors/1/").content.decode()
    )


def test_guides_and_schedules_are_linked_from_the_participants_and_factor_pages(client, study, analysed, facilitator):
    client.force_login(facilitator)
    person = study.participants.order_by("pk").first()
    assert (
        f"/studies/tiny/participants/{person.pk}/guide/" in client.get("/studies/tiny/participants/").content.decode()
    )
    factor_page = client.get(f"/studies/tiny/results/{analysed.pk}/factors/1/").content.decode()
    assert f"/studies/tiny/results/{analysed.pk}/factors/1/schedule/" in factor_page


def test_an_analysis_can_take_the_sorts_of_chosen_sessions_only(client, study, owner, researcher):
    from tests.conftest import make_study

    add_sorts(study, 9)
    group = Session.objects.create(study=study, name="Group one", seats=10)
    for person in list(study.participants.order_by("pk"))[:5]:
        group.add_paper_participant(person)
    client.force_login(researcher)
    page = client.get("/studies/tiny/results/").content.decode()
    assert "Only these sessions" in page and "Group one" in page
    client.post(
        "/studies/tiny/results/", {"factors": 2, "extraction": "pca", "rotation": "varimax", "sessions": [group.pk]}
    )
    run = execute(AnalysisRun.objects.get())
    assert run.parameters["sessions"] == [group.pk]
    assert sorted(run.result["sorts"]) == sorted(p.label for p in study.participants.filter(seat__session=group))

    other = Session.objects.create(study=make_study(owner, slug="other"), name="Elsewhere", seats=4)
    refused = token_client(researcher).post(
        "/api/studies/tiny/analyses/",
        {"factors": 2, "extraction": "pca", "rotation": "varimax", "sessions": [other.pk]},
        format="json",
    )
    assert refused.status_code == 400 and "Choose sessions of this study." in str(refused.json())
    assert AnalysisRun.objects.count() == 1


def test_a_paper_sort_typed_in_for_a_session_takes_a_seat_there(client, study, session, facilitator):
    client.force_login(facilitator)
    form = client.get("/studies/tiny/paper-sort/").content.decode()
    assert "Focus group 2, Tuesday 14:00" in form
    values = {f"s_{n}": v for n, v in FOUR_SORTS[0].items()}
    client.post(
        "/studies/tiny/paper-sort/?mode=values", {"mode": "values", "code": "R7", "session": session.pk, **values}
    )
    person = Participant.objects.get(code="R7")
    assert person.is_completed and person.seat.session == session and person.seat.number == 1


def test_the_join_link_is_rate_limited_like_the_open_link(settings, session):
    import uuid

    settings.RATELIMIT_ENABLE = True
    settings.QSORT_RATE_LIMITS = {**settings.QSORT_RATE_LIMITS, "open_link": "2/h"}
    # This process's memory, not the shared Redis: a busy Redis timing out would let requests
    # through (limits fail open, as they must). tests/test_security_limits.py proves the sharing.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    session.seats = 10
    session.save(update_fields=["seats"])
    from django.test import Client

    answers = [
        Client(REMOTE_ADDR="203.0.113.9").post(f"/j/{session.join_token}/", {"choice": "agree"}) for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [302, 302, 429, 429]
    assert Seat.objects.filter(session=session).count() == 2


def test_the_summary_refuses_an_unknown_or_unstorable_condition_label(session, facilitator):
    for label in ("Nope", "Q1\x00"):
        answer = token_client(facilitator).get(f"/api/sessions/{session.pk}/summary/", {"condition": label})
        assert answer.status_code == 400 and "condition" in answer.json()
