"""Deck editor (htmx: add, edit, reorder, delete, bulk import with preview) and grid editor.

One view per action; each answers an htmx request with the `deck` partial, and a plain form post
with a redirect, so every action also works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qsort.exchange.forms import ImportForm
from qsort.http import HtmxRequest
from qsort.security.parsing import whole_number
from qsort.studies.access import Access, Can, access_for, study_for
from qsort.studies.models import DeckLocked, GridColumn, Statement, StatementsRefused, Study
from qsort.workspace.forms import GridForm, StatementForm
from qsort.workspace.grids import MAX_HALF_RANGE, MIN_HALF_RANGE, suggest_capacities
from qsort.workspace.services import move, renumber_positions, reorder


def _deck_context(study: Study, **extra) -> dict:
    statements = list(study.statements.order_by("position", "number"))
    return {
        "study": study,
        "tab": "deck",
        "statements": statements,
        "locked": study.deck_locked,
        "add_form": StatementForm(prefix="new"),
        "max_statement_length": Statement.MAX_LENGTH,
        "import_form": ImportForm(),
        **extra,
    }


def _deck(request: HtmxRequest, study: Study, *, error: str = "", **extra) -> HttpResponse:
    if request.htmx:
        return render(request, "workspace/deck.html#deck", _deck_context(study, error=error, **extra))
    if error:
        messages.error(request, error)
    return redirect("workspace:deck", slug=study.slug)


@login_required
@require_GET
def deck(request: HtmxRequest, slug: str) -> HttpResponse:
    access = access_for(request.user, slug, Can.EDIT)
    template = "workspace/deck.html#deck" if request.htmx else "workspace/deck.html"
    return render(request, template, _deck_context(access.study, access=access))


@login_required
@require_POST
def statement_add(request: HtmxRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    form = StatementForm(request.POST, prefix="new")
    if not form.is_valid():
        problems = form.errors.get("text", [_("A statement needs some text.")])
        return _deck(request, study, error=" ".join(str(problem) for problem in problems))
    try:
        study.add_statement(form.cleaned_data["text"])
    except (DeckLocked, StatementsRefused) as refused:
        return _deck(request, study, error=str(refused))
    return _deck(request, study, focus_add=True)


@login_required
@require_http_methods(["GET", "POST"])
def statement_edit(request: HtmxRequest, slug: str, pk: int) -> HttpResponse:
    """Editing the text is allowed even on a locked deck: typos get fixed, numbers never change."""
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    statement = get_object_or_404(Statement, study=study, pk=pk)
    form = StatementForm(request.POST or None, instance=statement, prefix=f"s{pk}")
    if request.method == "POST" and form.is_valid():
        form.save()
        return _deck(request, study)
    context = {
        "access": access,
        "study": study,
        "tab": "deck",
        "statement": statement,
        "form": form,
        "locked": study.deck_locked,
    }
    if not request.htmx:
        return render(request, "workspace/statement_edit.html", context)
    response = render(request, "workspace/deck.html#statement_edit", context)
    response["HX-Retarget"] = f"#statement-{statement.pk}"  # the form posts to #deck; errors stay in the row
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
def statement_delete(request: HtmxRequest, slug: str, pk: int) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    statement = get_object_or_404(Statement, study=study, pk=pk)
    try:
        statement.delete()
    except DeckLocked as locked:
        return _deck(request, study, error=str(locked))
    return _deck(request, study)


def _reorder_refusal(study: Study) -> str:
    return str(DeckLocked()) if study.deck_locked else ""


@login_required
@require_POST
def statement_move(request: HtmxRequest, slug: str, pk: int) -> HttpResponse:
    """Keyboard reordering: one place up or down."""
    study = study_for(request.user, slug, Can.EDIT)
    if refusal := _reorder_refusal(study):
        return _deck(request, study, error=refusal)
    step = -1 if request.POST.get("direction") == "up" else 1
    renumber_positions(move(list(study.statements.order_by("position", "number")), pk, step), Statement)
    return _deck(request, study)


@login_required
@require_POST
def deck_reorder(request: HtmxRequest, slug: str) -> HttpResponse:
    """Drag and drop: the whole new order, as the list of statement ids (SortableJS 'end')."""
    study = study_for(request.user, slug, Can.EDIT)
    if refusal := _reorder_refusal(study):
        return _deck(request, study, error=refusal)
    try:
        order = [int(pk) for pk in request.POST.getlist("order")]
    except ValueError:
        return _deck(request, study, error=_("The new order could not be read; nothing was changed."))
    renumber_positions(reorder(list(study.statements.order_by("position", "number")), order), Statement)
    return _deck(request, study)


@login_required
@require_POST
def deck_import(request: HtmxRequest, slug: str) -> HttpResponse:
    """Show, row by row, what the pasted or uploaded statements would add; nothing is saved."""
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    if study.deck_locked:
        return _deck(request, study, error=str(DeckLocked()))
    form = ImportForm(request.POST, request.FILES)
    rows, error = form.preview(study)
    context = _deck_context(study, access=access, import_form=form, preview=rows, import_error=error)
    context["n_importable"] = sum(row.importable for row in rows)
    template = "workspace/deck.html#import" if request.htmx else "workspace/deck.html"
    return render(request, template, context)


@login_required
@require_POST
def deck_import_confirm(request: HtmxRequest, slug: str) -> HttpResponse:
    """Add the previewed statements, judged again against the deck as it is now."""
    study = study_for(request.user, slug, Can.EDIT)
    try:
        added = study.import_statements(request.POST.getlist("statement"))
    except DeckLocked as locked:
        return _deck(request, study, error=str(locked))
    if request.htmx:
        # The deck with its new statements, and (out of band) an empty import form again.
        return render(request, "workspace/deck.html#deck", _deck_context(study, imported=len(added)))
    messages.success(request, _("%(n)d statements imported.") % {"n": len(added)})
    return redirect("workspace:deck", slug=study.slug)


# --- grid --------------------------------------------------------------------------------------


def _grid_initial(study: Study, half_range: int | None = None, *, suggest: bool = False) -> dict:
    grid = study.grid()
    if half_range is None:
        half_range = max([MIN_HALF_RANGE, *(abs(v) for v in grid)])
        half_range = min(half_range, MAX_HALF_RANGE)
    if suggest or not grid:
        grid = suggest_capacities(study.statements.count(), half_range)
    initial = {"half_range": half_range, "distribution": study.distribution}
    initial.update({f"cap_{value}": grid.get(value, 0) for value in range(-half_range, half_range + 1)})
    return initial


def _picture(study: Study, capacities: dict[int, int], n_statements: int) -> dict:
    """The picture of a shape; `saved` says whether it is the study's stored grid, so a suggested
    or typed shape is never mistaken for one that is kept."""
    total = sum(capacities.values())
    stored = study.grid()
    return {
        "saved": bool(stored) and {v: c for v, c in capacities.items() if c} == {v: c for v, c in stored.items() if c},
        "columns": [(value, capacity, range(capacity)) for value, capacity in sorted(capacities.items())],
        "total": total,
        "n_statements": n_statements,
        "difference": total - n_statements,
        "tallest": max(capacities.values(), default=0),
    }


def _posted_capacities(request: HttpRequest, half_range: int) -> dict[int, int]:
    """What the picture draws while someone types: unreadable boxes count as empty columns."""
    capacities = {}
    for value in range(-half_range, half_range + 1):
        capacity = whole_number(request.POST.get(f"cap_{value}", ""), low=0, high=GridColumn.MAX_CAPACITY)
        capacities[value] = capacity or 0
    return capacities


def _posted_range(request: HttpRequest) -> int | None:
    return whole_number(request.POST.get("half_range", ""), low=MIN_HALF_RANGE, high=MAX_HALF_RANGE)


def _grid_context(access: Access, n_statements: int) -> dict:
    study = access.study
    return {
        "access": access,
        "study": study,
        "tab": "grid",
        "locked": study.deck_locked,
        "n_statements": n_statements,
        "max_capacity": GridColumn.MAX_CAPACITY,
    }


def _editor(
    request: HtmxRequest, access: Access, form: GridForm, capacities: dict[int, int], half_range: int, n_statements: int
) -> HttpResponse:
    """The grid editor: the whole page, or only its `editor` partial for htmx."""
    context = _grid_context(access, n_statements)
    context.update(_picture(access.study, capacities, n_statements))
    context.update(form=form, cap_fields=[form[f"cap_{value}"] for value in range(-half_range, half_range + 1)])
    template = "workspace/grid.html#editor" if request.htmx else "workspace/grid.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def grid(request: HtmxRequest, slug: str) -> HttpResponse:
    """The grid editor; a POST saves the range, the distribution and the capacities."""
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    n_statements = study.statements.count()
    if request.method == "GET":
        initial = _grid_initial(study)
        capacities = {int(k[4:]): v for k, v in initial.items() if k.startswith("cap_")}
        return _editor(request, access, GridForm(initial=initial), capacities, initial["half_range"], n_statements)
    form = GridForm(request.POST)
    if not form.is_valid():
        half_range = _posted_range(request) or MIN_HALF_RANGE
        return _editor(request, access, form, _posted_capacities(request, half_range), half_range, n_statements)
    try:
        with transaction.atomic():
            study.set_grid(form.capacities)
            study.distribution = form.cleaned_data["distribution"]
            study.save(update_fields=["distribution", "updated_at"])
    except DeckLocked:
        messages.error(request, _("The grid cannot change any more: participants have sorted on it."))
        return redirect("workspace:grid", slug=study.slug)
    total = sum(form.capacities.values())
    if study.is_forced and total != n_statements:
        messages.warning(
            request,
            _(
                "Grid saved. It holds %(total)d cards but the deck has %(n)d statements: "
                "the study cannot open until they match."
            )
            % {"total": total, "n": n_statements},
        )
    else:
        messages.success(request, _("Grid saved."))
    return redirect("workspace:grid", slug=study.slug)


@login_required
@require_POST
def grid_suggest(request: HtmxRequest, slug: str) -> HttpResponse:
    """A quasi-normal shape for the deck in the chosen range (the suggest button, or a new range)."""
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    n_statements = study.statements.count()
    initial = _grid_initial(study, _posted_range(request), suggest=True)
    initial["distribution"] = request.POST.get("distribution", study.distribution)
    if not request.htmx:
        messages.info(request, _("A suggested shape for %(n)d statements: save it to keep it.") % {"n": n_statements})
    capacities = {int(k[4:]): v for k, v in initial.items() if k.startswith("cap_")}
    return _editor(request, access, GridForm(initial=initial), capacities, initial["half_range"], n_statements)


@login_required
@require_POST
def grid_picture(request: HttpRequest, slug: str) -> HttpResponse:
    """The picture of the grid, redrawn as capacities are typed (htmx)."""
    access = access_for(request.user, slug, Can.EDIT)
    n_statements = access.study.statements.count()
    half_range = _posted_range(request) or MIN_HALF_RANGE
    context = _grid_context(access, n_statements)
    context.update(_picture(access.study, _posted_capacities(request, half_range), n_statements))
    return render(request, "workspace/grid.html#picture", context)
