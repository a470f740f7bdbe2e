"""The workspace's study pages: sign in and out, the list, create, overview, open/close, duplicate,
archive, delete, settings with post-sort questions, and the team."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from qsort.studies.models import Collaborator, Participant, PostSortQuestion, Study
from qsort.studies.services import submit_sort
from tests.conftest import make_study

pytestmark = pytest.mark.django_db

EVERY_STUDY_PAGE = [
    "",
    "settings/",
    "deck/",
    "grid/",
    "participants/",
    "paper-sort/",
    "print/",
    "team/",
    "delete/",
    "participants/links.csv",
]
EDIT_PAGES = ["settings/", "deck/", "grid/", "paper-sort/", "participants/links.csv"]
MANAGE_PAGES = ["team/", "delete/"]
POST_ACTIONS = [
    "open/",
    "close/",
    "duplicate/",
    "archive/",
    "questions/add/",
    "deck/add/",
    "deck/reorder/",
    "deck/import/",
    "participants/invite/",
]


# --- sign in, sign out, password reset ---------------------------------------------------------


def test_home_sends_a_signed_in_user_to_the_studies_and_shows_others_the_sign_in(client, owner):
    assert b"Sign in" in client.get("/").content
    client.force_login(owner)
    assert client.get("/").url == "/studies/"


def test_signing_in_lands_on_the_studies_and_signing_out_says_so(client, owner):
    response = client.post("/accounts/login/", {"username": "owner", "password": "owner-pass-123"})
    assert response.url == "/studies/"
    response = client.post("/accounts/logout/", {"next": "/accounts/login/?signed_out=1"}, follow=True)
    assert b"signed out" in response.content
    assert client.get("/studies/").status_code == 302


def test_a_password_reset_link_arrives_by_email_and_sets_a_new_password(client, owner):
    owner.email = "owner@example.org"
    owner.save()
    response = client.post("/accounts/password_reset/", {"email": "owner@example.org"}, follow=True)
    assert b"Check your email" in response.content
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"},
        follow=True,
    )
    assert b"Your password is changed" in response.content
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-pass-42")


# --- every page: anonymous, stranger, roles ------------------------------------------------------


@pytest.mark.parametrize("page", ["/studies/", "/studies/new/", *[f"/studies/tiny/{p}" for p in EVERY_STUDY_PAGE]])
def test_anonymous_visitors_are_sent_to_sign_in(client, study, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("page", EVERY_STUDY_PAGE)
def test_a_stranger_gets_404_on_every_study_page(client, study, stranger, page):
    client.force_login(stranger)
    assert client.get(f"/studies/tiny/{page}").status_code == 404


@pytest.mark.parametrize("action", POST_ACTIONS)
def test_a_stranger_gets_404_on_every_action_and_nothing_changes(client, study, stranger, action):
    client.force_login(stranger)
    assert client.post(f"/studies/tiny/{action}", {"text": "x", "new-text": "x", "count": 2}).status_code == 404
    study.refresh_from_db()
    assert (study.status, study.archived, study.statements.count(), study.participants.count()) == ("open", False, 6, 0)
    assert Study.objects.count() == 1


@pytest.mark.parametrize("page", EDIT_PAGES)
def test_a_researcher_cannot_reach_the_editing_pages(client, study, researcher, page):
    client.force_login(researcher)
    assert client.get(f"/studies/tiny/{page}").status_code == 403


@pytest.mark.parametrize("action", ["deck/add/", "open/", "close/", "participants/invite/", "duplicate/"])
def test_a_researcher_cannot_change_the_study(client, study, researcher, action):
    client.force_login(researcher)
    assert client.post(f"/studies/tiny/{action}", {"new-text": "Sneaked in", "count": 3}).status_code == 403
    study.refresh_from_db()
    assert study.status == "open"
    assert not study.statements.filter(text="Sneaked in").exists()
    assert study.participants.count() == 0


@pytest.mark.parametrize("page", MANAGE_PAGES)
def test_a_facilitator_cannot_manage_the_team_or_delete(client, study, facilitator, page):
    client.force_login(facilitator)
    assert client.get(f"/studies/tiny/{page}").status_code == 403
    assert client.post(f"/studies/tiny/{page}", {"confirm_slug": "tiny", "username": "stranger"}).status_code == 403
    assert Study.objects.filter(slug="tiny").exists()


def test_a_facilitator_cannot_archive(client, study, facilitator):
    client.force_login(facilitator)
    assert client.post("/studies/tiny/archive/").status_code == 403
    study.refresh_from_db()
    assert not study.archived


def test_the_tabs_match_the_role(client, study, researcher, facilitator):
    client.force_login(researcher)
    page = client.get("/studies/tiny/").content.decode()
    assert "/studies/tiny/results/" in page and "/studies/tiny/data/" in page
    assert "/studies/tiny/deck/" not in page and "/studies/tiny/team/" not in page
    client.force_login(facilitator)
    page = client.get("/studies/tiny/").content.decode()
    assert "/studies/tiny/deck/" in page and "/studies/tiny/team/" not in page


# --- the list ----------------------------------------------------------------------------------


def test_the_list_separates_my_studies_from_shared_ones_with_their_figures(client, study, owner, facilitator):
    mine = make_study(facilitator, slug="mine", title="Facilitator's own", status="draft")
    mine.invite(count=2)
    participants = study.invite(codes=["A", "B", "C"])
    submit_sort(participants[0], [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)])
    Participant.objects.filter(pk=participants[1].pk).update(stage="sorting", consented_at=participants[1].created_at)
    make_study(owner, slug="not-shared", title="Someone else's")

    client.force_login(facilitator)
    response = client.get("/studies/")
    assert [s.slug for s in response.context["mine"]] == ["mine"]
    [shared] = response.context["shared"]
    assert shared.slug == "tiny"
    assert (shared.n_statements, shared.n_invited, shared.n_started, shared.n_completed) == (6, 3, 2, 1)
    assert shared.collaborator_role == "facilitator"
    assert "Someone else" not in response.content.decode()


def test_the_list_with_200_studies_takes_a_bounded_number_of_queries(client, owner, django_assert_max_num_queries):
    from qsort.studies.models import Statement

    studies = Study.objects.bulk_create(
        Study(title=f"Study {i}", slug=f"s-{i}", owner=owner, condition_of_instruction="Q?") for i in range(200)
    )
    Statement.objects.bulk_create(Statement(study=s, number=n, text=f"t{n}") for s in studies for n in (1, 2))
    Participant.objects.bulk_create(Participant(study=s) for s in studies for _ in range(3))
    client.force_login(owner)
    with django_assert_max_num_queries(3):
        response = client.get("/studies/")
    assert len(response.context["mine"]) == 200
    assert {s.n_invited for s in response.context["mine"]} == {3}


# --- create, open, close, duplicate, archive, delete ----------------------------------------------


def test_creating_a_study_makes_me_its_owner_and_leads_to_the_deck(client, owner):
    client.force_login(owner)
    response = client.post("/studies/new/", {"title": "Recovery café", "condition_of_instruction": "What helps?"})
    study = Study.objects.get()
    assert (study.slug, study.owner, study.status) == ("recovery-cafe", owner, "draft")
    assert response.url == "/studies/recovery-cafe/deck/"
    client.post("/studies/new/", {"title": "Recovery café", "condition_of_instruction": "Again?"})
    assert Study.objects.filter(slug="recovery-cafe-2").exists()


def test_a_study_without_a_title_is_not_created(client, owner):
    client.force_login(owner)
    response = client.post("/studies/new/", {"title": "", "condition_of_instruction": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Study.objects.exists()


def test_opening_is_refused_with_the_reason_until_the_grid_fits_the_deck(client, owner):
    study = make_study(owner, status="draft", grid={-1: 1, 0: 2, 1: 1})
    client.force_login(owner)
    response = client.post("/studies/tiny/open/", follow=True)
    study.refresh_from_db()
    assert study.status == "draft"
    assert "The grid holds 4 cards but the deck has 6 statements" in response.content.decode()
    study.set_grid({-1: 2, 0: 2, 1: 2})
    response = client.post("/studies/tiny/open/", follow=True)
    study.refresh_from_db()
    assert study.status == "open"
    client.post("/studies/tiny/close/")
    study.refresh_from_db()
    assert study.status == "closed"


def test_the_overview_shows_what_is_missing_and_the_states(client, owner):
    study = make_study(owner, status="draft", grid={-1: 1, 0: 1, 1: 1})
    study.invite(count=2)
    client.force_login(owner)
    page = client.get("/studies/tiny/").content.decode()
    assert "Before this study can open" in page
    assert "the column capacities must add up" in page
    assert dict(client.get("/studies/tiny/").context["stages"])["Invited"] == 2


def test_duplicating_copies_texts_deck_grid_and_questions_but_no_people(client, study, facilitator):
    PostSortQuestion.objects.create(study=study, text="Hardest card?", position=1, required=True)
    study.invite(count=4)
    client.force_login(facilitator)
    response = client.post("/studies/tiny/duplicate/")
    copy = Study.objects.exclude(pk=study.pk).get()
    assert response.url == f"/studies/{copy.slug}/settings/"
    assert (copy.owner, copy.status, copy.title) == (facilitator, "draft", "Copy of Tiny study")
    assert list(copy.statements.values_list("number", "text")) == list(study.statements.values_list("number", "text"))
    assert copy.grid() == study.grid()
    assert list(copy.questions.values_list("text", "required")) == [("Hardest card?", True)]
    assert copy.participants.count() == 0 and copy.collaborators.count() == 0


def test_archiving_moves_a_study_to_the_archived_list_and_back(client, study, owner):
    client.force_login(owner)
    client.post("/studies/tiny/archive/", {"archived": "1"})
    study.refresh_from_db()
    assert study.archived and not study.accepts_sorts
    assert client.get("/studies/").context["mine"] == []
    assert [s.slug for s in client.get("/studies/?archived=1").context["mine"]] == ["tiny"]
    client.post("/studies/tiny/archive/", {"archived": "0"})
    study.refresh_from_db()
    assert not study.archived


def test_deleting_needs_the_typed_address_then_removes_everything(client, study, owner):
    participant = study.invite(count=1)[0]
    submit_sort(participant, [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)])
    client.force_login(owner)
    response = client.post("/studies/tiny/delete/", {"confirm_slug": "wrong"})
    assert "address exactly to confirm" in response.content.decode()
    assert Study.objects.filter(slug="tiny").exists()
    response = client.post("/studies/tiny/delete/", {"confirm_slug": "tiny"})
    assert response.url == "/studies/"
    assert not Study.objects.filter(slug="tiny").exists()
    assert not Participant.objects.exists()


# --- settings and questions --------------------------------------------------------------------


def _settings(**changes):
    data = {
        "title": "Tiny study",
        "condition_of_instruction": "What matters most?",
        "label_disagree": "Least like me",
        "label_agree": "Most like me",
        "consent_text": "OK?",
        "welcome_text": "Hello",
        "thank_you_text": "Thanks",
        "language": "en",
        "open_link_enabled": "on",
    }
    data.update(changes)
    return data


def test_a_facilitator_saves_the_settings(client, study, facilitator):
    client.force_login(facilitator)
    response = client.post("/studies/tiny/settings/", _settings(), follow=True)
    assert "Settings saved." in response.content.decode()
    study.refresh_from_db()
    assert (study.label_agree, study.open_link_enabled, study.comments_required) == ("Most like me", True, False)


def test_settings_without_a_condition_of_instruction_are_refused(client, study, owner):
    client.force_login(owner)
    response = client.post("/studies/tiny/settings/", _settings(condition_of_instruction=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    study.refresh_from_db()
    assert study.condition_of_instruction == "What matters most?"


def test_questions_are_added_edited_reordered_and_removed_with_htmx(client, study, owner):
    client.force_login(owner)
    htmx = {"HTTP_HX_REQUEST": "true"}
    for text in ("First?", "Second?"):
        response = client.post("/studies/tiny/questions/add/", {"new-text": text}, **htmx)
    assert response.content.decode().lstrip().startswith('<section class="card" id="questions"')
    first, second = study.questions.all()
    client.post(f"/studies/tiny/questions/{second.pk}/move/", {"direction": "up"}, **htmx)
    assert list(study.questions.values_list("text", flat=True)) == ["Second?", "First?"]
    row = client.get(f"/studies/tiny/questions/{first.pk}/edit/", **htmx).content.decode()
    assert row.lstrip().startswith(f'<li class="item editing" id="question-{first.pk}"') and "<html" not in row
    page = client.get(f"/studies/tiny/questions/{first.pk}/edit/").content.decode()
    assert "<html" in page and f'name="q{first.pk}-text"' in page
    edited = {f"q{first.pk}-text": "First, edited?", f"q{first.pk}-required": "on"}
    client.post(f"/studies/tiny/questions/{first.pk}/edit/", edited)
    first.refresh_from_db()
    assert (first.text, first.required) == ("First, edited?", True)
    client.post(f"/studies/tiny/questions/{second.pk}/delete/", **htmx)
    assert list(study.questions.values_list("text", flat=True)) == ["First, edited?"]


def test_an_empty_question_is_refused_and_an_answered_one_is_kept(client, study, owner):
    client.force_login(owner)
    response = client.post("/studies/tiny/questions/add/", {"new-text": ""}, HTTP_HX_REQUEST="true")
    assert "A question needs some text." in response.content.decode()
    kept = PostSortQuestion.objects.create(study=study, text="Kept?", position=1)
    response = client.post(f"/studies/tiny/questions/{kept.pk}/edit/", {f"q{kept.pk}-text": ""}, HTTP_HX_REQUEST="true")
    assert response["HX-Retarget"] == f"#question-{kept.pk}"
    assert "This field is required." in response.content.decode()
    kept.refresh_from_db()
    assert kept.text == "Kept?"
    kept.delete()
    question = PostSortQuestion.objects.create(study=study, text="Why?", position=1)
    participant = study.invite(count=1)[0]
    submit_sort(participant, [(1, -1), (2, -1), (3, 0), (4, 0), (5, 1), (6, 1)], answers={question.pk: "Because"})
    response = client.post(f"/studies/tiny/questions/{question.pk}/delete/", HTTP_HX_REQUEST="true")
    assert "has answers from participants" in response.content.decode()
    assert PostSortQuestion.objects.filter(pk=question.pk).exists()


def test_another_studys_question_is_404(client, study, owner, facilitator):
    other = make_study(facilitator, slug="other")
    question = PostSortQuestion.objects.create(study=other, text="Theirs", position=1)
    client.force_login(owner)
    assert client.post(f"/studies/tiny/questions/{question.pk}/delete/").status_code == 404
    assert PostSortQuestion.objects.filter(pk=question.pk).exists()


# --- team --------------------------------------------------------------------------------------


def test_the_owner_adds_changes_and_removes_collaborators(client, study, owner, stranger):
    client.force_login(owner)
    response = client.post("/studies/tiny/team/", {"username": "stranger", "role": "researcher"}, follow=True)
    assert "stranger joined the team." in response.content.decode()
    member = Collaborator.objects.get(study=study, user=stranger)
    assert member.role == "researcher"
    client.post(f"/studies/tiny/team/{member.pk}/", {"role": "facilitator"})
    member.refresh_from_db()
    assert member.role == "facilitator"
    client.force_login(stranger)
    assert client.get("/studies/tiny/deck/").status_code == 200
    client.force_login(owner)
    client.post(f"/studies/tiny/team/{member.pk}/", {"role": "remove"})
    assert not Collaborator.objects.filter(pk=member.pk).exists()
    client.force_login(stranger)
    assert client.get("/studies/tiny/").status_code == 404


@pytest.mark.parametrize(
    ("username", "message"),
    [("nobody", "There is no user called"), ("owner", "owns this study already"), ("facil", "on the team already")],
)
def test_adding_someone_who_cannot_be_added_says_why(client, study, owner, username, message):
    client.force_login(owner)
    response = client.post("/studies/tiny/team/", {"username": username, "role": "facilitator"})
    assert message in response.content.decode()
    assert study.collaborators.count() == 2
