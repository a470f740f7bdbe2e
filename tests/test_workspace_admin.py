"""Django admin for the site's operators: every model registered, its list searchable, no tokens shown."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from qsort.studies.models import Participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("operator", password="operator-pass-123")


@pytest.fixture
def every_kind_of_row(demo_study, operator):
    """The demo study plus a collaborator, a draft, and a sort with a comment and an answer."""
    from qsort.studies.demo import GRID
    from qsort.studies.models import Collaborator, SortDraft
    from qsort.studies.services import submit_sort

    Collaborator.objects.create(study=demo_study, user=operator, role="researcher")
    waiting, sorted_one = demo_study.invite(codes=["D41", "D42"])
    SortDraft.objects.create(participant=waiting, condition=demo_study.conditions.first(), state={"stage": "sorting"})
    values = [value for value, capacity in GRID.items() for _ in range(capacity)]
    question = demo_study.questions.first()
    submit_sort(sorted_one, enumerate(values, start=1), comments={1: "Hard one"}, answers={question.pk: "Card 1"})
    return demo_study


def test_every_studies_model_is_in_the_admin():
    missing = [m.__name__ for m in apps.get_app_config("studies").get_models() if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize("model", [m.__name__.lower() for m in apps.get_app_config("studies").get_models()])
def test_each_list_loads_and_searches_with_a_bounded_number_of_queries(
    client, every_kind_of_row, operator, model, django_assert_max_num_queries
):
    client.force_login(operator)
    url = reverse(f"admin:studies_{model}_changelist")
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0, f"the demo study has {model} rows"
    searched = client.get(url, {"q": "D01"})
    assert searched.status_code == 200


def test_the_study_list_shows_its_figures(client, demo_study, operator):
    client.force_login(operator)
    response = client.get(reverse("admin:studies_study_changelist"), {"q": "relapse"})
    [row] = response.context["cl"].result_list
    assert (row._statements, row._participants, row._sorts) == (38, 40, 40)
    assert '<td class="field-n_participants">40</td>' in response.content.decode()


def test_participant_pages_never_show_the_link_token(client, demo_study, operator):
    participant = Participant.objects.filter(study=demo_study).first()
    client.force_login(operator)
    for url in (
        reverse("admin:studies_participant_changelist"),
        reverse("admin:studies_participant_change", args=[participant.pk]),
    ):
        assert participant.token not in client.get(url).content.decode()


def test_completed_sorts_are_read_only_in_the_admin(client, every_kind_of_row, operator):
    from qsort.studies.models import Answer, Sort, SortComment, SortValue

    sort = Sort.objects.get(participant__code="D42")
    before = (sort.values_by_number(), list(sort.comments.values_list("text", flat=True)))
    client.force_login(operator)
    page = client.get(reverse("admin:studies_sort_change", args=[sort.pk]))
    assert page.status_code == 200  # operators may look
    assert 'name="_save"' not in page.content.decode() and "Hard one" in page.content.decode()
    assert (
        client.post(
            reverse("admin:studies_sort_change", args=[sort.pk]), {"participant": sort.participant_id}
        ).status_code
        == 403
    )
    assert client.post(reverse("admin:studies_sort_delete", args=[sort.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:studies_sort_add")).status_code == 403
    value = sort.values.first()
    changed = {"sort": sort.pk, "statement": value.statement_id, "value": value.value + 1}
    assert client.post(reverse("admin:studies_sortvalue_change", args=[value.pk]), changed).status_code == 403
    for model in (SortValue, SortComment, Answer):
        name = model._meta.model_name
        row = model.objects.filter(sort=sort).first()
        assert client.post(reverse(f"admin:studies_{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
        assert client.get(reverse(f"admin:studies_{name}_add")).status_code == 403
    sort.refresh_from_db()
    assert (sort.values_by_number(), list(sort.comments.values_list("text", flat=True))) == before
