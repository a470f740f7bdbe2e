"""Who may do what with a study: one table, one helper, used by web views and the API alike.

Strangers get 404 (a study's existence is not revealed); collaborators without the right
get 403.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from qsort.studies.models import Study


class Can(StrEnum):
    VIEW = "view"  # see the study, its participants' states and its results
    EDIT = "edit"  # settings, deck, grid, questions, links, paper sorts, open/close, imports
    ANALYSE = "analyse"  # start analysis runs, override flags, rotate
    DOWNLOAD = "download"  # export data and results
    MANAGE = "manage"  # team, archive, delete


ALLOWED: dict[Can, frozenset[str]] = {
    Can.VIEW: frozenset({"owner", "facilitator", "researcher"}),
    Can.EDIT: frozenset({"owner", "facilitator"}),
    Can.ANALYSE: frozenset({"owner", "researcher"}),
    Can.DOWNLOAD: frozenset({"owner", "researcher"}),
    Can.MANAGE: frozenset({"owner"}),
}


def role_allows(role: str | None, capability: Can) -> bool:
    return role in ALLOWED[capability]


def study_for(user, slug: str, capability: Can = Can.VIEW, queryset=None) -> Study:
    """The study with this slug if `user` may `capability` it; 404 for strangers, 403 otherwise."""
    queryset = Study.objects.all() if queryset is None else queryset
    study = queryset.filter(slug=slug).select_related("owner").first()
    role = study.role_of(user) if study is not None else None
    if role is None:
        raise Http404("No such study.")
    if not role_allows(role, capability):
        raise PermissionDenied(f"Your role on this study ({role}) does not allow this.")
    study.user_role = role
    return study
