"""Participants (links, states, QR codes, CSV, withdrawal), paper-sort entry and the printable deck."""

from __future__ import annotations

import io
import re

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qsort.exchange.services import Export
from qsort.exchange.tables import Table
from qsort.exchange.writers import CSV_TYPE, csv_bytes
from qsort.http import HtmxRequest
from qsort.security.parsing import whole_number
from qsort.studies.access import Can, access_for, study_for
from qsort.studies.models import Participant, Sort, Study
from qsort.studies.services import SortAlreadySubmitted
from qsort.studies.validation import SortInvalid, SortRules, signed, validate_sort
from qsort.workspace.forms import InviteForm, PaperSortForm
from qsort.workspace.services import enter_paper_sort

PARTICIPANTS_PER_PAGE = 100
NEW_LINKS_SESSION_KEY = "workspace_new_links"


@login_required
@require_GET
def participants(request: HttpRequest, slug: str) -> HttpResponse:
    """States for everyone on the team; links, QR codes and withdrawal only for those who run
    sessions (a link is a credential, and researchers never see one)."""
    access = access_for(request.user, slug, Can.VIEW)
    study, can_edit = access.study, access.can_edit
    stage = request.GET.get("stage", "")
    queryset = study.participants.annotate(
        n_sorts=Count("sorts"), paper=Exists(Sort.objects.filter(participant=OuterRef("pk"), entered_by__isnull=False))
    ).order_by("created_at", "id")
    if stage in Participant.Stage.values:
        queryset = queryset.filter(stage=stage)
    page = Paginator(queryset, PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    by_stage = dict(study.participants.order_by().values_list("stage").annotate(n=Count("id")))
    new_links = []
    if can_edit and (new_ids := request.session.pop(NEW_LINKS_SESSION_KEY, None)):
        new_links = list(study.participants.filter(pk__in=new_ids).order_by("created_at", "id"))
    context = {
        "access": access,
        "study": study,
        "tab": "participants",
        "page": page,
        "stage": stage,
        "stages": [(value, label, by_stage.get(value, 0)) for value, label in Participant.Stage.choices],
        "total": sum(by_stage.values()),
        "condition_progress": study.condition_progress(),
        "can_edit": can_edit,
        "invite_form": InviteForm(),
        "new_links": new_links,
    }
    return render(request, "workspace/participants.html", context)


@login_required
@require_POST
def participants_invite(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            created = study.invite(count=form.cleaned_data["count"] or 0, codes=form.cleaned_data["codes"])
        except ValueError as taken:
            messages.error(request, str(taken))
        else:
            request.session[NEW_LINKS_SESSION_KEY] = [p.pk for p in created]
            messages.success(request, _("%(n)d new links.") % {"n": len(created)})
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("workspace:participants", slug=study.slug)


@login_required
@require_GET
def participants_csv(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    rows = [
        (
            p.label,
            p.code,
            p.stage,
            p.link,
            p.last_saved_at.isoformat() if p.last_saved_at else "",
            p.completed_at.isoformat() if p.completed_at else "",
        )
        for p in study.participants.order_by("created_at", "id").iterator(chunk_size=1000)
    ]
    header = ("participant", "code", "stage", "link", "last_saved_at", "completed_at")
    # Codes are typed by facilitators: the exports' writer quotes any that a spreadsheet would run.
    body = csv_bytes(Table("Links", header, rows))
    return Export(f"{study.slug}-links.csv", CSV_TYPE, body).as_response()


@login_required
@require_GET
def participant_qr(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    participant = get_object_or_404(Participant, study=study, pk=pk)
    svg = io.BytesIO()
    segno.make(participant.link, error="m").save(svg, kind="svg", scale=4, border=2, title=participant.label)
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def participant_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The right to withdraw: after a confirmation, the participant and all they gave are deleted."""
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    participant = get_object_or_404(Participant, study=study, pk=pk)
    if request.method == "POST":
        label = participant.label
        participant.withdraw()
        messages.success(
            request,
            _(
                "%(label)s is withdrawn: their link, sort, comments and answers are deleted, and every "
                "analysis that used their sort is re-run without it."
            )
            % {"label": label},
        )
        return redirect("workspace:participants", slug=study.slug)
    has_sort = participant.sorts.exists()
    return render(
        request,
        "workspace/participant_withdraw.html",
        {"access": access, "study": study, "tab": "participants", "participant": participant, "has_sort": has_sort},
    )


# --- paper sorts -------------------------------------------------------------------------------


def _split_numbers(text: str) -> list[str]:
    return [token for token in re.split(r"[\s,;]+", text) if token]


def paper_placements(study_grid: dict[int, int], data, mode: str, numbers: list[int]) -> list[tuple[object, object]]:
    """(statement, value) pairs from the form: per column ("3, 17, 22") or per statement."""
    if mode == "values":
        return [
            (number, data.get(f"s_{number}", "").strip()) for number in numbers if data.get(f"s_{number}", "").strip()
        ]
    return [(token, value) for value in study_grid for token in _split_numbers(data.get(f"col_{value}", ""))]


@login_required
@require_http_methods(["GET", "POST"])
def paper_sort(request: HtmxRequest, slug: str) -> HttpResponse:
    """Type in a sort done with physical cards. htmx posts validate as you type (the one sort
    validator); the submit button stores it as a completed sort marked 'entered by' this user."""
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    mode = "values" if (request.POST or request.GET).get("mode") == "values" else "columns"
    grid = study.grid()
    statements = list(study.statements.order_by("number"))
    numbers = [s.number for s in statements]
    chosen = None
    chosen_pk = (request.POST or request.GET).get("participant", "")
    if whole_number(chosen_pk, low=1) is not None:
        chosen = get_object_or_404(Participant, study=study, pk=whole_number(chosen_pk), completed_at__isnull=True)
    form = PaperSortForm(
        request.POST or None,
        conditions=list(study.conditions.values_list("label", flat=True)),
        sessions=list(study.sessions.filter(status="open").order_by("created_at", "id").values_list("pk", "name")),
        for_chosen=chosen is not None,
    )
    problems: list[str] = []
    placed = 0

    if request.method == "POST":
        placements = paper_placements(grid, request.POST, mode, numbers)
        placed = len(placements)
        _values, problems = validate_sort(SortRules.for_study(study), placements)
        if not request.htmx and form.is_valid():
            problems = problems or _store_paper_sort(
                request,
                study,
                chosen,
                form.cleaned_data.get("code", ""),
                placements,
                form.cleaned_data.get("condition"),
                form.cleaned_data.get("session"),
            )
            if not problems:
                return redirect("workspace:paper_sort", slug=study.slug)
        if request.htmx:
            context = {"problems": problems, "placed": placed, "n_statements": len(numbers), "checked": True}
            return render(request, "workspace/paper_sort.html#feedback", context)

    context = {
        "access": access,
        "study": study,
        "tab": "participants",
        "form": form,
        "mode": mode,
        "chosen": chosen,
        "columns": [
            (value, signed(value), capacity, request.POST.get(f"col_{value}", "")) for value, capacity in grid.items()
        ],
        "statements": [(s, request.POST.get(f"s_{s.number}", "")) for s in statements],
        "grid_values": list(grid),
        "problems": problems,
        "placed": placed,
        "n_statements": len(numbers),
        "checked": request.method == "POST",
    }
    return render(request, "workspace/paper_sort.html", context, status=422 if problems else 200)


def _store_paper_sort(
    request, study: Study, participant, code: str, placements, condition: str | None, session: int | None = None
) -> list[str]:
    """Store it, or return what is wrong (nothing is stored then)."""
    code = code.strip()
    if participant is None and code:
        existing = study.participants.filter(code=code).first()
        if existing is not None and existing.is_completed:
            return [_("Participant %(code)s has already completed a sort.") % {"code": code}]
        participant = existing
    try:
        sort = enter_paper_sort(
            study, participant, code, placements, request.user, condition=condition, session=session
        )
    except SortInvalid as invalid:
        return invalid.messages
    except SortAlreadySubmitted as already:
        return [str(already)]
    messages.success(
        request, _("Paper sort of %(label)s saved as a completed sort.") % {"label": sort.participant.label}
    )
    return []


# --- printing ----------------------------------------------------------------------------------


CARDS_PER_PAGE = 8  # 2 x 4 cards of about 9.5 x 6.5 cm on A4


@login_required
@require_GET
def print_deck(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.VIEW)
    statements = list(study.statements.order_by("position", "number"))
    pages = [statements[i : i + CARDS_PER_PAGE] for i in range(0, len(statements), CARDS_PER_PAGE)]
    grid = study.grid()
    columns = [(signed(value), range(capacity)) for value, capacity in grid.items()]
    return render(
        request,
        "workspace/print.html",
        {
            "study": study,
            "pages": pages,
            "columns": columns,
            "tallest": max(grid.values(), default=0),
            "conditions": list(study.conditions.all()),  # one score sheet per condition
        },
    )
