"""Who may do what with a study: one table, one helper, used by web views and the API alike.

Strangers get 404 (a study's existence is not revealed); collaborators without the right
get 403. The helper answers with an `Access` value (the study and the caller's role) rather
than patching an attribute onto the model instance, so a view or template that needs the role
says so by taking the value.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Access:
    """A user's standing on one study: what the access helper found, passed on explicitly."""

    study: Study
    role: str

    def allows(self, capability: Can) -> bool:
        return role_allows(self.role, capability)

    # Templates cannot pass arguments, so each capability a page switches on has a property.
    @property
    def can_edit(self) -> bool:
        return self.allows(Can.EDIT)

    @property
    def can_analyse(self) -> bool:
        return self.allows(Can.ANALYSE)

    @property
    def can_download(self) -> bool:
        return self.allows(Can.DOWNLOAD)

    @property
    def can_manage(self) -> bool:
        return self.allows(Can.MANAGE)


def access_for(user, slug: str, capability: Can = Can.VIEW, queryset=None) -> Access:
    """`user`'s access to the study with this slug if it allows `capability`; 404 for strangers,
    403 for collaborators whose role does not allow it."""
    queryset = Study.objects.all() if queryset is None else queryset
    study = queryset.filter(slug=slug).select_related("owner").first()
    role = study.role_of(user) if study is not None else None
    if study is None or role is None:
        raise Http404("No such study.")
    if not role_allows(role, capability):
        raise PermissionDenied(f"Your role on this study ({role}) does not allow this.")
    return Access(study, role)


def study_for(user, slug: str, capability: Can = Can.VIEW, queryset=None) -> Study:
    """The study alone, for views whose response does not depend on the caller's role."""
    return access_for(user, slug, capability, queryset).study
