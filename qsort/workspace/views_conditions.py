"""The conditions editor: a study's conditions of instruction (label, question, instructions).

Added, renamed, removed and reordered only while nobody has sorted (the model refuses
otherwise); question and instruction texts can always be corrected."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from qsort.studies.access import Can, access_for
from qsort.studies.models import Condition, ConditionsLocked, Study
from qsort.workspace.forms import ConditionForm
from qsort.workspace.services import move


def _page(request: HttpRequest, access, *, new_form: ConditionForm | None = None, forms: dict | None = None):
    study: Study = access.study
    locked = study.sorts.exists()
    rows = [
        (
            condition,
            (forms or {}).get(condition.pk)
            or ConditionForm(instance=condition, locked=locked, prefix=f"c{condition.pk}"),
            n_sorts,
        )
        for condition, n_sorts in study.condition_progress()
    ]
    context = {
        "access": access,
        "study": study,
        "tab": "settings",
        "rows": rows,
        "locked": locked,
        "new_form": new_form or ConditionForm(prefix="new"),
    }
    return render(request, "workspace/conditions.html", context, status=400 if new_form or forms else 200)


@login_required
@require_http_methods(["GET", "POST"])
def conditions(request: HttpRequest, slug: str) -> HttpResponse:
    """The list, and adding a condition (POST)."""
    access = access_for(request.user, slug, Can.EDIT)
    if request.method == "GET":
        return _page(request, access)
    form = ConditionForm(request.POST, prefix="new", instance=Condition(study=access.study))
    if not form.is_valid():
        return _page(request, access, new_form=form)
    data = form.cleaned_data
    try:
        access.study.add_condition(data["label"], data["question"], data["instructions"])
    except ConditionsLocked as locked:
        messages.error(request, str(locked))
    else:
        messages.success(request, _("Condition “%(label)s” added.") % {"label": data["label"]})
    return redirect("workspace:conditions", slug=slug)


@login_required
@require_POST
def condition_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = access_for(request.user, slug, Can.EDIT)
    condition = get_object_or_404(Condition, study=access.study, pk=pk)
    form = ConditionForm(request.POST, instance=condition, locked=access.study.sorts.exists(), prefix=f"c{pk}")
    if not form.is_valid():
        return _page(request, access, forms={pk: form})
    try:
        form.save()
    except (ConditionsLocked, IntegrityError):
        messages.error(request, str(ConditionsLocked()))
    else:
        messages.success(request, _("Condition saved."))
    return redirect("workspace:conditions", slug=slug)


@login_required
@require_POST
def condition_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = access_for(request.user, slug, Can.EDIT)
    step = -1 if request.POST.get("direction") == "up" else 1
    try:
        access.study.reorder_conditions(move(list(access.study.conditions.all()), pk, step))
    except ConditionsLocked as locked:
        messages.error(request, str(locked))
    return redirect("workspace:conditions", slug=slug)


@login_required
@require_POST
def condition_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = access_for(request.user, slug, Can.EDIT)
    condition = get_object_or_404(Condition, study=access.study, pk=pk)
    try:
        access.study.remove_condition(condition)
    except ConditionsLocked as locked:
        messages.error(request, str(locked))
    return redirect("workspace:conditions", slug=slug)
