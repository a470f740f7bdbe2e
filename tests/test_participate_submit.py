"""The final submit: through the one validator, idempotent, and tamper-proof."""

from __future__ import annotations

import pytest
from django.test import Client

from qsort.participate import services
from qsort.studies.models import Participant, PostSortQuestion, Sort, SortDraft
from tests.conftest import make_study

pytestmark = pytest.mark.django_db

VALUES = {1: -1, 2: -1, 3: 0, 4: 0, 5: 1, 6: 1}


@pytest.fixture
def participant(study):
    participant = study.invite(1)[0]
    services.consent(participant)
    state = {
        "version": 9,
        "presort": [[n, "neutral"] for n in VALUES],
        "grid": {"-1": [1, 2], "0": [3, 4], "1": [5, 6]},
        "comments": {},
        "answers": {},
    }
    services.save_draft(participant, state)
    Participant.objects.filter(pk=participant.pk).update(stage="review")
    participant.refresh_from_db()
    return participant


def form(values: dict[int, int] | list[tuple[object, object]] = VALUES, **extra) -> dict:
    pairs = values.items() if isinstance(values, dict) else values
    return {"placement": [f"{n}:{v}" for n, v in pairs], **extra}


def submit(client: Client, participant: Participant, data: dict):
    return client.post(f"/p/{participant.token}/submit/", data)


def test_a_valid_sort_is_stored_with_its_comments_and_answers(client, participant):
    question = PostSortQuestion.objects.create(study=participant.study, text="Anything else?")
    response = submit(
        client, participant, form(**{"comment-1": "Because.", "comment-5": "  ", f"answer-{question.pk}": "No."})
    )
    assert response.status_code == 302
    sort = Sort.objects.get(participant=participant)
    assert sort.values_by_number() == VALUES
    assert list(sort.comments.values_list("statement__number", "text")) == [(1, "Because.")]
    assert list(sort.answers.values_list("text", flat=True)) == ["No."]
    participant.refresh_from_db()
    assert participant.stage == "completed" and participant.completed_at is not None
    assert not SortDraft.objects.filter(participant=participant).exists()
    html = client.get(f"/p/{participant.token}/").content.decode()
    assert "Thank you" in html and "data-qsort" not in html


def test_double_submit_refresh_or_second_tab_keeps_one_sort(client, participant):
    assert submit(client, participant, form()).status_code == 302
    first = Sort.objects.get(participant=participant)
    assert submit(client, participant, form()).status_code == 302
    assert submit(Client(), participant, form()).status_code == 302
    assert Sort.objects.filter(participant=participant).get() == first


def pairs_with(change: dict[int, object] | None = None, drop: int | None = None, extra=()) -> list[tuple]:
    values = {**VALUES, **(change or {})}
    return [(n, v) for n, v in values.items() if n != drop] + list(extra)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (pairs_with(extra=[(3, 0)]), "Statement 3 is placed twice."),
        (pairs_with(drop=6), "Statement 6 is not placed yet."),
        (pairs_with(extra=[(77, 0)]), "Statement 77 is not part of this study."),
        (pairs_with(change={6: 5}), "Statement 6 is placed at +5, outside the grid (-1 to +1)."),
        (pairs_with(change={4: 1}), "Column +1 holds 3 cards, capacity 2."),
        (pairs_with(change={4: "lots"}), "Statement 4 has the value 'lots', which is not a whole number."),
    ],
)
def test_a_tampered_sort_is_refused_clearly_and_changes_nothing(client, participant, pairs, message):
    draft_before = SortDraft.objects.get(participant=participant).state
    response = submit(client, participant, form(pairs, **{"comment-1": "kept"}))
    html = response.content.decode()
    assert response.status_code == 400
    assert message.replace("'", "&#x27;") in html
    assert "Nothing is lost" in html
    assert ">kept</textarea>" in html  # what the participant wrote is shown again
    assert not Sort.objects.exists()
    participant.refresh_from_db()
    assert participant.stage == "review" and participant.completed_at is None
    assert SortDraft.objects.get(participant=participant).state == draft_before


def test_a_one_megabyte_body_is_refused_before_it_is_read(client, participant):
    response = submit(client, participant, form(**{"comment-1": "x" * 1_000_000}))
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Sort.objects.exists()


def test_a_completed_token_cannot_replace_its_sort(client, participant):
    submit(client, participant, form())
    response = submit(client, participant, form({**VALUES, 1: 0, 3: -1}))
    assert response.status_code == 409
    assert "already sent your sort" in response.content.decode()
    assert Sort.objects.get(participant=participant).values_by_number() == VALUES


def test_another_participants_token_cannot_carry_this_sort(client, participant, owner):
    other_study = make_study(owner, slug="other", n_statements=4, grid={-1: 1, 0: 2, 1: 1})
    other = other_study.invite(1)[0]
    services.consent(other)
    response = submit(client, other, form())
    assert response.status_code == 400
    assert "Statement 5 is not part of this study." in response.content.decode()
    assert submit(client, Participant(token="made-up"), form()).status_code == 404
    assert not Sort.objects.exists()


def test_a_participant_who_has_not_agreed_cannot_submit(client, study):
    invited = study.invite(1)[0]
    submit(client, invited, form())
    assert not Sort.objects.exists()


def test_required_comments_are_asked_for_and_nothing_is_lost(client, owner):
    study = make_study(owner, slug="strict", comments_required=True)
    participant = study.invite(1)[0]
    services.consent(participant)
    response = submit(client, participant, form(**{"comment-1": "One reason"}))
    assert response.status_code == 400
    assert "Please say why you placed statement 2 at -1." in response.content.decode()
    assert not Sort.objects.exists()


def test_statement_text_with_html_is_shown_as_text(client, owner):
    study = make_study(owner, slug="xss", status="draft", n_statements=0, grid={-1: 1, 0: 0, 1: 1})
    study.add_statement('<img src=x onerror="alert(1)">')
    study.add_statement("<script>alert('x')</script> & more")
    study.open()
    participant = study.invite(1)[0]
    services.consent(participant)
    services.go_to(participant, "presort")
    html = client.get(f"/p/{participant.token}/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html
