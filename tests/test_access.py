"""The access table: strangers 404, read-only roles 403, the right roles through."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from qsort.studies.access import Access, Can, access_for, study_for

pytestmark = pytest.mark.django_db


def test_strangers_and_anonymous_users_get_404(study, stranger):
    from django.contrib.auth.models import AnonymousUser

    for user in (stranger, AnonymousUser()):
        with pytest.raises(Http404):
            study_for(user, study.slug)
    with pytest.raises(Http404):
        study_for(study.owner, "no-such-study")


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("owner", {Can.VIEW, Can.EDIT, Can.ANALYSE, Can.DOWNLOAD, Can.MANAGE}),
        ("facilitator", {Can.VIEW, Can.EDIT}),
        ("researcher", {Can.VIEW, Can.ANALYSE, Can.DOWNLOAD}),
    ],
)
def test_each_role_gets_exactly_its_capabilities(study, request, persona, allowed):
    user = request.getfixturevalue(persona)
    for capability in Can:
        if capability in allowed:
            assert access_for(user, study.slug, capability) == Access(study, persona)
        else:
            with pytest.raises(PermissionDenied):
                study_for(user, study.slug, capability)
